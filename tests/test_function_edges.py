"""Every library function at the edges of its domain, against a plain-Python oracle.

Huge and tiny numbers, negative zero, the ends of the date range and 29 February: each function of
`lang.functions` either returns the oracle's value or raises (an ERROR, so the application
refers) exactly where the oracle has no value. The caller's decimal context never matters.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secondapproval.lang.functions import LIBRARY

BIG = Decimal("9" * 28)
TINY = Decimal("1E-28")


def _fn(name: str) -> Any:
    return LIBRARY[name].impl


def _round_oracle(x: Fraction, digits: int) -> Fraction:
    """Half away from zero, by exact rationals."""
    scale = Fraction(10) ** digits
    y = abs(x) * scale
    n = int(y) + (1 if y - int(y) >= Fraction(1, 2) else 0)
    return (n if x >= 0 else -n) / scale


def _add_months_oracle(day: dt.date, months: int) -> dt.date:
    y, m = day.year, day.month
    for _ in range(abs(months)):
        m += 1 if months > 0 else -1
        if m == 13:
            y, m = y + 1, 1
        if m == 0:
            y, m = y - 1, 12
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


ROUND_CASES = [
    BIG,
    -BIG,
    TINY,
    -TINY,
    Decimal("-0"),
    Decimal("-0.5"),
    Decimal("0.5"),
    Decimal("2.675"),
    Decimal("-2.675"),
    Decimal("1E+27") + Decimal("0.5"),
    Decimal("-0.0000000000000000000000000005"),
    Decimal("123456789012345678.5"),
]


@pytest.mark.parametrize("x", ROUND_CASES)
@pytest.mark.parametrize("digits", [None, 0, 1, 2, 28, -1, -3])
def test_round_edges(x: Decimal, digits: int | None) -> None:
    """round() of huge, tiny and negative-zero values is the exact half-away-from-zero value."""
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        ctx.rounding = decimal.ROUND_FLOOR
        got = _fn("round")(x) if digits is None else _fn("round")(x, digits)
    assert Fraction(got) == _round_oracle(Fraction(x), digits or 0)
    if digits is None:
        assert type(got) is int


@given(n=st.integers(-(10**30), 10**30), digits=st.integers(-30, 30))
def test_round_whole_numbers(n: int, digits: int) -> None:
    """round() of a whole number: unchanged with digits ≥ 0, half away from zero below."""
    got = _fn("round")(n, digits)
    assert type(got) is int
    assert got == _round_oracle(Fraction(n), digits)


@given(
    xs=st.lists(
        st.builds(
            lambda n, k: Decimal(n).scaleb(-k), st.integers(-(10**27), 10**27), st.integers(0, 28)
        ),
        min_size=1,
        max_size=6,
    )
)
def test_sum_min_max_abs_exact(xs: list[Decimal]) -> None:
    """sum, min, max and abs of bounded decimals are exact, whatever the caller's context."""
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        total, low, high = _fn("sum")(xs), _fn("min")(xs), _fn("max")(xs)
        absolute = [_fn("abs")(x) for x in xs]
    assert Fraction(total) == sum(Fraction(x) for x in xs)
    assert low == min(xs)
    assert high == max(xs)
    assert [Fraction(a) for a in absolute] == [abs(Fraction(x)) for x in xs]


def test_min_max_of_empty_list_raise() -> None:
    """min and max of an empty list have no value (an ERROR)."""
    for name in ("min", "max"):
        with pytest.raises(ValueError):
            _fn(name)([])


DATES = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
EDGE_DATES = [
    dt.date(1, 1, 1),
    dt.date(9999, 12, 31),
    dt.date(2024, 2, 29),
    dt.date(2000, 2, 29),
    dt.date(1900, 2, 28),
    dt.date(2023, 1, 31),
    dt.date(9999, 12, 1),
]


def _agree(fn: Any, oracle: Any, *args: Any) -> None:
    try:
        expected = oracle(*args)
    except (ValueError, OverflowError):
        with pytest.raises((ValueError, OverflowError, ArithmeticError)):
            fn(*args)
        return
    assert fn(*args) == expected


@pytest.mark.parametrize("day", EDGE_DATES)
@pytest.mark.parametrize("n", [0, 1, -1, 4, 11, 12, -12, 100, 10000, -10000, 10**12])
def test_add_months_years_days_edges(day: dt.date, n: int) -> None:
    """add_months/add_years/add_days at the ends of the range and on 29 February."""
    if abs(n) <= 20000:
        _agree(_fn("add_months"), _add_months_oracle, day, n)
    if abs(n) <= 2000:
        _agree(_fn("add_years"), lambda d, k: _add_months_oracle(d, 12 * k), day, n)
    else:
        with pytest.raises((ValueError, OverflowError)):
            _fn("add_years")(day, n)
    _agree(_fn("add_days"), lambda d, k: dt.date.fromordinal(d.toordinal() + k), day, n)


def test_feb_29_add_years() -> None:
    """29 February plus a year is 28 February; plus four years is 29 February again."""
    assert _fn("add_years")(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert _fn("add_years")(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
    assert _fn("add_years")(dt.date(2024, 2, 29), -100) == dt.date(1924, 2, 29)
    assert _fn("add_years")(dt.date(2000, 2, 29), 100) == dt.date(2100, 2, 28)


def _years_oracle(start: dt.date, end: dt.date) -> int:
    """Completed years, by moving whole years (29 February born: birthday on 1 March… or 28 Feb)."""
    n = end.year - start.year
    anniversary = (start.month, start.day)
    return n - ((end.month, end.day) < anniversary)


@given(a=DATES, b=DATES)
def test_between_functions(a: dt.date, b: dt.date) -> None:
    """days_between, years_between and months_between against date arithmetic."""
    assert _fn("days_between")(a, b) == b.toordinal() - a.toordinal()
    assert _fn("years_between")(a, b) == _years_oracle(a, b)
    months = (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)
    assert _fn("months_between")(a, b) == months


@given(x=st.integers(-(10**6), 10**6), lo=st.integers(-100, 100), hi=st.integers(-100, 100))
def test_clip(x: int, lo: int, hi: int) -> None:
    """clip(x, lo, hi) is min(max(x, lo), hi), and an error when lo > hi."""
    if lo > hi:
        with pytest.raises(ValueError):
            _fn("clip")(x, lo, hi)
    else:
        assert _fn("clip")(x, lo, hi) == min(max(x, lo), hi)


def test_clip_negative_zero() -> None:
    """Negative zero is zero for clip and for comparisons."""
    assert _fn("clip")(Decimal("-0"), 0, 1) == 0
