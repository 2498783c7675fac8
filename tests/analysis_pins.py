"""The analysis tests' pins: every input fact fixed to validated values (`analysis.pins`), the one
status the solver then allows a rule compared with the interpreter's."""

from __future__ import annotations

from typing import Any

import z3
from hypothesis import reject

from secondapproval.analysis.encode import Encoder
from secondapproval.analysis.pins import pinned
from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE


def status(value: Any) -> str:
    if value is ERROR_VALUE:
        return "error"
    if value is UNKNOWN_VALUE:
        return "unknown"
    return "passed" if value else "failed"


def assert_only_status(enc: Encoder, rule: str, values: dict[str, Any], expected: str) -> None:
    """With every input fact pinned to `values`, the solver allows `rule` the status `expected`
    (the interpreter's) and no other. Values z3 cannot hold (a text beyond its alphabet, which
    no witness has) are left out of the test."""
    try:
        pins = pinned(enc, dict(values))
    except ValueError:
        reject()
    solver = z3.Solver()
    solver.set("timeout", 10_000)
    solver.add(*enc.constraints, *pins)
    for name, condition in enc.status(rule).items():
        result = solver.check(condition)
        assert result != z3.unknown, rule
        assert (result == z3.sat) == (name == expected), (values, name, expected)
