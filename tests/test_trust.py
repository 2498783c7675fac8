"""The trust boundary: a caller's fact of an authoritative source is refused unless vouched for.

DESIGN, "Trust": `Engine("rules").decide(…)` with a caller's `credit.untrustworthy: false` refers;
an embedding that supplies a source's facts itself vouches for it by name, and every decision and
audit record says so. No spelling of a key — nested, dotted, another case, given twice — carries
a guarded fact into the values.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RULES, engine_over, examples
from secondapproval import Engine, Outcome
from secondapproval.audit.sinks import MemorySink
from secondapproval.errors import ConfigError
from secondapproval.jsonfile import loads
from secondapproval.trust import Trust

TALENT = "graduate-hukou-shenzhen"
ON = dt.date(2019, 9, 1)
GOOD: dict[str, Any] = {
    "applicant": {"id_number": "440304199605121230", "name": "张三"},
    "education": {
        "level": "bachelor",
        "full_time": True,
        "regular_institution": True,
        "certificate_verified": True,
        "graduated_on": "2019-06-30",
    },
    "employment": {"report_certificate": "issued-to-shenzhen"},
    "declaration": {"good_health": True, "no_banned_organisations": True},
    "record": {"criminal": False},
    "credit": {"untrustworthy": False, "penalties": []},
    "settlement": {"address_type": "talent-collective", "file_moves_with_hukou": True},
}
TALENT_SOURCES = (
    "public-security",
    "degree-registry",
    "graduate-employment",
    "criminal-records",
    "credit-platform",
)


def engine(**options: Any) -> Engine:
    return Engine(snapshot=engine_over(RULES).snapshot, **options)


def test_by_default_a_callers_authoritative_fact_is_refused():
    d = Engine(RULES).decide(TALENT, GOOD, on=ON)
    assert d.outcome is Outcome.REFER
    assert "INVALID:credit.untrustworthy" in d.codes
    assert "credit.untrustworthy" not in d.values
    assert d.invalid["credit.untrustworthy"] == (
        "given only by credit-platform, which this engine neither connects nor vouches for"
    )
    reason = next(r for r in d.reasons if r.code == "INVALID:credit.untrustworthy")
    assert "credit-platform" in reason.en


def test_vouching_for_every_source_the_matter_reads_approves_and_says_so():
    d = engine(vouch=TALENT_SOURCES).decide(TALENT, GOOD, on=ON)
    assert d.outcome is Outcome.APPROVE, d.codes
    assert d.provenance["credit.untrustworthy"].via == "vouched"
    assert d.provenance["settlement.address_type"].via == "applicant"
    assert d.to_dict()["vouched"] == sorted(TALENT_SOURCES)


@pytest.mark.parametrize("left_out", TALENT_SOURCES)
def test_one_source_not_vouched_for_refers_on_its_facts_alone(left_out):
    vouched = [s for s in TALENT_SOURCES if s != left_out]
    d = engine(vouch=vouched).decide(TALENT, GOOD, on=ON)
    assert d.outcome is Outcome.REFER
    refused = {p for p, why in d.invalid.items() if left_out in why}
    matter = engine_over(RULES).versions(TALENT)[-1]
    given_paths = {p for p, s in matter.inputs.items() if s.source == left_out}
    assert refused == given_paths & set(_paths(GOOD))


def _paths(tree: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in tree.items():
        out += _paths(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"]
    return out


def test_vouch_all_vouches_for_every_authoritative_source():
    assert engine(vouch="all").decide(TALENT, GOOD, on=ON).approved


def test_every_audit_record_names_the_sources_vouched_for():
    sink = MemorySink()
    with engine(vouch=TALENT_SOURCES, audit=sink, audit_key=b"k" * 32) as e:
        e.decide(TALENT, GOOD, on=ON)
    with engine(audit=(plain := MemorySink()), audit_key=b"k" * 32) as e:
        e.decide(TALENT, GOOD, on=ON)
    assert orjson.loads(sink.lines[0])["vouched"] == sorted(TALENT_SOURCES)
    assert orjson.loads(plain.lines[0])["vouched"] == []


@pytest.mark.parametrize(
    ("vouch", "message"),
    [
        (["credit-platfrom"], "did you mean 'credit-platform'"),
        (["applicant"], "'applicant' is not an authoritative source"),
        ("credit-platform", 'a list of source ids or "all"'),
    ],
)
def test_vouching_for_what_is_not_an_authoritative_source_is_an_error(vouch, message):
    with pytest.raises(ConfigError, match=message):
        engine(vouch=vouch)


def test_a_source_the_registry_does_not_know_is_guarded(tmp_path):
    matter = engine_over(RULES).versions(TALENT)[-1]
    e = Engine([matter])  # checked elsewhere; this engine knows only the built-in sources
    d = e.decide(TALENT, GOOD, on=ON)
    assert "INVALID:credit.untrustworthy" in d.codes
    assert Engine([matter], vouch=["credit-platform"]).decide(TALENT, GOOD, on=ON).codes != d.codes
    assert Trust.of(e.snapshot.registry, "all", named={"credit-platform"}).vouched >= {
        "credit-platform"
    }


# ---- no spelling of a guarded key crosses the boundary ----
SPELLINGS = [
    lambda: {"credit.untrustworthy": False},
    lambda: {"Credit": {"untrustworthy": False}},
    lambda: {"credit": {"Untrustworthy": False}},
    lambda: {"CREDIT": {"UNTRUSTWORTHY": False}},
    lambda: {"credit": {"untrustworthy ": False}},
    lambda: {"credit": {"ｕntrustworthy": False}},  # a fullwidth letter
    lambda: {"credit": {"untrustworthy": False, "untrustworthy\u200b": False}},
    lambda: {"credit": [{"untrustworthy": False}]},
    lambda: {"credit": {"untrustworthy": [False]}},
]


@pytest.mark.parametrize("spelling", range(len(SPELLINGS)))
def test_no_spelling_of_a_guarded_key_carries_its_value(spelling):
    facts = {k: v for k, v in copy.deepcopy(GOOD).items() if k != "credit"}
    facts.update(SPELLINGS[spelling]())
    vouched = [s for s in TALENT_SOURCES if s != "credit-platform"]
    d = engine(vouch=vouched).decide(TALENT, facts, on=ON)
    assert d.outcome is Outcome.REFER
    assert "credit.untrustworthy" not in d.values


def test_a_guarded_key_given_twice_in_json_is_refused():
    text = json.dumps({k: v for k, v in GOOD.items() if k != "credit"}, ensure_ascii=False)
    text = text[:-1] + ', "credit": {"untrustworthy": false, "untrustworthy": false}}'
    vouched = [s for s in TALENT_SOURCES if s != "credit-platform"]
    d = engine(vouch=vouched).decide(TALENT, loads(text), on=ON)
    assert d.outcome is Outcome.REFER
    assert "credit.untrustworthy" not in d.values


KEYS = st.sampled_from(
    ["credit", "Credit", "credit.untrustworthy", "untrustworthy", "credit ", "crédit", "CREDIT"]
)
LEAVES = st.one_of(st.booleans(), st.none(), st.integers(), st.text(max_size=3))
TREES = st.recursive(
    LEAVES,
    lambda inner: st.dictionaries(st.one_of(KEYS, st.sampled_from(["untrustworthy"])), inner),
    max_leaves=6,
)


@settings(max_examples=examples(300), deadline=None)
@given(st.dictionaries(KEYS, TREES, min_size=1, max_size=3))
def test_whatever_the_caller_puts_under_credit_it_never_approves(extra):
    facts = {k: v for k, v in copy.deepcopy(GOOD).items() if k != "credit"}
    facts.update(extra)
    vouched = [s for s in TALENT_SOURCES if s != "credit-platform"]
    d = engine(vouch=vouched).decide(TALENT, facts, on=ON)
    assert d.outcome is Outcome.REFER
    assert "credit.untrustworthy" not in d.values


# ---- a swap works trust out again against the new registry ----
def test_vouching_for_all_covers_the_sources_of_the_snapshot_swapped_in():
    from reference import REFERENCE

    e = Engine(snapshot=engine_over(REFERENCE).snapshot, vouch="all")
    assert "credit-platform" not in e.trust.vouched
    e.swap(engine_over(RULES).snapshot)
    assert set(TALENT_SOURCES) <= e.trust.vouched
    assert e.decide(TALENT, GOOD, on=ON).outcome is Outcome.APPROVE


def test_a_swap_to_a_registry_without_a_vouched_source_is_refused_and_changes_nothing():
    from reference import REFERENCE

    e = engine(vouch=["credit-platform"])
    before = e.snapshot
    with pytest.raises(ConfigError, match="'credit-platform' is not an authoritative source"):
        e.swap(engine_over(REFERENCE).snapshot)
    assert e.snapshot is before
    assert e.trust.vouched == {"credit-platform"}
    assert "INVALID:credit.untrustworthy" not in e.decide(TALENT, GOOD, on=ON).codes


def test_an_application_beyond_the_limits_is_one_invalid_not_one_per_refused_fact():
    from secondapproval.limits import Limits

    e = Engine(RULES, limits=Limits(max_keys=5))
    assert e.decide(TALENT, GOOD, on=ON).codes == ("INVALID:$",)


# ---- the edges mutation testing found untested ----
def test_an_office_fact_given_with_a_bad_value_is_refused_by_its_path_not_as_a_whole():
    bad = copy.deepcopy(GOOD)
    bad["credit"]["untrustworthy"] = "no"
    d = engine().decide(TALENT, bad, on=ON)
    assert "INVALID:credit.untrustworthy" in d.codes
    assert "INVALID:$" not in d.codes


def test_vouching_problems_are_each_named_once_and_hint_only_at_offices():
    with pytest.raises(ConfigError) as caught:
        engine(vouch=["zzzz", "applicant"])
    assert str(caught.value) == (
        "'applicant' is not an authoritative source of the registry; "
        "'zzzz' is not an authoritative source of the registry"
    )


def test_the_json_form_of_a_provenance_holds_only_what_is_known():
    from secondapproval.provenance import NO_ORIGINS, Provenance

    at = dt.datetime(2024, 6, 1, 12, 30, tzinfo=dt.UTC)
    full = Provenance("adapter", "credit-platform", at, "R-7", "ab" * 32, cached=True)
    assert full.to_dict() == {
        "via": "adapter",
        "source": "credit-platform",
        "retrieved_at": "2024-06-01T12:30:00Z",
        "reference": "R-7",
        "digest": "ab" * 32,
        "cached": True,
    }
    assert Provenance("vouched", "degree-registry").to_dict() == {
        "via": "vouched",
        "source": "degree-registry",
    }
    assert NO_ORIGINS.of("anything") == Provenance("applicant", "applicant")
