"""The pack mechanism: entry-point discovery, distributions, duplicates, third-party packs."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secondapproval.cli import main
from secondapproval.packs import Pack, PackError, discover
from secondapproval.scenarios.model import CaseResult
from secondapproval.scenarios.run import run_file
from secondapproval.yamlfile import Located


@dataclass(frozen=True)
class FakeDist:
    name: str
    version: str


@dataclass(frozen=True)
class FakeEntryPoint:
    """Stands in for importlib.metadata.EntryPoint (name, value, dist, load)."""

    name: str
    value: str
    target: Any
    dist: FakeDist | None = FakeDist("acme-packs", "2.3.1")

    def load(self) -> Any:
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


class GreetingPack:
    """A third-party-style pack: scenario files with `greeting:` expect a fixed text."""

    name = "greetings"
    file_key = "greeting"

    def check_file(self, doc: Located) -> None:
        return None

    def iter_cases(self, doc: Located, rules_dir: Path) -> Iterator[tuple[str, int | None, Any]]:
        for i, case in enumerate(doc.data["cases"]):

            def run(case: dict[str, Any] = case, line: int = i + 1) -> CaseResult:
                ok = case["say"] == f"hello {case['to']}"
                return CaseResult(doc.file, case["name"], line, ok, "" if ok else "wrong", "greet")

            yield case["name"], i + 1, run

    def register_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        p = subparsers.add_parser("greet")
        p.set_defaults(func=lambda _a: 0)


def eps(*points: FakeEntryPoint) -> Any:
    return lambda: list(points)


def test_installed_indicator_pack_records_its_distribution() -> None:
    """The project's own pack is found through its entry point, with its distribution."""
    packs = discover()
    loaded = packs["indicators"]
    assert loaded.distribution == "secondapproval"
    assert loaded.version
    assert loaded.entry_point == "secondapproval.packs.indicators:IndicatorPack"
    assert loaded.pack.file_key == "system"
    assert isinstance(loaded.pack, Pack)


def test_third_party_pack_is_discovered_with_its_distribution() -> None:
    """A pack from another distribution is loaded and remembers where it came from."""
    packs = discover(eps(FakeEntryPoint("greetings", "acme.packs:GreetingPack", GreetingPack)))
    loaded = packs["greetings"]
    assert (loaded.distribution, loaded.version) == ("acme-packs", "2.3.1")
    assert loaded.entry_point == "acme.packs:GreetingPack"


def test_third_party_pack_runs_its_scenario_files(tmp_path: Path) -> None:
    """The scenario runner hands a pack's files to that pack, case by case."""
    f = tmp_path / "hello.yaml"
    f.write_text(
        "greeting: x\ncases:\n  - {name: ok, to: ann, say: hello ann}\n"
        "  - {name: bad, to: bob, say: hi}\n",
        encoding="utf-8",
    )
    pack = discover(eps(FakeEntryPoint("greetings", "acme:GreetingPack", GreetingPack)))
    packs = {lp.pack.file_key: lp.pack for lp in pack.values()}
    results = run_file(f, lambda _m: None, tmp_path, packs)  # type: ignore[arg-type,return-value]
    assert [(r.name, r.passed) for r in results] == [("ok", True), ("bad", False)]


def test_duplicate_pack_names_are_refused_naming_both() -> None:
    """Two packs of one name raise a PackError that names both entry points and distributions."""
    first = FakeEntryPoint("greetings", "acme.packs:GreetingPack", GreetingPack)
    second = FakeEntryPoint(
        "greetings2", "other.packs:GreetingPack", GreetingPack, FakeDist("other", "1.0")
    )
    with pytest.raises(PackError) as err:
        discover(eps(first, second))
    text = str(err.value)
    assert "two packs are named 'greetings'" in text
    assert "acme-packs" in text
    assert "other" in text


def test_a_pack_claiming_a_taken_file_key_is_refused() -> None:
    """A third-party pack cannot take the file key of the indicator pack (or `matter`)."""

    class Squatter(GreetingPack):
        name = "squatter"
        file_key = "system"

    from secondapproval.packs.indicators import IndicatorPack

    with pytest.raises(PackError, match="file key 'system'"):
        discover(
            eps(
                FakeEntryPoint("indicators", "x:IndicatorPack", IndicatorPack),
                FakeEntryPoint("squatter", "x:Squatter", Squatter),
            )
        )


def test_broken_and_non_pack_entry_points_are_named() -> None:
    """An entry point that fails to import, or is not a Pack, raises a PackError naming it."""
    with pytest.raises(PackError, match=r"'broken'.*failed to load"):
        discover(eps(FakeEntryPoint("broken", "nowhere:Pack", ImportError("no module"))))
    with pytest.raises(PackError, match=r"'plain' .* is not a Pack"):
        discover(eps(FakeEntryPoint("plain", "builtins:object", object)))


def test_packs_command_lists_installed_packs(capsys: pytest.CaptureFixture[str]) -> None:
    """`secondapproval packs` prints each pack with its file key, distribution and version."""
    assert main(["packs"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("indicators"))
    assert "system" in line
    assert "secondapproval" in line
    assert "secondapproval.packs.indicators:IndicatorPack" in line
