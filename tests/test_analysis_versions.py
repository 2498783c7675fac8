"""Two versions compared (`analysis.versions`, `analyze --diff`): a version that widens approval is
shown with an application the new version approves and the old one refers, decided by both; the
converse too; identical versions are proved to approve alike; a fact declared otherwise never
yields a proof; folders and `MATTER@VERSION`s both work from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reference import FIXTURES, RULES, engine_over, versions
from secondapproval import Engine, Matter
from secondapproval.analysis.versions import compare, pinned
from secondapproval.cli import main

VERSIONS = FIXTURES / "analysis-versions"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(VERSIONS, vouch="all")


def _decide(engine: Engine, matter: Matter, facts: dict[str, object], on: object) -> str:
    return pinned(engine, matter).decide(matter.id, facts, on=on).outcome.value  # type: ignore[arg-type]


def test_a_version_that_widens_is_shown_with_an_application_only_it_approves(
    engine: Engine,
) -> None:
    old, new = engine.versions("broken-widening")
    diff = compare(old, engine, new, engine)
    widens, narrows = diff.changes
    assert (widens.direction, widens.claim.answer) == ("widens", "yes")
    assert widens.claim.witness is not None
    w = widens.claim.witness
    assert _decide(engine, new, w.facts, w.on) == "approve"
    assert _decide(engine, old, w.facts, w.on) == "refer"
    assert w.on >= new.spec.effective.from_  # a day the new version decides
    assert set(widens.rules) >= {"some-income"}  # absent in the old version
    assert any(s == "failed → passed" for s in widens.rules.values())
    assert (narrows.direction, narrows.claim.answer) == ("narrows", "yes")
    assert narrows.claim.witness is not None
    n = narrows.claim.witness
    assert _decide(engine, old, n.facts, n.on) == "approve"
    assert _decide(engine, new, n.facts, n.on) == "refer"
    assert narrows.rules == {"some-income": "absent → failed"}
    assert diff.rules_changed == ("adult", "low-income", "some-income")
    assert diff.approximate == ()


@pytest.mark.parametrize("matter", versions(engine_over(RULES)), ids=lambda m: m.id)
def test_a_version_compared_with_itself_is_proved_to_approve_alike(matter: Matter) -> None:
    """A proof (`no` difference); for a matter with a list fact, within the list bound only
    (`bounded`, docs/analysis.md), never a difference."""
    engine = engine_over(RULES)
    diff = compare(matter, engine, matter, engine)
    has_list = any(f.type == "list" for f in matter.inputs.values())
    expected = "bounded" if has_list else "no"
    assert [c.claim.answer for c in diff.changes] == [expected, expected]
    assert diff.rules_changed == ()


def _rewrite(source: Path, target: Path, old: str = "", new: str = "") -> None:
    """`source` copied into the folder `target`, with `old` replaced by `new`."""
    text = source.read_text(encoding="utf-8")
    assert old in text
    target.mkdir(parents=True, exist_ok=True)
    (target / source.name).write_text(text.replace(old, new), encoding="utf-8")


def test_a_fact_declared_otherwise_is_never_a_proof(tmp_path: Path) -> None:
    """The old version takes an int, the new one a decimal: the same JSON value is read by two
    declarations, which the encoding does not tie together, so 'no difference' is unknown."""
    source = VERSIONS / "widening-1.yaml"
    _rewrite(source, tmp_path / "old")
    _rewrite(source, tmp_path / "new", "a.age: {type: int", "a.age: {type: decimal")
    before, after = Engine(tmp_path / "old", vouch="all"), Engine(tmp_path / "new", vouch="all")
    (old,), (new,) = before.versions("broken-widening"), after.versions("broken-widening")
    diff = compare(old, before, new, after)
    assert diff.approximate == ("a.age is declared otherwise in the other version",)
    assert all(c.claim.answer != "no" for c in diff.changes)


def test_a_new_required_fact_widens_and_narrows_alike(tmp_path: Path) -> None:
    """An application the new version approves gives the new fact, which the old one refuses as
    undeclared; one the old approves lacks it, which the new one refers as missing."""
    source = VERSIONS / "widening-1.yaml"
    _rewrite(source, tmp_path / "old")
    _rewrite(
        source,
        tmp_path / "new",
        "  a.note:",
        "  a.resident: {type: bool, source: applicant}\n  a.note:",
    )
    before, after = Engine(tmp_path / "old", vouch="all"), Engine(tmp_path / "new", vouch="all")
    (old,), (new,) = before.versions("broken-widening"), after.versions("broken-widening")
    widens, narrows = compare(old, before, new, after).changes
    assert widens.claim.witness is not None
    assert narrows.claim.witness is not None
    assert "resident" in widens.claim.witness.facts["a"]
    assert "resident" not in narrows.claim.witness.facts["a"]


def test_the_cli_compares_versions_and_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = ["analyze", str(VERSIONS), "--diff", "broken-widening@1", "broken-widening@2"]
    assert main(diff) == 0
    out = capsys.readouterr().out
    assert "broken-widening 1 → 2" in out
    assert "widens: yes" in out
    assert "narrows: yes" in out
    assert main([*diff, "--strict"]) == 1  # widening fails a strict run
    capsys.readouterr()
    for version in ("1", "2"):
        (tmp_path / version).mkdir()
        shutil.copy(VERSIONS / f"widening-{version}.yaml", tmp_path / version)
    assert main(["analyze", "--json", "--diff", str(tmp_path / "1"), str(tmp_path / "2")]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    assert (doc["old"], doc["new"]) == ("1", "2")
    assert [c["direction"] for c in doc["changes"]] == ["widens", "narrows"]
    assert main(["analyze", str(VERSIONS), "--diff", "broken-widening@1", "broken-widening@9"]) == 1
    assert "has no version '9'" in capsys.readouterr().err
