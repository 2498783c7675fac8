"""Generated boundary scenarios (`analysis.boundaries`, `scenarios generate`): for every bundled
matter the file passes the scenario runner, shows every rule passed, failed and unknown (or lists
the result unreachable with its proof), and puts cases on both sides of each comparison."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from reference import FIXTURES, REFERENCE, RULES, engine_over, versions
from secondapproval import Engine, Matter
from secondapproval.analysis.boundaries import RESULTS, generate, scenario_document
from secondapproval.cli import main

BUNDLED = [(RULES, m) for m in versions(engine_over(RULES))] + [
    (REFERENCE, m) for m in versions(engine_over(REFERENCE))
]
FREE_DAY_SLOW = {
    "graduate-hukou-shenzhen",
    "newborn-one-thing-xiamen",
    "hk-macao-endorsement-kiosk",
}
"""Matters whose cases take minutes with the decision date left free: their date arithmetic over
the day (the graduation window and credit penalties counted back from it, the newborn's age in
months, an endorsement's validity) makes each question non-linear in it, so many questions run
to the solver's timeout, the more so on a loaded machine. Measured on this machine under
`pytest -n 2`: graduate 145 s, Xiamen 33-163 s, the kiosk 58 s, against 1.3, 1.7 and 3.4 s on a
fixed day (the test below). They run with `make fuzz`, which runs the tests marked slow."""


def _free_day(folder: Path, matter: Matter) -> Any:
    marks = [pytest.mark.slow] if matter.id in FREE_DAY_SLOW else []
    return pytest.param(folder, matter, marks=marks, id=f"{matter.id}@{matter.version}")


@pytest.mark.parametrize(("folder", "matter"), [_free_day(f, m) for f, m in BUNDLED])
def test_every_rule_shows_each_result_and_the_file_passes_the_runner(
    folder: Path, matter: Matter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_boundaries(folder, matter, None, tmp_path, capsys)


@pytest.mark.parametrize(("folder", "matter"), BUNDLED, ids=lambda x: getattr(x, "id", ""))
def test_on_its_first_day_every_rule_shows_each_result_and_the_file_passes_the_runner(
    folder: Path, matter: Matter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same on one decision date, the version's first day (`scenarios generate --on`)."""
    check_boundaries(folder, matter, matter.spec.effective.from_, tmp_path, capsys)


def check_boundaries(
    folder: Path,
    matter: Matter,
    on: dt.date | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = engine_over(folder)
    b = generate(matter, engine, on)
    for rule in matter.rules:
        shown = b.shown(rule.id)
        unreachable = b.unreachable.get(rule.id, {})
        assert set(RESULTS) <= shown | set(unreachable), rule.id
        assert all(c.answer == "no" for c in unreachable.values()), unreachable
    out = tmp_path / "generated.yaml"
    out.write_text(
        yaml.safe_dump(scenario_document(b, str(folder)), allow_unicode=True), encoding="utf-8"
    )
    assert main(["test", "--rules", str(folder), str(out)]) == 0
    assert f"{len(b.cases)} passed, 0 failed" in capsys.readouterr().out


def test_a_comparison_gets_a_case_on_it_and_either_side_of_it() -> None:
    engine = Engine(FIXTURES / "analysis", vouch="all")
    (matter,) = engine.versions("broken-dead-rule")
    b = generate(matter, engine)
    at = {c.name: c for c in b.cases if c.note == "a boundary of (a.age >= 18)"}
    assert {name: c.results["adult"] for name, c in at.items()} == {
        "adult at a.age = 18 − 1: failed, refer": "failed",
        "adult at a.age = 18: passed, approve": "passed",
        "adult at a.age = 18 + 1: passed, approve": "passed",
    }
    ages = sorted(c.witness.facts["a"]["age"] for c in at.values())
    assert ages == [17, 18, 19]
    assert b.unreachable == {"always-true": {"failed": b.unreachable["always-true"]["failed"]}}
    assert b.unreachable["always-true"]["failed"].answer == "no"
    doc = scenario_document(b, "rules")
    assert "always-true: failed: unreachable (proved by z3)" in doc["description"]


def test_the_cli_writes_a_file_the_runner_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scenarios" / "newborn.yaml"
    matter = "newborn-one-thing-zhongshan"
    assert main(["scenarios", "generate", matter, "--rules", str(RULES), "--out", str(out)]) == 0
    assert "cases of newborn-one-thing-zhongshan" in capsys.readouterr().out
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert (out.parent / doc["rules"]).resolve() == RULES.resolve()
    assert main(["test", str(out)]) == 0  # the file names its rules folder
    assert main(["scenarios", "generate", matter, "--version", "0", "--out", str(out)]) == 1
