"""Static analysis (secondapproval.analysis): the bundled matters are approvable with witnesses the
engine approves, deliberately broken matters show each finding, an approximate encoding never
claims a proof, and the encoding agrees with the interpreter on generated expressions and facts."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis_pins import assert_only_status, status
from reference import FIXTURES, REFERENCE, RULES, engine_over, examples, versions
from secondapproval import Engine, Matter
from secondapproval.analysis import analyze
from secondapproval.analysis.encode import Encoder
from secondapproval.cli import main
from secondapproval.facts import FactValidator
from secondapproval.lang import ir
from secondapproval.lang.interpret import evaluate
from secondapproval.ruleset import FactSpec, fact_type
from secondapproval.strategies import (
    SCHEMA_FACTS,
    applications,
    expressions,
    synthetic_matter,
)

BROKEN = FIXTURES / "analysis"
BUNDLED = versions(engine_over(RULES)) + versions(engine_over(REFERENCE))


BUNDLED_FINDINGS = {
    # add_years(graduated_on, 2) has no value for a graduation in 9998 or 9999: true, and harmless
    "graduate-hukou-shenzhen": ["derivation-fails"],
    # add_months(born_on, 6) has no value for a birth in the last half of 9999: the rule then
    # fails (NEWBORN_AGE, a referral), as a scenario shows
    "newborn-one-thing-xiamen": ["derivation-fails"],
    # the age limit is a lookup by degree, which fails for any other degree: so passing it
    # implies the degree rule (DESIGN §8's reference matter keeps both, as the report's peers do)
    "talent-reference": ["redundant"],
}


@pytest.mark.parametrize("matter", BUNDLED, ids=lambda m: f"{m.id}@{m.version}")
def test_every_bundled_matter_is_approvable_and_every_rule_can_pass_fail_and_be_unknown(
    matter: Matter,
) -> None:
    """Each claim's witness was decided by the engine inside `analyze` (it raises otherwise)."""
    engine = engine_over(RULES if matter in versions(engine_over(RULES)) else REFERENCE)
    report = analyze(matter, engine)
    assert report.approximate == ()
    assert report.approvable.answer == "yes"
    assert report.approvable.witness is not None
    w = report.approvable.witness
    assert engine.decide(matter.id, w.facts, on=w.on).outcome.value == "approve"
    for rule, claims in report.rules.items():
        assert {k: c.answer for k, c in claims.items()} == dict.fromkeys(
            ("passed", "failed", "unknown"), "yes"
        ), rule
    assert [f.kind for f in report.findings] == BUNDLED_FINDINGS.get(matter.id, [])


@pytest.fixture(scope="module")
def broken() -> Engine:
    return Engine(BROKEN, vouch="all")


@pytest.mark.parametrize(
    ("matter", "kinds"),
    [
        ("broken-unapprovable", ["unapprovable"]),
        ("broken-dead-rule", ["dead-rule"]),
        ("broken-never-passes", ["unapprovable", "never-passes"]),
        ("broken-approximate", ["approvable-unknown"]),
        ("broken-divides", ["derivation-fails"]),
    ],
)
def test_each_broken_matter_shows_its_finding(
    broken: Engine, matter: str, kinds: list[str]
) -> None:
    report = analyze(broken.versions(matter)[0], broken)
    assert [f.kind for f in report.findings] == kinds


def test_an_approximate_encoding_never_claims_a_proof(broken: Engine) -> None:
    """`round` is approximate (uninterpreted): the contradiction it hides is unknown, not proved."""
    report = analyze(broken.versions("broken-approximate")[0], broken)
    assert report.approvable.answer == "unknown"
    assert report.approximate
    assert all(c.answer != "no" for cs in report.rules.values() for c in cs.values())


def test_a_dead_rule_is_proved_and_the_others_keep_their_witnesses(broken: Engine) -> None:
    report = analyze(broken.versions("broken-dead-rule")[0], broken)
    assert report.rules["always-true"]["failed"].answer == "no"
    assert report.rules["always-true"]["passed"].answer == "yes"
    assert report.rules["adult"]["failed"].answer == "yes"


def test_a_derivation_that_fails_shows_the_facts_that_make_it_fail(broken: Engine) -> None:
    report = analyze(broken.versions("broken-divides")[0], broken)
    (finding,) = report.findings
    assert finding.witness is not None
    assert finding.witness.facts["a"]["members"] == 0
    d = broken.decide("broken-divides", finding.witness.facts, on=finding.witness.on)
    assert "ERROR:low-income" in d.codes


def test_a_redundant_rule_names_the_rules_that_imply_it() -> None:
    engine = engine_over(REFERENCE)
    report = analyze(engine.versions("talent-reference")[0], engine)
    (finding,) = report.findings
    assert finding.rule == "degree-level"
    assert "'age-limit'" in finding.message


def test_the_fail_safe_check_catches_an_engine_that_approves_without_a_fact() -> None:
    """Given an engine that approves anything, every required fact removed or made invalid is
    a fail-safe error: the check reads the engine's decisions, not the encoding."""
    from secondapproval.analysis.findings import _fail_safe

    engine = engine_over(REFERENCE)
    matter = engine.versions("talent-reference")[0]
    report = analyze(matter, engine)
    assert report.approvable.witness is not None
    assert _fail_safe(matter, engine, report.approvable.witness) == []

    class Approving:
        def decide(self, matter_id: str, facts: Any, on: dt.date) -> Any:
            return engine.decide(matter_id, report.approvable.witness.facts, on=on)  # type: ignore[union-attr]

    found = _fail_safe(matter, Approving(), report.approvable.witness)  # type: ignore[arg-type]
    required = [p for p, s in matter.inputs.items() if not s.optional]
    assert len(found) == 2 * len(required)
    assert {f.kind for f in found} == {"fail-safe"}


def test_the_cli_fails_on_errors_and_with_strict_on_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def run(*args: str) -> tuple[int, str]:
        code = main(["analyze", *args])
        return code, capsys.readouterr().out

    code, out = run(str(BROKEN))
    assert code == 1
    assert "error: unapprovable" in out
    code, out = run(str(BROKEN), "--matter", "broken-dead-rule")
    assert code == 0
    assert "warning: dead-rule" in out
    assert run(str(BROKEN), "--matter", "broken-dead-rule", "--strict")[0] == 1
    assert main(["check", "--analyze", str(BROKEN)]) == 1
    assert "error: never-passes" in capsys.readouterr().out
    code, out = run(str(RULES), "--json", "--on", "2026-12-01")
    doc = json.loads(out)
    assert {r["matter"] for r in doc} >= {"graduate-hukou-shenzhen"}
    assert all(r["approvable"]["answer"] in ("yes", "no", "unknown") for r in doc)


# ---- the encoding against the interpreter -----------------------------------------------------

FACTS: dict[str, FactSpec] = {p: f for p, f in SCHEMA_FACTS.items() if f.type != "list"}
"""The random-expression schema's scalar facts (lists are not encoded yet: approximate)."""
SCHEMA = {p: fact_type(f) for p, f in FACTS.items()}
ON = dt.date(2024, 2, 29)


@settings(
    max_examples=examples(int(os.environ.get("ANALYSIS_EXAMPLES", "150"))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(expr=expressions(SCHEMA, max_depth=2), data=st.data())
def test_the_encoding_agrees_with_the_interpreter(expr: ir.Node, data: st.DataObject) -> None:
    """With every fact pinned to drawn values, the one status the solver allows a rule is the
    interpreter's (expressions the encoding approximates are left out)."""
    matter = synthetic_matter(FACTS, [expr])
    enc = Encoder(matter, ON)
    if enc.approximate:
        return
    facts = data.draw(applications(matter, on=ON))
    valid = FactValidator(matter).validate(facts, ON)
    expected = status(evaluate(matter.rules[0].expr, valid.values, ON))
    rule = matter.rules[0].id
    assert_only_status(enc, rule, dict(valid.values), expected)
