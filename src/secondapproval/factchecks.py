"""The plain check of each fact type: a JSON value → its canonical value, or ValueError.

One place for the value checks that both validation paths run: the pydantic adapter of
`facts.FactValidator` wraps them (`PlainValidator`), the generated fast path (`fastfacts`) calls
them directly. Canonical values only: numbers in strings are ASCII digits in JSON's number syntax
without an exponent (`"１００"`, `"100\\n"`, `"0100"` are invalid), dates are ASCII `YYYY-MM-DD`,
declared patterns match ASCII classes (`\\d` is `[0-9]`) over the whole string. A decimal input
has at most `DECIMAL_DIGITS` significant digits, at most `DECIMAL_DIGITS` decimal places and is
below 10**`DECIMAL_DIGITS`; NaN and infinities are never valid.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .idcodes import check_cn_id, check_uscc
from .messages import detail
from .ruleset import FactSpec, FieldSpec, field_spec

# JSON's number syntax without an exponent, ASCII digits only, matched over the whole string
_DECIMAL_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_MONEY_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

DECIMAL_DIGITS = 28
"""The bound of a decimal input: significant digits, decimal places, and digits before the point."""
_DECIMAL_CHARS = 2 * DECIMAL_DIGITS + 3  # the longest canonical decimal string within the bound


def _bounded(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("number is not finite")
    if not value:
        return value
    _, digits, exponent = value.as_tuple()
    if len(digits) > DECIMAL_DIGITS:
        raise ValueError("the number has more significant digits than allowed")
    if exponent < -DECIMAL_DIGITS or value.adjusted() >= DECIMAL_DIGITS:  # type: ignore[operator]
        raise ValueError("the number is too large or too small")
    return value


def to_decimal(value: object) -> Decimal:
    """A decimal fact: a number, or a decimal string, within the bound."""
    if isinstance(value, bool):
        raise ValueError("a number is required, not a boolean")
    if isinstance(value, int):
        if value.bit_length() > 4 * DECIMAL_DIGITS:  # far beyond the bound: no text conversion
            raise ValueError("the number is too large or too small")
        return _bounded(Decimal(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("number is not finite")
        return _bounded(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return _bounded(value)
    if isinstance(value, str) and len(value) <= _DECIMAL_CHARS and _DECIMAL_TEXT.fullmatch(value):
        return _bounded(Decimal(value))
    raise ValueError("a number (or a decimal string) is required")


def to_money(value: object) -> Decimal:
    """A money fact: a decimal with at most two decimal places (fen)."""
    amount = to_decimal(value)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("an amount in CNY has at most two decimal places (fen)")
    if isinstance(value, str) and not _MONEY_TEXT.fullmatch(value):
        raise ValueError("an amount in CNY has at most two decimal places (fen)")
    return amount


def to_date(value: object) -> dt.date:
    """A date fact: an ISO `YYYY-MM-DD` string of a day that exists."""
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        raise ValueError("a date is an ISO YYYY-MM-DD string")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("the date does not exist") from None


def matching(pattern: str) -> Callable[[object], str]:
    """The check of a str fact with a declared pattern, matched over the whole string."""
    compiled = re.compile(pattern, re.ASCII)  # `\d` is [0-9], `\w` [A-Za-z0-9_]
    why = detail("does not match the pattern", pattern)

    def check(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError("a string is required")
        if not compiled.fullmatch(value):
            raise ValueError(why)
        return value

    return check


_PLAIN: dict[str, Callable[[object], Any]] = {
    "decimal": to_decimal,
    "money": to_money,
    "date": to_date,
    "cn_id": check_cn_id,
    "uscc": check_uscc,
}


def plain_check(spec: FactSpec) -> Callable[[object], Any] | None:
    """The plain check function of a fact, or None for exact JSON types (bool, int, str without
    a pattern) and enums, which the adapter and the fast path test by type and membership."""
    if spec.type == "str" and spec.pattern is not None:
        return matching(spec.pattern)
    return _PLAIN.get(spec.type)


_EXACT: dict[str, type] = {"bool": bool, "int": int, "str": str}


def value_check(spec: FactSpec, max_string: int | None = None) -> Callable[[object], Any]:
    """The check of one value of a scalar or enum type (a list's item, a record's field): the
    plain check, or the exact JSON type and, for an enum, membership. With `max_string`, a
    longer string is refused too (the fast path's own bound; the slow path walks the limits)."""
    check = plain_check(spec)
    if check is not None:
        return check
    exact = _EXACT[spec.type] if spec.type != "enum" else str
    members = frozenset(spec.values or ()) if spec.type == "enum" else None
    why = "one of the allowed values is required"
    wrong = detail(why, list(spec.values or ())) if members is not None else None

    def exactly(value: object) -> Any:
        if value.__class__ is not exact:
            raise ValueError(wrong or _TYPE_MESSAGE[spec.type])
        if members is not None and value not in members:
            raise ValueError(wrong)
        if max_string is not None and exact is str and len(value) > max_string:  # type: ignore[arg-type]
            raise ValueError("too long")
        return value

    return exactly


_TYPE_MESSAGE = {
    "bool": "true or false is required",
    "int": "an integer is required",
    "str": "a string is required",
}


def record_check(
    fields: Mapping[str, FieldSpec], max_string: int | None = None
) -> Callable[[object], dict[str, Any]]:
    """The check of one item of a list of records: a JSON object whose keys are declared fields,
    each required one given, each value valid for its field; the record with its canonical values
    in declared order. A `null` field is an absent one. Refused whole at the first wrong field
    (and so the list: a list with a doubtful item is invalid, never approved on the others)."""
    checks = {name: value_check(field_spec(f), max_string) for name, f in fields.items()}
    required = frozenset(name for name, f in fields.items() if not f.optional)
    names = frozenset(fields)

    def check(value: object) -> dict[str, Any]:
        if value.__class__ is not dict:
            raise ValueError("a JSON object is required")
        if not value.keys() <= names:
            extra = next(k for k in value if k not in names)
            raise ValueError(detail("not a field of the list's items", str(extra)))
        out: dict[str, Any] = {}
        for name, field_check in checks.items():
            item = value.get(name)
            if item is None:
                if name in required:
                    raise ValueError(detail("a required field is absent", name))
                continue
            try:
                out[name] = field_check(item)
            except ValueError as exc:
                raise ValueError(f"{detail('field', name)}: {exc}") from None
        return out

    return check
