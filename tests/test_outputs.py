"""Outputs: the derived values an approval carries, in the Decision and in its audit record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from differential import disagreement, folder_engines
from reference import examples, write_matter
from secondapproval import Engine, Outcome, RuleSetError
from secondapproval.audit import MemorySink, verify_lines

ON = dt.date(2025, 6, 1)
KEY = b"outputs-test-key-kept-elsewhere!"
MATTER = """matter: allowance-sample
title: {zh: 高龄津贴样例, en: Old-age allowance sample}
version: "1"
effective: {from: "2000-01-01"}
sources: [{id: T, status: third-party}]
facts:
  applicant.born: {type: date, source: applicant}
  applicant.resident: {type: bool, source: applicant}
  applicant.top_up: {type: money, source: applicant, optional: true}
  applicant.age: {type: int, derive: "age_on(applicant.born, decision_date)"}
  allowance:
    type: money
    output: true
    derive: "band(applicant.age, {80: 100, 90: 200, 100: 500})"
    label: {zh: 月津贴, en: Monthly allowance}
  total: {type: money, output: true, derive: "allowance + applicant.top_up"}
  paid_from: {type: date, output: true, derive: "add_months(decision_date, 1)"}
rules:
  - id: age
    when: "applicant.age >= 70"
    says: {zh: 年满 70 周岁, en: Aged 70 or over}
    refer: {code: AGE, zh: 未满 70 周岁, en: Under 70}
  - id: resident
    when: "applicant.resident"
    says: {zh: 本地户籍, en: Local resident}
    refer: {code: RESIDENT, zh: 非本地户籍, en: Not a local resident}
"""


def born(age: int) -> str:
    return f"{ON.year - age}-01-15"


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_matter(tmp_path_factory.mktemp("outputs"), MATTER)


@pytest.fixture(scope="module")
def engines(rules: Path) -> dict[str, Engine]:
    return folder_engines(rules)


def test_an_approval_carries_its_outputs(engines: dict[str, Engine]) -> None:
    """Every engine approves with the outputs computed, in declaration order."""
    facts = {"applicant": {"born": born(93), "resident": True, "top_up": "20.50"}}
    for name, engine in engines.items():
        d = engine.decide("allowance-sample", facts, on=ON)
        assert d.outcome is Outcome.APPROVE, (name, d.codes)
        assert dict(d.outputs) == {
            "allowance": 200,
            "total": Decimal("220.50"),
            "paid_from": dt.date(2025, 7, 1),
        }, name
        assert list(d.outputs) == ["allowance", "total", "paid_from"]
        assert d.to_dict()["outputs"] == {
            "allowance": 200,
            "total": "220.50",
            "paid_from": "2025-07-01",
        }


@pytest.mark.parametrize(
    ("facts", "codes"),
    [
        # rules pass, but an output reads an optional fact that is absent: no approval
        ({"applicant": {"born": born(85), "resident": True}}, ("MISSING:applicant.top_up",)),
        # below every band: the output is an error (and the one computed from it)
        (
            {"applicant": {"born": born(75), "resident": True, "top_up": 0}},
            ("ERROR:allowance", "ERROR:total"),
        ),
        # a referral carries no outputs, and names the rule
        ({"applicant": {"born": born(85), "resident": False, "top_up": 0}}, ("RESIDENT",)),
        # a referral for a rule names an output it could not compute too (docs/language.md)
        (
            {"applicant": {"born": born(60), "resident": True, "top_up": 0}},
            ("AGE", "ERROR:allowance", "ERROR:total"),
        ),
        (
            {"applicant": {"born": born(85), "resident": True, "top_up": "x"}},
            ("INVALID:applicant.top_up",),
        ),
    ],
)
def test_an_output_not_computed_refers(
    engines: dict[str, Engine], facts: dict[str, Any], codes: tuple[str, ...]
) -> None:
    """An approval needs every output: one that is unknown or in error refers, with why."""
    for name, engine in engines.items():
        d = engine.decide("allowance-sample", facts, on=ON)
        assert (d.outcome, d.codes) == (Outcome.REFER, codes), name
        assert dict(d.outputs) == {}
    assert disagreement(engines, "allowance-sample", facts, ON) == ""


def test_output_error_reason_is_readable(engines: dict[str, Engine]) -> None:
    facts = {"applicant": {"born": born(75), "resident": True, "top_up": 0}}
    reason, _ = engines["native"].decide("allowance-sample", facts, on=ON).reasons
    assert reason.en == "output could not be computed: allowance"
    assert reason.fact == "allowance"


def test_outputs_are_recorded_and_verify(rules: Path) -> None:
    """An approval's record holds `outputs`; a referral's does not; the log verifies."""
    sink = MemorySink()
    engine = Engine(rules, vouch="all", audit=sink, audit_key=KEY)
    engine.decide(
        "allowance-sample",
        {"applicant": {"born": born(101), "resident": True, "top_up": 1}},
        on=ON,
    )
    engine.decide("allowance-sample", {"applicant": {"born": born(85), "resident": True}}, on=ON)
    approved, referred = (orjson.loads(line) for line in sink.lines)
    assert approved["outputs"] == {"allowance": 500, "total": "501", "paid_from": "2025-07-01"}
    assert "outputs" not in referred
    assert referred["reasons"] == ["MISSING:applicant.top_up"]
    assert verify_lines(enumerate(sink.lines, 1), heads=[(sink.head, "head")], key=KEY).ok


@settings(max_examples=examples(150), deadline=None)
@given(
    age=st.integers(60, 110),
    resident=st.one_of(st.booleans(), st.just("yes")),
    top_up=st.one_of(st.none(), st.integers(-5, 50), st.just("1.005"), st.just("2.5")),
)
def test_outputs_agree_and_approvals_carry_all(
    engines: dict[str, Engine], age: int, resident: Any, top_up: Any
) -> None:
    """Over generated values every engine decides alike, and an approval carries every output."""
    applicant: dict[str, Any] = {"born": born(age), "resident": resident}
    if top_up is not None:
        applicant["top_up"] = top_up
    facts = {"applicant": applicant}
    assert disagreement(engines, "allowance-sample", facts, ON) == ""
    for engine in engines.values():
        d = engine.decide("allowance-sample", facts, on=ON)
        if d.outcome is Outcome.APPROVE:
            assert set(d.outputs) == {"allowance", "total", "paid_from"}
            assert d.outputs["total"] == d.outputs["allowance"] + Decimal(str(top_up))
        else:
            assert not d.outputs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "applicant.resident: {type: bool, source: applicant}",
                "applicant.resident: {type: bool, source: applicant, output: true}",
            ),
            "an output is a derived value",
        ),
        (("  - id: resident", "  - id: total"), "rule id 'total' is also an output"),
    ],
)
def test_outputs_are_checked_at_load(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(RuleSetError) as err:
        Engine(write_matter(tmp_path, MATTER.replace(*change)), vouch="all")
    assert message in str(err.value)


def test_a_scenario_compares_outputs_by_value(engines: dict[str, Engine]) -> None:
    """`expect.outputs`: numbers by value, dates as ISO text; a wrong one is a difference."""
    from secondapproval.scenarios.model import Expect
    from secondapproval.scenarios.run import compare

    facts = {"applicant": {"born": born(93), "resident": True, "top_up": "20.50"}}
    d = engines["native"].decide("allowance-sample", facts, on=ON)
    right = {"allowance": "200.00", "total": 220.5, "paid_from": "2025-07-01"}
    assert compare(Expect(outcome="approve", outputs=right), d) == ""
    wrong = compare(Expect(outcome="approve", outputs={"allowance": 100, "nosuch": 1}), d)
    assert "output allowance: expected 100, got 200" in wrong
    assert "output nosuch: expected 1, got None" in wrong
    with pytest.raises(ValueError, match="only an approval carries outputs"):
        Expect(outcome="refer", outputs={"allowance": 1})
