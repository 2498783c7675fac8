"""The Engine: versions by date, errors with file and line, isolation, threads, fail-safe."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings, target
from hypothesis import strategies as st

from reference import FIXTURES, GOOD_REF, ON, REFERENCE, RULES, engine_over, versions
from secondapproval import Engine, Limits, Matter, Outcome, RuleSetError, UnknownMatterError
from secondapproval.facts import FactValidator
from secondapproval.strategies import applications

ALLOWANCE = FIXTURES / "rules"
"""The test-allowance matter in two versions (tests/fixtures/rules)."""


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ALLOWANCE, target)
    return target


def test_version_in_force_is_chosen() -> None:
    """Each date is decided by the version in force on it; outside every version: NO_VERSION."""
    engine = Engine(ALLOWANCE)
    assert [m.version for m in engine.versions("test-allowance")] == ["1", "2"]
    assert engine.version_on("test-allowance", dt.date(2020, 6, 1)).version == "1"  # type: ignore[union-attr]
    assert engine.version_on("test-allowance", dt.date(2021, 6, 1)).version == "2"  # type: ignore[union-attr]
    d = engine.decide("test-allowance", {}, on=dt.date(2019, 12, 31))
    assert d.codes == ("NO_VERSION",)
    assert d.results == ()


def test_unknown_matter_raises_with_suggestion() -> None:
    """An unknown matter id raises UnknownMatterError with a did-you-mean."""
    engine = Engine(ALLOWANCE)
    with pytest.raises(UnknownMatterError, match="test-allowance"):
        engine.decide("test-allowanse", {}, on=ON)


def test_overlapping_versions_are_refused(tmp_path: Path) -> None:
    """Two versions of one matter whose dates overlap fail to load."""
    rules = copy_rules(tmp_path)
    v2 = rules / "allowance-v2.yaml"
    v2.write_text(v2.read_text().replace('from: "2021-01-01"', 'from: "2020-12-01"'))
    with pytest.raises(RuleSetError, match="overlap"):
        Engine(rules)


def test_all_problems_reported_at_once_with_lines(tmp_path: Path) -> None:
    """A file with several mistakes reports every one, each with file, line and field."""
    rules = copy_rules(tmp_path)
    (rules / "allowance-v2.yaml").unlink()
    f = rules / "allowance-v1.yaml"
    text = f.read_text()
    text = text.replace("applicant.age >= 18", "applicant.agee >= 18")
    text = text.replace("id: capital\n", "id: adult\n")
    text = text.replace("source: registry}", "source: registy}", 1)
    text = text.replace("len(applicant.phone) == 11", "__import__('os') == 11")
    f.write_text(text)
    with pytest.raises(RuleSetError) as info:
        Engine(rules)
    problems = info.value.problems
    messages = " | ".join(p.message for p in problems)
    assert "did you mean 'applicant.age'" in messages
    assert "duplicate rule id 'adult'" in messages
    assert "unknown data source 'registy'" in messages
    assert "dunder" in messages
    assert all(p.file and p.file.endswith("allowance-v1.yaml") and p.line for p in problems)
    lines = text.splitlines()
    for p in problems:
        assert p.line is not None
        assert any(word in lines[p.line - 1] for word in ("agee", "adult", "registy", "__import__"))


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    """A YAML syntax error names its file and line."""
    rules = copy_rules(tmp_path)
    (rules / "allowance-v1.yaml").write_text("matter: x\nrules: [\n  - a\n", encoding="utf-8")
    with pytest.raises(RuleSetError) as info:
        Engine(rules)
    assert info.value.problems[0].line is not None
    assert "YAML syntax" in str(info.value)


def test_yaml_keys_on_and_yes_stay_strings(tmp_path: Path) -> None:
    """`on:` is a key, not the boolean true (YAML 1.1), and dates stay ISO strings."""
    from secondapproval.yamlfile import parse_yaml

    doc = parse_yaml("on: 2019-09-01\nyes: no\n")
    assert doc.data == {"on": "2019-09-01", "yes": "no"}


def test_two_engines_do_not_interfere(tmp_path: Path) -> None:
    """Two engines with different rule sets for the same matter id live side by side."""
    rules = copy_rules(tmp_path)
    v1 = rules / "allowance-v1.yaml"
    (rules / "allowance-v2.yaml").unlink()
    other_dir = tmp_path / "other"
    shutil.copytree(rules, other_dir)
    (other_dir / "allowance-v1.yaml").write_text(
        v1.read_text().replace("applicant.age >= 18", "applicant.age >= 40")
    )
    a, b = Engine(rules, vouch="all"), Engine(other_dir, vouch="all")
    facts = {
        "applicant": {"id_number": "440304199001010011", "married": True, "children": [1]},
        "company": {"capital": 1},
        "income": {"ratio": 0},
        "hukou": {"kind": "local"},
        "moved_in_on": "2018-01-01",
    }
    on = dt.date(2020, 6, 1)
    assert a.decide("test-allowance", facts, on=on).outcome is Outcome.APPROVE
    assert b.decide("test-allowance", facts, on=on).codes == ("UNDERAGE",)
    assert a.decide("test-allowance", facts, on=on).outcome is Outcome.APPROVE
    assert a.versions("test-allowance")[0].digest != b.versions("test-allowance")[0].digest


def test_eight_threads_decide_like_one() -> None:
    """8 threads deciding concurrently give the same decisions as one thread."""
    engine = Engine(REFERENCE, vouch="all")
    apps: list[dict[str, Any]] = []
    for i in range(2000):
        app = dict(GOOD_REF, age=20 + i % 30, graduated_years_ago=i % 4)
        if i % 7 == 0:
            del app["criminal_record"]
        if i % 11 == 0:
            app["degree"] = "associate"
        apps.append(app)
    on = dt.date(2020, 1, 1)
    serial = [engine.decide("talent-reference", a, on=on) for a in apps]
    barrier = threading.Barrier(8)

    def work(chunk: int) -> list[Any]:
        barrier.wait()
        return [
            (i, engine.decide("talent-reference", apps[i], on=on)) for i in range(chunk, 2000, 8)
        ]

    with ThreadPoolExecutor(8) as pool:
        results = [r for rs in pool.map(work, range(8)) for r in rs]
    assert len(results) == 2000
    for i, d in results:
        assert d == serial[i]
    ids = {d.decision_id for _, d in results} | {d.decision_id for d in serial}
    assert len(ids) == 4000


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)

# The reference matter's rules, written out: what each fact may be for the application to pass.
AGE_LIMIT = {"bachelor": 35, "master": 40, "doctor": 45}
INT_FACTS = ("age", "graduated_years_ago", "social_insurance_months")
BOOL_FACTS = ("has_degree_certificate", "criminal_record")


@st.composite
def approvable(draw: st.DrawFn) -> dict[str, Any]:
    """An application of talent-reference that passes every rule, boundary values included."""
    degree = draw(st.sampled_from(sorted(AGE_LIMIT)))
    limit = AGE_LIMIT[degree]
    return {
        "degree": degree,
        "age": draw(st.sampled_from([limit, limit - 1, 0]) | st.integers(0, limit)),
        "graduated_years_ago": draw(st.sampled_from([2, 1, 0]) | st.integers(-5, 2)),
        "has_degree_certificate": True,
        "social_insurance_months": draw(st.sampled_from([0, 1]) | st.integers(0, 10**6)),
        "criminal_record": False,
    }


def _wrong_type(fact: str) -> st.SearchStrategy[Any]:
    """A JSON value of the wrong type for a fact (never null: null is absent, see below)."""
    anything = json_values.filter(lambda v: v is not None)
    if fact in INT_FACTS:
        return anything.filter(lambda v: type(v) is not int) | st.sampled_from(["35", 30.0, True])
    if fact in BOOL_FACTS:
        return anything.filter(lambda v: type(v) is not bool) | st.sampled_from([0, 1, "true"])
    return anything.filter(
        lambda v: not isinstance(v, str) or v not in {*AGE_LIMIT, "associate"}
    ) | st.sampled_from(["Master", "master ", "MASTER", "master\n", "ｍａｓｔｅｒ"])


@st.composite
def damaged(draw: st.DrawFn) -> tuple[dict[str, Any], str, frozenset[str]]:
    """An approvable application with one damage, its kind, and the exact reasons it must give."""
    facts = draw(approvable())
    fact = draw(st.sampled_from(sorted(GOOD_REF)))
    kind = draw(st.sampled_from(["drop", "null", "wrong-type", "undeclared", "boundary"]))
    if kind == "drop":
        del facts[fact]
        return facts, kind, frozenset({f"MISSING:{fact}"})
    if kind == "null":
        facts[fact] = None
        return facts, kind, frozenset({f"MISSING:{fact}"})
    if kind == "wrong-type":
        facts[fact] = draw(_wrong_type(fact))
        return facts, kind, frozenset({f"INVALID:{fact}"})
    if kind == "undeclared":
        key = draw(st.sampled_from(["x", "age.y", "Degree", "degree ", "__class__"]))
        facts[key] = draw(json_values.filter(lambda v: v is not None))
        return facts, kind, frozenset({f"INVALID:{key}"})
    # One step across the literal each rule compares with.
    limit = AGE_LIMIT[facts["degree"]]
    crossed: dict[str, tuple[Any, frozenset[str]]] = {
        "degree": ("associate", frozenset({"DEGREE_LEVEL", "ERROR:age-limit"})),
        "age": (draw(st.sampled_from([limit + 1, limit + 100])), frozenset({"AGE_LIMIT"})),
        "graduated_years_ago": (draw(st.sampled_from([3, 4, 10**9])), frozenset({"NOT_RECENT"})),
        "has_degree_certificate": (False, frozenset({"NO_CERTIFICATE"})),
        "social_insurance_months": (
            draw(st.sampled_from([-1, -2, -(10**9)])),
            frozenset({"SOCIAL_INSURANCE"}),
        ),
        "criminal_record": (True, frozenset({"CRIMINAL_RECORD"})),
    }
    facts[fact], codes = crossed[fact]
    return facts, kind, codes


def _approves_only_on_valid_facts(facts: dict[str, Any]) -> None:
    """The invariant: an approval has every rule passed on present, valid facts."""
    d = engine_over(REFERENCE).decide("talent-reference", facts, on=ON)
    if d.outcome is Outcome.APPROVE:
        assert set(facts) == set(GOOD_REF)
        assert all(r.passed for r in d.results)
        assert d.reasons == ()
        assert not d.missing
        assert not d.invalid
    else:
        assert d.reasons, "a referral always says why"


def _check_approvable(facts: dict[str, Any]) -> None:
    d = engine_over(REFERENCE).decide("talent-reference", facts, on=ON)
    event(f"outcome: {d.outcome.value}")
    assert d.outcome is Outcome.APPROVE, d.codes
    _approves_only_on_valid_facts(facts)


def _check_damaged(case: tuple[dict[str, Any], str, frozenset[str]]) -> None:
    facts, kind, codes = case
    event(f"damage: {kind}")
    d = engine_over(REFERENCE).decide("talent-reference", facts, on=ON)
    assert d.outcome is Outcome.REFER, (kind, facts)
    assert set(d.codes) == codes, (kind, facts)
    _approves_only_on_valid_facts(facts)


@given(
    st.one_of(
        approvable(),
        st.dictionaries(
            st.sampled_from([*GOOD_REF, "x", "age.y"]),
            json_values | st.sampled_from(list(GOOD_REF.values())),
        ),
    ),
    st.data(),
)
def test_decide_never_raises_and_never_approves_garbage(
    facts: dict[str, Any], data: st.DataObject
) -> None:
    """Whatever JSON arrives, decide() returns; it approves only valid, complete applications."""
    if data.draw(st.booleans()):
        # Graft garbage onto a (possibly) approvable application: one key replaced or added.
        key = data.draw(st.sampled_from([*GOOD_REF, "x", "age.y"]))
        facts = {**facts, key: data.draw(json_values)}
    d = engine_over(REFERENCE).decide("talent-reference", facts, on=ON)
    event(f"outcome: {d.outcome.value}")
    target(1.0 if d.outcome is Outcome.APPROVE else 0.0, label="approved")
    _approves_only_on_valid_facts(facts)


@given(approvable())
def test_generated_approvable_applications_are_approved(facts: dict[str, Any]) -> None:
    """Every application drawn to pass every rule is approved: the generator reaches approve."""
    _check_approvable(facts)


@given(damaged())
def test_one_damage_refers_with_its_reason_class(
    case: tuple[dict[str, Any], str, frozenset[str]],
) -> None:
    """One dropped, null, mistyped, undeclared or boundary-crossed fact refers with its reason."""
    _check_damaged(case)


def test_the_garbage_strategy_reaches_approvals() -> None:
    """A counted check: the mixed garbage strategy does produce approvals, not only referrals."""
    outcomes: list[Outcome] = []

    @given(st.one_of(approvable(), st.dictionaries(st.sampled_from(list(GOOD_REF)), json_values)))
    @settings(max_examples=200, database=None)
    def run(facts: dict[str, Any]) -> None:
        outcomes.append(engine_over(REFERENCE).decide("talent-reference", facts, on=ON).outcome)

    run()
    assert outcomes.count(Outcome.APPROVE) >= 40, outcomes.count(Outcome.APPROVE)
    assert outcomes.count(Outcome.REFER) >= 40


@pytest.mark.parametrize("key", ["x", "age.y", "Degree"])
def test_an_undeclared_null_refers_invalid(key: str) -> None:
    """An undeclared key is INVALID:<key> even when its value is null."""
    d = engine_over(REFERENCE).decide("talent-reference", {**GOOD_REF, key: None}, on=ON)
    assert d.outcome is Outcome.REFER
    assert d.codes == (f"INVALID:{key}",)


SLOW = settings(max_examples=20_000, deadline=None, database=None)


@pytest.mark.slow
@SLOW
@given(approvable())
def test_slow_generated_approvable_applications_are_approved(facts: dict[str, Any]) -> None:
    """make fuzz: the approvable generator, many more examples."""
    _check_approvable(facts)


@pytest.mark.slow
@SLOW
@given(damaged())
def test_slow_one_damage_refers_with_its_reason_class(
    case: tuple[dict[str, Any], str, frozenset[str]],
) -> None:
    """make fuzz: one damage refers with exactly its reason, many more examples."""
    _check_damaged(case)


def test_decision_is_immutable() -> None:
    """A Decision's outcome cannot be changed after the fact."""
    d = engine_over(REFERENCE).decide("talent-reference", GOOD_REF, on=ON)
    with pytest.raises(AttributeError):
        d.outcome = Outcome.REFER  # type: ignore[misc]


def test_decision_json_form() -> None:
    """to_dict() has the stable top-level keys of the CLI's --json output."""
    d = engine_over(REFERENCE).decide("talent-reference", dict(GOOD_REF, age=50), on=ON)
    data = d.to_dict()
    assert {"outcome", "reasons", "results", "matter", "version", "digest", "decision_id"} <= set(
        data
    )
    assert data["outcome"] == "refer"
    assert data["reasons"][0]["code"] == "AGE_LIMIT"
    assert data["reasons"][0]["facts_read"] == {"age": 50, "degree": "master"}


def test_a_failing_validator_refers_instead_of_raising() -> None:
    """Should a validator itself fail, decide() still returns: a referral naming the application."""

    def broken(facts: Any, on: dt.date) -> Any:
        raise TypeError("validator bug")

    def validator(matter: Matter, limits: Limits) -> FactValidator:
        built = FactValidator(matter, limits=limits)
        built.check = broken
        return built

    engine = Engine(REFERENCE, validator=validator, vouch="all")
    d = engine.decide("talent-reference", GOOD_REF, on=ON)
    assert d.outcome is Outcome.REFER
    assert d.codes == ("INVALID:$",)


@given(st.data())
def test_the_json_form_read_from_statuses_is_the_json_form_of_the_results(
    data: st.DataObject,
) -> None:
    """`to_dict` builds its results and provenance straight from the statuses and origins (no
    RuleResult objects): the same JSON as the objects give, for every matter and application."""
    engine = engine_over(RULES)
    version = data.draw(st.sampled_from(versions(engine)))
    on = version.spec.effective.from_
    facts = data.draw(applications(version, on=on))
    fresh = engine.decide(version.id, facts, on=on).to_dict()
    built = engine.decide(version.id, facts, on=on)
    by_objects = {
        **fresh,
        "results": [r.to_dict() for r in built.results],
        "provenance": {p: v.to_dict() for p, v in sorted(built.provenance.items())},
        "decision_id": built.decision_id,
    }
    assert built.to_dict() == by_objects
    assert {**fresh, "decision_id": built.decision_id} == by_objects
