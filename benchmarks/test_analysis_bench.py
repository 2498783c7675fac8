"""Static analysis (`secondapproval.analysis`): one bundled matter version analysed whole — the
approvable question, pass/fail/unknown of every rule, redundancy, failing derivations and the
fail-safe check, every witness decided by the engine. Target ≤ 1 s a matter (issue 18).
Parts against the whole matter: `python -m benchmarks.analysis_parts`.

`pytest benchmarks/test_analysis_bench.py --benchmark-enable`
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from benchmarks.conftest import RULES
from secondapproval import Engine
from secondapproval.analysis import analyze
from secondapproval.strategies.wide import wide_matter

EXAMPLES = pathlib.Path(__file__).parent.parent / "docs" / "examples"
ENGINES = [Engine(RULES, vouch="all"), Engine(EXAMPLES, vouch="all")]
VERSIONS = [(e, v) for e in ENGINES for m in e.matters for v in e.versions(m)]


@pytest.mark.parametrize(("engine", "matter"), VERSIONS, ids=[v.id for _, v in VERSIONS])
def test_analyze_a_bundled_matter(benchmark: Any, engine: Engine, matter: Any) -> None:
    """A bundled matter, and the example of docs/ (lists of records, `count`)."""
    report = benchmark.pedantic(analyze, args=(matter, engine), rounds=3, iterations=1)
    assert report.approvable.answer == "yes"


@pytest.fixture(
    scope="module",
    params=[(50, False), (200, False), (50, True), (200, True)],
    ids=lambda p: f"{p[0]}-rules" + ("-linked" if p[1] else ""),
)
def wide(request: Any, tmp_path_factory: Any) -> tuple[Engine, Any]:
    """A generated matter of 50 or 200 rules (`secondapproval.strategies.wide`), its rules in
    parts that share no fact or, linked, all reading one shared fact; target ≤ 10 s (issue 18)."""
    folder = tmp_path_factory.mktemp("wide")
    n, linked = request.param
    matter = wide_matter(n, folder, linked=linked)
    engine = Engine(folder, vouch="all")
    return engine, engine.versions(matter)[0]


def test_analyze_a_generated_matter(benchmark: Any, wide: tuple[Engine, Any]) -> None:
    engine, matter = wide
    report = benchmark.pedantic(analyze, args=(matter, engine), rounds=1, iterations=1)
    assert report.approvable.answer == "yes"
    assert report.approximate == ()
