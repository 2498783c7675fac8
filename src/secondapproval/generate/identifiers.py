"""Citizen ID numbers and credit codes for generators: valid ones built from their parts, and the
ways a valid one is spoiled so that the strict checks of `idcodes` refuse it."""

from __future__ import annotations

import datetime as dt
import functools

from ..idcodes import cn_id_check_character, regions, uscc_check_character

DIGITS = "0123456789"
CN_ID_CHECKS = DIGITS + "X"
"""The characters a citizen ID number may end with (GB 11643 MOD 11-2)."""
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a unified social credit code (GB 32100: no I, O, S, V or Z)."""
REGION_CODES = ("110101", "310101", "440303", "440304", "440305", "510104")
"""Real GB/T 2260 address codes (Beijing, Shanghai, Shenzhen, Chengdu districts)."""
USCC_HEADS = tuple(registrar + kind for registrar in "159" for kind in "123")
"""Registration office and kind of organisation, the first two characters of a credit code."""
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@functools.cache
def regions_in(year: int) -> tuple[str, ...]:
    """The codes of `REGION_CODES` assigned in a year (a birth year), by the GB/T 2260 table."""
    table = regions()
    return tuple(
        code
        for code in REGION_CODES
        if any(start <= year <= end for start, end in table.get(code, ()))
    )


def cn_id(region: str, born: dt.date, sequence: int) -> str:
    """The citizen ID number of a region code, a birth date and a sequence number (0–999)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + cn_id_check_character(first17)


def org_code(digits: str) -> str:
    """Eight digits and their GB 11714 check character: an organisation code (9 characters)."""
    total = sum(int(c) * w for c, w in zip(digits, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return digits + {10: "X", 11: "0"}.get(check, str(check))


def uscc(head: str, region: str, org: str) -> str:
    """The credit code of a head (`USCC_HEADS`), a region code and 9 characters of organisation."""
    first17 = f"{head}{region}{org}"
    return first17 + uscc_check_character(first17)


def wrong_checks(good: str, alphabet: str) -> tuple[str, ...]:
    """`good` with its last character replaced by each other character of `alphabet`."""
    return tuple(good[:-1] + c for c in alphabet if c != good[-1])


def spoiled_cn_ids(good: str) -> dict[str, tuple[str, ...]]:
    """Strings made from a valid ID number that the check refuses, by what is wrong with them."""
    first17 = good[:17]
    no_date = first17[:10] + "1332" + first17[14:]
    check = cn_id_check_character(first17)
    return {
        "check": wrong_checks(good, CN_ID_CHECKS),
        "date": (no_date + cn_id_check_character(no_date),),
        "lower": (first17 + ("x" if check == "X" else check + "x"),),
        "short": tuple(good[:n] for n in range(18)),
        "old": (good[:6] + good[8:17],),
        "space": (good[:6] + " " + good[6:],),
    }


def spoiled_usccs(good: str) -> dict[str, tuple[str, ...]]:
    """Strings made from a valid credit code that the check refuses, by what is wrong with them."""
    return {
        "check": wrong_checks(good, USCC_ALPHABET),
        "letter": (good[:2] + "I" + good[3:],),
        "short": tuple(good[:n] for n in range(18)),
        "lower": (good.lower() if good.lower() != good else good[:-1] + "!",),
    }
