"""Foundation invariants, checked by Hypothesis on every bundled matter and on random expressions.

- approve ⇒ every rule passed on present, valid facts;
- a missing fact that a rule reads ⇒ refer, naming it;
- determinism: the same rule set, facts and date give the same decision;
- the native backend's generated code equals the reference interpreter on random expressions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import REFERENCE, RULES, engine_over, examples
from secondapproval import Engine, Outcome, Status
from secondapproval.backends.native import NativeBackend
from secondapproval.facts import FactValidator
from secondapproval.lang.interpret import evaluate
from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from secondapproval.ruleset import Matter
from secondapproval.strategies import (
    SCHEMA,
    SCHEMA_FACTS,
    applications,
    expressions,
    synthetic_matter,
    valid_applications,
)

ENGINES = {"rules": engine_over(RULES), "reference": engine_over(REFERENCE)}
MATTERS = [(name, m) for name, e in ENGINES.items() for m in e.matters]
DATES = st.dates(dt.date(2018, 6, 1), dt.date(2030, 12, 31))


def latest(name: str, matter: str) -> Matter:
    return ENGINES[name].versions(matter)[-1]


def on_of(m: Matter, drawn: dt.date) -> dt.date:
    return max(drawn, m.spec.effective.from_)


@pytest.mark.parametrize(("engine", "matter"), MATTERS)
@given(data=st.data())
def test_approve_only_when_every_rule_passed_on_valid_facts(
    engine: str, matter: str, data: st.DataObject
) -> None:
    """An approval has every rule passed, no reason, and every required fact present and valid."""
    m = latest(engine, matter)
    on = on_of(m, data.draw(DATES))
    facts = data.draw(applications(m, on))
    d = ENGINES[engine].decide(matter, facts, on=on)
    if d.outcome is Outcome.APPROVE:
        assert all(r.status is Status.PASSED for r in d.results)
        assert d.reasons == ()
        assert not d.invalid
        assert not d.missing
        required = {p for p, s in m.inputs.items() if not s.optional}
        assert required <= set(d.values)
    else:
        assert d.reasons, "a referral always says why"


@pytest.mark.parametrize(("engine", "matter"), MATTERS)
@given(data=st.data())
def test_missing_fact_read_by_a_rule_refers_naming_it(
    engine: str, matter: str, data: st.DataObject
) -> None:
    """Deleting a required fact that a rule reads refers, with MISSING:<that fact> among the
    reasons (an optional fact is unknown only where a rule needs it: see the Kleene tests)."""
    m = latest(engine, matter)
    on = on_of(m, data.draw(DATES))
    facts = data.draw(valid_applications(m, on))
    read = sorted(
        {p for r in m.rules for p in r.roots if p in m.inputs and not m.inputs[p].optional}
    )
    path = data.draw(st.sampled_from(read))
    *groups, leaf = path.split(".")
    node: Any = facts
    for g in groups:
        node = node[g]
    del node[leaf]
    d = ENGINES[engine].decide(matter, facts, on=on)
    assert d.outcome is Outcome.REFER
    assert f"MISSING:{path}" in d.codes


@pytest.mark.parametrize(("engine", "matter"), MATTERS)
@given(data=st.data())
@settings(max_examples=examples(50))
def test_decisions_are_deterministic(engine: str, matter: str, data: st.DataObject) -> None:
    """The same facts and date give the same decision, on this engine and on a fresh one."""
    m = latest(engine, matter)
    on = on_of(m, data.draw(DATES))
    facts = data.draw(applications(m, on))
    first = ENGINES[engine].decide(matter, facts, on=on)
    again = ENGINES[engine].decide(matter, facts, on=on)
    fresh = Engine([m], vouch="all").decide(matter, facts, on=on)
    assert first == again == fresh
    assert first.to_dict() | {"decision_id": None} == again.to_dict() | {"decision_id": None}


def _status(value: Any) -> int:
    if value is True:
        return 1
    if value is False:
        return 0
    return 3 if value is ERROR_VALUE else 2


@given(st.lists(expressions(SCHEMA), min_size=1, max_size=4), st.data())
@settings(max_examples=examples(300))
def test_generated_code_equals_the_interpreter(exprs: list[Any], data: st.DataObject) -> None:
    """On random expressions and facts, native code and the tree-walking interpreter agree."""
    matter = synthetic_matter(SCHEMA_FACTS, exprs)
    evaluator = NativeBackend().compile(matter)
    validator = FactValidator(matter)
    on = data.draw(DATES)
    for _ in range(3):
        facts = data.draw(applications(matter, on))
        values = validator.validate(facts, on).values
        statuses, errors = evaluator(dict(values), on)
        expected = tuple(_status(evaluate(r.expr, values, on)) for r in matter.rules)
        assert statuses == expected, [r.spec.when for r in matter.rules]
        assert errors == frozenset()


def test_unknown_and_error_sentinels_have_no_truth_value() -> None:
    """UNKNOWN and ERROR_VALUE cannot be mistaken for booleans by accident."""
    with pytest.raises(TypeError):
        bool(UNKNOWN_VALUE)
    with pytest.raises(TypeError):
        bool(ERROR_VALUE)
