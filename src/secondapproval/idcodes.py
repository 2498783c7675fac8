"""Chinese identifier checks: python-stdnum's algorithms and region table, made strict and fast.

`cn_id`: citizen ID number, GB 11643-1999 — 18 characters (17 digits and a digit or X), ISO 7064
MOD 11-2 check character, a real birth date, and an address code of the GB/T 2260 table valid in
the birth year (stdnum's historical table). `uscc`: unified social credit code, GB 32100-2015 —
18 characters of the 31-symbol alphabet, MOD 31-3 check character. Input must be canonical (no
spaces, hyphens or lower case): stdnum would silently tidy those; a strict validator refers them.

stdnum's `ric.validate` searches its region database on every call (~50 µs); the same table is
indexed here once, so a check costs about a microsecond and gives the same verdicts (tested).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from stdnum import numdb
from stdnum.cn import ric, uscc

_CN_ID = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS17 = re.compile(r"[0-9]{17}")
_USCC = re.compile(r"[0-9]{8}[0-9ABCDEFGHJKLMNPQRTUWXY]{10}")
_SPAN = re.compile(r"\[([0-9]*)-([0-9]*)\]")

Span = tuple[int, int]


@functools.cache
def regions() -> dict[str, tuple[Span, ...]]:
    """GB/T 2260 address codes (stdnum's `cn/loc` table) → the years each was assigned."""
    index: dict[str, tuple[Span, ...]] = {}

    def walk(prefixes: Any, acc: str, county: str | None) -> None:
        for length, low, high, props, children in prefixes:
            for number in range(int(low), int(high) + 1):
                code = acc + str(number).zfill(length)
                spec = props.get("county", county)
                if len(code) >= 6:
                    index[code[:6]] = _spans(spec)
                else:
                    walk(children, code, spec)

    walk(numdb.get("cn/loc").prefixes, "", None)
    return index


def _spans(spec: str | None) -> tuple[Span, ...]:
    if not spec or not spec.startswith("["):
        return ((0, 9999),)
    return tuple(
        (int(start or 0), int(end or 9999))
        for start, end in (m.groups() for m in map(_SPAN.match, spec.split(",")) if m)
    )


def check_cn_id(value: object) -> str:
    """The ID number itself if valid; otherwise ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError("a citizen ID number must be a string")
    if len(value) == 15 and value.isascii() and value.isdigit():
        raise ValueError("old 15-digit ID number (GB 11643-1989) has no check digit")
    if not _CN_ID.fullmatch(value):
        raise ValueError("an ID number is 17 digits and a digit or upper-case X")
    if ric.calc_check_digit(value) != value[17]:
        raise ValueError("the check character does not match (GB 11643 MOD 11-2)")
    try:
        born = cn_id_birth_date(value)
    except ValueError:
        raise ValueError("the birth date in the ID number does not exist") from None
    spans = regions().get(value[:6])
    if spans is None:
        raise ValueError("unknown region code (GB/T 2260)")
    if not any(born.year <= end for _, end in spans):
        # The code is the one in use where the number was first issued, which may be years
        # after the birth (a person born in 1950 in a district made in 1983 carries its code),
        # but never a code retired before the person was born.
        raise ValueError("region code retired before the birth year")
    return value


def check_uscc(value: object) -> str:
    """The credit code itself if valid; otherwise ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError("a unified social credit code must be a string")
    if not _USCC.fullmatch(value):
        raise ValueError("a credit code is 18 characters of 0-9 and A-Y without I, O, S, V, Z")
    if uscc.calc_check_digit(value[:17]) != value[17]:
        raise ValueError("the check character does not match (GB 32100 MOD 31-3)")
    return value


def cn_id_birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def cn_id_check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits (for generators and tests)."""
    if not _DIGITS17.fullmatch(first17):
        raise ValueError("the first 17 characters of an ID number are digits")
    return str(ric.calc_check_digit(first17 + "0"))  # stdnum expects a check slot


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (for generators and tests)."""
    return str(uscc.calc_check_digit(first17))
