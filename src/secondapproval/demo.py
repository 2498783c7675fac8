"""`make demo`: decide the bundled batch of sample applications through the offices, and report.

The batch (`samples/applications.jsonl`) is made by `secondapproval.samples` from the bundled
scenario files with a fixed seed; a test checks that the generator reproduces it exactly. The
demo gathers (docs/sources.md): it starts a local stand-in for the population registry, the
degree registry and the credit platform (`secondapproval.standin`, 127.0.0.1, a free port handed
to `samples/deployment.yaml` through `${SECONDAPPROVAL_DEMO_OFFICES}`), gives the offices what the
sample applications say they hold, and decides what the applicants bring through the adapters —
so the records show where every fact came from. It then decides the batch again, audited, stops
the offices, and verifies and replays the log: replay never asks an office again.
"""

from __future__ import annotations

import argparse
import collections
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .decision import Decision
from .engine import Engine
from .idcodes import check_cn_id, cn_id_check_character
from .jsonfile import loads
from .lang.parser import parse_iso_date
from .sources.deployment import Deployment, load_deployment
from .sources.gather import Plan

OFFICES_VARIABLE = "SECONDAPPROVAL_DEMO_OFFICES"


def decide_batch(
    engine: Engine, rows: list[dict[str, Any]], *, gather: bool = False
) -> tuple[list[Decision], list[int]]:
    """Decide every row; return the decisions and each decision's latency in ns."""
    decisions: list[Decision] = []
    latencies: list[int] = []
    clock = time.perf_counter_ns
    for row in rows:
        on = parse_iso_date(row["on"])
        t0 = clock()
        decision = engine.decide(row["matter"], row["facts"], on=on, gather=gather)
        latencies.append(clock() - t0)
        decisions.append(decision)
    return decisions, latencies


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def report(decisions: list[Decision], latencies: list[int]) -> str:
    """Approved / referred per matter, the top referral reasons, where the facts came from,
    p50/p99 latency."""
    lines = [f"decided {len(decisions)} applications"]
    per_matter: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    reasons: collections.Counter[str] = collections.Counter()
    origins: collections.Counter[str] = collections.Counter()
    for d in decisions:
        per_matter[d.matter or "?"][str(d.outcome)] += 1
        reasons.update(d.codes)
        origins.update(
            f"{p.via}:{p.source}" if p.via != "applicant" else "applicant"
            for p in d.provenance.values()
        )
    for matter, counts in sorted(per_matter.items()):
        lines.append(f"  {matter:<40} approve {counts['approve']:>5}  refer {counts['refer']:>5}")
    total = collections.Counter(str(d.outcome) for d in decisions)
    lines.append(f"  {'all':<40} approve {total['approve']:>5}  refer {total['refer']:>5}")
    lines.append("top referral reasons:")
    lines += [f"  {count:>5}  {code}" for code, count in reasons.most_common(8)]
    lines.append("where the facts came from:")
    lines += [f"  {count:>6}  {where}" for where, count in sorted(origins.items())]
    p50, p99 = percentile(latencies, 0.5) / 1000, percentile(latencies, 0.99) / 1000
    lines.append(f"decision latency: p50 {p50:.1f} µs, p99 {p99:.1f} µs (one thread, this machine)")
    return "\n".join(lines)


# ---- the offices: what the sample applications say the state holds ----
def distinct_people(engine: Engine, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with every valid ID number made distinct (same region and birth date, another
    sequence code), so each office record belongs to one application: the scenario files the
    samples come from reuse a few ID numbers for many cases."""
    serial: collections.Counter[str] = collections.Counter()
    out = []
    for row in rows:
        version = engine.version_on(row["matter"], parse_iso_date(row["on"]))
        facts = row["facts"]
        if version is not None and isinstance(facts, dict):
            facts = _copy(facts)
            for path, spec in version.inputs.items():
                if spec.type == "cn_id":
                    _renumber(facts, path.split("."), serial)
        out.append({**row, "facts": facts})
    return out


def _copy(tree: Any) -> Any:
    return {k: _copy(v) for k, v in tree.items()} if isinstance(tree, dict) else tree


def _renumber(facts: dict[str, Any], keys: list[str], serial: collections.Counter[str]) -> None:
    node = facts
    for key in keys[:-1]:
        node = node.get(key)  # type: ignore[assignment]
        if not isinstance(node, dict):
            return
    value = node.get(keys[-1])
    try:
        check_cn_id(value)
    except (ValueError, TypeError):
        return  # an invalid number stays: the engine must refuse it, never send it
    assert isinstance(value, str)
    stem = value[:14]
    serial[stem] += 1
    body = f"{stem}{serial[stem] % 1000:03d}"
    node[keys[-1]] = body + cn_id_check_character(body)


def stand_in_for(
    engine: Engine, deployment: Deployment, rows: list[dict[str, Any]], base: str
) -> tuple[dict[str, dict[str, dict[str, Any]]], list[dict[str, Any]]]:
    """What each office holds (office → key → record), and what each applicant still brings:
    the facts of a connected source move from the application to its office's record."""
    records: dict[str, dict[str, dict[str, Any]]] = {}
    brought = []
    for row in rows:
        plan = engine.gathering_plan(row["matter"], parse_iso_date(row["on"]))
        facts = row["facts"]
        if plan is None or not isinstance(facts, dict):
            brought.append(row)
            continue
        for lookup in plan.lookups:
            key = {p.name: _get(facts, p.keys) for p in lookup.params}
            if any(v is None for v in key.values()):
                continue
            record: dict[str, Any] = dict(key)
            for f in lookup.fields:
                value = _get(facts, f.keys)
                if value is not None:
                    _set(record, f.field, value)
            office, text = _address(deployment, lookup.via, key, base)
            records.setdefault(office, {})[text] = record
        brought.append({**row, "facts": _without_gathered(facts, plan)})
    return records, brought


def _address(deployment: Deployment, via: str, key: dict[str, Any], base: str) -> tuple[str, str]:
    """The stand-in's office and key of a lookup (from its adapter's URL template)."""
    source, _, variant = via.partition("#")
    conn = deployment.connections[source]
    settings = conn.variants[int(variant) - 1] if variant else conn.settings
    path = str(getattr(settings, "url")).removeprefix(base).removeprefix("/")  # noqa: B009
    office, _, template = path.partition("/")
    return office, template.format(**key)


def _without_gathered(facts: dict[str, Any], plan: Plan) -> dict[str, Any]:
    keys = {p.path for lookup in plan.lookups for p in lookup.params}
    out: dict[str, Any] = _copy(facts)
    for lookup in plan.lookups:
        for f in lookup.fields:
            if f.path not in keys:
                _pop(out, f.keys)
    return out


def _get(tree: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _set(tree: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
    tree[keys[-1]] = value


def _pop(tree: Any, keys: tuple[str, ...]) -> None:
    for key in keys[:-1]:
        tree = tree.get(key) if isinstance(tree, dict) else None
    if isinstance(tree, dict):
        tree.pop(keys[-1], None)
        return


def audit_batch(
    rules: Path, deployment: Deployment, rows: list[dict[str, Any]], out: Path, stop: Any
) -> tuple[bool, str]:
    """Decide the batch again with every decision audited; stop the offices; verify and replay."""
    import secrets
    import shutil

    from .audit import RuleIndex, open_log, replay_log

    log, kept = out / "audit.jsonl", out / "audit.jsonl.rules"
    for old in out.glob("audit.jsonl*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    key = secrets.token_bytes(32)
    (out / "audit.key").write_bytes(key)
    t0 = time.perf_counter()
    audit = open_log(log, key=key, fsync="group")
    with Engine(rules, deployment=deployment, audit=audit) as engine:
        for row in rows:
            on = parse_iso_date(row["on"])
            engine.decide(row["matter"], row["facts"], on=on, gather=True)
    rate = len(rows) / (time.perf_counter() - t0)
    stop()
    verified, replayed = replay_log(log, RuleIndex([kept]), key=key)
    lines = [
        f"audit log {log}: {verified.records} records ({rate:,.0f} gathered, audited "
        f"decisions/s), head {verified.head}",
        f"  verify: {verified.summary()}",
        f"  {replayed.summary()} (re-decided under the rule texts kept in {kept}, "
        "with the offices stopped: replay asks no office)",
    ]
    return verified.ok and replayed.ok, "\n".join(lines)


def _offices_process(records: Any, ready: Any, stop: Any) -> None:
    """The stand-in offices in a process of their own, as a real office is (no GIL shared)."""
    from .standin import Offices, serve

    offices = Offices()
    for office, held in records.items():
        offices.load(office, held)
    running = serve(offices.app)
    ready.put((running.url, 0))
    stop.wait()
    ready.put(("", len(offices.seen())))
    running.stop()


class _Offices:
    """The stand-in started in its own process with these records; `stop()` ends it."""

    def __init__(self, records: dict[str, dict[str, dict[str, Any]]]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._ready, self._stop = context.Queue(), context.Event()
        self._process = context.Process(
            target=_offices_process, args=(records, self._ready, self._stop), daemon=True
        )
        self._process.start()
        self.url, _ = self._ready.get(timeout=60)
        self.answered = 0

    def stop(self) -> None:
        if self._process.is_alive():
            self._stop.set()
            _, self.answered = self._ready.get(timeout=30)
            self._process.join(timeout=30)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rules", type=Path, default=Path("rules"))
    p.add_argument("--samples", type=Path, default=Path("samples/applications.jsonl"))
    p.add_argument(
        "--deployment",
        type=Path,
        default=None,
        help="the deployment file (default: deployment.yaml beside the samples)",
    )
    p.add_argument("--out", type=Path, default=Path(".demo"), help="folder for the demo's files")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    deployment_file = args.deployment or args.samples.parent / "deployment.yaml"
    text = args.samples.read_text(encoding="utf-8")
    rows = [loads(line, name=f"{args.samples}:{n}") for n, line in enumerate(text.splitlines(), 1)]
    # what the offices hold, from the samples (the address is known once the offices run)
    os.environ[OFFICES_VARIABLE] = placeholder = "http://offices.invalid"
    with Engine(args.rules, deployment=load_deployment(deployment_file)) as planner:
        rows = distinct_people(planner, rows)
        records, brought = stand_in_for(planner, planner.deployment, rows, placeholder)  # type: ignore[arg-type]
    offices = _Offices(records)
    try:
        os.environ[OFFICES_VARIABLE] = offices.url
        deployment = load_deployment(deployment_file)
        with Engine(args.rules, deployment=deployment) as engine:
            decisions, latencies = decide_batch(engine, brought, gather=True)
        print(report(decisions, latencies))
        held = sum(len(v) for v in records.values())
        print(
            f"offices at {offices.url} (a process of their own): {held} records, "
            f"{len(records)} offices"
        )
        audited, summary = audit_batch(args.rules, deployment, brought, args.out, offices.stop)
        print(summary)
        print(f"  the offices answered {offices.answered} requests in all")
    finally:
        offices.stop()
    return 0 if audited else 1


if __name__ == "__main__":
    raise SystemExit(main())
