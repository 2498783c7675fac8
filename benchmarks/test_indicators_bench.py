"""Indicator scoring: every row of the shipped Doing Business file (3,182 rows) under DB17-20.

Each round starts from a fresh `Scorer`, so the per-component memo of scored values is cold:
the figure includes evaluating every formula once per distinct value. Target ≤ 1 s (one core).
"""

from __future__ import annotations

from typing import Any

from benchmarks.conftest import RULES
from secondapproval.packs.indicators import Scorer, load_data, load_system

SYSTEM = load_system(RULES / "indicators" / "db17-20.yaml")
DATA = load_data(SYSTEM)
KEYS = sorted(DATA.rows)


def score_all() -> int:
    scorer = Scorer(SYSTEM)
    scored = 0
    for year, code in KEYS:
        card = scorer.score_row(DATA, year, code)
        scored += card.overall is not None
    return scored


def test_score_all_rows(benchmark: Any) -> None:
    """Score all 3,182 rows; those with a published overall score (DB Years 2016, 2019, 2020)
    have every component, the others are scored as far as their values go."""
    assert len(KEYS) == 3182
    scored = benchmark.pedantic(score_all, rounds=5, iterations=1)
    assert scored == sum("ease_of_doing_business" in r.published for r in DATA.rows.values())


def test_load_system_and_data(benchmark: Any) -> None:
    """Load and check the DB17-20 system file and read its 2.2 MB dataset (no cache)."""
    from secondapproval.packs.indicators.dataset import _load

    def load() -> int:
        system = load_system(RULES / "indicators" / "db17-20.yaml")
        _load.cache_clear()
        return len(load_data(system).rows)

    assert benchmark.pedantic(load, rounds=3, iterations=1) == 3182
