"""The function library of the expression language: the only calls a rule may make.

Each function is a plain Python implementation plus a signature rule that gives its result type
from its argument types (or says why the arguments are wrong). Implementations are pure; an
exception raised by one makes the expression an *error* (reason `ERROR:<rule id>`).
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from .numbers import MAX_EXPONENT, absolute, quantize, round_fraction, total
from .types import DATE, DECIMAL, INT, STR, Type, unify

Signature = Callable[[Sequence[Type]], "Type | str"]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    impl: Callable[..., Any]
    signature: Signature
    doc: str


def _birth_date(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def years_between(start: dt.date, end: dt.date) -> int:
    """Completed years from `start` to `end` (周岁 when `start` is a birth date)."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def months_between(start: dt.date, end: dt.date) -> int:
    """Completed months from `start` to `end`."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (end.day < start.day)


def age_on(born: dt.date | str, on: dt.date) -> int:
    """Age in completed years on `on`, from a birth date or a citizen ID number."""
    return years_between(born if isinstance(born, dt.date) else _birth_date(born), on)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months; the 31st becomes the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole years; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)


def add_days(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)


def days_between(start: dt.date, end: dt.date) -> int:
    return (end - start).days


def add_working_days(day: dt.date, n: int, cal: Any, on: dt.date) -> dt.date:
    """The `n`-th working day after `day` in the matter's calendar (see `calendars`)."""
    result: dt.date = cal.add_working_days(day, n, on)
    return result


def working_days_between(start: dt.date, end: dt.date, cal: Any, on: dt.date) -> int:
    """Working days after `start` up to and including `end`, in the matter's calendar."""
    result: int = cal.working_days_between(start, end, on)
    return result


def sex_of(id_number: str) -> str:
    """`male` or `female`, from the parity of the 17th character of a citizen ID number."""
    return "male" if int(id_number[16]) % 2 else "female"


def round_half_up(x: int | Decimal | Fraction, digits: int = 0) -> int | Decimal:
    """Round half away from zero (the rounding of Chinese and World Bank tables).

    Computed in the private rounding context of `lang.numbers`, never the caller's (a Fraction is
    rounded exactly, in integer arithmetic: `round(1 / 3, 2)` is 0.33); a whole number
    with negative `digits` rounds to tens, hundreds …; the result keeps the type of `x` when
    `digits` is given (a whole number without it).
    """
    if not -MAX_EXPONENT <= digits <= MAX_EXPONENT:
        raise ValueError("round: too many digits")
    if isinstance(x, int) and digits >= 0:
        return x
    quantum = Decimal((0, (1,), -digits))
    if isinstance(x, Fraction):
        rounded = round_fraction(x, digits)
    else:
        rounded = quantize(Decimal(x), quantum, ROUND_HALF_UP)
    if isinstance(x, int) or digits == 0:
        return int(rounded)
    return rounded


def clip(x: Any, lo: Any, hi: Any) -> Any:
    """`x` limited to the closed interval [lo, hi]."""
    if lo > hi:
        raise ValueError("clip: lower bound above upper bound")
    return lo if x < lo else hi if x > hi else x


def band(x: Any, table: dict[Any, Any]) -> Any:
    """The value of the band `x` falls in: the table's value at its greatest key not above `x`
    (`band(age, {80: 100, 90: 200, 100: 500})` is 200 for 95). Below every key is an error."""
    keys = sorted(table)
    i = bisect.bisect_right(keys, x)
    if i == 0:
        raise ValueError("band: below the lowest band")
    return table[keys[i - 1]]


def _minmax(pick: Callable[..., Any]) -> Callable[..., Any]:
    def impl(*args: Any) -> Any:
        if len(args) == 1:
            if not args[0]:
                raise ValueError("empty list")
            return pick(args[0])
        return pick(args)

    return impl


# ---- signatures -------------------------------------------------------------------------------


def _fixed(params: Sequence[str], result: Type) -> Signature:
    """Exact arity; each parameter a kind (`date`, `int`, or `cn_id`: a cn_id value)."""

    def sig(args: Sequence[Type]) -> Type | str:
        if len(args) != len(params):
            return f"takes {len(params)} argument{'s' if len(params) != 1 else ''}, got {len(args)}"
        for i, (want, got) in enumerate(zip(params, args, strict=True), start=1):
            if not _accepts(want, got):
                return f"argument {i} must be {want.replace('|', ' or ')}, not {got}"
        return result

    return sig


def _accepts(want: str, got: Type) -> bool:
    """Whether an argument of type `got` fits a parameter of kind `want` (`a|b`: either)."""
    return any(
        got.domain == "cn_id" if alt == "cn_id" else alt == got.kind for alt in want.split("|")
    )


def _numeric_result(args: Sequence[Type]) -> Type | str:
    for i, a in enumerate(args, start=1):
        if not a.numeric:
            return f"argument {i} must be a number, not {a}"
    return DECIMAL if any(a.kind == "decimal" for a in args) else INT


def _sig_minmax(args: Sequence[Type]) -> Type | str:
    if len(args) == 1:
        a = args[0]
        if a.kind != "list" or a.elem is None or not (a.elem.numeric or a.elem.kind == "date"):
            return "takes a list of numbers or dates, or two or more values"
        return a.elem.plain()
    if len(args) < 2:
        return "takes a list, or two or more values"
    common: Type | None = args[0]
    for a in args[1:]:
        common = unify(common, a) if common else None
    if common is None or not (common.numeric or common.kind == "date"):
        return "arguments must all be numbers, or all dates"
    return common.plain()


def _sig_len(args: Sequence[Type]) -> Type | str:
    if len(args) != 1 or args[0].kind not in ("list", "str"):
        return "takes one list or string"
    return INT


def _sig_abs(args: Sequence[Type]) -> Type | str:
    if len(args) != 1:
        return "takes one number"
    return _numeric_result(args)


def _sig_round(args: Sequence[Type]) -> Type | str:
    if len(args) not in (1, 2) or not args[0].numeric:
        return "takes a number and an optional whole number of digits"
    if len(args) == 2:
        if args[1].kind != "int":
            return "the number of digits must be a whole number"
        return args[0].plain() if args[0].kind == "int" else DECIMAL
    return INT


def _sig_clip(args: Sequence[Type]) -> Type | str:
    if len(args) != 3:
        return "takes three numbers: clip(x, lo, hi)"
    return _numeric_result(args)


def _sig_sum(args: Sequence[Type]) -> Type | str:
    if len(args) != 1 or args[0].kind != "list" or args[0].elem is None or not args[0].elem.numeric:
        return "takes one list of numbers"
    return args[0].elem.plain()


def _sig_band(args: Sequence[Type]) -> Type | str:
    usage = "takes a value and a table of bands: band(x, {80: 100, 90: 200})"
    if len(args) != 2 or args[1].kind != "dict":
        return usage
    x, table = args
    if table.key is None or table.elem is None:
        return "the table's keys, and its values, must each be of one type"
    if not ((x.numeric and table.key.numeric) or x.kind == table.key.kind == "date"):
        return f"the bands of a {x} are numbers or dates of its kind, not {table.key}"
    return table.elem


def _sig_age_on(args: Sequence[Type]) -> Type | str:
    return _fixed(["date|cn_id", "date"], INT)(args)


LIBRARY: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "age_on",
            age_on,
            _sig_age_on,
            "age_on(born, day) — completed years on `day`; `born` is a date or a cn_id",
        ),
        Function(
            "years_between",
            years_between,
            _fixed(["date", "date"], INT),
            "years_between(a, b) — completed years from a to b",
        ),
        Function(
            "months_between",
            months_between,
            _fixed(["date", "date"], INT),
            "months_between(a, b) — completed months from a to b",
        ),
        Function(
            "days_between",
            days_between,
            _fixed(["date", "date"], INT),
            "days_between(a, b) — days from a to b (negative if b is earlier)",
        ),
        Function("add_days", add_days, _fixed(["date", "int"], DATE), "add_days(d, n)"),
        Function(
            "add_working_days",
            add_working_days,
            _fixed(["date", "int"], DATE),
            "add_working_days(d, n) — the n-th working day after d (before it if n < 0)",
        ),
        Function(
            "working_days_between",
            working_days_between,
            _fixed(["date", "date"], INT),
            "working_days_between(a, b) — working days after a up to and including b",
        ),
        Function(
            "add_months",
            add_months,
            _fixed(["date", "int"], DATE),
            "add_months(d, n) — the 31st becomes the last day of a shorter month",
        ),
        Function(
            "add_years",
            add_years,
            _fixed(["date", "int"], DATE),
            "add_years(d, n) — 29 February becomes 28 February in a common year",
        ),
        Function(
            "birth_date",
            _birth_date,
            _fixed(["cn_id"], DATE),
            "birth_date(id) — the birth date in a citizen ID number",
        ),
        Function(
            "sex_of",
            sex_of,
            _fixed(["cn_id"], STR),
            "sex_of(id) — 'male' or 'female' from a citizen ID number",
        ),
        Function("len", len, _sig_len, "len(x) — items of a list or characters of a string"),
        Function("min", _minmax(min), _sig_minmax, "min(a, b, …) or min(list)"),
        Function("max", _minmax(max), _sig_minmax, "max(a, b, …) or max(list)"),
        Function("sum", total, _sig_sum, "sum(list) — the sum of a list of numbers"),
        Function("abs", absolute, _sig_abs, "abs(x)"),
        Function(
            "round",
            round_half_up,
            _sig_round,
            "round(x[, digits]) — half away from zero; whole number without digits",
        ),
        Function("clip", clip, _sig_clip, "clip(x, lo, hi) — x limited to [lo, hi]"),
        Function(
            "band",
            band,
            _sig_band,
            "band(x, {lo: value, …}) — the value at the greatest key not above x",
        ),
    )
}

CALENDAR_FUNCTIONS = frozenset({"add_working_days", "working_days_between"})
"""Functions over the matter's working-day calendar. A rule writes two arguments; the checker of
the matter appends the calendar (a `Const`) and `decision_date` (what was published by then), so
every backend calls the implementation with four. `ir.render` shows the two that were written."""

QUANTIFIERS = {"any_of": "any", "all_of": "all", "count": "count"}
"""`any_of(list, predicate)` / `all_of(list, predicate)`: the predicate reads each item as `it`."""
PRESENCE = {"present": True, "absent": False}
"""`present(fact)` / `absent(fact)`: special forms over a fact path (`ir.Presence`), no calls."""

DATE_LITERAL = "date"
"""`date("2019-07-01")`: a date literal (its argument must be a string literal)."""
