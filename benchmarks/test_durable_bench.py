"""The durable backend against the native one: per-decision latency on every matter, and memory.

`python -m benchmarks.test_durable_bench [N]` prints p50 and p99 of decide() for both backends
on N generated valid applications of every bundled matter (and the reference matter), measured
in one run, with the durable/native ratio. `make bench-long` runs the RSS test: growth over
1,000,000 decisions through the durable backend (target < 50 MB).
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import sys
import time
from typing import Any

import pytest

from benchmarks.conftest import MATTERS, ON, REFERENCE, RULES, bundled_day, rss_mb
from secondapproval import Engine
from secondapproval.benchgen import applications

DECISIONS = 1_000_000
WARMUP = 50_000
LIMIT_MB = 50


def _apps(engine: Engine, matter: str, on: dt.date, n: int) -> list[Any]:
    version = engine.version_on(matter, on)
    assert version is not None
    return list(itertools.islice(applications(version, on=on, seed=0), n))


def _percentiles(engine: Engine, matter: str, apps: list[Any], on: dt.date) -> tuple[float, float]:
    """p50 and p99 of one decision, in microseconds."""
    times = []
    for app in apps:
        t0 = time.perf_counter_ns()
        engine.decide(matter, app, on=on)
        times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def latency_table(n: int) -> list[tuple[str, float, float, float, float]]:
    """Per matter: native p50, p99 and durable p50, p99 (µs) on the same `n` applications."""
    rows = []
    targets = [(MATTERS, REFERENCE)] + [(RULES, m) for m in Engine(RULES).matters]
    for folder, matter in targets:
        native = Engine(folder, vouch="all")
        durable = Engine(folder, backend="durable", vouch="all")
        on = bundled_day(native, matter) if folder == RULES else ON
        apps = _apps(native, matter, on, n)
        for engine in (native, durable):  # warm up
            _percentiles(engine, matter, apps[: min(50, n)], on)
        rows.append(
            (
                matter,
                *_percentiles(native, matter, apps, on),
                *_percentiles(durable, matter, apps, on),
            )
        )
    return rows


def test_latency_table_smoke() -> None:
    """Both backends decide every matter's generated applications (timed by the __main__ run)."""
    rows = latency_table(20)
    assert {r[0] for r in rows} >= {REFERENCE}
    assert all(r[1] > 0 and r[3] > 0 for r in rows)


@pytest.mark.parametrize("backend", ["native", "durable"])
def test_decide_reference_backend(benchmark: Any, backend: str, reference_app: Any) -> None:
    """decide() on one approved application of the reference matter, per backend."""
    engine = Engine(MATTERS, backend=backend, vouch="all")
    decision = benchmark(engine.decide, REFERENCE, reference_app, on=ON)
    assert decision.approved


@pytest.mark.slow
def test_durable_rss_over_a_million_decisions(reference_apps: list[dict[str, Any]]) -> None:
    """RSS grows by less than 50 MB over 1,000,000 durable decisions (sessions are deleted)."""
    engine = Engine(MATTERS, backend="durable", vouch="all")
    count = len(reference_apps)
    for i in range(WARMUP):
        engine.decide(REFERENCE, reference_apps[i % count], on=ON)
    before = rss_mb()
    for i in range(DECISIONS):
        engine.decide(REFERENCE, reference_apps[i % count], on=ON)
    growth = rss_mb() - before
    print(f"\nRSS growth over {DECISIONS:,} durable decisions: {growth:.2f} MB")
    assert growth < LIMIT_MB


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    print(f"decide() latency in µs, {n} generated valid applications per matter, one run")
    print(
        f"{'matter':<32} {'native p50':>10} {'p99':>8} {'durable p50':>12} {'p99':>8} "
        f"{'ratio p50':>9}"
    )
    for matter, np50, np99, dp50, dp99 in latency_table(n):
        print(
            f"{matter:<32} {np50:>10.1f} {np99:>8.1f} {dp50:>12.1f} {dp99:>8.1f} "
            f"{dp50 / np50:>8.0f}×"
        )


if __name__ == "__main__":
    main()
