"""`secondapproval bench MATTER` — decision latency of a matter on generated valid applications.

Applications come from `benchgen.applications` (seeded, so runs repeat exactly). Each decision is
timed alone with `perf_counter_ns`, less the cost of the timer itself, and p50/p90/p99 and
decisions per second are printed. `measure` and `summary` are also used by
`benchmarks/ratios.py`, so the command and the ratio table time decisions the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..benchgen import applications
from ..engine import Engine
from ..errors import SecondApprovalError
from ._common import add_backend_option, add_rules_option, iso_date

T = TypeVar("T")
REFERENCE = "talent-reference"
"""The matter of DESIGN §8 on which the peer engines are implemented (benchmarks/peers)."""
PROGRESS_FROM = 200_000
"""Runs of at least this many decisions show a progress bar (on stderr)."""


class BenchError(SecondApprovalError, ValueError):
    """A benchmark cannot be run as asked (no version on the date, a bad count)."""


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
    progress: bool = False,
) -> list[int]:
    """The latency in ns of each of `n` calls, cycling through `inputs`, less the timer's cost."""
    if n < 1 or not inputs:
        raise BenchError("a benchmark needs at least one decision and one application")
    count = len(inputs)
    for i in range(min(warmup, n)):
        call(inputs[i % count])
    cost = timer_cost()
    clock = time.perf_counter_ns
    out = [0] * n
    bar = _bar(n) if progress else None
    step = 10_000
    for start in range(0, n, step):
        for i in range(start, min(start + step, n)):
            x = inputs[i % count]
            t0 = clock()
            call(x)
            out[i] = clock() - t0 - cost
        if bar is not None:
            bar.update(min(step, n - start))
    if bar is not None:
        bar.close()
    return out


def _bar(total: int) -> Any:
    from tqdm import tqdm  # type: ignore[import-untyped]

    return tqdm(total=total, unit="dec", unit_scale=True, file=sys.stderr, leave=False)


def summary(latencies_ns: Sequence[int]) -> Summary:
    """p50/p90/p99/max in µs, and decisions per second from the mean latency."""
    ordered = sorted(max(x, 0) for x in latencies_ns)
    n = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(n - 1, int(p * n))] / 1000

    mean = sum(ordered) / n
    return Summary(n, pct(0.50), pct(0.90), pct(0.99), ordered[-1] / 1000, 1e9 / max(mean, 1))


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "bench", help="time decide() on generated valid applications of a matter"
    )
    p.add_argument("matter", help="matter id")
    add_rules_option(p)
    add_backend_option(p)
    p.add_argument("--n", type=int, default=100_000, help="decisions to time (default 100,000)")
    p.add_argument(
        "--on",
        type=iso_date,
        help="decision date (default today, or the latest version's start if none is in force)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the application generator")
    p.add_argument("--apps", type=int, default=1_000, help="distinct applications to cycle through")
    p.add_argument(
        "--peers",
        action="store_true",
        help="print the ratio table against peer engines instead (reference matter only; "
        "needs the benchmarks/ folder of a source checkout in the current directory)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.peers:
        return _peers(args.matter)
    engine = Engine(args.rules, backend=args.backend)
    on: dt.date = args.on or _default_day(engine, args.matter)
    matter = engine.version_on(args.matter, on)
    if matter is None:
        raise BenchError(f"no version of {args.matter!r} is in force on {on}")
    if args.n < 1 or args.apps < 1:
        raise BenchError("--n and --apps must be at least 1")
    apps = list(itertools.islice(applications(matter, on=on, seed=args.seed), args.apps))
    approved = sum(engine.decide(args.matter, a, on=on).approved for a in apps)

    def decide(app: dict[str, Any]) -> object:
        return engine.decide(args.matter, app, on=on)

    latencies = measure(decide, apps, args.n, progress=args.n >= PROGRESS_FROM)
    s = summary(latencies)
    print(
        f"{args.matter} version {matter.version} on {on}, {engine.backend} backend: "
        f"{s.n:,} decisions over {len(apps):,} generated applications "
        f"({approved / len(apps):.0%} approved)"
    )
    print(f"  p50 {s.p50:.2f} µs   p90 {s.p90:.2f} µs   p99 {s.p99:.2f} µs   max {s.max:.1f} µs")
    print(f"  {s.per_second:,.0f} decisions/s on one thread")
    return 0


def _peers(matter: str) -> int:
    """The ratio table of `benchmarks/ratios.py`, run as a program of the checkout here.

    The installed package never imports `benchmarks/` (it is not part of the package): the table
    runs in its own process, from the current folder, with this interpreter.
    """
    if matter != REFERENCE:
        raise BenchError(f"peer engines are implemented for {REFERENCE!r} only, not {matter!r}")
    if not (Path.cwd() / "benchmarks" / "ratios.py").is_file():
        raise BenchError("--peers needs benchmarks/ratios.py of a secondapproval checkout here")
    return subprocess.call([sys.executable, "-m", "benchmarks.ratios"], cwd=Path.cwd())


def _default_day(engine: Engine, matter: str) -> dt.date:
    today = dt.date.today()
    if engine.version_on(matter, today) is not None:
        return today
    return engine.versions(matter)[-1].spec.effective.from_
