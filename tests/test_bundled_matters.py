"""The bundled real matters (rules/): sourced, honest about sources, deciding as written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RULES, SCENARIOS, engine_over, examples, versions
from secondapproval import Engine, Matter, Outcome
from secondapproval.commands.analyze import analyze_paths
from secondapproval.idcodes import check_cn_id, cn_id_check_character
from secondapproval.loader import find_registry, installed_packs
from secondapproval.scenarios.coverage import Coverage
from secondapproval.scenarios.model import load_scenario
from secondapproval.scenarios.run import EngineCache, run_file, scenario_files
from secondapproval.yamlfile import load_yaml

GRADUATE = "graduate-hukou-shenzhen"
NEWBORN = "newborn-one-thing-zhongshan"
MIN_CASES = 15
MIN_MATTERS = 10
MIN_ONLINE = 4
BUNDLED_VERSIONS = versions(engine_over(RULES))


def scenario_case_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in sorted(SCENARIOS.rglob("*.yaml")):
        doc = load_yaml(path)
        if isinstance(doc.data, dict) and "matter" in doc.data and "cases" in doc.data:
            scenario = load_scenario(doc)
            counts[scenario.matter] = counts.get(scenario.matter, 0) + len(scenario.cases)
    return counts


def cn_id(first17: str) -> str:
    number = first17 + cn_id_check_character(first17)
    return check_cn_id(number)


def test_both_real_matters_are_bundled(bundled_engine: Engine) -> None:
    """The fresh-graduate hukou and newborn one-thing matters load from rules/."""
    assert {GRADUATE, NEWBORN} <= set(bundled_engine.matters)


def test_the_library_holds_ten_real_matters_four_of_them_online(bundled_engine: Engine) -> None:
    """At least ten matters, each with sources; at least four whose latest version names an
    official online entry (a service_url, so its guide carries a QR code)."""
    latest = [bundled_engine.versions(m)[-1] for m in bundled_engine.matters]
    assert len(latest) >= MIN_MATTERS
    assert all(v.spec.sources for v in latest)
    assert sum(v.spec.service_url is not None for v in latest) >= MIN_ONLINE


@pytest.mark.parametrize("version", BUNDLED_VERSIONS, ids=lambda m: f"{m.id}@{m.version}")
def test_every_rule_quotes_the_clause_it_enforces(version: Matter) -> None:
    """Each rule's note quotes its clause and names, as `[S..]`, a source the rule cites (what a
    published guide says, so that no condition is added outside it)."""
    for rule in version.rules:
        note = rule.spec.note
        assert note, f"rule {rule.id} quotes no clause"
        assert any(f"[{sid}]" in note for sid in rule.spec.sources), f"{rule.id}: {note}"


@pytest.mark.parametrize("version", BUNDLED_VERSIONS, ids=lambda m: f"{m.id}@{m.version}")
def test_a_partial_rule_is_settled_by_an_office_only(version: Matter) -> None:
    """A condition the sources leave unstated reads only facts an authoritative office gives:
    no applicant's word can approve what nobody published."""
    registry = find_registry([RULES])
    inputs = version.inputs
    for rule in version.rules:
        if rule.spec.partial:
            offices = {inputs[path].source or "" for path in rule.roots}
            assert offices
            assert all(registry.authoritative(office) for office in offices), rule.id


def test_every_rule_of_a_real_matter_passes_fails_and_is_unknown_in_scenarios(
    bundled_engine: Engine,
) -> None:
    """The scenario files of the bundled matters make every rule pass, fail and be unknown."""
    engines = EngineCache(RULES)
    coverage = Coverage()
    try:
        for path in scenario_files([SCENARIOS]):
            for result in run_file(path, engines, RULES, installed_packs()):
                coverage.add(result)
    finally:
        engines.close()
    gaps = coverage.gaps(bundled_engine)
    for matter in bundled_engine.matters:
        assert matter in gaps, f"{matter} has no scenario"
        assert gaps[matter] == [], f"{matter}: {gaps[matter]}"


@pytest.mark.parametrize("matter", engine_over(RULES).matters)
def test_each_bundled_matter_has_enough_scenarios(matter: str) -> None:
    """Every bundled matter has at least 15 scenario cases under scenarios/."""
    assert scenario_case_counts().get(matter, 0) >= MIN_CASES


@pytest.mark.parametrize("version", BUNDLED_VERSIONS, ids=lambda m: f"{m.id}@{m.version}")
def test_every_rule_cites_a_declared_source(version: Matter) -> None:
    """Each rule lists at least one source, and every source it lists is declared with a URL."""
    declared = {s.id: s for s in version.spec.sources}
    for rule in version.spec.rules:
        assert rule.sources, f"rule {rule.id} cites no source"
        for sid in rule.sources:
            assert sid in declared, f"rule {rule.id} cites undeclared {sid}"
            assert declared[sid].url, f"source {sid} has no address"


@pytest.mark.parametrize("version", BUNDLED_VERSIONS, ids=lambda m: f"{m.id}@{m.version}")
def test_legal_basis_holds_official_texts_only(version: Matter) -> None:
    """Each legal_basis entry is a declared source of status official (same id or same URL)."""
    official = {s.id for s in version.spec.sources if s.status == "official"}
    official_urls = {s.url for s in version.spec.sources if s.status == "official" and s.url}
    for ref in version.spec.legal_basis:
        url = str(ref.url) if ref.url else None
        assert ref.ref in official or url in official_urls, f"{ref.ref} is not an official source"


@pytest.mark.parametrize("version", BUNDLED_VERSIONS, ids=lambda m: f"{m.id}@{m.version}")
def test_every_fact_has_a_citizen_label(version: Matter) -> None:
    """Every declared fact carries a bilingual label for the citizen-facing texts."""
    unlabelled = [path for path, spec in version.spec.facts.items() if spec.label is None]
    assert not unlabelled


def test_the_real_matters_claim_no_legal_basis(bundled_engine: Engine) -> None:
    """The note found no official legal text for either matter, so legal_basis stays empty."""
    for matter in (GRADUATE, NEWBORN):
        for version in bundled_engine.versions(matter):
            assert version.spec.legal_basis == []
            assert all(rule.spec.legal is None for rule in version.rules)


def test_graduate_matter_encodes_no_unsourced_age_limit(bundled_engine: Engine) -> None:
    """No rule of the fresh-graduate matter reads an age: per-degree age limits are unsourced."""
    for version in bundled_engine.versions(GRADUATE):
        assert not any("age" in path for path in version.spec.facts)
        assert not any("age_on" in rule.spec.when for rule in version.rules)
        assert {s.status for s in version.spec.sources} <= {"news", "third-party"}


def test_newborn_rules_all_cite_the_official_zhongshan_page(bundled_engine: Engine) -> None:
    """Every newborn rule cites S41, the Zhongshan government page, declared as official."""
    for version in bundled_engine.versions(NEWBORN):
        statuses = {s.id: s.status for s in version.spec.sources}
        assert statuses["S41"] == "official"
        assert all("S41" in rule.spec.sources for rule in version.rules)


# ---- direct decisions ----------------------------------------------------------------------


def graduate(graduated_on: str, **changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "applicant": {"id_number": cn_id("44030419960512123"), "name": "张三"},
        "education": {
            "level": "bachelor",
            "full_time": True,
            "regular_institution": True,
            "certificate_verified": True,
            "graduated_on": graduated_on,
        },
        "employment": {"report_certificate": "issued-to-shenzhen"},
        "declaration": {"good_health": True, "no_banned_organisations": True},
        "record": {"criminal": False},
        "credit": {"untrustworthy": False, "penalties": []},
        "settlement": {"address_type": "talent-collective", "file_moves_with_hukou": True},
    }
    for group, values in changes.items():
        facts[group] = {**facts[group], **values}
    return facts


def newborn(born_on: str, **changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "mother": {"id_number": cn_id("44200019940718042"), "guangdong_hukou": True},
        "father": {"id_number": cn_id("44200019920203031"), "guangdong_hukou": True},
        "parents": {"married": True},
        "newborn": {"name": "王小明", "born_on": born_on},
        "birth": {"guangdong_qualified_institution": True, "certificate_issue": "first"},
        "registration": {"household_of": "mother", "household_type": "family"},
    }
    for group, values in changes.items():
        facts[group] = {**facts[group], **values}
    return facts


def test_graduate_window_ends_on_the_second_anniversary(bundled_engine: Engine) -> None:
    """Graduated exactly two years before approves; one day more refers NOT_FRESH_GRADUATE."""
    on = dt.date(2019, 9, 1)
    assert bundled_engine.decide(GRADUATE, graduate("2017-09-01"), on=on).outcome is Outcome.APPROVE
    late = bundled_engine.decide(GRADUATE, graduate("2017-08-31"), on=on)
    assert late.outcome is Outcome.REFER
    assert set(late.codes) == {"NOT_FRESH_GRADUATE"}


def test_graduate_credit_and_record_refer_to_the_counter(bundled_engine: Engine) -> None:
    """A criminal record and a bad-credit record are both named, and nothing is approved."""
    decision = bundled_engine.decide(
        GRADUATE,
        graduate("2019-06-30", record={"criminal": True}, credit={"untrustworthy": True}),
        on=dt.date(2019, 9, 1),
    )
    assert decision.outcome is Outcome.REFER
    assert set(decision.codes) == {"CRIMINAL_RECORD", "CREDIT_RECORD"}


def test_graduate_before_the_online_system_has_no_version(bundled_engine: Engine) -> None:
    """An application dated before June 2018 finds no version and is referred NO_VERSION."""
    decision = bundled_engine.decide(GRADUATE, graduate("2017-07-01"), on=dt.date(2018, 5, 31))
    assert decision.codes == ("NO_VERSION",)


def test_newborn_first_birthday_is_no_longer_under_one(bundled_engine: Engine) -> None:
    """The day before the first birthday approves; the birthday itself refers NEWBORN_AGE."""
    on = dt.date(2026, 12, 1)
    assert bundled_engine.decide(NEWBORN, newborn("2025-12-02"), on=on).outcome is Outcome.APPROVE
    assert bundled_engine.decide(NEWBORN, newborn("2025-12-01"), on=on).codes == ("NEWBORN_AGE",)


def test_newborn_collective_household_and_bad_mother_id_refer(bundled_engine: Engine) -> None:
    """A collective household fails its rule and a corrupted mother's ID is INVALID."""
    facts = newborn("2026-10-15", registration={"household_type": "collective"})
    facts["mother"]["id_number"] = facts["mother"]["id_number"][:17] + (
        "1" if facts["mother"]["id_number"][17] != "1" else "2"
    )
    decision = bundled_engine.decide(NEWBORN, facts, on=dt.date(2026, 12, 1))
    assert set(decision.codes) == {"HOUSEHOLD", "INVALID:mother.id_number"}


# ---- the date rules against a plain-Python oracle ------------------------------------------

LEAP_DAYS = st.sampled_from([dt.date(y, 2, 29) for y in (2020, 2024, 2028, 2032)])
NEAR = st.integers(min_value=-3, max_value=3)
"""Offsets that land on, just before and just after a boundary."""


def _anniversary(day: dt.date, years: int, feb29: tuple[int, int]) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return dt.date(day.year + years, *feb29)


@settings(max_examples=examples(80), deadline=None)
@given(
    graduated=st.one_of(st.dates(dt.date(2019, 1, 1), dt.date(2032, 12, 31)), LEAP_DAYS),
    anchor=st.sampled_from(["start", "end"]),
    offset=st.one_of(NEAR, st.integers(min_value=-900, max_value=900)),
)
def test_graduate_window_matches_the_civil_code_count(
    bundled_engine: Engine, graduated: dt.date, anchor: str, offset: int
) -> None:
    """The fresh-graduate rule passes exactly from graduation to its second anniversary."""
    last_day = _anniversary(graduated, 2, (2, 28))  # 民法典 Art. 202: no such day → month end
    on = (graduated if anchor == "start" else last_day) + dt.timedelta(days=offset)
    decision = bundled_engine.decide(GRADUATE, graduate(graduated.isoformat()), on=on)
    assert (decision.outcome is Outcome.APPROVE) == (graduated <= on <= last_day)


@settings(max_examples=examples(80), deadline=None)
@given(
    born=st.one_of(st.dates(dt.date(2028, 1, 1), dt.date(2034, 12, 31)), LEAP_DAYS),
    anchor=st.sampled_from(["birth", "birthday"]),
    offset=st.one_of(NEAR, st.integers(min_value=-400, max_value=400)),
)
def test_newborn_age_rule_matches_completed_years(
    bundled_engine: Engine, born: dt.date, anchor: str, offset: int
) -> None:
    """The under-one-year rule passes exactly from birth to the day before the first birthday."""
    first_birthday = _anniversary(born, 1, (3, 1))  # born 29 Feb: one year old on 1 March
    on = (born if anchor == "birth" else first_birthday) + dt.timedelta(days=offset)
    on = max(on, dt.date(2026, 11, 25))  # the version's first day
    decision = bundled_engine.decide(NEWBORN, newborn(born.isoformat()), on=on)
    assert (decision.outcome is Outcome.APPROVE) == (born <= on < first_birthday)


def test_the_static_analysis_finds_no_error_in_any_bundled_matter() -> None:
    """`secondapproval analyze rules` (issue 20's "done"): every version can be approved and no
    finding is an error."""
    reports = analyze_paths([RULES])
    assert len({r.matter for r in reports}) >= 10
    assert [f"{r.matter}@{r.version}" for r in reports if r.approvable.answer != "yes"] == []
    errors = [
        f"{r.matter}@{r.version}: {f.kind}: {f.message}"
        for r in reports
        for f in r.findings
        if f.severity == "error"
    ]
    assert errors == []
