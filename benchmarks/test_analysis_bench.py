"""Static analysis (`secondapproval.analysis`): one bundled matter version analysed whole — the
approvable question, pass/fail/unknown of every rule, redundancy, failing derivations and the
fail-safe check, every witness decided by the engine. Target ≤ 1 s a matter (issue 18).

`pytest benchmarks/test_analysis_bench.py --benchmark-enable`
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.conftest import RULES
from secondapproval import Engine
from secondapproval.analysis import analyze

ENGINE = Engine(RULES, vouch="all")
VERSIONS = [v for m in ENGINE.matters for v in ENGINE.versions(m)]


@pytest.mark.parametrize("matter", VERSIONS, ids=lambda m: m.id)
def test_analyze_a_bundled_matter(benchmark: Any, matter: Any) -> None:
    report = benchmark.pedantic(analyze, args=(matter, ENGINE), rounds=3, iterations=1)
    assert report.approvable.answer == "yes"
