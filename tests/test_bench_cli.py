"""`secondapproval bench`, its timing helpers (`secondapproval.timing`) and the seeded generator."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secondapproval import Engine
from secondapproval.benchgen import applications
from secondapproval.cli import main
from secondapproval.timing import STEP, BenchError, measure, summary

ROOT = Path(__file__).resolve().parent.parent
MATTERS = ROOT / "benchmarks" / "matters"
RULES = ROOT / "rules"
ON = dt.date(2020, 1, 1)


def test_bench_prints_percentiles_and_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    """The command times the given number of decisions and prints p50/p90/p99 and decisions/s."""
    code = main(
        ["bench", "talent-reference", "--rules", str(MATTERS), "--n", "3000", "--on", "2020-01-01"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "3,000 decisions" in out
    assert all(word in out for word in ("p50", "p90", "p99", "decisions/s"))


def test_bench_reads_the_matters_under_rules_wherever_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--rules is where the matters come from, from any folder; without it ./rules is read."""
    monkeypatch.chdir(tmp_path)
    argv = ["bench", "talent-reference", "--n", "10", "--apps", "5", "--on", "2020-01-01"]
    assert main([*argv, "--rules", str(MATTERS)]) == 0
    assert f"rules from {MATTERS}" in capsys.readouterr().out
    assert main([*argv, "--rules", str(RULES)]) == 2
    assert "unknown matter 'talent-reference'" in capsys.readouterr().err
    assert main(argv) == 2  # no ./rules in this folder
    assert "rules: no such file" in capsys.readouterr().err


def test_bench_on_a_bundled_matter_under_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """A bundled matter is timed from the folder given by --rules, its date found by default."""
    assert main(["bench", "graduate-hukou-shenzhen", "--rules", str(RULES), "--n", "10"]) == 0
    out = capsys.readouterr().out
    assert "graduate-hukou-shenzhen version" in out
    assert f"rules from {RULES}" in out


def test_bench_without_a_version_in_force_is_a_typed_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A date on which no version is in force exits 2 with a message, not a traceback."""
    code = main(["bench", "talent-reference", "--rules", str(MATTERS), "--on", "1999-01-01"])
    assert code == 2
    assert "no version" in capsys.readouterr().err


def test_bench_rejects_a_count_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    """--n 0 is refused as bad input."""
    code = main(["bench", "talent-reference", "--rules", str(MATTERS), "--n", "0"])
    assert code == 2
    assert "at least 1" in capsys.readouterr().err


def test_measure_returns_one_latency_per_call() -> None:
    """measure() times exactly n calls, cycling through the inputs."""
    seen: list[int] = []
    latencies = measure(seen.append, [1, 2, 3], 10, warmup=0)
    assert len(latencies) == 10
    assert seen == [1, 2, 3] * 3 + [1]
    with pytest.raises(BenchError):
        measure(seen.append, [], 10)


def test_measure_reports_progress_in_steps() -> None:
    """on_step hears of every timed call, a step at a time, and of the last partial step."""
    steps: list[int] = []
    measure(lambda _: None, [0], STEP * 2 + 3, warmup=0, on_step=steps.append)
    assert steps == [STEP, STEP, 3]


@given(st.lists(st.integers(min_value=-50, max_value=10**9), min_size=1, max_size=200))
def test_summary_percentiles_are_ordered(latencies: list[int]) -> None:
    """p50 ≤ p90 ≤ p99 ≤ max, negative timings (timer noise) count as zero."""
    s = summary(latencies)
    assert 0 <= s.p50 <= s.p90 <= s.p99 <= s.max
    assert s.max == max(*latencies, 0) / 1000
    assert s.n == len(latencies)


def test_generator_is_deterministic() -> None:
    """The same seed gives the same applications; another seed gives others."""
    matter = Engine(MATTERS).version_on("talent-reference", ON)
    assert matter is not None

    def take(seed: int) -> list[dict[str, object]]:
        return list(itertools.islice(applications(matter, on=ON, seed=seed, broken=0.1), 50))

    assert take(3) == take(3)
    assert take(3) != take(4)


@pytest.mark.parametrize("rules", [MATTERS, RULES], ids=["reference", "bundled"])
def test_generated_applications_are_valid_and_decided_both_ways(rules: Path) -> None:
    """Without `broken`, every application validates cleanly, and some are approved."""
    engine = Engine(rules, vouch="all")
    for matter_id in engine.matters:
        matter = engine.versions(matter_id)[-1]
        on = max(matter.spec.effective.from_, ON)
        apps = list(itertools.islice(applications(matter, on=on, seed=1), 300))
        decisions = [engine.decide(matter_id, a, on=on) for a in apps]
        assert all(not d.invalid and not d.missing for d in decisions), matter_id
        assert any(d.approved for d in decisions), matter_id
        assert not all(d.approved for d in decisions), matter_id


def test_bench_peers_only_for_the_reference_matter(capsys: pytest.CaptureFixture[str]) -> None:
    """--peers is refused with a message: the peers implement the reference decision only."""
    assert main(["bench", "graduate-hukou-shenzhen", "--peers"]) == 2
    assert "talent-reference" in capsys.readouterr().err


def test_bench_peers_outside_a_checkout_is_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--peers is a `make bench` feature: exit 2 naming benchmarks/ratios.py, sys.path untouched."""
    monkeypatch.chdir(tmp_path)
    before = list(sys.path)
    assert main(["bench", "talent-reference", "--peers"]) == 2
    assert "benchmarks/ratios.py" in capsys.readouterr().err
    assert sys.path == before


def test_bench_peers_in_a_checkout_says_make_bench(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Even where benchmarks/ is, the installed command runs nothing of it: it says `make bench`."""
    monkeypatch.chdir(ROOT)
    assert main(["bench", "talent-reference", "--peers", "--rules", str(MATTERS)]) == 2
    assert "make bench" in capsys.readouterr().err


def test_the_installed_package_never_edits_sys_path() -> None:
    """No module under src/ reaches outside the package through sys.path."""
    src = Path(__file__).resolve().parent.parent / "src" / "secondapproval"
    offenders = [p for p in src.rglob("*.py") if "sys.path" in p.read_text(encoding="utf-8")]
    assert offenders == []
