"""secondapproval.strategies: generated applications and expressions are what they claim."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from differential import bundled_matters
from secondapproval.engine import Engine
from secondapproval.facts import FactValidator
from secondapproval.generate.literals import compared_literals
from secondapproval.idcodes import check_cn_id, check_uscc
from secondapproval.lang import ir
from secondapproval.lang.types import BOOL
from secondapproval.ruleset import with_calendar
from secondapproval.strategies import (
    SCHEMA,
    SCHEMA_FACTS,
    applications,
    bad_cn_ids,
    bad_usccs,
    cn_ids,
    expressions,
    fact_values,
    synthetic_matter,
    usccs,
    valid_applications,
)

MATTERS = bundled_matters()
ON = dt.date(2020, 7, 1)


@given(cn_ids())
def test_cn_ids_are_valid(value: str) -> None:
    """Generated citizen ID numbers pass the strict validator."""
    assert check_cn_id(value) == value


@given(bad_cn_ids())
def test_bad_cn_ids_are_refused(value: Any) -> None:
    """Malformed citizen ID numbers fail the strict validator."""
    with pytest.raises(ValueError):
        check_cn_id(value)


@given(usccs())
def test_usccs_are_valid(value: str) -> None:
    """Generated credit codes pass the strict validator."""
    assert check_uscc(value) == value


@given(bad_usccs())
def test_bad_usccs_are_refused(value: Any) -> None:
    """Malformed credit codes fail the strict validator."""
    with pytest.raises(ValueError):
        check_uscc(value)


@pytest.mark.parametrize("matter", MATTERS, ids=lambda m: m.id)
@settings(max_examples=40)
@given(data=st.data())
def test_valid_applications_have_no_fact_problems(matter: Any, data: st.DataObject) -> None:
    """A valid application has every fact present and valid (birth dates before the date)."""
    facts = data.draw(valid_applications(matter, on=ON))
    validated = FactValidator(matter).validate(facts, dt.date(2060, 12, 31))
    assert validated.missing == ()
    assert validated.invalid == {}


@pytest.mark.parametrize("matter", MATTERS, ids=lambda m: m.id)
def test_applications_reach_every_literal_and_enum_value(matter: Any) -> None:
    """Every enum value, and values at, below and above each int literal, can be drawn."""
    literals = compared_literals(matter)
    for fact, spec in matter.inputs.items():
        lits = sorted(literals.get(fact, ()), key=repr)
        wanted: list[Any] = list(spec.values or ()) if spec.type == "enum" else []
        if spec.type == "int":
            wanted += [v + d for v in lits if type(v) is int for d in (-1, 0, 1)]
        for value in wanted:
            found = find(
                fact_values(spec, lits, (), ON),
                lambda x, value=value: x == value and type(x) is type(value),
                settings=settings(max_examples=2000, database=None),
            )
            assert found == value


def test_applications_include_missing_malformed_and_extra_keys() -> None:
    """Over many draws, applications produce missing, invalid and undeclared-key reasons."""
    engine = Engine(MATTERS)
    matter = next(m for m in MATTERS if any(s.type == "cn_id" for s in m.inputs.values()))
    codes: set[str] = set()

    @settings(max_examples=300, database=None)
    @given(applications(matter, on=ON))
    def collect(facts: Any) -> None:
        on = max(ON, matter.spec.effective.from_)
        codes.update(c.split(":")[0] for c in engine.decide(matter.id, facts, on=on).codes)

    collect()
    assert {"MISSING", "INVALID"} <= codes


@settings(max_examples=100)
@given(expressions(SCHEMA))
def test_expressions_are_well_typed_booleans(expr: ir.Node) -> None:
    """Random expressions are typed booleans over the schema and compile into a matter."""
    assert expr.ty == BOOL
    assert ir.facts_of(expr) <= set(SCHEMA)
    matter = synthetic_matter(SCHEMA_FACTS, [expr])
    assert matter.rules[0].expr == with_calendar(expr, matter.calendar)  # working days: bound
    assert ir.render(matter.rules[0].expr) == ir.render(expr)
