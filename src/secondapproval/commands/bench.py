"""`secondapproval bench MATTER` — decision latency of a matter on generated valid applications.

Applications come from `benchgen.applications` (seeded, so runs repeat exactly) out of the matter
files under `--rules`; each decision is timed alone by `timing.measure` (less the cost of the
timer itself), and p50/p90/p99 and decisions per second are printed.

The ratio table against peer engines is not part of the installed command: the peers (zen-engine,
durable_rules, rule-engine, hand-written checks) are benchmark fixtures of a source checkout, run
by `make bench`. `--peers` is kept only to say so, as a BenchError.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
from typing import Any

from ..benchgen import applications
from ..engine import Engine
from ..timing import BenchError, measure, summary
from ..trust import VOUCH_ALL
from ._common import add_backend_option, add_rules_option, iso_date

REFERENCE = "talent-reference"
"""The matter of DESIGN §8 on which the peer engines of a source checkout are implemented."""
PROGRESS_FROM = 200_000
"""Runs of at least this many decisions show a progress bar (on stderr)."""
PEERS = (
    f"--peers is not part of the installed command: the peer engines are benchmark fixtures of a "
    f"source checkout and implement the reference matter {REFERENCE!r} only; run `make bench` "
    f"(or `python -m benchmarks.ratios`, benchmarks/ratios.py) in a secondapproval checkout"
)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "bench",
        help="time decide() on generated valid applications of a matter",
        description="Time decide() on generated valid applications of a matter under --rules. "
        "The ratio table against peer engines is `make bench` in a source checkout.",
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
    p.add_argument("--peers", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.peers:
        raise BenchError(PEERS)
    # Generated applications stand in for the offices' answers too: the bench vouches for every
    # authoritative source, so what it times is the decision (gathering: benchmarks/gather.py).
    engine = Engine(args.rules, backend=args.backend, vouch=VOUCH_ALL)
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

    if args.n >= PROGRESS_FROM:
        with _bar(args.n) as bar:
            latencies = measure(decide, apps, args.n, on_step=bar.update)
    else:
        latencies = measure(decide, apps, args.n)
    s = summary(latencies)
    print(
        f"{args.matter} version {matter.version} on {on}, {engine.backend} backend, "
        f"rules from {args.rules}: {s.n:,} decisions over {len(apps):,} generated applications "
        f"({approved / len(apps):.0%} approved)"
    )
    print(f"  p50 {s.p50:.2f} µs   p90 {s.p90:.2f} µs   p99 {s.p99:.2f} µs   max {s.max:.1f} µs")
    print(f"  {s.per_second:,.0f} decisions/s on one thread")
    return 0


def _bar(total: int) -> Any:
    from tqdm import tqdm  # type: ignore[import-untyped]

    return tqdm(total=total, unit="dec", unit_scale=True, file=sys.stderr, leave=False)


def _default_day(engine: Engine, matter: str) -> dt.date:
    today = dt.date.today()
    if engine.version_on(matter, today) is not None:
        return today
    return engine.versions(matter)[-1].spec.effective.from_
