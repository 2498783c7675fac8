"""Bounded lists in the analysis (secondapproval.analysis.lists): the encoding of list facts, their
quantifiers and functions agrees with the interpreter on generated expressions and applications,
the example matter with lists of records and enums is analysed exactly (within the bound of its
lists), and a matter that needs more items than it allows has no approval within the bound."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
import z3
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analysis_pins import assert_only_status, status
from reference import FIXTURES, ROOT, examples, plain_id
from secondapproval import Engine
from secondapproval.analysis import analyze
from secondapproval.analysis.encode import Encoder
from secondapproval.facts import FactValidator
from secondapproval.lang import ir
from secondapproval.lang.check import check
from secondapproval.lang.interpret import evaluate
from secondapproval.lang.parser import parse
from secondapproval.lang.types import BOOL
from secondapproval.strategies import (
    SCHEMA,
    SCHEMA_FACTS,
    applications,
    cn_ids,
    expressions,
    synthetic_matter,
)

ON = dt.date(2024, 2, 29)
EXAMPLE = "food-licence-renewal-example"


def _reads_a_list(node: ir.Node) -> bool:
    """Whether `node` reads a list fact (a quantifier, `len`, `sum`, `in`, `==` over one)."""
    return any(isinstance(n, ir.Fact) and n.ty.kind == "list" for n in ir.walk(node))


@settings(
    max_examples=examples(int(os.environ.get("ANALYSIS_EXAMPLES", "150"))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(expr=expressions(SCHEMA, max_depth=2).filter(_reads_a_list), data=st.data())
def test_the_list_encoding_agrees_with_the_interpreter(expr: ir.Node, data: st.DataObject) -> None:
    """With every fact (lists of scalars, enums and records among them) pinned to drawn values,
    the one status the solver allows a rule is the interpreter's (expressions the encoding
    approximates for other reasons, `round` or working days, are left out)."""
    matter = synthetic_matter(SCHEMA_FACTS, [expr])
    enc = Encoder(matter, ON, list_bound=4)  # the strategies draw lists of up to four items
    assert enc.bounded
    if enc.approximate:
        event("approximate")
        return
    event("exact")
    facts = data.draw(applications(matter, on=ON))
    valid = FactValidator(matter).validate(facts, ON)
    expected = status(evaluate(matter.rules[0].expr, valid.values, ON))
    event(f"status {expected}")
    rule = matter.rules[0].id
    assert_only_status(enc, rule, dict(valid.values), expected)


_SMALL = st.integers(-1, 3)
_PERSON = st.fixed_dictionaries(
    {"rel": st.sampled_from(["child", "spouse", "parent"]), "age": _SMALL},
    optional={
        "income": st.sampled_from([None, "0", "2.5", "7"]),
        "born": st.sampled_from(["1990-05-01", "2010-02-28", "2024-03-01"]),
        "id": st.one_of(st.none(), cn_ids()),
        "works": st.booleans(),
    },
)
_SMALL_FACTS = st.fixed_dictionaries(
    {},
    optional={
        "n": _SMALL,
        "m": _SMALL,
        "x": st.sampled_from(["0", "1.5", "3"]),
        "day": st.sampled_from(["2000-01-01", "2024-02-29"]),
        "name": st.sampled_from(["", "a", "b"]),
        "scores": st.lists(_SMALL, max_size=4),
        "kinds": st.lists(st.sampled_from(["x", "y", "z"]), max_size=4),
        "tags": st.lists(st.sampled_from(["", "a", "b"]), max_size=4),
        "people": st.lists(_PERSON, max_size=4),
    },
).map(lambda a: {"a": a})
"""Applications of small numbers, so that items are often 0, equal or near the literals."""


def _agrees(expr: ir.Node, data: st.DataObject, bound: int = 4) -> str:
    """The interpreter's status of `expr` on drawn facts, after checking that it is the one
    status the solver allows with every fact pinned to them."""
    matter = synthetic_matter(SCHEMA_FACTS, [expr])
    enc = Encoder(matter, ON, list_bound=bound)
    assert enc.approximate == [], ir.render(expr)
    facts = data.draw(st.one_of(applications(matter, on=ON), _SMALL_FACTS))
    valid = FactValidator(matter).validate(facts, ON)
    expected = status(evaluate(matter.rules[0].expr, valid.values, ON))
    assert_only_status(enc, matter.rules[0].id, dict(valid.values), expected)
    return expected


def _typed(text: str) -> ir.Node:
    node, problems = parse(text)
    assert not problems, problems
    typed, type_problems = check(node, SCHEMA, BOOL)
    assert not type_problems, type_problems
    return typed


ERRING = [
    # a predicate that fails on an item (a division by zero), is unknown (a.n missing, a field
    # left out) or decides
    "any_of(a.scores, 10 / (it - 1) > a.n)",
    "all_of(a.scores, 10 / (it - 1) > a.n)",
    "count(a.scores, 10 / (it - 1) > a.n) >= 1",
    "any_of(a.people, 100 / (it.age - 1) > 2 or it.income > 5)",
    "all_of(a.people, present(it.income) and it.income / (it.age - 1) >= 1)",
    "count(a.people, absent(it.works) or it.works) == len(a.people)",
    "any_of(a.people, it.rel == 'child' and len(a.kinds) > it.age)",
    "all_of(a.people, age_on(it.id, decision_date) >= 18 or it.born < a.day)",
    "any_of([a.n, a.m, 0], it > 2)",
    # functions of a list: the empty list's min is an error
    "min(a.scores) < 3 or max(a.scores) >= a.n",
    "min(a.scores) / max(a.scores) > 0",
    "sum(a.scores) == a.n",
    "sum([a.x, 1]) > 2",
    "count(a.people, it.rel == 'child') / count(a.kinds, it == 'x') >= 1",
    # membership and equality
    "a.n in a.scores and 'x' not in a.kinds",
    "a.name in a.tags",
    "a.scores == [1, 2] or a.tags != []",
    "a.scores != a.scores",
]


@settings(max_examples=examples(40), deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("text", ERRING, ids=plain_id)
def test_errors_and_unknowns_inside_lists_rank_as_the_interpreter_ranks_them(
    text: str, data: st.DataObject
) -> None:
    """Hand-written list expressions whose predicates can fail, be unknown or decide (which the
    generated ones seldom make fail): the solver's one status is the interpreter's."""
    expr = _typed(text)
    status = _agrees(expr, data)
    event(f"status {status}")


# ---- the example matter ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Engine:
    return Engine(ROOT / "docs" / "examples", vouch="all")


def test_the_example_matter_is_exact_within_its_list_bounds(example: Engine) -> None:
    """Its lists of records and of enums are bounded, not approximate; its working-day window
    and the patterns of its two str facts are exact."""
    enc = Encoder(example.versions(EXAMPLE)[0])
    assert enc.approximate == []
    assert sorted(enc.bounded) == [
        "lists of at most 3 items (business.categories)",
        "lists of at most 3 items (staff.food_handlers)",
    ]


def test_the_example_matter_approves_and_each_rule_can_pass_fail_and_be_unknown(
    example: Engine,
) -> None:
    """Every witness was decided by the engine inside `analyze` (it raises on an exact
    encoding the engine disagrees with); the approving one holds staff and categories."""
    engine = example
    matter = engine.versions(EXAMPLE)[0]
    start = time.perf_counter()
    report = analyze(matter, engine)
    elapsed = time.perf_counter() - start
    assert report.approximate == ()
    assert report.approvable.answer == "yes"
    w = report.approvable.witness
    assert w is not None
    assert engine.decide(EXAMPLE, w.facts, on=w.on).outcome.value == "approve"
    handlers = w.facts["staff"]["food_handlers"]
    assert any(h["role"] == "safety-manager" for h in handlers)
    # a missing opt-in makes absent(contact.reminder_opt_in) true: that rule is never unknown
    never_unknown = {"reminders-need-a-phone"}
    for rule, claims in report.rules.items():
        want = dict.fromkeys(("passed", "failed", "unknown"), "yes")
        if rule in never_unknown:  # proved over its part, which reads no list: exactly
            want["unknown"] = "no"
            assert "over 'reminders-need-a-phone'" in claims["unknown"].why
        assert {k: c.answer for k, c in claims.items()} == want, rule
    # add_years(expires_on, 5) has no value in 9995-9999; the band of a negative floor area none
    assert sorted(f.kind for f in report.findings) == ["derivation-fails", "derivation-fails"]
    print(f"analysis of {EXAMPLE}: {elapsed:.1f} s")


# ---- a matter that needs more items than it allows ----------------------------------------------


def test_a_matter_needing_more_items_than_it_allows_has_no_approval_within_the_bound() -> None:
    """Two adults among at most one member of staff: unsat, but only for lists of at most K
    items (`bounded`), so no proof in general; and its rules can each pass alone."""
    engine = Engine(FIXTURES / "analysis", vouch="all")
    matter = engine.versions("broken-too-few-items")[0]
    enc = Encoder(matter)
    assert enc.approximate == []
    assert enc.bounded == ["lists of at most 3 items (a.staff)"]
    solver = z3.Solver()
    solver.add(*enc.constraints, enc.approves())
    assert solver.check() == z3.unsat
    for rule in enc.rules:
        solver = z3.Solver()
        solver.add(*enc.constraints, enc.clean(), enc.status(rule)["passed"])
        assert solver.check() == z3.sat, rule
