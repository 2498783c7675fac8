"""Static analysis (`secondapproval.analysis`): one bundled matter version analysed whole — the
approvable question, pass/fail/unknown of every rule, redundancy, failing derivations and the
fail-safe check, every witness decided by the engine. Target ≤ 1 s a matter (issue 18).

`pytest benchmarks/test_analysis_bench.py --benchmark-enable` (the 200-rule matter: add `-m slow`)
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.conftest import RULES
from secondapproval import Engine
from secondapproval.analysis import analyze
from secondapproval.strategies.wide import wide_matter

ENGINE = Engine(RULES, vouch="all")
VERSIONS = [v for m in ENGINE.matters for v in ENGINE.versions(m)]


@pytest.mark.parametrize("matter", VERSIONS, ids=lambda m: m.id)
def test_analyze_a_bundled_matter(benchmark: Any, matter: Any) -> None:
    report = benchmark.pedantic(analyze, args=(matter, ENGINE), rounds=3, iterations=1)
    assert report.approvable.answer == "yes"


@pytest.fixture(
    scope="module",
    params=[50, pytest.param(200, marks=pytest.mark.slow)],
    ids=lambda n: f"{n}-rules",
)
def wide(request: Any, tmp_path_factory: Any) -> tuple[Engine, Any]:
    """A generated matter of 50 or 200 rules (`secondapproval.strategies.wide`); target ≤ 10 s
    (issue 18). The 200-rule one runs in `make bench-long` (`-m slow`)."""
    folder = tmp_path_factory.mktemp("wide")
    matter = wide_matter(request.param, folder)
    engine = Engine(folder, vouch="all")
    return engine, engine.versions(matter)[0]


def test_analyze_a_generated_matter(benchmark: Any, wide: tuple[Engine, Any]) -> None:
    engine, matter = wide
    report = benchmark.pedantic(analyze, args=(matter, engine), rounds=1, iterations=1)
    assert report.approvable.answer == "yes"
    assert report.approximate == ()
