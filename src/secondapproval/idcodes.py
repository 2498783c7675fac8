"""Chinese identifier checks, delegated to python-stdnum and made strict.

`cn_id`: citizen ID number, GB 11643-1999 — 18 characters, ISO 7064 MOD 11-2 check character, a
real birth date and an address code of the GB/T 2260 table (historical codes included, checked
against the birth year). `uscc`: unified social credit code, GB 32100-2015 — 18 characters of the
31-symbol alphabet, MOD 31-3 check character. Input must already be in canonical form: no spaces,
no hyphens, upper-case X — stdnum would silently tidy those, a strict validator refers them.
"""

from __future__ import annotations

import datetime as dt

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError


def check_cn_id(value: object) -> str:
    """The ID number itself if valid; otherwise ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError("a citizen ID number must be a string")
    if len(value) == 15 and value.isdigit():
        raise ValueError("old 15-digit ID number (GB 11643-1989) has no check digit")
    if ric.compact(value) != value:
        raise ValueError("ID number not in canonical form (spaces, hyphens or lower-case x)")
    try:
        ric.validate(value)
    except StdnumError as exc:
        raise ValueError(f"invalid citizen ID number: {_why(exc)}") from None
    except (KeyError, IndexError, ValueError):  # stdnum's region table lookup can fail this way
        raise ValueError("invalid citizen ID number: unknown region code") from None
    return value


def check_uscc(value: object) -> str:
    """The credit code itself if valid; otherwise ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError("a unified social credit code must be a string")
    if uscc.compact(value) != value:
        raise ValueError("credit code not in canonical form (spaces, hyphens or lower case)")
    try:
        uscc.validate(value)
    except StdnumError as exc:
        raise ValueError(f"invalid unified social credit code: {_why(exc)}") from None
    except (KeyError, IndexError, ValueError):
        raise ValueError("invalid unified social credit code: malformed") from None
    return value


def _why(exc: StdnumError) -> str:
    return str(getattr(exc, "message", exc))


def cn_id_birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def cn_id_check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits (for generators and tests)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("the first 17 characters of an ID number are digits")
    return str(ric.calc_check_digit(first17 + "0"))  # stdnum expects a check slot


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (for generators and tests)."""
    return str(uscc.calc_check_digit(first17))
