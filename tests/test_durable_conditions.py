"""The durable compiler alone: its passed/failed/error conditions match Kleene semantics.

The conditions are checked here by a tiny Python matcher instead of durable_rules, so a
disagreement found by the differential tests can be told apart: compiler or engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reference import examples
from secondapproval.backends.conditions import DNF, Builder, Check, has_error_state
from secondapproval.backends.encode import encode
from secondapproval.backends.hoist import Hoister, LAnd, LConst, LNot, LOr, simplify
from secondapproval.facts import FactValidator
from secondapproval.lang import ir, kleene
from secondapproval.lang.interpret import Interpreter, evaluate
from secondapproval.strategies import SCHEMA, SCHEMA_FACTS, applications, expressions
from secondapproval.strategies import synthetic_matter as make_matter

ON = dt.date(2020, 7, 1)
_CMP = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _holds(t: Check, message: dict[str, Any]) -> bool:
    if t.op == "ex":
        return t.key in message
    if t.op == "nex":
        return t.key not in message
    if t.key not in message:
        return False
    other = message.get(t.other) if t.other is not None else t.value
    if t.other is not None and t.other not in message:
        return False
    left = message[t.key]
    if isinstance(left, bool) != isinstance(other, bool):
        return False
    return bool(_CMP[t.op](left, other))


def _matches(dnf: DNF, message: dict[str, Any]) -> bool:
    return any(all(_holds(t, message) for t in conj) for conj in dnf)


@settings(max_examples=examples(200))
@given(expr=expressions(SCHEMA), data=st.data())
def test_conditions_match_the_interpreter(expr: ir.Node, data: st.DataObject) -> None:
    """Passed, failed and error conditions hold exactly when the interpreter says so."""
    matter = make_matter(SCHEMA_FACTS, [expr])
    hoister = Hoister(frozenset(SCHEMA))
    logic = hoister.logic(expr)
    builder = Builder(4096)
    passed, failed = builder.passed(logic), builder.failed(logic)
    error = builder.error(logic) if has_error_state(logic) else frozenset()
    for _ in range(5):
        facts = data.draw(applications(matter, on=ON))
        values = FactValidator(matter).validate(facts, ON).values
        interp = Interpreter(values, ON)
        message: dict[str, Any] = {"o": 1}
        for slot in hoister.slots:
            x = interp.eval(slot.node)
            if x is kleene.ERROR_VALUE:
                message[slot.error_key] = 1
            elif x is not kleene.UNKNOWN_VALUE:
                message[slot.key] = encode(x)
        want = evaluate(expr, values, ON)
        got_t, got_f = _matches(passed, message), _matches(failed, message)
        assert got_t == (want is True), (ir.render(expr), message)
        assert got_f == (want is False), (ir.render(expr), message)
        if not (got_t or got_f):
            assert _matches(error, message) == (want is kleene.ERROR_VALUE), (
                ir.render(expr),
                message,
            )


def test_simplify_folds_constants_kleene_exactly() -> None:
    """`true and x` is x, `false and x` false, `true or x` true, `not not x` x."""
    x = LNot(LConst(False))
    assert simplify(LAnd((LConst(True), LOr((LConst(False), LNot(LNot(x))))))) == LConst(True)
    y = LAnd((LConst(False), x))
    assert simplify(y) == LConst(False)
