"""Values of one fact by its type, in JSON form: next to a literal, moved away from a valid value,
and refused by the validator (DESIGN §10: strict types, ISO dates, check characters)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..lang.functions import add_months
from ..ruleset import FactSpec
from .identifiers import DIGITS, spoiled_cn_ids, spoiled_usccs, wrong_checks

FEN = Decimal("0.01")
"""The step next to a decimal or money literal: one fen."""
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2060, 12, 31)
"""The span of the dates counted back from a decision date."""

WRONG_TYPES: Mapping[str, tuple[Any, ...]] = {
    "bool": (1, 0, "true"),
    "int": ("35", True, False, 2.5),
    "decimal": (True, [1], {"cny": 1}),
    "money": (True, [1], {"cny": 1}),
    "str": (12345, True, 1.5, ["x"]),
    "date": (20210101, True),
    "enum": (1, True),
    "list": ("not-a-list", "a,b", 1, {"a": 1}),
    "record": ("not-a-record", 1, ["x"]),
    "cn_id": (12345, True, 1.5),
    "uscc": (12345, True, 1.5),
}
"""Per fact type, JSON values of a type it never accepts (null is left to the callers). No whole
float such as 35.0 for an int: engines that know only JSON's "number" (the benchmark peers)
cannot tell it from 35, and the benchmarks' applications must mean the same to every engine."""

WRONG_FORMS: Mapping[str, tuple[Any, ...]] = {
    "decimal": ("12,5", "1e3"),
    "money": ("1.005", "12,5"),
    "date": ("2019-02-29", "2021-02-30", "2019/07/01"),
    "enum": ("unknown-value",),
}
"""Per fact type, JSON values of an accepted type that are still refused: no such number, amount,
day or member."""


def near(literal: Any, kind: str) -> tuple[Any, ...]:
    """A literal and its neighbours just below and above, in the JSON form of a fact of `kind`."""
    if isinstance(literal, bool):
        return (literal, not literal)
    if isinstance(literal, int) and kind == "int":
        return (literal - 1, literal, literal + 1)
    if isinstance(literal, int | Decimal) and kind in ("decimal", "money"):
        return tuple(_decimal_json(Decimal(literal) + d, kind) for d in (-FEN, Decimal(0), FEN))
    if isinstance(literal, dt.date) and kind == "date":
        if not dt.date.min + dt.timedelta(days=1) < literal < dt.date.max - dt.timedelta(days=1):
            return ()
        return tuple((literal + dt.timedelta(days=d)).isoformat() for d in (-1, 0, 1))
    if isinstance(literal, str) and kind in ("str", "enum"):
        return (literal, literal + "x", literal[:-1])
    return ()


def _decimal_json(value: Decimal, kind: str) -> str:
    """A decimal as the string the validator reads; an amount of money to the fen."""
    return str(value.quantize(FEN) if kind == "money" else value)


def dates_before(on: dt.date, counts: Iterable[int]) -> tuple[dt.date, ...]:
    """`on`, and for each count n (and 0 and 1) the day n years, n months and n days before it,
    each with the day either side: the edges of age and deadline rules (sorted)."""
    out: set[dt.date] = {on}
    for n in {*counts, 0, 1}:
        for back in (add_months(on, -12 * n), add_months(on, -n), on - dt.timedelta(days=n)):
            for d in (-1, 0, 1):
                day = back + dt.timedelta(days=d)
                if EARLIEST <= day <= LATEST:
                    out.add(day)
    return tuple(sorted(out))


def boundary_values(
    spec: FactSpec,
    literals: Sequence[Any] = (),
    counts: Sequence[int] = (),
    on: dt.date | None = None,
) -> tuple[Any, ...]:
    """Values of a fact at and next to each literal a rule compares it with, every member of an
    enum, and (given the decision date `on`) the dates `dates_before` it; none of another type."""
    values = [v for literal in sorted(literals, key=repr) for v in near(literal, spec.type)]
    if spec.type == "enum":
        values += list(spec.values or [])
    if on is not None and spec.type == "date":
        values += [day.isoformat() for day in dates_before(on, counts)]
    if spec.type == "enum":
        values = [v for v in values if v in (spec.values or [])]
    return tuple(values)


def refused(kind: str, good: Any = None, of: str | None = None) -> dict[str, tuple[Any, ...]]:
    """JSON values the validator refuses for a fact of `kind`, by what is wrong with them.

    `good` is a valid value of the fact: an ID number or credit code to spoil. `of` is the item
    type of a list, whose refused values include a list holding one wrong item.
    """
    found: dict[str, tuple[Any, ...]] = {}
    if kind == "cn_id" and isinstance(good, str) and len(good) == 18:
        found.update(spoiled_cn_ids(good))
    if kind == "uscc" and isinstance(good, str) and len(good) == 18:
        found.update(spoiled_usccs(good))
    if kind in WRONG_FORMS:
        found["form"] = WRONG_FORMS[kind]
    found["type"] = WRONG_TYPES[kind]
    if kind == "list":
        found["item"] = ([WRONG_TYPES[of or "str"][0]],)
    return found


def retyped(value: Any) -> Any:
    """The value in another JSON type: a text becomes a number, anything else its text."""
    return str(value) if not isinstance(value, str) else 12345


def moved(spec: FactSpec, value: Any) -> tuple[Any, ...]:
    """Other values of the fact's type, moved far enough from `value` to cross a rule's limit:
    the other truth value, a number stepped or scaled, a date a day or a year away, an enum's
    members, an identifier with a wrong check character, an empty list or text. Empty where
    `value` is not of the fact's type; `value` itself for a date that does not exist."""
    kind = spec.type
    if kind == "bool":
        return (not value,) if isinstance(value, bool) else (True,)
    if kind == "int" and isinstance(value, int):
        return tuple(value + step for step in (-5, -1, 1, 5, 20))
    if kind in ("decimal", "money") and isinstance(value, int | float | str):
        return tuple(round(float(value) * factor, 2) for factor in (0.5, 1.5, 3))
    if kind == "enum" and spec.values:
        return tuple(spec.values)
    if kind == "date" and isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return (value,)
        return tuple((day + dt.timedelta(days=d)).isoformat() for d in (-400, -1, 1, 400))
    if kind in ("cn_id", "uscc") and isinstance(value, str) and value:
        return wrong_checks(value, DIGITS)
    if kind == "list":
        return ([],)
    if kind == "str":
        return ("",)
    return ()
