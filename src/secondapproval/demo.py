"""`make demo`: decide the bundled batch of sample applications and print a short report.

The batch (`samples/applications.jsonl`) is made by `secondapproval.samples` from the bundled
scenario files with a fixed seed; a test checks that the generator reproduces it exactly.
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path
from typing import Any

from .decision import Decision
from .engine import Engine
from .jsonfile import loads
from .lang.parser import parse_iso_date


def decide_batch(engine: Engine, rows: list[dict[str, Any]]) -> tuple[list[Decision], list[int]]:
    """Decide every row; return the decisions and each decision's latency in ns."""
    decisions: list[Decision] = []
    latencies: list[int] = []
    clock = time.perf_counter_ns
    for row in rows:
        on = parse_iso_date(row["on"])
        t0 = clock()
        decision = engine.decide(row["matter"], row["facts"], on=on)
        latencies.append(clock() - t0)
        decisions.append(decision)
    return decisions, latencies


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def report(decisions: list[Decision], latencies: list[int]) -> str:
    """Approved / referred per matter, the top referral reasons, p50/p99 latency."""
    lines = [f"decided {len(decisions)} applications"]
    per_matter: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    reasons: collections.Counter[str] = collections.Counter()
    for d in decisions:
        per_matter[d.matter or "?"][str(d.outcome)] += 1
        reasons.update(d.codes)
    for matter, counts in sorted(per_matter.items()):
        lines.append(f"  {matter:<40} approve {counts['approve']:>5}  refer {counts['refer']:>5}")
    total = collections.Counter(str(d.outcome) for d in decisions)
    lines.append(f"  {'all':<40} approve {total['approve']:>5}  refer {total['refer']:>5}")
    lines.append("top referral reasons:")
    lines += [f"  {count:>5}  {code}" for code, count in reasons.most_common(8)]
    p50, p99 = percentile(latencies, 0.5) / 1000, percentile(latencies, 0.99) / 1000
    lines.append(f"decision latency: p50 {p50:.1f} µs, p99 {p99:.1f} µs (one thread, this machine)")
    return "\n".join(lines)


def audit_batch(rules: Path, rows: list[dict[str, Any]], out: Path) -> tuple[bool, str]:
    """Decide the batch again with every decision audited; verify and replay the log."""
    import secrets
    import shutil

    from .audit import RuleIndex, open_log, replay_log

    log, kept = out / "audit.jsonl", out / "audit.jsonl.rules"
    for old in out.glob("audit.jsonl*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    key = secrets.token_bytes(32)
    (out / "audit.key").write_bytes(key)
    t0 = time.perf_counter()
    with Engine(rules, audit=open_log(log, key=key, fsync="group")) as engine:
        for row in rows:
            engine.decide(row["matter"], row["facts"], on=parse_iso_date(row["on"]))
    rate = len(rows) / (time.perf_counter() - t0)
    verified, replayed = replay_log(log, RuleIndex([kept]), key=key)
    lines = [
        f"audit log {log}: {verified.records} records ({rate:,.0f} audited decisions/s), "
        f"head {verified.head}",
        f"  verify: {verified.summary()}",
        f"  {replayed.summary()} (re-decided under the rule texts the library kept in {kept})",
    ]
    return verified.ok and replayed.ok, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rules", type=Path, default=Path("rules"))
    p.add_argument("--samples", type=Path, default=Path("samples/applications.jsonl"))
    p.add_argument("--out", type=Path, default=Path(".demo"), help="folder for the demo's files")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    engine = Engine(args.rules)
    text = args.samples.read_text(encoding="utf-8")
    rows = [loads(line, name=f"{args.samples}:{n}") for n, line in enumerate(text.splitlines(), 1)]
    decisions, latencies = decide_batch(engine, rows)
    print(report(decisions, latencies))
    audited, summary = audit_batch(args.rules, rows, args.out)
    print(summary)
    return 0 if audited else 1


if __name__ == "__main__":
    raise SystemExit(main())
