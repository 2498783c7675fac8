"""Fact validation: an application (nested JSON) → valid values by dotted path, and what is wrong.

One pydantic `TypeAdapter` over nested `TypedDict`s is built per matter version, in strict mode:
JSON types must match the declared type (no "35" for an int, no 1 for a bool), dates are ISO
strings parsed strictly, and keys that name no declared fact are refused (DESIGN §10), even
with a `null` value. A JSON `null` under a declared key is treated as an absent fact.

Canonical values only: the adapter wraps the plain check of each fact type (`factchecks`: ASCII
numbers in JSON's syntax, ISO dates, whole-string ASCII patterns, bounded decimals), the same
functions the generated fast path (`fastfacts`) calls. Before the adapter runs, the application
is checked against the engine's `Limits` (too large: `INVALID:$`) and for keys given twice
(`jsonfile.Duplicated`).
Messages come from `messages` (English, with their Chinese), values in them written as JSON.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from pydantic import ConfigDict, PlainValidator, StrictBool, StrictInt, StrictStr, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from typing_extensions import TypedDict

from .codegen import compile_unit
from .factchecks import (
    DECIMAL_DIGITS,  # noqa: F401 (documented as facts.DECIMAL_DIGITS)
    matching,
    record_check,
    to_date,
    to_decimal,
    to_money,
)
from .fastfacts import Check, Checked, FastValidator, fast_path, fast_source
from .idcodes import check_cn_id, check_uscc, cn_id_birth_date
from .jsonfile import is_text
from .limits import DEFAULT, Limits, exceeded
from .messages import detail
from .paths import ROOT, nest, with_iso_dates
from .ruleset import FactSpec, Matter, date_paths, field_spec, item_spec


def _plain(fn: Callable[[object], Any]) -> Any:
    return Annotated[Any, PlainValidator(fn)]


_SCALARS: dict[str, Any] = {
    "bool": StrictBool,
    "int": StrictInt,
    "str": StrictStr,
    "decimal": _plain(to_decimal),
    "money": _plain(to_money),
    "date": _plain(to_date),
    "cn_id": _plain(check_cn_id),
    "uscc": _plain(check_uscc),
}


def annotation(spec: FactSpec) -> Any:
    """The pydantic annotation that validates one fact."""
    if spec.type == "enum":
        return Literal[tuple(spec.values or ())]
    if spec.type == "list" and spec.of == "record":
        record = _plain(record_check(spec.fields or {}))
        return list[record]  # type: ignore[valid-type]
    if spec.type == "list":
        item = annotation(item_spec(spec))
        return list[item]  # type: ignore[valid-type]
    if spec.type == "str" and spec.pattern is not None:
        return _plain(matching(spec.pattern))
    return _SCALARS[spec.type]


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

    def __init__(self, matter: Matter, *, fast: bool = True, limits: Limits = DEFAULT) -> None:
        inputs = matter.inputs
        self._limits = limits
        self._specs = inputs
        tree = nest({path: annotation(spec) for path, spec in inputs.items()})
        self._adapter: TypeAdapter[Any] = TypeAdapter(_typed_dict("Facts", tree))
        self._flat = all("." not in p for p in inputs)
        self._paths = tuple(inputs)
        self._required = frozenset(p for p, s in inputs.items() if not s.optional)
        self._groups = frozenset(
            ".".join(p.split(".")[:i]) for p in inputs for i in range(1, p.count(".") + 1)
        )
        self._dates = date_paths(matter)
        self._cn_ids = tuple(p for p, s in inputs.items() if s.type == "cn_id")
        self._cn_id_lists = tuple(
            p for p, s in inputs.items() if s.type == "list" and s.of == "cn_id"
        )
        self._cn_id_fields = tuple(
            (p, n)
            for p, s in inputs.items()
            for n, f in (s.fields or {}).items()
            if f.type == "cn_id"
        )
        self._any_ids = bool(self._cn_ids or self._cn_id_lists or self._cn_id_fields)
        self._flatten = _flattener(tree, unit_filename("flatten", matter))
        if fast and _within(tree, inputs, limits):
            path = fast_path(inputs, limits, unit_filename("facts", matter))
            self.check = path.checker(self._full(path.partial))
        else:
            self.check = self._full(_no_fast_path)

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
                too_large, duplicated = exceeded(facts, self._limits)
                if too_large is not None:
                    return {}, {ROOT: too_large}, ()
                if not isinstance(facts, dict):
                    return {}, {ROOT: "the application is not a JSON object"}, ()
                if facts.__class__ is not dict:
                    return {}, {ROOT: _foreign_message(facts)}, ()
                facts = cast(dict[str, Any], with_iso_dates(facts, self._dates))  # Python dates
                if duplicated:
                    facts = self._without_duplicates(facts, duplicated, invalid)
                foreign = _foreign(facts)
                if foreign:
                    facts = self._without_foreign(facts, foreign, invalid)
                try:
                    nested = self._adapter.validate_python(facts)
                except PydanticValidationError as exc:
                    nested = self._salvage(facts, exc, invalid)
                values = nested if self._flat else self._flatten(nested)  # a fresh dict
            if self._any_ids:
                self._drop_born_later(values, on, invalid)
            if values.keys() >= self._required:
                return values, invalid, ()
            missing = tuple(
                p
                for p in self._paths
                if p in self._required and p not in values and not self._covered(p, invalid)
            )
            return values, invalid, missing

        return check

    def _drop_born_later(
        self, values: dict[str, Any], on: dt.date, invalid: dict[str, str]
    ) -> None:
        """ID numbers (a fact, an item of a list, a record's field) whose holder is born after
        the decision date: the fact is invalid."""
        later = [p for p in self._cn_ids if p in values and cn_id_birth_date(values[p]) > on]
        later += [
            p
            for p in self._cn_id_lists
            if p in values and any(cn_id_birth_date(i) > on for i in values[p])
        ]
        later += [
            p
            for p, name in self._cn_id_fields
            if p in values and any(name in r and cn_id_birth_date(r[name]) > on for r in values[p])
        ]
        for path in later:
            invalid[path] = _BORN_LATER
            values.pop(path, None)

    def _covered(self, path: str, invalid: Mapping[str, str]) -> bool:
        """Whether the fact is already accounted for as invalid (itself or its group)."""
        parts = path.split(".")
        return any(".".join(parts[:i]) in invalid for i in range(1, len(parts) + 1))

    def _without_foreign(
        self, facts: dict[str, Any], foreign: list[Foreign], invalid: dict[str, str]
    ) -> dict[str, Any]:
        """A copy of the application without its values of other classes, each one invalid."""
        data = copy.deepcopy(facts)
        for loc, value, is_key in foreign:
            path, depth = self._declared_prefix(loc)
            invalid.setdefault(path, _foreign_message(value))
            if is_key and depth == len(loc):  # removed by the key itself, not its text
                _remove(data, [*loc[:-1], value])  # type: ignore[list-item]
            _remove(data, loc[:depth])
        return data

    def _without_duplicates(
        self, facts: dict[str, Any], duplicated: list[str], invalid: dict[str, str]
    ) -> dict[str, Any]:
        """A copy of the application without the keys given twice, each recorded as invalid."""
        data = copy.deepcopy(facts)
        for where in duplicated:
            loc = where.split(".")
            path, depth = self._declared_prefix(loc)
            invalid.setdefault(path, "the key is given more than once")
            _remove(data, loc[:depth])
        return data

    def _salvage(
        self, facts: dict[str, Any], exc: PydanticValidationError, invalid: dict[str, str]
    ) -> Any:
        """Drop what failed (recording why, or as missing if a declared fact was null) and
        validate the rest. An undeclared key is invalid whatever its value, null included."""
        data = copy.deepcopy(facts)
        for _ in range(4):
            for err in exc.errors(include_url=False):
                loc = [str(part) for part in err["loc"]]
                holder = _lookup(data, loc) if err["type"] == "string_unicode" else None
                if isinstance(holder, dict):  # a key in it is no text: pydantic cannot name it
                    for keys in _keys_not_text(holder):
                        path = ".".join([*loc, *keys])
                        invalid.setdefault(path, "not a declared fact of this matter")
                        _remove(data, [*loc, *keys])
                    continue
                path, depth = self._declared_prefix(loc)
                undeclared = err["type"] == "extra_forbidden"
                if undeclared or _lookup(facts, loc[:depth]) is not None:
                    invalid.setdefault(path, self._message(err, path, loc, depth, undeclared))
                _remove(data, loc[:depth])
            try:
                return self._adapter.validate_python(data)
            except PydanticValidationError as again:
                exc = again
        invalid[ROOT] = "the application could not be validated"
        return {}

    def _message(self, err: Any, path: str, loc: list[str], depth: int, undeclared: bool) -> str:
        """Our message (`messages`) for one pydantic error, never pydantic's English (at `loc`,
        in the fact or group `path`, `depth` keys down)."""
        if undeclared:
            return self._undeclared(path, loc[depth - 1])
        below = loc[depth:]
        kind = err["type"]
        if kind == "value_error":
            found = err.get("ctx", {}).get("error")
            why = str(found) if found is not None else "an invalid value"
        elif kind == "literal_error":
            spec = self._specs.get(path)
            allowed = list(spec.values or ()) if spec is not None else []
            why = detail("one of the allowed values is required", allowed)
        else:
            why = _TYPE_MESSAGES.get(kind, "an invalid value")
        if below and below[0].isdigit():  # an item of a list fact
            return f"{detail('item', int(below[0]))}: {why}"
        return why

    def _undeclared(self, path: str, key: str) -> str:
        """Why a key is refused, with a hint when it is a dotted path given flat: facts are
        nested objects (DESIGN §10), `{"a": {"b": 1}}`, never `{"a.b": 1}`."""
        why = "not a declared fact of this matter"
        if "." not in key or path.split(".", 1)[0] not in self._groups:
            return why
        nested = json.dumps(nest({path: "…"}), ensure_ascii=False, separators=(",", ":"))
        return f"{why}: {_NESTED}: {nested}"  # compact: `messages.zh` splits at ": "

    def _declared_prefix(self, loc: list[str]) -> tuple[str, int]:
        """The fact (or group, or undeclared key) an error location belongs to, and its depth."""
        for depth in range(1, len(loc) + 1):
            path = ".".join(loc[:depth])
            if path not in self._groups:
                return path, depth
        return ".".join(loc), len(loc)


_NESTED = "facts are nested objects, not dotted keys"
_BORN_LATER = "birth date in the ID number is after the decision date"

_TYPE_MESSAGES = {
    "bool_type": "true or false is required",
    "int_type": "an integer is required",
    "int_from_float": "an integer is required",
    "int_parsing": "an integer is required",
    "string_type": "a string is required",
    "list_type": "a JSON list is required",
    "dict_type": "a JSON object is required",
    "model_type": "a JSON object is required",
    "typed_dict_type": "a JSON object is required",
}


def _within(tree: Mapping[str, Any], inputs: Mapping[str, FactSpec], limits: Limits) -> bool:
    """Whether every application shaped like the matter's facts is within the limits' shape
    bounds (keys, depth, declared strings), so that the fast path needs no walk to agree."""

    def size(node: Mapping[str, Any], depth: int) -> tuple[int, int]:
        keys, deepest = len(node), depth
        for sub in node.values():
            if isinstance(sub, dict):
                k, d = size(sub, depth + 1)
                keys, deepest = keys + k, max(deepest, d)
        return keys, deepest

    keys, depth = size(tree, 1)
    lists = any(s.type == "list" for s in inputs.values())
    records = any(s.of == "record" for s in inputs.values())
    values = [
        v
        for s in inputs.values()
        for spec in (s, *map(field_spec, (s.fields or {}).values()))
        if spec.values
        for v in spec.values
    ]
    longest = max(map(len, values), default=0)
    return (
        keys <= limits.max_keys
        and depth + lists + records <= limits.max_depth
        and longest <= limits.max_string
        and limits.max_string >= 100  # ID numbers, dates, bounded decimal strings fit
    )


def unit_filename(unit: str, matter: Matter) -> str:
    """The filename a generated unit of a matter version's validator is compiled under
    (`codegen`): `facts`, the fast path, or `flatten`, the flattener."""
    return f"<secondapproval:{unit} {matter.id}@{matter.version}>"


def validator_sources(matter: Matter, limits: Limits = DEFAULT) -> dict[str, str]:
    """The Python a `FactValidator` of this matter version generates, by the filename it is
    compiled under: its fast path (where the matter has one within the limits), its flattener."""
    inputs = matter.inputs
    tree = nest(dict.fromkeys(inputs))  # the shape alone: what both generators read
    sources: dict[str, str] = {}
    if _within(tree, inputs, limits):
        sources[unit_filename("facts", matter)] = fast_source(inputs, limits)[0]
    sources[unit_filename("flatten", matter)] = _flatten_source(tree)
    return sources


def _flatten_source(tree: Mapping[str, Any]) -> str:
    """The source of `flatten(n)`, turning validated nested facts into {dotted path: value}.

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
    return "\n".join(lines) + "\n"


def _flattener(
    tree: Mapping[str, Any], filename: str
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The generated `flatten` of this shape, compiled once under `filename` (`codegen`)."""
    flatten: Callable[[dict[str, Any]], dict[str, Any]]
    flatten = compile_unit(_flatten_source(tree), filename, {})["flatten"]
    return flatten


def _lookup(data: Any, keys: list[str]) -> Any:
    for k in keys:
        if not isinstance(data, dict) or k not in data:
            return None
        data = data[k]
    return data


def _keys_not_text(data: dict[str, Any]) -> list[list[str]]:
    """The key paths, in objects at any depth, of keys holding a lone surrogate (no text: pydantic
    cannot say where they are, so they are found here). No such key is a declared fact."""
    found: list[list[str]] = []
    stack: list[tuple[dict[str, Any], list[str]]] = [(data, [])]
    while stack:
        obj, above = stack.pop()
        for key, value in obj.items():
            if isinstance(key, str) and not is_text(key):
                found.append([*above, key])
            elif isinstance(value, dict):
                stack.append((value, [*above, key]))
    return found


def _remove(data: Any, keys: list[str]) -> None:
    for k in keys[:-1]:
        if not isinstance(data, dict) or k not in data:
            return
        data = data[k]
    if isinstance(data, dict):
        data.pop(keys[-1], None)


_EXACT_CLASSES = frozenset({dict, list, tuple, str, int, float, bool, type(None), Decimal, dt.date})
"""The classes a value may have exactly: JSON's, and Decimal and date from Python callers.

A subclass is refused, an Enum member or a `str` subclass included: its methods (equality,
hashing) could make a rule see something other than the value recorded."""


Foreign = tuple[list[str], object, bool]
"""Where an application holds a value of another class (its key path), the value, and whether
it is a key (one that is not a str)."""


def _foreign(facts: dict[str, Any]) -> list[Foreign]:
    """Every value of another class in an application (a key that is not a str included)."""
    found: list[Foreign] = []
    stack: list[tuple[Any, list[str]]] = [(facts, [])]
    while stack:
        value, loc = stack.pop()
        cls = value.__class__
        if cls not in _EXACT_CLASSES:
            found.append((loc, value, False))
        elif cls is dict:
            for key, sub in value.items():
                if key.__class__ is not str:
                    found.append(([*loc, str(key)], key, True))
                else:
                    stack.append((sub, [*loc, key]))
        elif cls is list or cls is tuple:
            stack.extend((sub, [*loc, str(i)]) for i, sub in enumerate(value))
    return found


def _foreign_message(value: object) -> str:
    cls = value.__class__
    return f"not a JSON value: a {cls.__module__}.{cls.__qualname__}"
