"""Fact validation: an application (nested JSON) → valid values by dotted path, and what is wrong.

One pydantic `TypeAdapter` over nested `TypedDict`s is built per matter version, in strict mode:
JSON types must match the declared type (no "35" for an int, no 1 for a bool), dates are ISO
strings parsed strictly, and keys that name no declared fact are refused (DESIGN §10).
A JSON `null` is treated as an absent fact.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, PlainValidator, StrictBool, StrictInt, StrictStr, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from typing_extensions import TypedDict

from .decision import ROOT
from .fastfacts import Check, Checked, FastValidator, fast_checker
from .idcodes import check_cn_id, check_uscc, cn_id_birth_date
from .lang.parser import parse_iso_date
from .paths import nest
from .ruleset import FactSpec, Matter

_DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
_MONEY_TEXT = re.compile(r"^-?\d+(\.\d{1,2})?$")


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a number is required, not a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("number is not finite")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("number is not finite")
        return value
    if isinstance(value, str) and _DECIMAL_TEXT.match(value):
        return Decimal(value)
    raise ValueError("a number (or a decimal string) is required")


def _to_money(value: object) -> Decimal:
    amount = _to_decimal(value)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("an amount in CNY has at most two decimal places (fen)")
    if isinstance(value, str) and not _MONEY_TEXT.match(value):
        raise ValueError("an amount in CNY has at most two decimal places (fen)")
    return amount


def _to_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("a date is an ISO YYYY-MM-DD string")
    try:
        return parse_iso_date(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _matching(pattern: str) -> Callable[[object], str]:
    compiled = re.compile(pattern)

    def check(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError("a string is required")
        if not compiled.fullmatch(value):
            raise ValueError(f"does not match the pattern {pattern!r}")
        return value

    return check


def _plain(fn: Callable[[object], Any]) -> Any:
    return Annotated[Any, PlainValidator(fn)]


_SCALARS: dict[str, Any] = {
    "bool": StrictBool,
    "int": StrictInt,
    "str": StrictStr,
    "decimal": _plain(_to_decimal),
    "money": _plain(_to_money),
    "date": _plain(_to_date),
    "cn_id": _plain(check_cn_id),
    "uscc": _plain(check_uscc),
}


def annotation(spec: FactSpec) -> Any:
    """The pydantic annotation that validates one fact."""
    if spec.type == "enum":
        return Literal[tuple(spec.values or ())]
    if spec.type == "list":
        item = _SCALARS[spec.of or "str"]
        return list[item]  # type: ignore[valid-type]
    if spec.type == "str" and spec.pattern is not None:
        return _plain(_matching(spec.pattern))
    return _SCALARS[spec.type]


_PLAIN: dict[str, Callable[[object], Any]] = {
    "decimal": _to_decimal,
    "money": _to_money,
    "date": _to_date,
    "cn_id": check_cn_id,
    "uscc": check_uscc,
}


def plain_check(spec: FactSpec) -> Callable[[object], Any] | None:
    """The plain check function `annotation` wraps for a fact, or None for exact types and enums."""
    if spec.type == "str" and spec.pattern is not None:
        return _matching(spec.pattern)
    return _PLAIN.get(spec.type)


def _no_fast_path(_facts: object) -> None:
    """The fast path of a validator built with `fast=False`: always defer to the adapter."""


def _typed_dict(name: str, tree: Mapping[str, Any]) -> Any:
    fields = {
        key: _typed_dict(f"{name}_{key}", sub) if isinstance(sub, dict) else sub
        for key, sub in tree.items()
    }
    make: Any = TypedDict
    td: Any = make(name, fields, total=False)
    td.__pydantic_config__ = ConfigDict(extra="forbid", strict=True)
    return td


@dataclass(frozen=True, slots=True)
class Validated:
    """The outcome of validating an application."""

    values: dict[str, Any]
    """Valid facts by dotted path."""
    invalid: dict[str, str]
    """Paths that failed validation (a fact, a group or an undeclared key) → why."""
    missing: tuple[str, ...]
    """Required facts that are absent."""


class FactValidator:
    """Validates applications of one matter version.

    A generated fast path (`fastfacts`) checks the common, valid application; at its first doubt
    the strict pydantic adapter validates and says what is wrong. `fast=False` uses the adapter
    alone (the reference the fast path is tested against).
    """

    check: Check
    """`check(facts, on)`: `validate` as a plain tuple (values, invalid, missing), never raising;
    the hot path of decide()."""

    def __init__(self, matter: Matter, *, fast: bool = True) -> None:
        inputs = matter.inputs
        tree = nest({path: annotation(spec) for path, spec in inputs.items()})
        self._adapter: TypeAdapter[Any] = TypeAdapter(_typed_dict("Facts", tree))
        self._flat = all("." not in p for p in inputs)
        self._paths = tuple(inputs)
        self._required = frozenset(p for p, s in inputs.items() if not s.optional)
        self._groups = frozenset(
            ".".join(p.split(".")[:i]) for p in inputs for i in range(1, p.count(".") + 1)
        )
        self._cn_ids = tuple(p for p, s in inputs.items() if s.type == "cn_id")
        self._flatten = _flattener(tree)
        self.check = (
            fast_checker(inputs, plain_check, self._full, cn_id_birth_date)
            if fast
            else self._full(_no_fast_path)
        )

    def validate(self, facts: object, on: dt.date) -> Validated:
        """Valid values, invalid paths and missing facts of one application; never raises."""
        return Validated(*self.check(facts, on))

    def _full(self, partial: FastValidator) -> Check:
        """The full path: `partial` (generated) for the values when it has no doubt, else the
        adapter and its errors; then ID numbers born after the decision date; then missing facts."""

        def check(facts: object, on: dt.date) -> Checked:
            values = partial(facts)
            invalid: dict[str, str] = {}
            if values is None:
                if not isinstance(facts, dict):
                    return {}, {ROOT: "the application is not a JSON object"}, ()
                try:
                    nested = self._adapter.validate_python(facts)
                except PydanticValidationError as exc:
                    nested = self._salvage(facts, exc, invalid)
                values = nested if self._flat else self._flatten(nested)  # a fresh dict
            for path in self._cn_ids:
                if path in values and cn_id_birth_date(values[path]) > on:
                    invalid[path] = "birth date in the ID number is after the decision date"
                    del values[path]
            if values.keys() >= self._required:
                return values, invalid, ()
            missing = tuple(
                p
                for p in self._paths
                if p in self._required and p not in values and not self._covered(p, invalid)
            )
            return values, invalid, missing

        return check

    def _covered(self, path: str, invalid: Mapping[str, str]) -> bool:
        """Whether the fact is already accounted for as invalid (itself or its group)."""
        parts = path.split(".")
        return any(".".join(parts[:i]) in invalid for i in range(1, len(parts) + 1))

    def _salvage(
        self, facts: dict[str, Any], exc: PydanticValidationError, invalid: dict[str, str]
    ) -> Any:
        """Drop what failed (recording why, or as missing if it was null) and validate the rest."""
        data = copy.deepcopy(facts)
        for _ in range(4):
            for err in exc.errors(include_url=False, include_context=False):
                loc = [str(part) for part in err["loc"]]
                path, depth = self._declared_prefix(loc)
                if _lookup(facts, loc[:depth]) is not None:
                    invalid.setdefault(path, err["msg"])
                _remove(data, loc[:depth])
            try:
                return self._adapter.validate_python(data)
            except PydanticValidationError as again:
                exc = again
        invalid[ROOT] = "the application could not be validated"
        return {}

    def _declared_prefix(self, loc: list[str]) -> tuple[str, int]:
        """The fact (or group, or undeclared key) an error location belongs to, and its depth."""
        for depth in range(1, len(loc) + 1):
            path = ".".join(loc[:depth])
            if path not in self._groups:
                return path, depth
        return ".".join(loc), len(loc)


def _flattener(tree: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function turning validated nested facts into {dotted path: value}, generated once.

    The code is built from the declared fact paths only (validated identifiers, quoted with repr).
    """
    lines = ["def flatten(n):", "    out = {}"]

    def emit(node: Mapping[str, Any], var: str, prefix: str, depth: int) -> None:
        pad = "    " * depth
        for key, sub in node.items():
            path = prefix + key
            if isinstance(sub, dict):
                child = f"g{depth}"
                lines.append(f"{pad}{child} = {var}.get({key!r})")
                lines.append(f"{pad}if {child} is not None:")
                emit(sub, child, path + ".", depth + 1)
            else:
                lines.append(f"{pad}if {key!r} in {var}:")
                lines.append(f"{pad}    out[{path!r}] = {var}[{key!r}]")

    emit(tree, "n", "", 1)
    lines.append("    return out")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<secondapproval:flatten>", "exec"), namespace)
    flatten: Callable[[dict[str, Any]], dict[str, Any]] = namespace["flatten"]
    return flatten


def _lookup(data: Any, keys: list[str]) -> Any:
    for k in keys:
        if not isinstance(data, dict) or k not in data:
            return None
        data = data[k]
    return data


def _remove(data: Any, keys: list[str]) -> None:
    for k in keys[:-1]:
        if not isinstance(data, dict) or k not in data:
            return
        data = data[k]
    if isinstance(data, dict):
        data.pop(keys[-1], None)
