"""Measure tracking: the status of a SYNTHETIC plan as of a date, events streamed from JSON Lines.

The full size (10,000 measures, 1,000,000 events; target ≤ 5 s on one core) is `slow`
(`make bench-long`); `make test` runs a small plan once as a smoke run. The slow run records
the wall and CPU time (the machine may be shared) and the peak traced memory in the
benchmark's extra_info, and prints them.
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from secondapproval.errors import Problem
from secondapproval.packs.measures import check_plan, iter_events, statuses
from secondapproval.packs.measures.plan import Plan
from secondapproval.packs.measures.synthetic import synthetic_events, synthetic_plan, write_events
from secondapproval.yamlfile import Located

ON = dt.date(2021, 12, 31)


def _setup(tmp: Path, measures: int, events: int) -> tuple[Plan, Path]:
    doc = synthetic_plan(measures)
    path = tmp / "events.jsonl"
    write_events(path, synthetic_events(doc, events))
    return check_plan(Located(doc, "<synthetic>", {})), path


def _status(plan: Plan, path: Path) -> dict[str, Any]:
    problems: list[Problem] = []
    result = statuses(plan, iter_events(plan, path, problems), ON)
    assert not problems
    return result


def test_measures_status_small(benchmark: Any, tmp_path: Path) -> None:
    """Status of 200 SYNTHETIC measures from 5,000 events."""
    plan, path = _setup(tmp_path, 200, 5_000)
    result = benchmark(_status, plan, path)
    assert len(result) == 200


@pytest.mark.slow
def test_measures_status_10k_measures_1m_events(benchmark: Any, tmp_path: Path) -> None:
    """Status of 10,000 SYNTHETIC measures from 1,000,000 events as of a date (target ≤ 5 s)."""
    plan, path = _setup(tmp_path, 10_000, 1_000_000)
    t0, c0 = time.perf_counter(), time.process_time()
    _status(plan, path)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    tracemalloc.start()
    _status(plan, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    benchmark.extra_info.update(
        {
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu, 3),
            "peak_mib": round(peak / 2**20, 1),
        }
    )
    print(
        f"\nmeasures: 10,000 measures, 1,000,000 events: {seconds:.2f} s ({cpu:.2f} s CPU), "
        f"peak traced memory {peak / 2**20:.1f} MiB"
    )
    result = benchmark.pedantic(_status, args=(plan, path), rounds=1, iterations=1)
    assert len(result) == 10_000
