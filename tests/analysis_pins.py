"""Pins for the analysis tests: constraints that fix an encoding's input facts to validated values
(scalars, ID numbers by their parts, lists by length and items, records' optional fields), so the
one status the solver then allows a rule can be compared with the interpreter's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import z3

from secondapproval.analysis.encode import Encoder
from secondapproval.analysis.lists import Bounded, Slot
from secondapproval.analysis.terms import string_value
from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from secondapproval.ruleset import field_spec


def status(value: Any) -> str:
    if value is ERROR_VALUE:
        return "error"
    if value is UNKNOWN_VALUE:
        return "unknown"
    return "passed" if value else "failed"


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


def pinned(enc: Encoder, values: dict[str, Any]) -> list[Any]:
    """Constraints that fix every input fact to the validated values (absent: not given); a list
    to its length and its items, a record's optional field to present or not."""
    out = []
    for path, f in enc.facts.items():
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


def assert_only_status(enc: Encoder, rule: str, values: dict[str, Any], expected: str) -> None:
    """With every input fact pinned to `values`, the solver allows `rule` the status `expected`
    (the interpreter's) and no other."""
    solver = z3.Solver()
    solver.set("timeout", 10_000)
    solver.add(*enc.constraints, *pinned(enc, dict(values)))
    for name, condition in enc.status(rule).items():
        result = solver.check(condition)
        assert result != z3.unknown, rule
        assert (result == z3.sat) == (name == expected), (values, name, expected)
