"""Static analysis by parts (secondapproval.analysis.parts): a matter's rules that share no input
fact are asked of the solver part by part, and the answers are the whole matter's — a witness
completed by the approving application, a proof that names the rules it is over, and the whole
matter asked when the parts cannot say (they approve on different days)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import FIXTURES, REFERENCE, RULES, engine_over, examples, versions, write_matter
from secondapproval import Engine, Matter
from secondapproval.analysis import analyze
from secondapproval.analysis.ask import Claim
from secondapproval.analysis.findings import Report
from secondapproval.analysis.parts import Parts, parts
from secondapproval.ruleset import FactSpec, fact_type
from secondapproval.strategies import SCHEMA_FACTS, expressions, synthetic_matter
from secondapproval.strategies.wide import wide_matter

FACTS: dict[str, FactSpec] = {p: f for p, f in SCHEMA_FACTS.items() if f.type != "list"}
SCHEMA = {p: fact_type(f) for p, f in FACTS.items()}

PROVED = ("no", "bounded")
APPROVABLE_KINDS = ("unapprovable", "unapprovable-bounded", "approvable-unknown")


def _engines() -> Iterator[tuple[Engine, Matter]]:
    for folder in (
        RULES,
        REFERENCE,
        FIXTURES / "analysis",
        FIXTURES / "analysis-workdays",
        FIXTURES / "analysis-versions",
    ):
        engine = engine_over(folder)
        yield from ((engine, m) for m in versions(engine))


MATTERS = list(_engines())


def assert_a_partition(matter: Matter) -> None:
    """Every rule in one part, every input fact in one part, a rule's facts in its own part,
    and an output's in one part."""
    found = parts(matter)
    rules = [r for p in found for r in p.rules]
    assert sorted(rules) == sorted(r.id for r in matter.rules)
    facts = [f for p in found for f in p.facts]
    assert sorted(facts) == sorted(matter.inputs)
    for part in found:
        for rule in part.matter.rules:
            assert rule.roots <= part.facts, rule.id
    for path in matter.outputs:
        assert sum(1 for p in found if matter.roots_of(path) <= p.facts) >= 1, path


@pytest.mark.parametrize(("engine", "matter"), MATTERS, ids=lambda x: getattr(x, "id", ""))
def test_the_parts_of_every_bundled_and_fixture_matter_share_no_fact(
    engine: Engine, matter: Matter
) -> None:
    assert_a_partition(matter)


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(expressions(SCHEMA, max_depth=2), min_size=1, max_size=6))
def test_the_parts_of_a_generated_matter_share_no_fact(rules: list[Any]) -> None:
    assert_a_partition(synthetic_matter(FACTS, rules))


def whole(matter: Matter, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Report:
    """The analysis without parts: every question asked of the whole matter."""
    with monkeypatch.context() as m:
        m.setattr(Parts, "approve", lambda self: None)
        m.setattr(Parts, "ask", lambda self, rule, result, *, others: None)
        return analyze(matter, engine)


def assert_as_strong(by_parts: Claim, alone: Claim, what: str) -> None:
    """The parts' answer is the whole matter's, or a proof where the whole matter's is bounded
    (the part reads no list) or unknown (the part holds no approximate function)."""
    if alone.answer in ("yes", "no"):
        assert by_parts.answer == alone.answer, what
    elif alone.answer == "bounded":
        assert by_parts.answer in PROVED, what
    else:
        assert by_parts.answer != "yes" or by_parts.witness is not None, what


def assert_same_report(by_parts: Report, alone: Report) -> None:
    assert_as_strong(by_parts.approvable, alone.approvable, "approvable")
    assert by_parts.rules.keys() == alone.rules.keys()
    for rule, claims in alone.rules.items():
        for result, claim in claims.items():
            assert_as_strong(by_parts.rules[rule][result], claim, f"{rule} {result}")
    assert settled_kinds(by_parts, alone) == settled_kinds(alone, alone)


def settled_kinds(report: Report, alone: Report) -> list[str]:
    """The kinds of the report's findings on the claims the whole matter settled: where it ran out
    of time (unknown), the parts may prove what it could not, and their findings differ."""
    unsettled = {
        rule
        for rule, claims in alone.rules.items()
        if any(c.answer == "unknown" for c in claims.values())
    }
    whole_unknown = alone.approvable.answer == "unknown"
    return sorted(
        f.kind
        for f in report.findings
        if f.rule not in unsettled and not (whole_unknown and f.kind in APPROVABLE_KINDS)
    )


@pytest.mark.parametrize(("engine", "matter"), MATTERS, ids=lambda x: getattr(x, "id", ""))
def test_by_parts_every_bundled_and_fixture_matter_gets_the_whole_matters_answers(
    engine: Engine, matter: Matter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every witness of both analyses was decided by the engine inside `analyze`."""
    assert_same_report(analyze(matter, engine), whole(matter, engine, monkeypatch))


@pytest.mark.parametrize("linked", [False, True], ids=["parts", "linked"])
def test_by_parts_a_generated_matter_of_many_rules_gets_the_whole_matters_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linked: bool
) -> None:
    """Many parts; or one, each rule's witness changing its own facts of the approving one."""
    matter_id = wide_matter(21, tmp_path, linked=linked)
    engine = Engine(tmp_path, vouch="all")
    matter = engine.versions(matter_id)[0]
    assert len(parts(matter)) == 1 if linked else len(parts(matter)) > 5
    by_parts = analyze(matter, engine)
    assert by_parts.approvable.answer == "yes"
    assert_same_report(by_parts, whole(matter, engine, monkeypatch))


MATTER = """
matter: two-parts
title: {{zh: 两部分, en: Two parts}}
version: "1"
effective: {{from: "2024-01-01"}}
facts:
  a.x: {{type: int, source: applicant}}
  a.day: {{type: date, source: applicant}}
rules:
  - id: low
    when: 'a.x <= 3'
    says: {{zh: 条件一, en: One}}
    refer: {{code: ONE, zh: 不符合, en: Not met}}
  - id: high
    when: 'a.x >= {floor}'
    says: {{zh: 条件二, en: Two}}
    refer: {{code: TWO, zh: 不符合, en: Not met}}
  - id: late
    when: 'decision_date >= date("2025-06-01")'
    says: {{zh: 条件三, en: Three}}
    refer: {{code: THREE, zh: 不符合, en: Not met}}
  - id: recent
    when: 'a.day <= decision_date and a.day >= date("2025-06-20")'
    says: {{zh: 条件四, en: Four}}
    refer: {{code: FOUR, zh: 不符合, en: Not met}}
"""


def two_parts(folder: Path, floor: int) -> tuple[Engine, Matter]:
    engine = Engine(write_matter(folder, MATTER.format(floor=floor)), vouch="all")
    return engine, engine.versions("two-parts")[0]


def test_a_part_that_approves_no_one_is_a_proof_over_its_rules(tmp_path: Path) -> None:
    engine, matter = two_parts(tmp_path, floor=5)
    assert sorted(map(sorted, (p.rules for p in parts(matter)))) == [
        ["high", "low"],
        ["late"],
        ["recent"],
    ]
    report = analyze(matter, engine)
    assert report.approvable.answer == "no"
    assert "over 'low', 'high'" in report.approvable.why
    assert report.rules["high"]["passed"].answer == "yes"
    assert report.rules["recent"]["failed"].answer == "yes"


def test_parts_that_approve_on_different_days_are_asked_as_the_whole_matter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts without a common day on their own are completed by the whole matter: the
    approving day is one on which both the dated rules pass."""
    engine, matter = two_parts(tmp_path, floor=2)
    report = analyze(matter, engine)
    assert report.approvable.answer == "yes"
    w = report.approvable.witness
    assert w is not None
    assert str(w.on) >= "2025-06-20"
    assert engine.decide("two-parts", w.facts, on=w.on).outcome.value == "approve"
    assert_same_report(report, whole(matter, engine, monkeypatch))


def test_on_a_day_a_part_cannot_pass_the_proof_names_it(tmp_path: Path) -> None:
    engine, matter = two_parts(tmp_path, floor=2)
    report = analyze(matter, engine, dt.date(2025, 6, 10))
    assert report.approvable.answer == "no"
    assert "over 'late'" not in report.approvable.why
    assert "over 'recent'" in report.approvable.why


def test_a_rule_read_with_a_shared_fact_fails_by_its_own_facts_alone(tmp_path: Path) -> None:
    """In a matter of one part (every rule reads the household), a rule's failing witness is
    the approving one with only the facts few rules read changed: the shared fact keeps its
    value, and every other rule still passes."""
    matter_id = wide_matter(21, tmp_path, linked=True)
    engine = Engine(tmp_path, vouch="all")
    matter = engine.versions(matter_id)[0]
    base = analyze(matter, engine).approvable.witness
    assert base is not None
    one = Parts(matter)
    one.base = base
    for rule in matter.rules:
        claim = one.ask(rule.id, "failed", others=True)
        assert claim is not None, rule.id
        assert claim.witness is not None, rule.id
        w = claim.witness
        assert w.on == base.on
        assert w.facts["a"]["household"] == base.facts["a"]["household"]
        changed = {k for k in base.facts["a"] if w.facts["a"].get(k) != base.facts["a"][k]}
        assert {f"a.{k}" for k in changed} <= rule.roots, rule.id
        d = engine.decide(matter_id, w.facts, on=w.on)
        assert [r.rule for r in d.results if r.status.value != "passed"] == [rule.id]
