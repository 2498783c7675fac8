"""The durable backend: scenarios, containment of durable_rules, load-time refusals."""

from __future__ import annotations

import datetime as dt
import gc
import json
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import durable_rules_engine
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import REFERENCE, ROOT, RULES, SCENARIOS
from secondapproval.backends import durable as durable_module
from secondapproval.backends.encode import encode
from secondapproval.engine import Engine
from secondapproval.errors import BackendError, RuleSetError
from secondapproval.scenarios.run import EngineCache, run_file, scenario_files
from secondapproval.strategies import SCHEMA, SCHEMA_FACTS, synthetic_matter

ON = dt.date(2020, 7, 1)
GOOD = {
    "degree": "master",
    "age": 40,
    "graduated_years_ago": 1,
    "has_degree_certificate": True,
    "social_insurance_months": 0,
    "criminal_record": False,
}


def _matter(*sources: str) -> Any:
    from secondapproval.lang.check import check
    from secondapproval.lang.parser import parse

    exprs = []
    for s in sources:
        node, _ = parse(s)
        typed, problems = check(node, SCHEMA)
        assert not problems
        exprs.append(typed)
    return synthetic_matter(SCHEMA_FACTS, exprs)


def test_every_scenario_file_passes_on_durable() -> None:
    """Every bundled scenario file passes with the durable backend."""
    engines = EngineCache(RULES, backend="durable")
    results = [
        r
        for f in scenario_files([SCENARIOS])
        if _is_decision_file(f)
        for r in run_file(f, engines, RULES)
    ]
    failures = [f"{r.file} {r.name}: {r.diff}" for r in results if not r.passed]
    assert results
    assert failures == []


def _is_decision_file(path: Path) -> bool:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and "matter" in data


@pytest.mark.long
def test_cli_test_with_durable_backend() -> None:
    """`secondapproval test --backend durable` passes on the bundled scenarios."""
    done = subprocess.run(
        [sys.executable, "-m", "secondapproval", "test", "--backend", "durable", "-q", "scenarios"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout


def test_two_engines_do_not_see_each_others_rulesets() -> None:
    """Two durable engines with different versions of one matter decide independently."""
    strict = _matter("a.n >= 18")
    lenient = _matter("a.n >= 10")
    e1 = Engine([strict], backend="durable")
    e2 = Engine([lenient], backend="durable")
    facts = {"a": {"n": 12}}
    assert e1.decide("synthetic", facts, on=ON).results[0].status == "failed"
    assert e2.decide("synthetic", facts, on=ON).results[0].status == "passed"
    assert e1.decide("synthetic", facts, on=ON).results[0].status == "failed"


def test_ruleset_names_are_engine_scoped_and_versioned() -> None:
    """Each compilation gets its own ruleset name, carrying matter id and version."""
    m = _matter("a.n >= 18")
    names = {
        Engine([m], backend="durable").snapshot.spans["synthetic"][0].evaluate.name  # type: ignore[attr-defined]
        for _ in range(3)
    }
    assert len(names) == 3
    assert all("synthetic@1" in n for n in names)


def test_reload_replaces_the_ruleset_and_frees_the_old_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new engine over changed rules decides by them; the dropped engine's ruleset is deleted."""
    deleted: list[int] = []
    original = durable_module._delete_ruleset
    monkeypatch.setattr(
        durable_module, "_delete_ruleset", lambda h: (deleted.append(h), original(h))
    )
    old = Engine([_matter("a.n >= 18")], backend="durable")
    assert old.decide("synthetic", {"a": {"n": 12}}, on=ON).results[0].status == "failed"
    new = Engine([_matter("a.n >= 10")], backend="durable")
    del old
    gc.collect()
    assert new.decide("synthetic", {"a": {"n": 12}}, on=ON).results[0].status == "passed"
    assert len(deleted) == 1


def test_threads_share_one_durable_engine() -> None:
    """Many threads deciding on one durable engine all get the right answers."""
    engine = Engine(REFERENCE, backend="durable", vouch="all")
    errors: list[str] = []

    def work(age: int) -> None:
        for _ in range(50):
            d = engine.decide("talent-reference", {**GOOD, "age": age}, on=ON)
            want = "approve" if age <= 40 else "refer"
            if str(d.outcome) != want:
                errors.append(f"age {age}: {d.outcome}")

    threads = [threading.Thread(target=work, args=(38 + i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_state_is_deleted_after_each_decision() -> None:
    """No durable_rules session outlives its decision."""
    engine = Engine(REFERENCE, backend="durable", vouch="all")
    evaluator = engine.snapshot.spans["talent-reference"][0].evaluate
    engine.decide("talent-reference", GOOD, on=ON)
    with pytest.raises(durable_rules_engine.error, match="error code: 309"):  # no such session
        evaluator._ruleset.get_state("1")  # type: ignore[attr-defined]


def test_durable_failure_refers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A durable_rules exception during a decision becomes a refer, never an approval."""
    engine = Engine(REFERENCE, backend="durable", vouch="all")
    evaluator = engine.snapshot.spans["talent-reference"][0].evaluate

    def broken(_message: Any) -> Any:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(evaluator._ruleset, "assert_fact", broken)  # type: ignore[attr-defined]
    d = engine.decide("talent-reference", GOOD, on=ON)
    assert str(d.outcome) == "refer"
    with pytest.raises(BackendError, match="engine exploded"):
        evaluator(dict(GOOD), ON)


def test_too_complex_rule_is_refused_at_load_time() -> None:
    """A rule whose conditions exceed durable_rules' limits is a RuleSetError naming it."""
    clauses = " and ".join(f"(a.n > {i} or a.m > {i})" for i in range(10))
    with pytest.raises(RuleSetError, match=r"rule 'r0'.*cannot express"):
        Engine([_matter(clauses)], backend="durable")


def test_missing_durable_rules_is_a_clear_backend_error() -> None:
    """Without durable_rules the library imports and the durable backend says what is missing."""
    code = (
        "import sys; sys.modules['durable_rules_engine'] = None\n"
        "import secondapproval\n"
        "from secondapproval.backends import get_backend\n"
        "from secondapproval.errors import BackendError\n"
        "try:\n    get_backend('durable')\nexcept BackendError as e:\n    print('ok', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.startswith("ok"), done.stderr
    assert "durable_rules" in done.stdout


NUMBERS = st.one_of(
    st.integers(),
    st.decimals(allow_nan=False),
)


@given(NUMBERS, NUMBERS)
def test_number_codes_order_like_numbers(a: int | Decimal, b: int | Decimal) -> None:
    """The posted code of numbers orders and equates exactly as the numbers do."""
    ca, cb = encode(a), encode(b)
    assert (a < b) == (ca < cb)
    assert (a == b) == (ca == cb)


@given(st.text(), st.text())
def test_string_codes_order_like_strings(a: str, b: str) -> None:
    """The posted code of strings orders and equates exactly as the strings do."""
    assert (a < b) == (encode(a) < encode(b))
    assert (a == b) == (encode(a) == encode(b))


@given(st.dates(), st.dates())
def test_date_codes_order_like_dates(a: dt.date, b: dt.date) -> None:
    """The posted code of dates orders exactly as the dates do."""
    assert (a < b) == (encode(a) < encode(b))


def test_overlong_string_refers_instead_of_comparing_wrong() -> None:
    """A string durable_rules would compare wrongly (over 30,000 bytes) refers the decision."""
    engine = Engine([_matter('a.name == "x"')], backend="durable")
    assert engine.decide("synthetic", {"a": {"name": "x"}}, on=ON).results[0].status == "passed"
    d = engine.decide("synthetic", {"a": {"name": "y" * 30_001}}, on=ON)
    assert str(d.outcome) == "refer"
    assert d.results[0].status == "error"


def test_overflowing_durable_network_is_refused_at_load_time() -> None:
    """Rules that would overflow durable_rules' fixed match stack are a RuleSetError."""
    many = [f"a.n != {i}" for i in range(40)]
    with pytest.raises(RuleSetError, match="durable_rules' network"):
        Engine([_matter(*many)], backend="durable")
    assert Engine([_matter(*many[:8])], backend="durable").matters == ("synthetic",)


def test_cli_decide_with_durable_backend(tmp_path: Path) -> None:
    """`secondapproval decide --backend durable` decides and names its backend."""
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(GOOD), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "secondapproval",
            "decide",
            "talent-reference",
            str(facts),
            "--rules",
            str(REFERENCE),
            "--backend",
            "durable",
            "--on",
            "2020-01-01",
            "--vouch",
            "all",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("APPROVE")
    assert "backend durable" in done.stdout
