"""The ratio table: every engine on the reference decision, in one run, on one core.

`python -m benchmarks.ratios` (run by `make bench`) times each engine on the same 1,000 generated
valid applications of the reference matter (DESIGN §8), one decision at a time (less the timer's
own cost), and prints p50 and p99 per decision with the ratio to secondapproval's decide().
Batch APIs are timed per batch of 1,000 and reported per decision. Then it checks the targets of
DESIGN §8 that these figures decide.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from secondapproval import Engine
from secondapproval.backends import get_backend
from secondapproval.benchgen import applications
from secondapproval.compiled import compile_matter
from secondapproval.errors import BackendError
from secondapproval.timing import Summary, machine, measure, summary

from .conftest import MATTERS, ON, REFERENCE, RULES
from .peers import all_peers
from .peers import hukou_handwritten as hukou
from .peers.handwritten import checks, decide, decide_pydantic

BATCH = 1_000
BUDGET_S = 1.5
"""Seconds of timing per engine (at least 2,000 decisions, at most 300,000)."""


@dataclass(frozen=True)
class Row:
    name: str
    result: Summary
    notes: str = ""


def timed(
    name: str,
    call: Callable[[Any], object],
    inputs: Sequence[Any],
    notes: str = "",
    budget: float = BUDGET_S,
) -> Row:
    """Time one engine's single-decision API on the inputs within the budget."""
    start = time.perf_counter()
    for x in inputs[:200]:
        call(x)
    each = (time.perf_counter() - start) / min(200, len(inputs))
    n = int(min(300_000, max(2_000, budget / max(each, 1e-9))))
    return Row(name, summary(measure(call, inputs, n)), notes)


def timed_batch(
    name: str,
    call: Callable[[Sequence[Any]], object],
    apps: Sequence[Any],
    notes: str = "",
    budget: float = BUDGET_S,
) -> Row:
    """Time a batch API on batches of BATCH applications, reported per decision."""
    batches = [apps[:BATCH]]
    start = time.perf_counter()
    call(batches[0])
    n = int(min(300, max(10, budget / (time.perf_counter() - start))))
    per_batch = measure(call, batches, n, warmup=2)
    return Row(name, summary([t // BATCH for t in per_batch]), notes)


def durable_backend_row(apps: Sequence[Any], budget: float) -> Row | None:
    try:
        engine = Engine(MATTERS, backend="durable", vouch="all")
    except BackendError:
        return None
    return timed(
        "secondapproval decide(), durable backend",
        lambda a: engine.decide(REFERENCE, a, on=ON),
        apps,
        budget=budget,
    )


def audited_row(apps: Sequence[Any], budget: float) -> Row | None:
    """decide() with its audit record built, hashed and chained into a null sink, if available."""
    try:
        from .test_audit_bench import KEY, NullSink
    except ImportError:
        return None
    engine = Engine(MATTERS, audit=NullSink(), audit_key=KEY, vouch="all")
    return timed(
        "secondapproval decide() + audit record",
        lambda a: engine.decide(REFERENCE, a, on=ON),
        apps,
        "record built, hashed, chained; null sink",
        budget,
    )


def run(budget: float = BUDGET_S) -> list[Row]:
    engine = Engine(MATTERS, vouch="all")
    matter = engine.version_on(REFERENCE, ON)
    assert matter is not None
    apps = list(itertools.islice(applications(matter, on=ON, seed=0), BATCH))
    decide_one = engine.decide
    evaluate = compile_matter(matter, get_backend("native")).evaluate
    rows = [
        timed(
            "secondapproval decide()",
            lambda a: decide_one(REFERENCE, a, on=ON),
            apps,
            "strict validation + per-rule trace",
            budget,
        ),
        timed_batch(
            "secondapproval decide_many()",
            lambda batch: engine.decide_many(REFERENCE, batch, on=ON),
            apps,
            "per decision, batches of 1,000",
            budget,
        ),
        timed(
            "secondapproval evaluation alone",
            lambda a: evaluate(a, ON),
            apps,
            "generated evaluator on valid facts",
            budget,
        ),
        timed("floor: hand-written checks", checks, apps, "the six checks alone", budget),
        timed("hand-written + validation", decide, apps, "strict type checks by hand", budget),
        timed("hand-written + pydantic", decide_pydantic, apps, "strict TypeAdapter", budget),
    ]
    for extra in (audited_row(apps, budget), durable_backend_row(apps, budget)):
        if extra is not None:
            rows.append(extra)
    for peer in all_peers():
        if peer.name.startswith("hand-written"):
            continue
        rows.append(timed(peer.name, peer.decide, apps, peer.notes, budget))
        if peer.batch is not None:
            batch_name = peer.name.replace("evaluate()", "evaluate_batch()")
            rows.append(
                timed_batch(batch_name, peer.batch, apps, "per decision, batches of 1,000", budget)
            )
    return rows


def bundled(budget: float = BUDGET_S) -> list[Row]:
    """decide() against the hand-written floor on a bundled matter (no peers there yet)."""
    engine = Engine(RULES, vouch="all")
    matter = engine.version_on(hukou.MATTER, ON)
    assert matter is not None
    apps = list(itertools.islice(applications(matter, on=ON, seed=0), BATCH))
    decide_one = engine.decide
    return [
        timed(
            f"secondapproval decide() on {hukou.MATTER}",
            lambda a: decide_one(hukou.MATTER, a, on=ON),
            apps,
            "16 facts in 7 groups (one a list of records), 12 rules, one derived date",
            budget,
        ),
        timed(
            "hand-written",
            lambda a: hukou.decide(a, ON),
            apps,
            "same validation (stdnum ID check, ISO dates) and rules",
            budget,
        ),
    ]


def table(rows: Sequence[Row]) -> str:
    base = rows[0].result
    lines = [
        "| engine | p50 µs | p99 µs | p50 ratio | p99 ratio | notes |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        s = r.result
        lines.append(
            f"| {r.name} | {s.p50:.2f} | {s.p99:.2f} | {s.p50 / base.p50:.2f}× "
            f"| {s.p99 / base.p99:.2f}× | {r.notes} |"
        )
    return "\n".join(lines)


def targets(rows: Sequence[Row]) -> list[tuple[str, bool, str]]:
    """The DESIGN §8 targets these figures decide: (target, met, figures)."""
    by = {r.name: r.result for r in rows}
    d = by["secondapproval decide()"]
    ev = by["secondapproval evaluation alone"]
    floor = by["floor: hand-written checks"]
    pyd = by["hand-written + pydantic"]
    out = [
        ("decide() p50 ≤ 2 µs", d.p50 <= 2, f"{d.p50:.2f} µs"),
        ("decide() p99 ≤ 10 µs", d.p99 <= 10, f"{d.p99:.2f} µs"),
        (
            "evaluation alone ≤ 2× floor",
            ev.p50 <= 2 * floor.p50,
            f"{ev.p50 / floor.p50:.2f}×",
        ),
        (
            "decide() ≤ 3× floor with pydantic",
            d.p50 <= 3 * pyd.p50,
            f"{d.p50 / pyd.p50:.2f}×",
        ),
    ]
    audited = by.get("secondapproval decide() + audit record")
    if audited is not None:
        out.append(
            ("decide() + audit record p50 ≤ 8 µs", audited.p50 <= 8, f"{audited.p50:.2f} µs")
        )
    for name, s in by.items():
        if name.startswith(("zen", "durable_rules", "rule-engine")) and "batch" not in name:
            out.append((f"≥ 10× faster than {name}", s.p50 >= 10 * d.p50, f"{s.p50 / d.p50:.0f}×"))
    zen_batch = by.get("zen-engine evaluate_batch()")
    many = by["secondapproval decide_many()"]
    if zen_batch is not None:
        out.append(
            (
                "decide_many() faster per decision than zen evaluate_batch()",
                many.p50 < zen_batch.p50,
                f"{many.p50:.2f} vs {zen_batch.p50:.2f} µs",
            )
        )
    return out


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"pinned to core {min(os.sched_getaffinity(0))}"
    return "not pinned (no sched_setaffinity here)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--budget", type=float, default=BUDGET_S, help="seconds per engine")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    pinned = pin_one_core()
    print(f"reference matter {REFERENCE}, 1,000 generated valid applications, {pinned}")
    print(machine())
    rows = run(args.budget)
    print(table(rows))
    print()
    print(table(bundled(args.budget)))
    print()
    met = targets(rows)
    for name, ok, figures in met:
        print(f"  {'MET ' if ok else 'MISS'}  {name}: {figures}")
    return 1 if args.strict and not all(ok for _, ok, _ in met) else 0


if __name__ == "__main__":
    sys.exit(main())
