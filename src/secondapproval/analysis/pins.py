"""Pins: constraints that fix an encoding's input facts to validated values (scalars, ID numbers by
their parts, lists by length and items, records' optional fields). The analysis pins the facts of
an approving application it does not vary (`analysis.parts`); the tests pin every fact, so that
the one status the solver then allows a rule can be compared with the interpreter's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import z3

from ..ruleset import field_spec
from .encode import Encoder
from .lists import Bounded, Slot
from .terms import string_value


def scalar(kind: str, term: Any, extra: dict[str, Any], v: Any) -> list[Any]:
    """Constraints that fix one scalar (a fact, an item, a field) to a validated value."""
    if kind == "cn_id":
        born = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
        return [extra["born"] == born.toordinal(), extra["seq"] == int(v[14:17])]
    if kind == "date":
        return [term == v.toordinal()]
    if kind in ("decimal", "money"):
        return [term == z3.RealVal(str(v))]
    if kind in ("str", "enum"):
        return [term == string_value(v)]
    return [term == v]


def _slot(kind: str, slot: Slot, v: Any) -> list[Any]:
    return scalar(kind, slot.value, slot.extra, v)


def pinned(enc: Encoder, values: dict[str, Any], paths: Iterable[str] | None = None) -> list[Any]:
    """Constraints that fix the input facts `paths` (all, for None) to the validated values
    (absent: not given); a list to its length and its items, a record's optional field to
    present or not."""
    out = []
    for path in enc.facts if paths is None else paths:
        f = enc.facts[path]
        out.append(z3.Not(f.invalid))
        if path not in values:
            out.append(z3.Not(f.given))
            continue
        out.append(f.given)
        v = values[path]
        if not isinstance(f.value, Bounded):
            out += scalar(f.spec.type, f.value, f.extra, v)
            continue
        out.append(f.value.length == len(v))
        for item, x in zip(f.value.items, v, strict=False):
            if item.slot is not None:
                out += _slot(f.spec.of or "str", item.slot, x)
                continue
            assert item.fields is not None
            for name, slot in item.fields.items():
                kind = field_spec((f.spec.fields or {})[name]).type
                out.append(slot.present == (name in x))
                if name in x:
                    out += _slot(kind, slot, x[name])
    return out
