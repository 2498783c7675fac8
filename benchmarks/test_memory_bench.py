"""Memory over 10,000,000 decisions of the reference matter stays flat (DESIGN §8: < 20 MB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import ON, REFERENCE, rss_mb
from secondapproval import Engine

DECISIONS = 10_000_000
WARMUP = 1_000_000
LIMIT_MB = 20


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_rss_is_flat_over_ten_million_decisions(
    reference_engine: Engine, reference_apps: list[dict[str, Any]]
) -> None:
    """RSS grows by less than 20 MB between decision 1,000,000 and decision 10,000,000."""
    decide = reference_engine.decide
    apps = reference_apps
    count = len(apps)
    for i in range(WARMUP):
        decide(REFERENCE, apps[i % count], on=ON)
    before = rss_mb()
    for i in range(DECISIONS - WARMUP):
        decide(REFERENCE, apps[i % count], on=ON).reasons  # noqa: B018 (build the trace too)
    growth = rss_mb() - before
    print(f"\nRSS growth over {DECISIONS - WARMUP:,} decisions: {growth:.2f} MB")
    assert growth < LIMIT_MB
