"""Timing of decisions: latencies less the timer's own cost, their percentiles, the machine.

`measure(call, inputs, n)` times each of `n` calls alone with `perf_counter_ns`, cycling through
`inputs`, and `summary()` turns the latencies into p50/p90/p99/max and calls per second. The
`secondapproval bench` command and the benchmarks of a source checkout (`benchmarks/ratios.py`,
`benchmarks/throughput.py`) time and report with these, so their figures are taken the same way.
Nothing here prints: a caller that wants progress passes `on_step`.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from . import __version__
from .errors import SecondApprovalError

T = TypeVar("T")
STEP = 10_000
"""Calls timed between two `on_step` reports."""


class BenchError(SecondApprovalError, ValueError):
    """A benchmark cannot be run as asked (no version on the date, a bad count, no peers here)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Latency percentiles of a run, in microseconds, and its throughput."""

    n: int
    p50: float
    p90: float
    p99: float
    max: float
    per_second: float


def timer_cost(samples: int = 20_000) -> int:
    """The median cost in ns of one `perf_counter_ns` pair around nothing."""
    clock = time.perf_counter_ns
    costs = []
    for _ in range(samples):
        t0 = clock()
        costs.append(clock() - t0)
    return int(statistics.median(costs))


def measure(
    call: Callable[[T], object],
    inputs: Sequence[T],
    n: int,
    *,
    warmup: int = 1_000,
    on_step: Callable[[int], object] | None = None,
) -> list[int]:
    """The latency in ns of each of `n` calls, cycling through `inputs`, less the timer's cost.

    `on_step(k)` is called after every `STEP` calls (and after the last) with the calls just timed.
    """
    if n < 1 or not inputs:
        raise BenchError("a benchmark needs at least one decision and one application")
    count = len(inputs)
    for i in range(min(warmup, n)):
        call(inputs[i % count])
    cost = timer_cost()
    clock = time.perf_counter_ns
    out = [0] * n
    for start in range(0, n, STEP):
        for i in range(start, min(start + STEP, n)):
            x = inputs[i % count]
            t0 = clock()
            call(x)
            out[i] = clock() - t0 - cost
        if on_step is not None:
            on_step(min(STEP, n - start))
    return out


def summary(latencies_ns: Sequence[int]) -> Summary:
    """p50/p90/p99/max in µs, and decisions per second from the mean latency."""
    ordered = sorted(max(x, 0) for x in latencies_ns)
    n = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(n - 1, int(p * n))] / 1000

    mean = sum(ordered) / n
    return Summary(n, pct(0.50), pct(0.90), pct(0.99), ordered[-1] / 1000, 1e9 / max(mean, 1))


def machine() -> str:
    """Where a figure was taken: CPU, cores, Python, this version, load average, time (UTC)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"secondapproval {__version__}; load average {load:.2f}; "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
