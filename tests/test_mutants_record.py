"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: decision.py, audit/record.py and audit/verify.py, with the record format v2 parts:
audit/keys.py, audit/lossless.py and canonical.split_sealed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import hmac
import json
import math
import os
import re
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
import pytest

from reference import GOOD_REF, REFERENCE, versions, write_matter
from secondapproval import AuditError, Engine, Outcome, __version__
from secondapproval.audit import (
    GENESIS,
    AuditKey,
    AuditProblem,
    AuditRecord,
    Head,
    MemorySink,
    VerifyReport,
    canonical,
    mask,
    open_log,
    verify_lines,
    verify_log,
)
from secondapproval.audit.canonical import Sealed, split_sealed
from secondapproval.audit.keys import MIN_SECRET, log_key
from secondapproval.audit.lossless import lossless, lossless_json, restore, vouched_json
from secondapproval.audit.record import FactsDigest, RecordBuilder, Unsealed, facts_hmac, key_id
from secondapproval.decision import Decision, Reason, RuleResult, jsonable
from secondapproval.marks import Oversized
from secondapproval.status import Status
from test_audit import application, id_born, rules_folder

ON = dt.date(2024, 6, 1)
KEY = b"mutants-record-key"
"""The audit secret of every keyed record and log here (18 bytes: at least `MIN_SECRET`)."""
FACTS_KEY = hmac.digest(KEY, b"secondapproval audit v2 facts", "sha256")
CHAIN_KEY = hmac.digest(KEY, b"secondapproval audit v2 chain", "sha256")
"""The two keys derived from `KEY`, computed by hand (the standard HMAC-SHA256)."""


def by_hand(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, "sha256").hexdigest()


def mac_of(record_hash: str) -> str:
    """The `mac` of a record whose hash is `record_hash`, under `KEY`'s chain key."""
    return by_hand(CHAIN_KEY, b"record:" + record_hash.encode())


SAMPLE = """\
matter: record-sample
title: {zh: 记录样例, en: Record sample}
version: "3"
effective: {from: "2000-01-01"}
legal_basis: [{ref: "Art. 5"}]
facts:
  applicant.age: {type: int, source: applicant, label: {zh: 年龄, en: Age}}
  applicant.name: {type: str, source: applicant, optional: true}
  income: {type: decimal, source: applicant, label: {zh: 收入, en: Income}}
  joined: {type: date, source: applicant}
  per_year: {type: decimal, derive: "income / (applicant.age - 30)"}
rules:
  - id: adult
    when: applicant.age >= 18
    legal: "Art. 5"
    says: {zh: 已成年, en: Adult}
    refer: {code: MINOR, zh: 未成年, en: Minor}
  - id: named
    when: applicant.name != ""
    says: {zh: 有姓名, en: Named}
    refer: {code: NO_NAME, zh: 无姓名, en: No name}
  - id: per-year
    when: per_year < 1000
    says: {zh: 年均收入, en: Income per year}
    refer: {code: HIGH, zh: 年均收入过高, en: Income per year too high}
  - id: joined-before
    when: joined < decision_date
    says: {zh: 已加入, en: Joined}
    refer: {code: LATE, zh: 加入太晚, en: Joined too late}
"""
GOOD: dict[str, Any] = {
    "applicant": {"age": 40, "name": "Li"},
    "income": "5000",
    "joined": "2020-01-01",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An engine over the sample matter: a group, labels, an optional fact, a derived one."""
    return Engine(write_matter(tmp_path_factory.mktemp("record-rules"), SAMPLE, "sample.yaml"))


def decide(engine: Engine, facts: Any, on: dt.date = ON) -> Decision:
    return engine.decide("record-sample", facts, on=on)


def with_applicant(**applicant: Any) -> dict[str, Any]:
    return {**GOOD, "applicant": applicant}


# ---- decision: jsonable ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": dt.date(2020, 1, 2)}, {"a": "2020-01-02"}),
        (MappingProxyType({"a": Decimal("1.50")}), {"a": "1.50"}),
        ((Decimal(1), [dt.date(2020, 1, 2)]), ["1", ["2020-01-02"]]),
        ([{"x": (1, 2)}], [{"x": [1, 2]}]),
        (dt.datetime(2020, 1, 2, 3, 4, 5), "2020-01-02T03:04:05"),
        (Decimal("-0.0"), "-0.0"),
        ("2020-01-02", "2020-01-02"),
        (7, 7),
        (True, True),
        (None, None),
    ],
)
def test_jsonable_writes_dates_as_iso_decimals_as_strings_tuples_as_lists(
    value: Any, expected: Any
) -> None:
    """Fact values become JSON values, recursively; plain JSON values stay as they are."""
    got = jsonable(value)
    assert got == expected
    assert type(got) is type(expected)


# ---- decision: Reason and RuleResult ---------------------------------------------------------


def test_a_reason_as_json_names_every_field() -> None:
    """`Reason.to_dict` gives code, both messages, rule, fact, legal reference and facts read."""
    reason = Reason(
        "AGE",
        "年龄",
        "age",
        rule="r1",
        fact="f1",
        legal="Art. 1",
        facts_read={"d": dt.date(2020, 1, 2)},
    )
    assert reason.to_dict() == {
        "code": "AGE",
        "zh": "年龄",
        "en": "age",
        "rule": "r1",
        "fact": "f1",
        "legal": "Art. 1",
        "facts_read": {"d": "2020-01-02"},
    }


def test_a_reason_reads_no_facts_unless_told() -> None:
    """A reason built with its defaults has no rule, fact or legal reference and reads nothing."""
    reason = Reason("C", "中", "en")
    assert (reason.rule, reason.fact, reason.legal) == (None, None, None)
    assert dict(reason.facts_read) == {}
    assert reason.to_dict() == {
        "code": "C",
        "zh": "中",
        "en": "en",
        "rule": None,
        "fact": None,
        "legal": None,
        "facts_read": {},
    }


@pytest.mark.parametrize(
    ("status", "passed"),
    [(Status.PASSED, True), (Status.FAILED, False), (Status.UNKNOWN, False), (Status.ERROR, False)],
)
def test_a_rule_result_passed_only_when_its_status_is_passed(status: Status, passed: bool) -> None:
    """`RuleResult.passed` is true for a passed rule only; its JSON names rule, status, reads."""
    result = RuleResult("r", status, {"income": Decimal("2.5")})
    assert result.passed is passed
    assert result.to_dict() == {"rule": "r", "status": str(status), "facts_read": {"income": "2.5"}}


# ---- decision: identity and outcome ----------------------------------------------------------


def test_an_approval_carries_its_matter_version_and_every_value(engine: Engine) -> None:
    """An approval names matter, version, digest, backend and date; it has no reasons."""
    d = decide(engine, GOOD)
    (matter,) = engine.versions("record-sample")
    assert d.outcome is Outcome.APPROVE
    assert d.approved is True
    assert (d.matter, d.version, d.digest, d.backend, d.on) == (
        "record-sample",
        "3",
        matter.digest,
        "native",
        ON,
    )
    assert dict(d.values) == {
        "applicant.age": 40,
        "applicant.name": "Li",
        "income": Decimal(5000),
        "joined": dt.date(2020, 1, 1),
        "per_year": Decimal(500),
    }
    assert d.statuses == (1, 1, 1, 1)
    assert (dict(d.invalid), d.missing, d.reasons, d.codes) == ({}, (), (), ())
    assert [r.to_dict() for r in d.results] == [
        {"rule": "adult", "status": "passed", "facts_read": {"applicant.age": 40}},
        {"rule": "named", "status": "passed", "facts_read": {"applicant.name": "Li"}},
        {"rule": "per-year", "status": "passed", "facts_read": {"per_year": "500"}},
        {"rule": "joined-before", "status": "passed", "facts_read": {"joined": "2020-01-01"}},
    ]


def test_a_decisions_values_and_invalid_paths_are_read_only(engine: Engine) -> None:
    """`values` and `invalid` are read-only views: a caller cannot change a decision."""
    d = decide(engine, {**GOOD, "income": "x"})
    with pytest.raises(TypeError):
        d.values["income"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        d.invalid["income"] = "ok"  # type: ignore[index]


def test_parts_give_id_date_outcome_values_statuses_invalid_missing_and_digest(
    engine: Engine,
) -> None:
    """`parts()` is the decision's own fields in one tuple, for serializers."""
    d = decide(engine, {"applicant": {"age": 10}, "joined": "2030-01-01", "extra": 1})
    (matter,) = engine.versions("record-sample")
    assert d.parts() == (
        d.decision_id,
        ON,
        Outcome.REFER,
        {"applicant.age": 10, "joined": dt.date(2030, 1, 1)},
        (0, 2, 2, 0),
        {"extra": "not a declared fact of this matter"},
        ("income",),
        matter.digest,
    )


def test_no_version_in_force_refers_with_nothing_known(engine: Engine) -> None:
    """Before the matter's first version: NO_VERSION, no matter, version, digest or backend."""
    d = decide(engine, GOOD, on=dt.date(1999, 12, 31))
    assert d.outcome is Outcome.REFER
    assert d.approved is False
    assert (d.matter, d.version, d.digest, d.backend) == (None, None, None, None)
    assert d.results == ()
    assert d.codes == ("NO_VERSION",)
    assert [r.to_dict() for r in d.reasons] == [
        {
            "code": "NO_VERSION",
            "zh": "该事项在此日期没有有效版本",
            "en": "no version of the matter is in force on this date",
            "rule": None,
            "fact": None,
            "legal": None,
            "facts_read": {},
        }
    ]
    assert d.parts()[7] is None
    assert repr(d) == "<Decision None@None refer NO_VERSION>"


@pytest.fixture(scope="module")
def compiled(engine: Engine) -> Any:
    """The sample matter compiled for the native backend, to build decisions by hand."""
    from secondapproval.backends import get_backend
    from secondapproval.compiled import compile_matter

    (matter,) = engine.versions("record-sample")
    return compile_matter(matter, get_backend("native"))


VALUES = {"applicant.age": 40, "applicant.name": "Li", "income": Decimal(1), "joined": ON}


@pytest.mark.parametrize(
    ("statuses", "invalid", "missing", "outcome"),
    [
        ((1, 1, 1, 1), {}, (), Outcome.APPROVE),
        ((1, 1, 1, 0), {}, (), Outcome.REFER),
        ((2, 1, 1, 1), {}, (), Outcome.REFER),
        ((1, 1, 1, 3), {}, (), Outcome.REFER),
        ((1, 1, 1, 1), {"extra": "not a declared fact of this matter"}, (), Outcome.REFER),
        ((1, 1, 1, 1), {}, ("income",), Outcome.REFER),
    ],
)
def test_only_every_rule_passed_on_clean_facts_approves(
    compiled: Any,
    statuses: tuple[int, ...],
    invalid: dict[str, str],
    missing: tuple[str, ...],
    outcome: Outcome,
) -> None:
    """Approve when every rule passed and no fact is invalid or missing; otherwise refer."""
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=statuses,
        invalid=invalid,
        missing=missing,
    )
    assert d.outcome is outcome
    assert d.approved is (outcome is Outcome.APPROVE)


def test_without_a_matter_version_a_decision_refers() -> None:
    """No compiled matter, no rules, nothing wrong: still a referral (the machine may only say
    yes to a version in force)."""
    d = Decision(
        compiled=None, decision_id="id", on=ON, values={}, statuses=(), invalid={}, missing=()
    )
    assert d.outcome is Outcome.REFER
    assert d.codes == ("NO_VERSION",)


@pytest.mark.parametrize("outcome", [Outcome.APPROVE, Outcome.REFER])
def test_an_outcome_given_to_a_decision_is_kept(compiled: Any, outcome: Outcome) -> None:
    """An outcome passed in (a replayed record's) is the decision's outcome as given."""
    clean = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=(1, 1, 1, 1),
        invalid={},
        missing=(),
        outcome=outcome,
    )
    assert clean.outcome is outcome
    empty = Decision(
        compiled=None,
        decision_id="id",
        on=ON,
        values={},
        statuses=(),
        invalid={},
        missing=(),
        outcome=outcome,
    )
    assert empty.outcome is outcome


# ---- decision: reasons ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "codes", "statuses"),
    [
        (with_applicant(age=30, name="Li"), ("ERROR:per-year",), (1, 1, 3, 1)),
        ({**GOOD, "applicant": 5}, ("INVALID:applicant",), (2, 2, 2, 1)),
        ([1], ("INVALID:$",), (2, 2, 2, 2)),
        (with_applicant(age=40), ("MISSING:applicant.name",), (1, 2, 1, 1)),
        (with_applicant(name="Li"), ("MISSING:applicant.age",), (2, 1, 2, 1)),
        ({**GOOD, "income": "x", "extra": None}, ("INVALID:income", "INVALID:extra"), (1, 1, 2, 1)),
        (
            {"applicant": {"age": 10, "name": ""}, "joined": "2030-01-01", "extra": 1},
            ("INVALID:extra", "MISSING:income", "MINOR", "NO_NAME", "LATE"),
            (0, 0, 2, 0),
        ),
    ],
    ids=[
        "error",
        "invalid-group",
        "not-an-object",
        "optional-absent",
        "missing-in-a-group",
        "invalid-and-undeclared",
        "invalid-missing-then-rules",
    ],
)
def test_reason_codes_come_invalid_then_missing_then_rules_each_once(
    engine: Engine, facts: Any, codes: tuple[str, ...], statuses: tuple[int, ...]
) -> None:
    """Codes: invalid paths, missing facts, then each rule's in order; an invalid group (or
    application) accounts for the facts under it; an absent optional fact a rule reads is
    missing."""
    d = decide(engine, facts)
    assert (d.codes, d.statuses) == (codes, statuses)
    assert tuple(r.code for r in d.reasons) == codes
    assert d.outcome is Outcome.REFER


def reason(
    code: str, zh: str, en: str, *, rule: str | None = None, fact: str | None = None, **more: Any
) -> dict[str, Any]:
    """A reason's JSON (`Reason.to_dict`), with what is not given left empty."""
    return {
        "code": code,
        "zh": zh,
        "en": en,
        "rule": rule,
        "fact": fact,
        "legal": more.get("legal"),
        "facts_read": more.get("facts_read", {}),
    }


@pytest.mark.parametrize(
    ("facts", "reasons"),
    [
        (
            with_applicant(age=30, name="Li"),
            [
                reason(
                    "ERROR:per-year",
                    "规则无法计算：per-year",
                    "rule could not be evaluated: per-year",
                    rule="per-year",
                )
            ],
        ),
        (
            {"applicant": {"age": 10, "name": ""}, "joined": "2030-01-01"},
            [
                reason("MISSING:income", "缺少信息：收入", "missing: Income", fact="income"),
                reason(
                    "MINOR",
                    "未成年",
                    "Minor",
                    rule="adult",
                    legal="Art. 5",
                    facts_read={"applicant.age": 10},
                ),
                reason(
                    "NO_NAME", "无姓名", "No name", rule="named", facts_read={"applicant.name": ""}
                ),
                reason(
                    "LATE",
                    "加入太晚",
                    "Joined too late",
                    rule="joined-before",
                    facts_read={"joined": "2030-01-01"},
                ),
            ],
        ),
        (
            {**GOOD, "income": "x", "extra": None},
            [
                reason(
                    "INVALID:income",
                    "信息无效：收入（应为数字（或十进制数字字符串））",
                    "invalid: Income (a number (or a decimal string) is required)",
                    fact="income",
                ),
                reason(
                    "INVALID:extra",
                    "信息无效：extra（不是本事项声明的信息项）",
                    "invalid: extra (not a declared fact of this matter)",
                    fact="extra",
                ),
            ],
        ),
        (
            with_applicant(age=40),
            [
                reason(
                    "MISSING:applicant.name",
                    "缺少信息：applicant.name",
                    "missing: applicant.name",
                    fact="applicant.name",
                )
            ],
        ),
        (
            [1],
            [
                reason(
                    "INVALID:$",
                    "信息无效：$（申请不是 JSON 对象）",
                    "invalid: $ (the application is not a JSON object)",
                    fact="$",
                )
            ],
        ),
    ],
    ids=["error", "missing-and-failed", "invalid", "unlabelled", "not-an-object"],
)
def test_each_reason_says_what_is_wrong_in_both_languages(
    engine: Engine, facts: Any, reasons: list[dict[str, Any]]
) -> None:
    """A reason gives its code, the Chinese and English message, and the rule or fact it is about
    (a fact by its label where it has one); a failed rule gives its legal reference and reads."""
    assert [r.to_dict() for r in decide(engine, facts).reasons] == reasons


def test_a_rule_unknown_on_present_facts_is_an_error(compiled: Any) -> None:
    """An unknown rule whose facts are all present and valid is reported as ERROR:<rule>."""
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=(1, 2, 1, 1),
        invalid={},
        missing=(),
    )
    assert [r.to_dict() for r in d.reasons] == [
        reason(
            "ERROR:named", "规则无法计算：named", "rule could not be evaluated: named", rule="named"
        )
    ]


def test_an_invalid_fact_without_a_reason_is_reported_without_one(compiled: Any) -> None:
    """An invalid path recorded with an empty reason is reported as invalid, nothing appended."""
    values = {p: v for p, v in VALUES.items() if p != "income"}
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=values,
        statuses=(1, 1, 2, 1),
        invalid={"income": ""},
        missing=(),
    )
    assert [r.to_dict() for r in d.reasons] == [
        reason("INVALID:income", "信息无效：收入", "invalid: Income", fact="income")
    ]


# ---- decision: JSON, repr, equality ---------------------------------------------------------


def test_a_decision_as_json_holds_outcome_reasons_and_results(engine: Engine) -> None:
    """`to_dict` (the CLI's `--json`) names id, outcome, matter, version, digest, backend, the
    rule-set snapshot, date, every reason and result, where each valid input fact came from (the
    applicant, for every fact of this matter: derived facts have no provenance) and the sources
    vouched for (none)."""
    d = decide(engine, with_applicant(age=30, name="Li"))
    (matter,) = engine.versions("record-sample")
    from_applicant = {"via": "applicant", "source": "applicant"}
    assert d.to_dict() == {
        "decision_id": d.decision_id,
        "outcome": "refer",
        "matter": "record-sample",
        "version": "3",
        "digest": matter.digest,
        "backend": "native",
        "snapshot": engine.snapshot.digest,
        "on": "2024-06-01",
        "reasons": [r.to_dict() for r in d.reasons],
        "results": [
            {"rule": "adult", "status": "passed", "facts_read": {"applicant.age": 30}},
            {"rule": "named", "status": "passed", "facts_read": {"applicant.name": "Li"}},
            {"rule": "per-year", "status": "error", "facts_read": {"per_year": None}},
            {"rule": "joined-before", "status": "passed", "facts_read": {"joined": "2020-01-01"}},
        ],
        "calendar": None,
        "outputs": {},
        "provenance": {
            "applicant.age": from_applicant,
            "applicant.name": from_applicant,
            "income": from_applicant,
            "joined": from_applicant,
        },
        "vouched": [],
    }
    assert d.to_dict()["reasons"][0]["code"] == "ERROR:per-year"
    assert re.fullmatch(r"[0-9a-f]{64}", d.to_dict()["snapshot"])


def test_a_decision_as_json_names_the_sources_vouched_for_and_the_facts_they_gave(
    reference_engine: Engine,
) -> None:
    """An engine vouching for every source: each fact the caller gave came `vouched` from its
    declared source (talent-reference.yaml), in path order, and `vouched` names the four sources
    the matter reads, sorted."""
    d = reference_engine.decide("talent-reference", GOOD_REF, on=ON)
    doc = d.to_dict()
    assert (doc["outcome"], doc["snapshot"]) == ("approve", reference_engine.snapshot.digest)
    assert doc["provenance"] == {
        "age": {"via": "vouched", "source": "public-security"},
        "criminal_record": {"via": "vouched", "source": "criminal-records"},
        "degree": {"via": "vouched", "source": "degree-registry"},
        "graduated_years_ago": {"via": "vouched", "source": "degree-registry"},
        "has_degree_certificate": {"via": "vouched", "source": "degree-registry"},
        "social_insurance_months": {"via": "vouched", "source": "social-insurance"},
    }
    assert list(doc["provenance"]) == sorted(GOOD_REF)
    assert doc["vouched"] == REFERENCE_VOUCHED


@pytest.mark.parametrize(
    ("facts", "text"),
    [
        (GOOD, "<Decision record-sample@3 approve>"),
        (with_applicant(age=30, name="Li"), "<Decision record-sample@3 refer ERROR:per-year>"),
        (
            {"applicant": {"age": 10, "name": "Li"}, "income": "1", "joined": "2030-01-01"},
            "<Decision record-sample@3 refer MINOR, LATE>",
        ),
    ],
)
def test_a_decisions_repr_names_matter_version_outcome_and_codes(
    engine: Engine, facts: Any, text: str
) -> None:
    """`repr` shows matter@version and outcome, and for a referral its codes."""
    assert repr(decide(engine, facts)) == text


def test_decisions_are_equal_when_decided_the_same_way_whatever_their_id(engine: Engine) -> None:
    """Same matter version, date, outcome, codes and statuses: equal, with equal hashes."""
    a, b = decide(engine, with_applicant(age=30, name="Li")), decide(engine, with_applicant(age=30))
    same = decide(engine, {**GOOD, "applicant": {"age": 30, "name": "Wang"}})
    assert a.decision_id != same.decision_id
    assert a == same
    assert hash(a) == hash(same)
    assert a != b
    assert {a, same, b} == {a, b}


def pair(compiled: Any, change: str) -> tuple[Decision, Decision]:
    """Two decisions alike in all but one part of what makes them equal."""
    base: dict[str, Any] = {
        "compiled": compiled,
        "decision_id": "a",
        "on": ON,
        "values": dict(VALUES),
        "statuses": (1, 1, 1, 1),
        "invalid": {},
        "missing": ("income",),
    }
    other = {**base, "decision_id": "b"}
    if change == "date":
        other["on"] = dt.date(2024, 6, 2)
    elif change == "outcome":
        base["missing"] = other["missing"] = ()
        other["outcome"] = Outcome.REFER
    elif change == "codes":
        other["missing"] = ("joined",)
    elif change == "statuses":
        other["statuses"] = (1, 1, 2, 1)  # per_year unknown: its income is missing anyway
    return Decision(**base), Decision(**other)


@pytest.mark.parametrize("change", ["date", "outcome", "codes", "statuses"])
def test_decisions_differ_when_date_outcome_codes_or_statuses_differ(
    compiled: Any, change: str
) -> None:
    """A different date, outcome, set of codes or statuses makes a different decision (and,
    here, a different hash)."""
    a, b = pair(compiled, change)
    assert (a.matter, a.version, a.digest) == (b.matter, b.version, b.digest)
    assert a != b
    assert hash(a) != hash(b)


def test_decisions_of_different_rule_sets_differ_even_under_the_same_name(
    engine: Engine, tmp_path: Path
) -> None:
    """Two rule sets with the same matter id and version but different texts (digests) decide
    differently, even with the same outcome and codes."""
    changed = SAMPLE.replace("per_year < 1000", "per_year < 2000")
    a, b = (
        decide(engine, GOOD),
        decide(Engine(write_matter(tmp_path, changed, "sample.yaml")), GOOD),
    )
    assert (a.matter, a.version, a.codes, a.statuses) == (b.matter, b.version, b.codes, b.statuses)
    assert a.digest != b.digest
    assert a != b


@pytest.mark.parametrize("read", ["results", "codes", "reasons"])
def test_statuses_that_do_not_match_the_rules_are_an_error(compiled: Any, read: str) -> None:
    """A decision built with one status fewer than its matter has rules cannot be read."""
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=(0, 1, 1),
        invalid={},
        missing=(),
    )
    with pytest.raises(ValueError, match="zip"):
        getattr(d, read)


def test_a_decision_is_not_equal_to_anything_else(engine: Engine) -> None:
    """Comparing with a non-decision is left to the other object (NotImplemented)."""
    d = decide(engine, GOOD)
    assert d.__eq__("approve") is NotImplemented
    assert d != "approve"


# ---- audit/verify: problems and reports ------------------------------------------------------

HASH = "ab" * 32


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (AuditProblem(3, "edited", "changed", 3), "line 3 (record 3): edited: changed"),
        (AuditProblem(2, "damaged", "not JSON"), "line 2: damaged: not JSON"),
        (AuditProblem(4, "deleted", "gone", 5, "row"), "row 4 (record 5): deleted: gone"),
        (AuditProblem(None, "head", "no head"), "end of log: head: no head"),
        (AuditProblem(None, "head", "wrong", 7), "end of log (record 7): head: wrong"),
        (AuditProblem(0, "torn", "cut", 0), "line 0 (record 0): torn: cut"),
    ],
)
def test_a_problem_names_where_which_record_and_what(problem: AuditProblem, text: str) -> None:
    """A problem reads `<unit> <n> (record <seq>): <kind>: <message>`, or `end of log` for one
    found at the end."""
    assert str(problem) == text


@pytest.mark.parametrize(
    ("problems", "authenticated", "text"),
    [
        ((), True, f"ok: audit.jsonl: 3 records, one valid chain (authenticated), head 3:{HASH}"),
        (
            (),
            False,
            "ok: audit.jsonl: 3 records, one valid chain (chain only, not authenticated), "
            f"head 3:{HASH}",
        ),
        (
            (AuditProblem(2, "edited", "x", 2),),
            False,
            "FAILED: audit.jsonl: 1 problem; first: line 2 (record 2): edited: x",
        ),
        (
            (AuditProblem(2, "edited", "x", 2), AuditProblem(None, "head", "y")),
            True,
            "FAILED: audit.jsonl: 2 problems; first: line 2 (record 2): edited: x",
        ),
    ],
)
def test_a_report_summary_says_ok_with_the_head_or_counts_the_problems(
    problems: tuple[AuditProblem, ...], authenticated: bool, text: str
) -> None:
    """The summary of a good log gives its records, whether they were authenticated, and its
    head; of a bad one, how many problems and the first."""
    report = VerifyReport("audit.jsonl", 3, Head(3, HASH), problems, authenticated=authenticated)
    assert report.summary() == text
    assert report.ok == (problems == ())
    assert report.first == (problems[0] if problems else None)


def chain_of(
    ages: tuple[int, ...] = (30, 50, 31, 51, 32), key: bytes | None = KEY
) -> tuple[list[bytes], Head]:
    """Sealed records of the reference matter, one per age, and their head (MACed with a key)."""
    sink = MemorySink(key=key)
    engine = Engine(REFERENCE, audit=sink, vouch="all")
    for age in ages:
        engine.decide("talent-reference", {**GOOD_REF, "age": age}, on=ON)
    return list(sink.lines), sink.head


@pytest.fixture(scope="module")
def chain() -> tuple[list[bytes], Head]:
    """Five sealed records of the reference matter (approvals and referrals) and their head."""
    return chain_of()


def seal_body(body: bytes, key: bytes | None = KEY) -> bytes:
    """Canonical record JSON (without hash and mac) sealed: its hash, then its MAC if keyed."""
    digest = hashlib.sha256(body).hexdigest()
    mac = b""
    if key is not None:
        chain_key = hmac.digest(key, b"secondapproval audit v2 chain", "sha256")
        mac = b',"mac":"' + by_hand(chain_key, b"record:" + digest.encode()).encode() + b'"'
    return body[:-1] + b',"hash":"' + digest.encode() + b'"' + mac + b"}\n"


def sealed(record: dict[str, Any], key: bytes | None = KEY) -> bytes:
    """A record written as a sealed line with a freshly computed hash and, given the key, MAC
    (a careful forgery by someone holding the key; without it, by someone who does not)."""
    return seal_body(canonical({k: v for k, v in record.items() if k not in ("hash", "mac")}), key)


def problems_of(
    lines: list[bytes], *heads: tuple[Head, str], key: bytes | None = KEY, **options: Any
) -> list[tuple[Any, ...]]:
    report = verify_lines(enumerate(lines, 1), heads=heads, key=key, **options)
    return [(p.line, p.kind, p.seq, p.message) for p in report.problems]


def test_a_good_chain_verifies_to_its_head(chain: tuple[list[bytes], Head]) -> None:
    """Every record checks out under the key: no problems, five records, the head of the chain,
    every record authenticated."""
    lines, head = chain
    report = verify_lines(
        enumerate(lines, 1), heads=[(head, "the head")], key=KEY, source="s", unit="row"
    )
    assert (report.ok, report.records, report.head, report.problems) == (True, 5, head, ())
    assert report.authenticated is True
    assert report.source == "s"
    assert head.count == 5
    assert [record(line)["mac"] for line in lines] == [
        mac_of(record(line)["hash"]) for line in lines
    ]


def test_a_good_chain_verified_without_its_key_is_unauthenticated(
    chain: tuple[list[bytes], Head],
) -> None:
    """Without a key every record is unauthenticated (one problem for the run), unless the
    caller asks for the chain alone; an AuditKey does as the bytes do."""
    lines, head = chain
    assert problems_of(lines, (head, "the head"), key=None) == [
        (
            None,
            "unauthenticated",
            None,
            "records 1–5: no key or checkpoint vouches for them (no audit key was given to check "
            "their MACs); anyone who can write the log could have written them",
        )
    ]
    report = verify_lines(enumerate(lines, 1), heads=[(head, "the head")], chain_only=True)
    assert (report.ok, report.authenticated, report.head) == (True, False, head)
    with_key_object = verify_lines(enumerate(lines, 1), key=AuditKey(KEY))
    assert (with_key_object.ok, with_key_object.authenticated) == (True, True)
    keyed_but_chain_only = verify_lines(enumerate(lines, 1), key=KEY, chain_only=True)
    assert (keyed_but_chain_only.ok, keyed_but_chain_only.authenticated) == (True, False)


def test_every_record_reaches_the_callback_with_its_line(chain: tuple[list[bytes], Head]) -> None:
    """`on_record` is called with the line number and the record of each good line."""
    lines, _ = chain
    seen: list[tuple[int, int]] = []
    verify_lines(
        enumerate(lines, 1), key=KEY, on_record=lambda n, doc: seen.append((n, doc["seq"]))
    )
    assert seen == [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]


def record(line: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(line)
    return doc


def forged(line: bytes, **changes: Any) -> bytes:
    """A record with some fields changed, sealed again with a valid hash."""
    return sealed({**record(line), **changes})


def not_canonical(line: bytes) -> bytes:
    """A record rewritten with a space after its opening brace, its hash and MAC taken over that."""
    doc = {k: v for k, v in record(line).items() if k not in ("hash", "mac")}
    return seal_body(canonical(doc).replace(b"{", b"{ ", 1))


def hash_first(line: bytes) -> bytes:
    doc = record(line)
    return orjson.dumps({"hash": doc.pop("hash"), **doc}) + b"\n"


TORN = (
    "the last line (40 bytes) has no newline: a record torn by a crash "
    "(reopening the log moves it aside)"
)
EDITED = "the hash does not match the content"
PREV = "prev does not match the hash of the record before it: one of the two was replaced"
UNSEALED = "not a sealed record (no hash as its last member)"
BROKEN: list[tuple[str, Any, list[tuple[Any, ...]]]] = [
    ("torn", lambda ls: [*ls[:2], ls[2][:40]], [(3, "torn", None, TORN)]),
    (
        "edited",
        lambda ls: [ls[0].replace(b'"outcome":"approve"', b'"outcome":"refer"')],
        [(1, "edited", 1, EDITED)],
    ),
    (
        "edited-with-a-boolean-seq",
        lambda ls: [b'{"seq":true,"hash":"' + b"0" * 64 + b'"}\n'],
        [(1, "edited", None, EDITED)],
    ),
    (
        "edited-with-a-text-seq",
        lambda ls: [b'{"seq":"1","hash":"' + b"0" * 64 + b'"}\n'],
        [(1, "edited", None, EDITED)],
    ),
    (
        "rewritten",
        lambda ls: [not_canonical(ls[0])],
        [(1, "edited", 1, "not in canonical form: the line was rewritten")],
    ),
    (
        "a-field-removed",
        lambda ls: [sealed({k: v for k, v in record(ls[0]).items() if k != "matter"})],
        [(1, "damaged", 1, "not an audit record: matter: Field required")],
    ),
    (
        "a-nested-field-changed",
        lambda ls: [forged(ls[0], results=[{**record(ls[0])["results"][0], "status": "maybe"}])],
        [
            (
                1,
                "damaged",
                1,
                "not an audit record: results.0.status: "
                "Input should be 'passed', 'failed', 'unknown' or 'error'",
            )
        ],
    ),
    (
        "hash-not-last",
        lambda ls: [hash_first(ls[0])],
        [(1, "edited", 1, "rewritten: the hash is not its last member")],
    ),
    (
        "hash-not-last-seq-not-a-number",
        lambda ls: [b'{"hash":"x","seq":"1"}\n'],
        [(1, "edited", None, "rewritten: the hash is not its last member")],
    ),
    ("no-hash", lambda ls: [b'{"seq":1}\n'], [(1, "damaged", None, UNSEALED)]),
    ("not-json-unsealed", lambda ls: [b"{hash\n"], [(1, "damaged", None, UNSEALED)]),
    ("a-list", lambda ls: [b'["hash"]\n'], [(1, "damaged", None, UNSEALED)]),
    (
        "swapped",
        lambda ls: [ls[0], ls[2], ls[1], *ls[3:]],
        [
            (2, "deleted", 3, "record 2 missing before this line (deleted or moved)"),
            (3, "reordered", 2, "record 2 comes after record 3: records were moved"),
        ],
    ),
    (
        "moved-back",
        lambda ls: [ls[0], ls[3], ls[4], ls[1], ls[2]],
        [
            (2, "deleted", 4, "records 2–3 missing before this line (deleted or moved)"),
            (4, "reordered", 2, "record 2 comes after record 5: records were moved"),
            (5, "reordered", 3, "record 3 comes after record 5: records were moved"),
        ],
    ),
    (
        "copied",
        lambda ls: [*ls[:3], ls[1], *ls[3:]],
        [(4, "inserted", 2, "a second record 2 after record 3: a record was inserted or copied")],
    ),
    (
        "copied-after-a-gap",
        lambda ls: [ls[0], ls[2], ls[2], *ls[3:]],
        [
            (2, "deleted", 3, "record 2 missing before this line (deleted or moved)"),
            (3, "inserted", 3, "a second record 3 after record 3: a record was inserted or copied"),
        ],
    ),
    (
        "copied-first",
        lambda ls: [ls[0], ls[0], *ls[1:]],
        [(2, "inserted", 1, "a second record 1 after record 1: a record was inserted or copied")],
    ),
    (
        "deleted-first",
        lambda ls: ls[1:],
        [(1, "deleted", 2, "record 1 missing before this line (deleted or moved)")],
    ),
    (
        "replaced",
        lambda ls: [ls[0], forged(ls[1], outcome="approve"), *ls[2:]],
        [(3, "edited", 3, PREV)],
    ),
    (
        "relinked",
        lambda ls: [ls[0], forged(ls[1], prev="0" * 64), *ls[2:]],
        [(2, "edited", 2, PREV), (3, "edited", 3, PREV)],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_each_break_of_a_chain_is_named_at_its_line(
    chain: tuple[list[bytes], Head], change: Any, expected: list[tuple[Any, ...]]
) -> None:
    """Each problem gives its line, kind, record number (when it can be read) and message."""
    lines, _ = chain
    got = problems_of(change(lines))
    assert got == expected
    assert [type(p[2]) for p in got] == [type(p[2]) for p in expected]


def test_a_line_that_is_not_json_is_damaged(chain: tuple[list[bytes], Head]) -> None:
    """A sealed-looking line whose body is not JSON is damaged, with the parser's message."""
    ((line, kind, seq, message),) = problems_of([b'{x,"hash":"' + b"0" * 64 + b'"}\n'])
    assert (line, kind, seq) == (1, "damaged", None)
    assert message.startswith("not JSON: unexpected character")


def test_a_head_is_checked_against_the_record_it_counts(chain: tuple[list[bytes], Head]) -> None:
    """A head names a record and its hash: the end, an earlier record, or the empty chain."""
    lines, head = chain
    third = record(lines[2])["hash"]
    for good in (head, Head(3, third), Head()):
        assert problems_of(lines, (good, "the head")) == []
    assert problems_of(lines, (Head(5, "f" * 64), "the head")) == [
        (None, "head", 5, "record 5 does not have the hash the head names (ffffffffffff…)")
    ]
    assert problems_of(lines, (Head(0, third), "the expected head")) == [
        (
            None,
            "head",
            0,
            f"record 0 does not have the hash the expected head names ({third[:12]}…)",
        )
    ]
    assert problems_of(lines, (Head(2, third), "h")) == [
        (None, "head", 2, f"record 2 does not have the hash h names ({third[:12]}…)")
    ]


def test_a_head_beyond_the_end_shows_records_cut_from_it(chain: tuple[list[bytes], Head]) -> None:
    """A head counting more records than the log holds: records were cut from the end."""
    lines, head = chain
    message = "the log ends at record 3 but the head names record 5: records were cut from the end"
    assert problems_of(lines[:3], (head, "the head")) == [(None, "truncated", None, message)]
    assert problems_of(lines[:3], (Head(4, "0" * 64), "the head"), (head, "the expected head")) == [
        (None, "truncated", None, message.replace("5", "4").replace("the head", "the head")),
        (None, "truncated", None, message.replace("the head", "the expected head")),
    ]


FORGED = "the MAC is not the one key {} gives: the record was written or rewritten without the key"


def unauthenticated(
    which: str, why: str = "they carry no MAC (written without a key)"
) -> tuple[Any, ...]:
    return (
        None,
        "unauthenticated",
        None,
        f"{which}: no key or checkpoint vouches for them ({why}); anyone who can write the log "
        "could have written them",
    )


def without_mac(line: bytes) -> bytes:
    """A record resealed with its hash but no MAC (as a log kept without a key holds it)."""
    return sealed(record(line), key=None)


def wrong_mac(line: bytes) -> bytes:
    """A record whose MAC was replaced by another 64 hex digits (a forger without the key)."""
    return line[: -len(b'"}\n') - 64] + b"0" * 64 + b'"}\n'


UNVOUCHED: list[tuple[str, Any, list[tuple[Any, ...]]]] = [
    (
        "a-run-without-macs",
        lambda ls: [*ls[:2], *map(without_mac, ls[2:])],
        [unauthenticated("records 3–5")],
    ),
    (
        "one-without-a-mac",
        lambda ls: [*ls[:3], without_mac(ls[3]), ls[4]],
        [unauthenticated("record 4")],
    ),
    (
        "two-runs",
        lambda ls: [ls[0], without_mac(ls[1]), ls[2], *map(without_mac, ls[3:])],
        [unauthenticated("record 2"), unauthenticated("records 4–5")],
    ),
    (
        "a-wrong-mac",
        lambda ls: [ls[0], wrong_mac(ls[1]), *ls[2:]],
        [(2, "forged", 2, FORGED.format(key_id(KEY)))],
    ),
    (
        "resealed-without-the-key",
        lambda ls: [ls[0], sealed(record(ls[1]), key=b"another key of 16+ bytes"), *ls[2:]],
        [(2, "forged", 2, FORGED.format(key_id(KEY)))],
    ),
    (
        "an-edit-resealed-without-a-mac",
        lambda ls: [*ls[:4], sealed({**record(ls[4]), "outcome": "approve"}, key=None)],
        [unauthenticated("record 5")],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in UNVOUCHED], ids=[c[0] for c in UNVOUCHED]
)
def test_records_the_key_does_not_vouch_for_are_forged_or_unauthenticated(
    chain: tuple[list[bytes], Head], change: Any, expected: list[tuple[Any, ...]]
) -> None:
    """A wrong MAC is `forged` at its line; records without one are `unauthenticated`, one problem
    per run of them, at the end; nothing else is wrong with the chain; not authenticated."""
    lines, _ = chain
    changed = change(lines)
    assert problems_of(changed) == expected
    report = verify_lines(enumerate(changed, 1), key=KEY)
    assert report.authenticated is False
    assert [p.unit for p in report.problems] == ["line"] * len(expected)
    assert problems_of(changed, key=None, chain_only=True) == []


def test_under_another_key_every_record_is_forged(chain: tuple[list[bytes], Head]) -> None:
    """Verified with a key that did not write the log, each record's MAC is forged, naming the
    key given."""
    lines, _ = chain
    other = b"another key of 16+ bytes"
    assert problems_of(lines[:2], key=other) == [
        (1, "forged", 1, FORGED.format(key_id(other))),
        (2, "forged", 2, FORGED.format(key_id(other))),
    ]


def test_a_log_kept_without_a_key_names_why_its_records_are_unauthenticated() -> None:
    """Records sealed without a key carry no MAC: with a key they are unauthenticated for that,
    without one for want of a key; the run's problem is reported in the unit given."""
    lines, head = chain_of((30, 50, 31), key=None)
    assert all(b'"mac"' not in line for line in lines)
    assert problems_of(lines, (head, "the head")) == [unauthenticated("records 1–3")]
    assert problems_of(lines, key=None) == [
        unauthenticated("records 1–3", "no audit key was given to check their MACs")
    ]
    report = verify_lines(enumerate(lines, 1), unit="row")
    assert [p.unit for p in report.problems] == ["row"]
    assert problems_of(lines, key=None, chain_only=True) == []


def test_a_checkpoint_vouches_for_the_records_up_to_it(chain: tuple[list[bytes], Head]) -> None:
    """Without a key, a checkpoint at record 3 vouches for records 1–3; a checkpoint naming a
    hash that is not the record's vouches for nothing and is itself a head problem."""
    lines, head = chain
    third = record(lines[2])["hash"]
    assert problems_of(lines, key=None, checkpoints=[Head(3, third)]) == [
        unauthenticated("records 4–5", "no audit key was given to check their MACs")
    ]
    report = verify_lines(enumerate(lines, 1), checkpoints=[head])
    assert (report.ok, report.authenticated) == (True, True)
    assert problems_of(lines, key=None, checkpoints=[Head(3, "f" * 64)]) == [
        (
            None,
            "head",
            3,
            "record 3 does not have the hash the checkpoint of record 3 names (ffffffffffff…)",
        ),
        unauthenticated("records 1–5", "no audit key was given to check their MACs"),
    ]


def as_v1(line: bytes, *, mac: bool = False) -> bytes:
    """A record rewritten as format v1 (`"v":1`, without `vouched`: a v2 member written since the
    trust boundary, which v1 never had), resealed with or without a MAC."""
    doc = {k: v for k, v in record(line).items() if k != "vouched"}
    return sealed({**doc, "v": 1}, key=KEY if mac else None)


def test_a_v1_record_is_read_without_a_mac_and_refused_with_one(
    chain: tuple[list[bytes], Head],
) -> None:
    """A record of format v1 is a valid link (unauthenticated: v1 has no MAC); one that carries
    a MAC, or of an unknown format, is not an audit record."""
    lines, _ = chain
    assert problems_of([as_v1(lines[0])], key=None, chain_only=True) == []
    assert problems_of([as_v1(lines[0])]) == [unauthenticated("record 1")]
    assert problems_of([as_v1(lines[0], mac=True)]) == [
        (1, "damaged", 1, "not an audit record: mac: Extra inputs are not permitted")
    ]
    assert problems_of([sealed({**record(lines[0]), "v": 3})]) == [
        (1, "damaged", 1, "not an audit record: v: Input should be 2")
    ]


def test_a_keyed_record_is_a_valid_v2_audit_record(chain: tuple[list[bytes], Head]) -> None:
    """A sealed line, hash and MAC included, is an `AuditRecord` of format 2."""
    doc = record(chain[0][0])
    model = AuditRecord.model_validate(doc)
    assert (model.v, model.mac, model.hash) == (2, doc["mac"], doc["hash"])
    assert list(doc)[-2:] == ["hash", "mac"]


# ---- audit/verify: logs on disk ------------------------------------------------------------


def write_log(path: Path, ages: tuple[int, ...] = (30, 50, 31)) -> Head:
    """A log of one decision per age, its head kept beside it; returns that head."""
    sink = open_log(path, fsync="always")
    with Engine(REFERENCE, audit=sink, audit_key=KEY, vouch="all") as engine:
        for age in ages:
            engine.decide("talent-reference", {**GOOD_REF, "age": age}, on=ON)
    return sink.head


@pytest.mark.parametrize("name", ["audit.jsonl", "audit.sqlite"])
def test_a_log_verifies_against_the_head_kept_beside_it(tmp_path: Path, name: str) -> None:
    """A JSON Lines or SQLite log verifies under its key, and its report names the stored head,
    MACed by the key."""
    path = tmp_path / name
    head = write_log(path)
    report = verify_log(path, key=KEY)
    assert (report.ok, report.records, report.head, report.stored_head, report.notes) == (
        True,
        3,
        head,
        head,
        (),
    )
    assert report.authenticated is True
    assert report.stored_head is not None
    assert report.stored_head.mac == by_hand(CHAIN_KEY, b"head:3:" + head.hash.encode())
    assert report.source == str(path)
    assert (
        report.summary() == f"ok: {path}: 3 records, one valid chain (authenticated), head {head}"
    )
    assert verify_log(path, key=KEY, expect_head=head).ok


@pytest.mark.parametrize("name", ["audit.jsonl", "audit.sqlite"])
def test_a_log_verified_without_its_key_is_unauthenticated_unless_chain_only(
    tmp_path: Path, name: str
) -> None:
    """Without the key a log's records are unauthenticated (in its unit); `chain_only` checks
    the chain alone, says so in a note, and does not call the log authenticated."""
    path = tmp_path / name
    head = write_log(path)
    unit = "row" if name.endswith(".sqlite") else "line"
    assert [(p.kind, p.unit, p.message) for p in verify_log(path).problems] == [
        (
            "unauthenticated",
            unit,
            "records 1–3: no key or checkpoint vouches for them (no audit key was given to "
            "check their MACs); anyone who can write the log could have written them",
        )
    ]
    report = verify_log(path, chain_only=True)
    assert (report.ok, report.authenticated, report.head) == (True, False, head)
    assert report.notes == (
        "chain only: hashes and links were checked, not MACs; whoever can write the log "
        "could have rewritten it consistently",
    )
    assert report.summary() == (
        f"ok: {path}: 3 records, one valid chain (chain only, not authenticated), head {head}"
    )
    keyed = verify_log(path, key=KEY, chain_only=True)
    assert (keyed.ok, keyed.authenticated) == (True, False)


def test_a_head_rewritten_without_the_key_is_a_problem(tmp_path: Path) -> None:
    """A head beside the log without its MAC, or with another, is not authenticated by the key;
    without a key its MAC is not checked."""
    path = tmp_path / "audit.jsonl"
    head = write_log(path)
    head_file = Path(f"{path}.head")
    message = (
        f"end of log: head: the head kept beside the log is not authenticated by key "
        f"{key_id(KEY)}: it was rewritten by someone without the key"
    )
    for rewritten in (head, Head(head.count, head.hash, "0" * 64)):
        head_file.write_bytes(rewritten.to_bytes())
        report = verify_log(path, key=KEY)
        assert [str(p) for p in report.problems] == [message]
        assert report.authenticated is False
        assert verify_log(path, chain_only=True).ok


def edit_second_record(path: Path) -> None:
    """Turn the second record's referral into an approval, in place, without resealing it."""
    old, new = '"outcome":"refer"', '"outcome":"approve"'
    if path.suffix == ".sqlite":
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("UPDATE audit SET record = replace(record, ?, ?) WHERE seq = 2", (old, new))
        return
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(old.encode(), new.encode())
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(("name", "unit"), [("audit.jsonl", "line"), ("audit.sqlite", "row")])
def test_a_problem_in_a_log_names_its_line_or_row(tmp_path: Path, name: str, unit: str) -> None:
    """An edit in a log is reported at its line (SQLite: row), counted from 1, as are the
    problems it causes after it; a wrong expected head is reported at the end."""
    path = tmp_path / name
    head = write_log(path)
    edit_second_record(path)
    report = verify_log(path, key=KEY, expect_head=Head(3, "f" * 64))
    assert [str(p) for p in report.problems] == [
        f"{unit} 2 (record 2): edited: {EDITED}",
        f"{unit} 3 (record 3): deleted: record 2 missing before this line (deleted or moved)",
        "end of log (record 3): head: record 3 does not have the hash the expected head names "
        "(ffffffffffff…)",
    ]
    assert [p.unit for p in report.problems[:2]] == [unit, unit]
    assert (report.records, report.stored_head) == (3, head)


NO_HEAD = (
    None,
    "head",
    None,
    "no head beside the log (missing or emptied): records cut from its end would go unseen; "
    "if the log never had one, say so (--no-head)",
)


def test_a_log_without_a_head_cannot_show_a_cut_end(tmp_path: Path) -> None:
    """Without a head beside it a log is reported for that alone, even with a head expected,
    unless the caller says it never had one (`no_head`)."""
    path = tmp_path / "audit.jsonl"
    write_log(path)
    Path(f"{path}.head").unlink()
    report = verify_log(path, key=KEY)
    assert report.stored_head is None
    assert [(p.line, p.kind, p.seq, p.message) for p in report.problems] == [NO_HEAD]
    assert (report.records, report.authenticated) == (3, False)
    first = Head(1, record(path.read_bytes().splitlines()[0])["hash"])
    expected = verify_log(path, key=KEY, expect_head=first)
    assert [(p.line, p.kind, p.seq, p.message) for p in expected.problems] == [NO_HEAD]
    never_had_one = verify_log(path, key=KEY, expect_head=first, no_head=True)
    assert (never_had_one.ok, never_had_one.authenticated) == (True, True)
    assert never_had_one.stored_head is None
    assert verify_log(path, key=KEY, no_head=True).ok
    Path(f"{path}.head").write_bytes(b"")
    assert [(p.kind, p.message) for p in verify_log(path, key=KEY).problems] == [NO_HEAD[1::2]]


def test_records_after_the_stored_head_are_noted(tmp_path: Path) -> None:
    """Records written after the head beside the log are a note, not a problem."""
    path = tmp_path / "audit.jsonl"
    write_log(path, ages=(30,))
    head_file = Path(f"{path}.head")
    first_head = head_file.read_bytes()
    write_log(path, ages=(50, 31))
    head_file.write_bytes(first_head)
    report = verify_log(path, key=KEY)
    assert report.ok
    assert report.notes == (
        "2 records after the head kept beside the log (written since its last update: "
        "a live log, or a crash before the head was updated)",
    )
    assert report.stored_head == Head(1, record(path.read_bytes().splitlines()[0])["hash"])


def test_torn_bytes_moved_aside_are_noted(tmp_path: Path) -> None:
    """Torn bytes moved aside when the log was reopened are noted; an empty torn file is not."""
    path = tmp_path / "audit.jsonl"
    write_log(path)
    torn = Path(f"{path}.torn")
    torn.write_bytes(b"")
    assert verify_log(path, key=KEY).notes == ()
    torn.write_bytes(b'{"backend"')
    report = verify_log(path, key=KEY)
    assert report.ok
    assert report.notes == (
        f"10 bytes of torn records were moved aside to {torn} when the log was reopened after "
        "a crash",
    )


def test_a_missing_log_is_an_error(tmp_path: Path) -> None:
    """Verifying a log that is not there raises AuditError naming it."""
    path = tmp_path / "nope.jsonl"
    with pytest.raises(AuditError, match=r"^" + re.escape(f"{path}: no such log") + "$"):
        verify_log(path)


def test_a_log_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    """A log path that cannot be read (a folder) raises AuditError naming it and why."""
    path = tmp_path / "folder.jsonl"
    path.mkdir()
    with pytest.raises(AuditError, match=r"^" + re.escape(f"{path}: cannot read the log: ")):
        verify_log(path)


# ---- audit/record: keys, digests, sealing ----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name"),
    [(b"k", "bb86a0c093b20fe7"), (b"", "5110c9e33d4b4dd3"), (KEY, key_id(KEY))],
)
def test_a_key_is_named_by_16_hex_digits_of_its_labelled_hash(key: bytes, name: str) -> None:
    """`key_id` is the first 16 hex digits of SHA-256 over a fixed label and the key."""
    assert key_id(key) == name
    assert name == hashlib.sha256(b"secondapproval audit key\x00" + key).hexdigest()[:16]


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 200])
def test_the_facts_digest_is_the_standard_hmac_for_every_key_length(size: int) -> None:
    """`FactsDigest` equals RFC 2104 HMAC-SHA256 for keys shorter, as long as and longer than
    the 64-byte block (a longer key is hashed first, one of 64 bytes is not)."""
    key = bytes(range(1, size + 1))
    facts = {"b": [1, "二"], "a": {"c": True}}
    expected = hmac.new(key, canonical(facts), "sha256").hexdigest()
    digest = FactsDigest(key)
    assert digest(facts) == expected
    assert digest.of_canonical(canonical(facts)) == expected
    assert digest.hex_of_canonical(canonical(facts)) == expected.encode("ascii")
    assert digest(facts) == expected  # the pad states are reused, not consumed


@pytest.mark.parametrize(
    "facts",
    [
        {"b": [1, "二"], "a": {"c": True}},
        {"n": Decimal("1.50"), "t": (1, 2), "big": 2**70},
        [float("nan"), {1: "x"}],
    ],
    ids=["plain", "tagged", "not-an-object"],
)
def test_the_v2_facts_hmac_is_over_the_lossless_form_under_the_derived_facts_key(
    facts: Any,
) -> None:
    """`facts_hmac(secret, facts)` is HMAC-SHA256 of the lossless JSON under the facts key
    (HMAC of the secret and `secondapproval audit v2 facts`), never under the secret itself."""
    expected = by_hand(FACTS_KEY, lossless_json(facts))
    assert facts_hmac(KEY, facts) == expected
    assert AuditKey(KEY).facts.of_canonical(lossless_json(facts)) == expected
    assert facts_hmac(KEY, facts) != by_hand(KEY, lossless_json(facts))


def test_an_audit_key_derives_its_facts_and_chain_keys_by_hmac() -> None:
    """The facts digest, a record's MAC (over `record:` and its hash) and a head's MAC (over
    `head:COUNT:HASH`) use the keys derived from the secret; v1's digest uses the secret."""
    key = AuditKey(KEY)
    data = b'{"a":1}'
    assert key.facts.of_canonical(data) == by_hand(FACTS_KEY, data)
    assert key.v1_facts.of_canonical(data) == by_hand(KEY, data)
    assert key.record_mac(HASH.encode()) == by_hand(CHAIN_KEY, b"record:" + HASH.encode()).encode()
    assert key.head_mac(3, HASH) == by_hand(CHAIN_KEY, b"head:3:" + HASH.encode())
    assert key.head_mac(0, GENESIS) == by_hand(CHAIN_KEY, b"head:0:" + GENESIS.encode())
    assert (key.id, repr(key)) == (key_id(KEY), f"AuditKey(id={key_id(KEY)})")
    assert AuditKey.of(key) is key
    assert AuditKey.of(KEY).same(key)
    assert not AuditKey(KEY + b"!").same(key)


@pytest.mark.parametrize(
    "secret", [b"", b"k", b"x" * (MIN_SECRET - 1), "x" * MIN_SECRET, bytearray(b"x" * MIN_SECRET)]
)
def test_an_audit_key_shorter_than_16_bytes_or_not_bytes_is_refused(secret: Any) -> None:
    """A secret of fewer than 16 bytes (or not bytes at all) is refused; 16 bytes will do."""
    assert MIN_SECRET == 16
    with pytest.raises(AuditError, match=r"^an audit key is at least 16 bytes$"):
        AuditKey(secret)
    assert AuditKey(b"x" * MIN_SECRET).id == key_id(b"x" * MIN_SECRET)


@pytest.mark.parametrize(
    "content", [KEY, KEY + b"\n", KEY + b"\r\n", KEY + b"\n\n"], ids=["bare", "lf", "crlf", "2lf"]
)
def test_a_key_file_is_read_without_its_trailing_newline(tmp_path: Path, content: bytes) -> None:
    """`AuditKey.read` takes a file's bytes, trailing line ends dropped."""
    path = tmp_path / "audit.key"
    path.write_bytes(content)
    assert AuditKey.read(path).same(AuditKey(KEY))


def test_a_key_file_too_short_or_missing_is_an_error_naming_it(tmp_path: Path) -> None:
    """A key file whose key is too short, or that cannot be read, raises AuditError naming it."""
    path = tmp_path / "audit.key"
    path.write_bytes(b"x" * (MIN_SECRET - 1) + b"\n")
    with pytest.raises(
        AuditError, match="^" + re.escape(f"{path}: an audit key is at least 16 bytes") + "$"
    ):
        AuditKey.read(path)
    missing = tmp_path / "nope.key"
    text = f"{missing}: cannot read the audit key: No such file or directory"
    with pytest.raises(AuditError, match="^" + re.escape(text) + "$"):
        AuditKey.read(missing)


ENV = "SECONDAPPROVAL_TEST_MUTANTS_KEY"


def test_a_logs_key_comes_from_its_file_else_the_environment_else_beside_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`log_key`: a key file given wins, then the environment variable, then `LOG.key`; nothing
    is created unless asked."""
    log = tmp_path / "audit.jsonl"
    given = tmp_path / "given.key"
    given.write_bytes(b"g" * 20)
    beside = tmp_path / "audit.jsonl.key"
    monkeypatch.delenv(ENV, raising=False)
    assert log_key(log, None, create=False, env=ENV) == (None, None)
    assert not beside.exists()
    beside.write_bytes(b"b" * 20)
    assert log_key(log, None, create=True, env=ENV) == (b"b" * 20, None)
    monkeypatch.setenv(ENV, "环境" * 8)
    assert log_key(log, None, create=True, env=ENV) == (("环境" * 8).encode("utf-8"), None)
    assert log_key(log, given, create=True, env=ENV) == (b"g" * 20, None)
    monkeypatch.setenv(ENV, "")
    assert log_key(log, None, create=False, env=ENV) == (b"b" * 20, None)
    missing = tmp_path / "nope.key"
    text = f"{missing}: cannot read the audit key: No such file or directory"
    with pytest.raises(AuditError, match="^" + re.escape(text) + "$"):
        log_key(log, missing, create=True, env=ENV)


def test_a_logs_key_is_created_beside_it_as_64_hex_digits_for_its_owner_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked to create one, `log_key` writes 64 random hex digits to `LOG.key`, mode 0600, and
    names the file; the next call reads it and creates nothing."""
    monkeypatch.delenv(ENV, raising=False)
    log = tmp_path / "audit.jsonl"
    key, created = log_key(log, None, create=True, env=ENV)
    assert created == tmp_path / "audit.jsonl.key"
    assert key is not None
    assert re.fullmatch(rb"[0-9a-f]{64}", key)
    assert os.stat(created).st_mode & 0o777 == 0o600
    assert log_key(log, None, create=True, env=ENV) == (key, None)
    assert log_key(tmp_path / "other.jsonl", None, create=True, env=ENV)[0] != key


def test_sealing_appends_prev_reasons_results_seq_and_the_hash_last() -> None:
    """A sealed line is head, prev, reasons, results, seq and tail, then the SHA-256 of that
    JSON as its last member, then a newline; with a key, the MAC of the hash after it."""
    record = Unsealed(b'{"a":1,"prev":"', b'["R"]', b"[]", b',"time":"t"')
    line, digest = record.seal(7, "p" * 4)
    body = b'{"a":1,"prev":"pppp","reasons":["R"],"results":[],"seq":7,"time":"t"}'
    assert digest == hashlib.sha256(body).hexdigest()
    assert line == body[:-1] + b',"hash":"' + digest.encode() + b'"}\n'
    keyed, keyed_digest = record.seal(7, "p" * 4, AuditKey(KEY))
    assert keyed_digest == digest
    assert keyed == (
        body[:-1]
        + b',"hash":"'
        + digest.encode()
        + b'","mac":"'
        + mac_of(digest).encode()
        + b'"}\n'
    )


MAC = "cd" * 32


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        (f'{{"a":1,"hash":"{HASH}"}}\n', Sealed(b'{"a":1}', HASH, None)),
        (f'{{"a":1,"hash":"{HASH}","mac":"{MAC}"}}\n', Sealed(b'{"a":1}', HASH, MAC)),
        (f'{{"a":1,"hash":"{HASH}","mac":"{MAC}"}}', Sealed(b'{"a":1}', HASH, MAC)),
        (
            f'{{"a":1,"mac":"{MAC}","hash":"{HASH}"}}\n',
            Sealed(f'{{"a":1,"mac":"{MAC}"}}'.encode(), HASH, None),
        ),
        (f'{{"a":1,"hash":"{HASH}","mac":"{MAC[:-1]}"}}\n', None),
        (f'{{"a":1,"hash":"{HASH}","mac":"{MAC}0"}}\n', None),
        (f'{{"a":1,"hash":"{HASH[:-1]}"}}\n', None),
        (f'{{"a":1,"hash":"{HASH}0"}}\n', None),
        (f'{{"a":1,"mac":"{MAC}"}}\n', None),
        (f'{{"hash":"{HASH}"}}\n', None),
        (f'{{"a":1,"hash":"{HASH}"}} \n', None),
        (f'{{"a":1,"hash":"{HASH}","mac":"{MAC}"}} \n', None),
        (f'{{"a":1,"hash":"{HASH}"]\n', None),
    ],
    ids=[
        "hash",
        "hash-and-mac",
        "no-newline",
        "mac-before-hash",
        "short-mac",
        "long-mac",
        "short-hash",
        "long-hash",
        "mac-alone",
        "hash-alone",
        "a-space-after",
        "a-space-after-the-mac",
        "not-a-brace",
    ],
)
def test_a_sealed_line_splits_into_its_body_hash_and_mac(line: str, parts: Sealed | None) -> None:
    """`split_sealed` gives the record without hash and mac, the hash, and the MAC (None without
    one); a line whose hash (and MAC) are not its last members, of 64 digits each, is not sealed."""
    assert split_sealed(line.encode()) == parts


class Level(enum.IntEnum):
    HIGH = 3


class Label(str):
    """A str subclass."""


LOSSLESS: list[tuple[str, Any, Any]] = [
    ("none", None, None),
    ("bool", True, True),
    ("text", "中文", "中文"),
    ("int", -(2**63), -(2**63)),
    ("int-64-bit", 2**64 - 1, 2**64 - 1),
    ("int-big", 2**64, {"$": "int", "v": "18446744073709551616"}),
    ("int-small", -(2**63) - 1, {"$": "int", "v": "-9223372036854775809"}),
    ("float", 1.5, 1.5),
    ("nan", float("nan"), {"$": "float", "v": "nan"}),
    ("inf", float("inf"), {"$": "float", "v": "inf"}),
    ("minus-inf", float("-inf"), {"$": "float", "v": "-inf"}),
    ("surrogate", "a\ud800", {"$": "str", "v": '"a\\ud800"'}),
    ("bytes", b"ab", {"$": "bytes", "v": "YWI="}),
    ("bytearray", bytearray(b"ab"), {"$": "bytearray", "v": "YWI="}),
    ("object", {"b": 1, "a": [2]}, {"b": 1, "a": [2]}),
    ("int-keys", {2: "b", 1: "a"}, {"$": "dict", "v": [[1, "a"], [2, "b"]]}),
    ("tag-key", {"$": 1, "v": 2}, {"$": "dict", "v": [["$", 1], ["v", 2]]}),
    ("surrogate-key", {"\ud800": 1}, {"$": "dict", "v": [[{"$": "str", "v": '"\\ud800"'}, 1]]}),
    ("tuple", (1, (2,)), {"$": "tuple", "v": [1, {"$": "tuple", "v": [2]}]}),
    ("set", {"b", "a"}, {"$": "set", "v": ["a", "b"]}),
    ("frozenset", frozenset({2, 1}), {"$": "frozenset", "v": [1, 2]}),
    ("decimal", Decimal("1.50"), {"$": "decimal.Decimal", "v": "1.50"}),
    ("date", dt.date(2020, 1, 2), {"$": "datetime.date", "v": "2020-01-02"}),
    (
        "datetime",
        dt.datetime(2020, 1, 2, 3, 4, 5),
        {"$": "datetime.datetime", "v": "2020-01-02T03:04:05"},
    ),
    ("time", dt.time(3, 4), {"$": "datetime.time", "v": "03:04:00"}),
    ("int-enum", Level.HIGH, {"$": f"{__name__}.Level", "v": 3}),
    ("str-subclass", Label("x"), {"$": f"{__name__}.Label", "v": "x"}),
    ("bool-in-a-list", [True, 1], [True, 1]),
    ("other-object", object(), {"$": "builtins.object", "v": None}),
    ("omitted", Oversized("too big"), {"$": "omitted", "v": "too big"}),
    (
        "nested",
        [{"a": Decimal(1)}, [(1,)]],
        [{"a": {"$": "decimal.Decimal", "v": "1"}}, [{"$": "tuple", "v": [1]}]],
    ),
    ("mapping-proxy", MappingProxyType({"a": 1}), {"$": "builtins.mappingproxy", "v": None}),
]


@pytest.mark.parametrize(("value", "form"), [c[1:] for c in LOSSLESS], ids=[c[0] for c in LOSSLESS])
def test_each_value_has_its_exact_lossless_form(value: Any, form: Any) -> None:
    """Plain JSON stays as it is; anything else becomes a `{"$": type, "v": value}` tag, and
    `lossless_json` is the canonical JSON of that form."""
    got = lossless(value)
    assert got == form
    assert orjson.dumps(got) == orjson.dumps(form)  # types too: True is not 1
    assert lossless_json(value) == canonical(form)


@pytest.mark.parametrize(
    ("facts", "data"),
    [
        ({"b": 1, "a": "中"}, b'{"a":"\xe4\xb8\xad","b":1}'),
        ({"n": 2**64}, b'{"n":{"$":"int","v":"18446744073709551616"}}'),
        ({"s": "\ud800"}, b'{"s":{"$":"str","v":"\\"\\\\ud800\\""}}'),
        ({"d": Decimal("1.0")}, b'{"d":{"$":"decimal.Decimal","v":"1.0"}}'),
        ({"d": dt.date(2020, 1, 2)}, b'{"d":{"$":"datetime.date","v":"2020-01-02"}}'),
        ({"g": {"$": 1}}, b'{"g":{"$":"dict","v":[["$",1]]}}'),
        ({"b": b"ab"}, b'{"b":{"$":"bytes","v":"YWI="}}'),
    ],
    ids=["plain", "big-int", "surrogate", "decimal", "date", "tag-key", "bytes"],
)
def test_a_vouched_application_is_written_in_its_lossless_form(
    facts: dict[str, Any], data: bytes
) -> None:
    """`vouched_json` gives the lossless JSON of an application: orjson's for plain values, the
    walk's for anything orjson refuses or that holds a member `$`. (A subclass or an Enum member
    is never vouched for: the validator refuses it, `test_strict_facts`.)"""
    assert vouched_json(facts) == data
    assert lossless_json(facts) == data


@pytest.mark.parametrize(
    ("form", "value"),
    [
        ({"$": "int", "v": "18446744073709551616"}, 2**64),
        ({"$": "float", "v": "inf"}, float("inf")),
        ({"$": "float", "v": "-inf"}, float("-inf")),
        ({"$": "str", "v": '"a\\ud800"'}, "a\ud800"),
        ([{"$": "int", "v": "-1"}, [{"$": "float", "v": "inf"}]], [-1, [float("inf")]]),
        ({"$": "int", "v": 5}, {"$": "int", "v": 5}),
        ({"$": "float", "v": None}, {"$": "float", "v": None}),
        ({"$": "str", "v": 1}, {"$": "str", "v": 1}),
        ({"$": "tuple", "v": [1]}, {"$": "tuple", "v": [1]}),
        ({"$": "int", "v": "1", "w": 0}, {"$": "int", "v": "1", "w": 0}),
        ({"a": {"$": "int", "v": "1"}}, {"a": {"$": "int", "v": "1"}}),
        ("1", "1"),
        (None, None),
    ],
    ids=[
        "big-int",
        "inf",
        "minus-inf",
        "surrogate",
        "in-lists",
        "int-not-text",
        "float-not-text",
        "str-not-text",
        "other-tag",
        "more-members",
        "an-object",
        "text",
        "null",
    ],
)
def test_a_recorded_value_is_restored_from_the_tags_a_fact_value_can_take(
    form: Any, value: Any
) -> None:
    """`restore` undoes the int, float and str tags (in lists too); other tags, tags of the
    wrong shape and objects are left as they are."""
    got = restore(form)
    assert got == value
    assert type(got) is type(value)


def test_a_restored_nan_is_a_nan() -> None:
    """The float tag `nan` is restored as a NaN (which equals nothing)."""
    got = restore({"$": "float", "v": "nan"})
    assert isinstance(got, float)
    assert math.isnan(got)
    assert restore(lossless(float("nan"))) != restore(lossless(float("nan")))


# ---- audit/record: building records ----------------------------------------------------------


def at_half_past_eight() -> dt.datetime:
    return dt.datetime(2024, 6, 1, 8, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pii_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The audit tests' sample matter: a personal ID number (public-security's, vouched for) and
    phone, a derived age."""
    return Engine(rules_folder(tmp_path_factory.mktemp("pii-rules")), vouch="all")


@pytest.fixture(scope="module")
def builder(engine: Engine, pii_engine: Engine, reference_engine: Engine) -> RecordBuilder:
    """A record builder for the three sample matters, on a fixed clock."""
    matters = [m for e in (engine, pii_engine, reference_engine) for m in versions(e)]
    return RecordBuilder(matters, key=KEY, clock=at_half_past_eight, backend="native 1")


def sealed_record(
    builder: RecordBuilder, matter: str, decision: Decision, facts: Any, latency_ns: int = 1234
) -> dict[str, Any]:
    """The record built for a decision, sealed as the first of a keyed chain, hash and MAC
    checked (and taken off), the line exactly its canonical JSON, hash and MAC."""
    line, digest = builder.build(matter, decision, facts, latency_ns).seal(
        1, GENESIS, AuditKey(KEY)
    )
    doc = record(line)
    assert list(doc)[-2:] == ["hash", "mac"]
    assert doc.pop("mac") == mac_of(digest)
    assert doc.pop("hash") == digest
    assert line == seal_body(canonical(doc))
    assert digest == hashlib.sha256(canonical(doc)).hexdigest()
    return doc


def v2_facts_hmac(facts: Any) -> str:
    """The v2 digest of a plain JSON application, by hand: its sorted compact UTF-8 JSON (which
    is its lossless form) under the facts key derived from `KEY`."""
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return by_hand(FACTS_KEY, text.encode("utf-8"))


def common(decision: Decision, facts: Any, latency_ns: int = 1234) -> dict[str, Any]:
    """The members every record of a decision holds whatever its matter."""
    return {
        "backend": "native 1",
        "decision_id": decision.decision_id,
        "digest": decision.digest,
        "engine": f"secondapproval {__version__}",
        "facts_hmac": v2_facts_hmac(facts),
        "key_id": hashlib.sha256(b"secondapproval audit key\x00" + KEY).hexdigest()[:16],
        "latency_ns": latency_ns,
        "on": "2024-06-01",
        "prev": GENESIS,
        "seq": 1,
        "time": "2024-06-01T08:30:00Z",
        "v": 2,
    }


REFERENCE_READS = [
    ("degree-level", ["degree"]),
    ("age-limit", ["age", "degree"]),
    ("recent-graduate", ["graduated_years_ago"]),
    ("degree-certificate", ["has_degree_certificate"]),
    ("social-insurance", ["social_insurance_months"]),
    ("no-criminal-record", ["criminal_record"]),
]
REFERENCE_VOUCHED = ["criminal-records", "degree-registry", "public-security", "social-insurance"]
"""The `vouched` member of a record of the reference matter decided by an engine vouching for all:
the sources of its facts (talent-reference.yaml), each authoritative in benchmarks/matters/
sources.yaml, sorted."""
SAMPLE_READS = [
    ("adult", ["applicant.age"]),
    ("named", ["applicant.name"]),
    ("per-year", ["per_year"]),
    ("joined-before", ["joined"]),
]


def results(reads: list[tuple[str, list[str]]], *statuses: str) -> list[dict[str, Any]]:
    return [
        {"reads": r, "rule": rule, "status": s}
        for (rule, r), s in zip(reads, statuses, strict=True)
    ]


def test_a_record_of_an_approval_holds_the_application_as_it_came(
    builder: RecordBuilder, reference_engine: Engine
) -> None:
    """Every member of a record: ids, rule set, engine, the application, its HMAC, the key's
    name, latency, results, no reasons, time, record version and values."""
    d = reference_engine.decide("talent-reference", GOOD_REF, on=ON)
    assert sealed_record(builder, "talent-reference", d, GOOD_REF) == {
        **common(d, GOOD_REF),
        "facts": GOOD_REF,
        "invalid": {},
        "matter": "talent-reference",
        "missing": [],
        "outcome": "approve",
        "reasons": [],
        "results": results(REFERENCE_READS, *["passed"] * 6),
        "values": GOOD_REF,
        "version": "bench.1",
        "vouched": REFERENCE_VOUCHED,
    }


def test_a_record_of_an_application_json_cannot_hold_holds_its_lossless_form(
    builder: RecordBuilder, reference_engine: Engine
) -> None:
    """A valid application holding a big int is recorded in its lossless form (the int tagged,
    in facts and values), its digest over that form: the v2 `facts_hmac`."""
    facts = {**GOOD_REF, "age": 2**70}
    d = reference_engine.decide("talent-reference", facts, on=ON)
    big = {"$": "int", "v": str(2**70)}
    doc = sealed_record(builder, "talent-reference", d, facts)
    assert doc == {
        **common(d, {**GOOD_REF, "age": big}),
        "facts": {**GOOD_REF, "age": big},
        "invalid": {},
        "matter": "talent-reference",
        "missing": [],
        "outcome": "refer",
        "reasons": ["AGE_LIMIT"],
        "results": results(REFERENCE_READS, "passed", "failed", *["passed"] * 4),
        "values": {**GOOD_REF, "age": big},
        "version": "bench.1",
        "vouched": REFERENCE_VOUCHED,
    }
    assert doc["facts_hmac"] == facts_hmac(KEY, facts)


@pytest.mark.parametrize(
    ("facts", "shown"),
    [
        ({**GOOD_REF, "age": 30.5}, {**GOOD_REF, "age": 30.5}),
        ({**GOOD_REF, "age": float("nan")}, {**GOOD_REF, "age": {"$": "float", "v": "nan"}}),
        ({**GOOD_REF, "age": (30,)}, {**GOOD_REF, "age": {"$": "tuple", "v": [30]}}),
    ],
    ids=["float", "nan", "tuple"],
)
def test_a_record_of_an_invalid_value_json_cannot_hold_holds_its_lossless_form(
    builder: RecordBuilder, reference_engine: Engine, facts: dict[str, Any], shown: dict[str, Any]
) -> None:
    """An invalid NaN or tuple is recorded by its tag (never as null or a list), and the digest
    is over that form, so it differs from any JSON application's."""
    d = reference_engine.decide("talent-reference", facts, on=ON)
    doc = sealed_record(builder, "talent-reference", d, facts)
    assert (doc["facts"], doc["reasons"], doc["values"].get("age")) == (
        shown,
        ["INVALID:age"],
        None,
    )
    assert doc["facts_hmac"] == v2_facts_hmac(shown) == facts_hmac(KEY, facts)


def test_a_record_of_a_missing_fact_keeps_the_null_it_came_as(
    builder: RecordBuilder, reference_engine: Engine
) -> None:
    """A fact given as null is kept in `facts`, absent from `values`, and named as missing."""
    facts = {**GOOD_REF, "age": None}
    d = reference_engine.decide("talent-reference", facts, on=ON)
    assert sealed_record(builder, "talent-reference", d, facts, latency_ns=0) == {
        **common(d, facts, latency_ns=0),
        "facts": facts,
        "invalid": {},
        "matter": "talent-reference",
        "missing": ["age"],
        "outcome": "refer",
        "reasons": ["MISSING:age"],
        "results": results(REFERENCE_READS, "passed", "unknown", *["passed"] * 4),
        "values": {k: v for k, v in GOOD_REF.items() if k != "age"},
        "version": "bench.1",
        "vouched": REFERENCE_VOUCHED,
    }


def test_a_record_of_a_referral_gives_the_failed_rules_codes(
    builder: RecordBuilder, reference_engine: Engine
) -> None:
    """A referral whose rules all passed or failed has the failed rules' codes as reasons; a
    second with the same statuses has the same results and reasons."""
    for facts in ({**GOOD_REF, "age": 50}, {**GOOD_REF, "age": 51}):
        d = reference_engine.decide("talent-reference", facts, on=ON)
        doc = sealed_record(builder, "talent-reference", d, facts)
        assert (doc["outcome"], doc["reasons"], doc["values"]) == ("refer", ["AGE_LIMIT"], facts)
        assert doc["results"] == results(REFERENCE_READS, "passed", "failed", *["passed"] * 4)


def test_a_record_of_a_grouped_matter_holds_the_values_by_path(
    builder: RecordBuilder, engine: Engine
) -> None:
    """Values are recorded by dotted path as JSON (decimals and dates as strings), derived
    facts included; failed rules' codes are the reasons, in rule order."""
    facts = {"applicant": {"age": 10, "name": ""}, "income": 7, "joined": "2030-01-01"}
    d = decide(engine, facts)
    assert sealed_record(builder, "record-sample", d, facts) == {
        **common(d, facts),
        "facts": facts,
        "invalid": {},
        "matter": "record-sample",
        "missing": [],
        "outcome": "refer",
        "reasons": ["MINOR", "NO_NAME", "LATE"],
        "results": results(SAMPLE_READS, "failed", "failed", "passed", "failed"),
        "values": {
            "applicant.age": 10,
            "applicant.name": "",
            "income": "7",
            "joined": "2030-01-01",
            "per_year": "-0.35",
        },
        "version": "3",
        "vouched": [],
    }


def test_a_record_masks_an_undeclared_key_and_names_it_invalid(
    builder: RecordBuilder, engine: Engine
) -> None:
    """A value under an undeclared key is masked (it may be misplaced personal data)."""
    facts = {**GOOD, "extra": [1, "abcdefghijk"]}
    d = decide(engine, facts)
    assert sealed_record(builder, "record-sample", d, facts) == {
        **common(d, facts),
        "facts": {**GOOD, "extra": ["***", "abc****hijk"]},
        "invalid": {"extra": "not a declared fact of this matter"},
        "matter": "record-sample",
        "missing": [],
        "outcome": "refer",
        "reasons": ["INVALID:extra"],
        "results": results(SAMPLE_READS, *["passed"] * 4),
        "values": {
            "applicant.age": 40,
            "applicant.name": "Li",
            "income": "5000",
            "joined": "2020-01-01",
            "per_year": "500",
        },
        "version": "3",
        "vouched": [],
    }


def test_a_record_masks_personal_data_in_facts_and_values(
    builder: RecordBuilder, pii_engine: Engine
) -> None:
    """Personal facts are masked in the application and in the values; the HMAC is of the
    original application."""
    facts = application(id_born(1990), phone="13800138000")
    d = pii_engine.decide("audit-sample", facts, on=ON)
    masked_id = mask(id_born(1990))
    assert sealed_record(builder, "audit-sample", d, facts) == {
        **common(d, facts),
        "facts": {
            "applicant": {"id_number": masked_id, "phone": "138****8000"},
            "degree": "bachelor",
        },
        "invalid": {},
        "matter": "audit-sample",
        "missing": [],
        "outcome": "approve",
        "reasons": [],
        "results": [
            {"reads": ["applicant.age"], "rule": "adult", "status": "passed"},
            {"reads": ["applicant.age"], "rule": "age-limit", "status": "passed"},
            {"reads": ["degree"], "rule": "degree-level", "status": "passed"},
        ],
        "values": {
            "applicant.age": 34,
            "applicant.id_number": masked_id,
            "applicant.phone": "138****8000",
            "degree": "bachelor",
        },
        "version": "1",
        "vouched": ["public-security"],
    }


def test_a_record_with_no_version_in_force_masks_the_whole_application(
    builder: RecordBuilder, engine: Engine
) -> None:
    """No version in force: every value of the application is masked, nothing else recorded."""
    on = dt.date(1999, 1, 1)
    d = decide(engine, GOOD, on=on)
    assert sealed_record(builder, "record-sample", d, GOOD) == {
        **common(d, GOOD),
        "digest": None,
        "facts": {
            "applicant": {"age": "***", "name": "***"},
            "income": "****",
            "joined": "202***1-01",
        },
        "invalid": {},
        "matter": "record-sample",
        "missing": [],
        "on": "1999-01-01",
        "outcome": "refer",
        "reasons": ["NO_VERSION"],
        "results": [],
        "values": {},
        "version": None,
        "vouched": [],
    }


def test_a_record_of_a_matter_the_builder_does_not_know_masks_everything(engine: Engine) -> None:
    """A decision of a matter version the builder was not given is recorded like NO_VERSION,
    but with its version; again for a second decision of it."""
    blind = RecordBuilder([], key=KEY, clock=at_half_past_eight, backend="native 1")
    for age in (40, 80):
        facts = with_applicant(age=age, name="Li")
        d = decide(engine, facts)
        assert sealed_record(blind, "record-sample", d, facts) == {
            **common(d, facts),
            "digest": None,
            "facts": {
                "applicant": {"age": "***", "name": "***"},
                "income": "****",
                "joined": "202***1-01",
            },
            "invalid": {},
            "matter": "record-sample",
            "missing": [],
            "outcome": "approve",
            "reasons": [],
            "results": [],
            "values": {},
            "version": "3",
            "vouched": [],
        }


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2024, 6, 1, 8, 30, 0, 5),
        dt.datetime(2024, 6, 1, 8, 30, 0, 5, tzinfo=dt.UTC),
        dt.datetime(2024, 6, 1, 16, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(2024, 6, 1, 3, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ],
    ids=["naive", "utc", "beijing", "new-york"],
)
def test_a_record_is_timed_in_utc_whatever_the_clocks_zone(
    reference_engine: Engine, now: dt.datetime
) -> None:
    """The clock's time is recorded in UTC with a Z; a naive time is taken as UTC."""
    b = RecordBuilder(
        reference_engine.versions("talent-reference"), key=KEY, clock=lambda: now, backend="x"
    )
    d = reference_engine.decide("talent-reference", GOOD_REF, on=ON)
    assert (
        sealed_record(b, "talent-reference", d, GOOD_REF)["time"] == "2024-06-01T08:30:00.000005Z"
    )


def flat_matter(matter: str, facts: str, when: str) -> str:
    return (
        f"matter: {matter}\ntitle: {{zh: 样例, en: Sample}}\nversion: '1'\n"
        f"effective: {{from: '2000-01-01'}}\nfacts:\n{facts}rules:\n  - id: r\n    when: '{when}'\n"
        "    says: {zh: 规则, en: Rule}\n    refer: {code: R, zh: 不符合, en: Not met}\n"
    )


FLAT = {
    "with-a-decimal": (
        "  n: {type: int, source: applicant}\n  d: {type: decimal, source: applicant}\n",
        "n >= 0",
    ),
    "with-a-group": (
        "  a.b: {type: int, source: applicant}\n  c: {type: int, source: applicant}\n",
        "c >= 0",
    ),
    "only-a-group": ("  a.b: {type: int, source: applicant}\n", "a.b >= 0"),
    "only-a-decimal": ("  d: {type: decimal, source: applicant}\n", "d >= 0"),
    "deep": (
        "  a.b.c: {type: int, source: applicant}\n"
        "  n: {type: int, source: applicant, optional: true}\n",
        "a.b.c >= 0 and n >= 0",
    ),
    "with-a-derived-fact": (
        "  x: {type: int, source: applicant}\n  o: {type: str, source: applicant, optional: true}\n"
        "  y: {type: int, derive: 'x + 1'}\n",
        "y >= 0",
    ),
}


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """Small matters whose values are not the application itself."""
    rules = tmp_path_factory.mktemp("flat-rules")
    for name, (facts, when) in FLAT.items():
        write_matter(rules, flat_matter(name, facts, when), f"{name}.yaml")
    return Engine(rules)


@pytest.mark.parametrize(
    ("matter", "facts", "values", "reasons"),
    [
        ("with-a-decimal", {"n": 1, "d": 2}, {"d": "2", "n": 1}, []),
        ("with-a-decimal", {"n": 1}, {"n": 1}, ["MISSING:d"]),
        ("with-a-group", {"a": {"b": 1}, "c": 2}, {"a.b": 1, "c": 2}, []),
        ("only-a-group", {"a": {"b": 1}}, {"a.b": 1}, []),
        ("only-a-decimal", {"d": 2}, {"d": "2"}, []),
        ("with-a-derived-fact", {"x": 1, "o": None}, {"x": 1, "y": 2}, []),
    ],
    ids=["decimal", "missing-unread-fact", "group", "only-a-group", "only-a-decimal", "derived"],
)
def test_a_record_holds_the_validated_values_not_the_application(
    flat: Engine,
    matter: str,
    facts: dict[str, Any],
    values: dict[str, Any],
    reasons: list[str],
) -> None:
    """Values are recorded as validated (a decimal as a string, a group's facts by path, derived
    facts added), even where the application has as many members; a missing fact no rule reads
    is still a reason."""
    # the builder is made here, not in a fixture, so that mutmut maps its plan to this test
    builder = RecordBuilder(flat.versions(matter), key=KEY, clock=at_half_past_eight, backend="x")
    d = flat.decide(matter, facts, on=ON)
    doc = sealed_record(builder, matter, d, facts)
    assert (doc["facts"], doc["values"], doc["reasons"]) == (facts, values, reasons)
    assert doc["outcome"] == ("approve" if not reasons else "refer")


@pytest.mark.parametrize(
    ("facts", "reasons", "statuses"),
    [
        (
            with_applicant(age=30, name="Li"),
            ["ERROR:per-year"],
            ["passed", "passed", "error", "passed"],
        ),
        (
            with_applicant(age=40),
            ["MISSING:applicant.name"],
            ["passed", "unknown", "passed", "passed"],
        ),
    ],
    ids=["error", "optional-absent"],
)
def test_a_record_of_an_unknown_or_error_rule_gives_the_decisions_codes(
    builder: RecordBuilder, engine: Engine, facts: Any, reasons: list[str], statuses: list[str]
) -> None:
    """Where a rule is unknown or an error, the reasons are the decision's own codes."""
    d = decide(engine, facts)
    doc = sealed_record(builder, "record-sample", d, facts)
    assert (doc["outcome"], doc["reasons"], doc["missing"], doc["invalid"]) == (
        "refer",
        reasons,
        [],
        {},
    )
    assert doc["results"] == results(SAMPLE_READS, *statuses)


def test_a_naive_clock_is_taken_as_utc_whatever_the_machines_zone(
    reference_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A naive time is recorded as the same wall-clock time in UTC, not converted from the
    machine's local zone; an aware one is converted."""
    b = RecordBuilder(
        reference_engine.versions("talent-reference"),
        key=KEY,
        clock=lambda: dt.datetime(2024, 6, 1, 8, 30),
        backend="x",
    )
    aware = RecordBuilder(
        reference_engine.versions("talent-reference"),
        key=KEY,
        clock=lambda: dt.datetime(2024, 6, 1, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        backend="x",
    )
    d = reference_engine.decide("talent-reference", GOOD_REF, on=ON)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert sealed_record(b, "talent-reference", d, GOOD_REF)["time"] == "2024-06-01T08:30:00Z"
        assert (
            sealed_record(aware, "talent-reference", d, GOOD_REF)["time"] == "2024-06-01T08:30:00Z"
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_record_of_statuses_that_do_not_match_the_rules_is_an_error(
    builder: RecordBuilder, compiled: Any
) -> None:
    """A decision with fewer statuses than its matter has rules cannot be recorded."""
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=(0, 1, 1),
        invalid={},
        missing=(),
    )
    with pytest.raises(ValueError, match="zip"):
        builder.build("record-sample", d, GOOD, 1)


@pytest.mark.parametrize(
    ("facts", "codes"),
    [
        ({"a": {"b": 5}}, ("INVALID:a.b", "MISSING:n")),
        ({"a": {"b": {"c": 1}}, "": 1}, ("INVALID:", "MISSING:n")),
        ({"a": {"b": {"c": 1}}}, ("MISSING:n",)),
    ],
    ids=["invalid-inner-group", "empty-key", "optional-absent"],
)
def test_an_invalid_group_at_any_depth_accounts_for_the_facts_under_it(
    flat: Engine, facts: dict[str, Any], codes: tuple[str, ...]
) -> None:
    """`a.b` invalid accounts for `a.b.c` (no MISSING for it); an undeclared empty key accounts
    for nothing but itself."""
    assert flat.decide("deep", facts, on=ON).codes == codes


def test_records_cut_from_the_end_of_a_log_are_found_by_the_head_beside_it(
    tmp_path: Path,
) -> None:
    """A log whose last record was cut is reported as truncated against its stored head."""
    path = tmp_path / "audit.jsonl"
    write_log(path)
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:2]))
    report = verify_log(path, key=KEY)
    assert [str(p) for p in report.problems] == [
        "end of log: truncated: the log ends at record 2 but the head kept beside the log names "
        "record 3: records were cut from the end"
    ]
    assert report.records == 2


# ---- found by the mutation run of keys.py and lossless.py ----------------------------------


def test_log_key_reads_the_projects_environment_variable_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `env=`, the key comes from `SECONDAPPROVAL_AUDIT_KEY` (the name is exact)."""
    monkeypatch.delenv("secondapproval_audit_key", raising=False)
    monkeypatch.setenv("SECONDAPPROVAL_AUDIT_KEY", "from-the-environment-0123")
    assert log_key(tmp_path / "a.jsonl", None, create=False) == (b"from-the-environment-0123", None)


@pytest.mark.parametrize(
    ("written", "secret"),
    [
        (b"secret-key-of-16-bytes \n", b"secret-key-of-16-bytes "),  # a trailing space is kept
        (b"\nsecret-key-of-16-bytes\n", b"\nsecret-key-of-16-bytes"),  # a leading newline too
        (b"secret-key-ending-in-X\r\n", b"secret-key-ending-in-X"),
    ],
)
def test_key_files_lose_only_their_trailing_newline(
    tmp_path: Path, written: bytes, secret: bytes
) -> None:
    """A key file's trailing CR/LF are dropped, and nothing else, by the library and the CLI
    alike (`AuditKey.read`, `log_key` with a file or with `LOG.key`)."""
    key_file = tmp_path / "audit.key"
    key_file.write_bytes(written)
    log = tmp_path / "audit.jsonl"
    (tmp_path / "audit.jsonl.key").write_bytes(written)
    assert AuditKey.read(key_file).same(AuditKey(secret))
    assert log_key(log, key_file, create=False) == (secret, None)
    assert log_key(log, None, create=False, env="NO_SUCH_VARIABLE_HERE") == (secret, None)


class _Shown(str):
    def __str__(self) -> str:
        return "something else"


def test_a_str_subclass_is_recorded_by_its_characters_not_its_str() -> None:
    """The lossless form of a str subclass holds its characters, whatever `__str__` says."""
    assert lossless(_Shown("abc")) == {"$": f"{__name__}._Shown", "v": "abc"}


@pytest.mark.parametrize(
    ("value", "form"),
    [
        ({1: "b", 2: "a"}, {"$": "dict", "v": [[1, "b"], [2, "a"]]}),  # by key, not by value
        ({9, 10}, {"$": "set", "v": [10, 9]}),  # by canonical JSON: "10" < "9"
        (frozenset({"b", 1}), {"$": "frozenset", "v": ["b", 1]}),  # mixed kinds sort too
    ],
    ids=["dict-pairs", "set", "frozenset"],
)
def test_unordered_containers_are_sorted_by_the_canonical_json_of_their_keys(
    value: object, form: object
) -> None:
    """Pairs sort by their key's canonical JSON, set items by theirs: one form per value."""
    assert lossless(value) == form


# ---- found by the second mutation run of record.py, verify.py and lossless.py ---------------


@pytest.mark.parametrize(
    ("matter", "facts", "values"),
    [
        (
            "with-a-decimal",
            {"n": 2**70, "d": 2},
            {"d": "2", "n": {"$": "int", "v": "1180591620717411303424"}},
        ),
        (
            "with-a-derived-fact",
            {"x": 1, "o": "\ud800"},
            {"o": {"$": "str", "v": '"\\ud800"'}, "x": 1, "y": 2},
        ),
    ],
    ids=["big-int", "lone-surrogate"],
)
def test_values_json_cannot_hold_are_recorded_in_their_lossless_form(
    flat: Engine, matter: str, facts: dict[str, Any], values: dict[str, Any]
) -> None:
    """Validated values that are not the application itself (a decimal, a derived fact) and that
    JSON cannot hold as they are (an int beyond 64 bits, a lone surrogate) are recorded in their
    lossless form, each fact tagged and the others as JSON, never as null."""
    builder = RecordBuilder(flat.versions(matter), key=KEY, clock=at_half_past_eight, backend="x")
    d = flat.decide(matter, facts, on=ON)
    doc = sealed_record(builder, matter, d, facts)
    assert (doc["outcome"], doc["values"], doc["facts_hmac"]) == (
        "approve",
        values,
        facts_hmac(KEY, facts),
    )


SURROGATE_INVALID = {
    "x\ud800": "not a declared fact of this matter",
    "applicant.\udfff": "an invalid value",
}


def test_invalid_paths_holding_a_lone_surrogate_are_recorded_backslash_escaped(
    builder: RecordBuilder, compiled: Any
) -> None:
    """An invalid path holding a lone surrogate (which JSON cannot hold) is written with the
    surrogate as the six characters `\\udxxx`, in `invalid` (keys and messages kept) and in the
    reason codes (each code, in order)."""
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=(1, 1, 1, 1),
        invalid=SURROGATE_INVALID,
        missing=(),
    )
    doc = sealed_record(builder, "record-sample", d, GOOD)
    assert (doc["outcome"], doc["invalid"], doc["reasons"]) == (
        "refer",
        {
            "applicant.\\udfff": "an invalid value",
            "x\\ud800": "not a declared fact of this matter",
        },
        ["INVALID:x\\ud800", "INVALID:applicant.\\udfff"],
    )


def test_a_checkpoint_beyond_the_end_of_the_chain_vouches_for_nothing(
    chain: tuple[list[bytes], Head],
) -> None:
    """A checkpoint naming a record the log does not hold shows records cut from the end, and
    vouches for none of the records that are there: without a key they are unauthenticated."""
    lines, head = chain
    assert problems_of(lines, key=None, checkpoints=[Head(6, head.hash)]) == [
        (
            None,
            "truncated",
            None,
            "the log ends at record 5 but the checkpoint of record 6 names record 6: records were "
            "cut from the end",
        ),
        unauthenticated("records 1–5", "no audit key was given to check their MACs"),
    ]
    report = verify_lines(enumerate(lines, 1), checkpoints=[Head(6, head.hash)])
    assert report.authenticated is False


class _HashableDict(dict[str, int]):
    """A dict subclass that can be a set item or a dict key (its form keeps insertion order)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


@pytest.mark.parametrize(
    ("value", "form"),
    [
        (
            frozenset({_HashableDict({"a": 9, "0": 1}), _HashableDict({"0": 5})}),
            b'{"$":"frozenset","v":[{"$":"NAME","v":{"0":1,"a":9}},{"$":"NAME","v":{"0":5}}]}',
        ),
        (
            {_HashableDict({"a": 9, "0": 1}): 1, _HashableDict({"0": 5}): 2},
            b'{"$":"dict","v":[[{"$":"NAME","v":{"0":1,"a":9}},1],[{"$":"NAME","v":{"0":5}},2]]}',
        ),
    ],
    ids=["set-items", "dict-keys"],
)
def test_items_are_sorted_by_the_sorted_key_json_of_their_form(value: object, form: bytes) -> None:
    """Set items and dict pairs sort by the canonical (key-sorted) JSON of their form, not by
    the order in which an object's members were inserted: `{"0":1,"a":9}` before `{"0":5}`."""
    name = f"{__name__}._HashableDict".encode()
    assert lossless_json(value) == form.replace(b"NAME", name)


@pytest.mark.parametrize(
    "statuses", [(2, 1, 1), (2, 1, 1, 1, 1)], ids=["fewer-statuses", "more-statuses"]
)
def test_statuses_that_do_not_match_the_rules_are_an_error_even_in_an_approval(
    builder: RecordBuilder, compiled: Any, statuses: tuple[int, ...]
) -> None:
    """The `results` of a decision are made from as many statuses as its matter has rules: one
    fewer or more is an error, even when no reason has to be worked out (an outcome given as
    approve, a status neither passed nor failed)."""
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=statuses,
        invalid={},
        missing=(),
        outcome=Outcome.APPROVE,
    )
    with pytest.raises(ValueError, match="zip"):
        builder.build("record-sample", d, GOOD, 1)


def test_a_record_of_a_mapping_that_is_not_a_dict_shows_its_items_and_digests_its_type(
    builder: RecordBuilder, compiled: Any
) -> None:
    """An application that is a Mapping but not a dict (never vouched for as JSON) is shown by
    its items, masked along the declared facts, while its digest covers its lossless form: the
    type alone."""
    facts = MappingProxyType(dict(GOOD))
    d = Decision(
        compiled=compiled,
        decision_id="id",
        on=ON,
        values=dict(VALUES),
        statuses=(1, 1, 1, 1),
        invalid={},
        missing=(),
    )
    doc = sealed_record(builder, "record-sample", d, facts)
    assert (doc["outcome"], doc["facts"], doc["values"], doc["facts_hmac"]) == (
        "approve",
        GOOD,
        {
            "applicant.age": 40,
            "applicant.name": "Li",
            "income": "1",
            "joined": "2024-06-01",
        },
        by_hand(FACTS_KEY, b'{"$":"builtins.mappingproxy","v":null}'),
    )


def test_lines_verified_without_a_source_are_named_lines(
    chain: tuple[list[bytes], Head],
) -> None:
    """`verify_lines` names what it verified `<lines>` unless told otherwise."""
    lines, head = chain
    report = verify_lines(enumerate(lines, 1), key=KEY)
    assert report.source == "<lines>"
    assert (
        report.summary() == f"ok: <lines>: 5 records, one valid chain (authenticated), head {head}"
    )
