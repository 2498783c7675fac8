"""The Engine: versions by date, errors with file and line, isolation, threads, fail-safe."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secondapproval import Engine, Outcome, RuleSetError, UnknownMatterError

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
REFERENCE = Path(__file__).parent.parent / "benchmarks" / "matters"
GOOD_REF = {
    "degree": "master",
    "age": 30,
    "graduated_years_ago": 1,
    "has_degree_certificate": True,
    "social_insurance_months": 12,
    "criminal_record": False,
}
ON = dt.date(2021, 6, 1)


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(FIXTURES, target)
    return target


def test_version_in_force_is_chosen() -> None:
    """Each date is decided by the version in force on it; outside every version: NO_VERSION."""
    engine = Engine(FIXTURES)
    assert [m.version for m in engine.versions("test-allowance")] == ["1", "2"]
    assert engine.version_on("test-allowance", dt.date(2020, 6, 1)).version == "1"  # type: ignore[union-attr]
    assert engine.version_on("test-allowance", dt.date(2021, 6, 1)).version == "2"  # type: ignore[union-attr]
    d = engine.decide("test-allowance", {}, on=dt.date(2019, 12, 31))
    assert d.codes == ("NO_VERSION",)
    assert d.results == ()


def test_unknown_matter_raises_with_suggestion() -> None:
    """An unknown matter id raises UnknownMatterError with a did-you-mean."""
    engine = Engine(FIXTURES)
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
    a, b = Engine(rules), Engine(other_dir)
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
    engine = Engine(REFERENCE)
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


@given(
    st.dictionaries(
        st.sampled_from([*GOOD_REF, "x", "age.y"]),
        json_values | st.sampled_from(list(GOOD_REF.values())),
    )
)
def test_decide_never_raises_and_never_approves_garbage(facts: dict[str, Any]) -> None:
    """Whatever JSON arrives, decide() returns; it approves only valid, complete applications."""
    engine = _reference_engine()
    d = engine.decide("talent-reference", facts, on=ON)
    if d.outcome is Outcome.APPROVE:
        assert set(facts) == set(GOOD_REF)
        assert all(r.passed for r in d.results)
        assert d.reasons == ()


_ENGINE: list[Engine] = []


def _reference_engine() -> Engine:
    if not _ENGINE:
        _ENGINE.append(Engine(REFERENCE))
    return _ENGINE[0]


def test_decision_is_immutable() -> None:
    """A Decision's outcome cannot be changed after the fact."""
    d = _reference_engine().decide("talent-reference", GOOD_REF, on=ON)
    with pytest.raises(AttributeError):
        d.outcome = Outcome.REFER  # type: ignore[misc]


def test_decision_json_form() -> None:
    """to_dict() has the stable top-level keys of the CLI's --json output."""
    d = _reference_engine().decide("talent-reference", dict(GOOD_REF, age=50), on=ON)
    data = d.to_dict()
    assert {"outcome", "reasons", "results", "matter", "version", "digest", "decision_id"} <= set(
        data
    )
    assert data["outcome"] == "refer"
    assert data["reasons"][0]["code"] == "AGE_LIMIT"
    assert data["reasons"][0]["facts_read"] == {"age": 50, "degree": "master"}


def test_a_failing_validator_refers_instead_of_raising() -> None:
    """Should a validator itself fail, decide() still returns: a referral naming the application."""
    engine = Engine(REFERENCE)

    def broken(facts: Any, on: dt.date) -> Any:
        raise TypeError("validator bug")

    spans = engine._spans["talent-reference"]
    engine._spans["talent-reference"] = tuple((*s[:3], broken, s[4]) for s in spans)
    d = engine.decide("talent-reference", GOOD_REF, on=ON)
    assert d.outcome is Outcome.REFER
    assert d.codes == ("INVALID:$",)
