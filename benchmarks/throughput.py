"""Audited decisions per second: every fsync policy with 1 and 8 threads, into a keyed log.

`python -m benchmarks.throughput [--seconds S] [--threads 1 8] [--policies ...] [--sink jsonl
sqlite] [--batch 1 64] [--dir DIR]` (a line of `make bench`) decides the 1,000 generated valid
applications of the reference matter (DESIGN §8) in a loop for S seconds per cell, each thread
through one audited Engine into a fresh log (in a temporary folder under DIR) opened with an
audit key, and prints decisions/s — counted when decide() returned, so acknowledged ones — with
the ratio to `none` (same sink, threads and batch) and, for JSON Lines, the records per fsync of
the log. With `--batch N` (N > 1) each thread calls decide_many() on N applications at a time:
the batch's records are committed together, and it returns once they are all stored.

In the same run it times one `os.write` + `os.fsync` of 600 bytes (a record's size) in DIR: with
8 threads each waiting for its own record, a durable policy cannot pass 8 records per fsync, so
group commit is bounded by 8 / the mean of that latency. Then it checks the DESIGN §8 targets
(JSON Lines, 8 threads): group commit ≥ 20,000/s, fire-and-forget ≥ 50,000/s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secondapproval import Engine
from secondapproval.audit import POLICIES, open_log
from secondapproval.benchgen import applications
from secondapproval.timing import machine

from .conftest import MATTERS, ON, REFERENCE

KEY = b"throughput-benchmark-key"
SINKS = {"jsonl": "audit.jsonl", "sqlite": "audit.sqlite"}
TARGETS = {"group": 20_000, "fire-and-forget": 50_000}
"""DESIGN §8: audited decisions/s with 8 threads into a JSON Lines log."""


@dataclass(frozen=True)
class Cell:
    sink: str
    policy: str
    threads: int
    batch: int
    """Applications per call: 1 is decide(), more is decide_many()."""
    decisions: int
    seconds: float
    fsyncs: int | None
    """fsyncs of the log file during the run (None: SQLite fsyncs inside its C library)."""
    fsync_seconds: float = 0.0
    """Their total time."""

    @property
    def rate(self) -> float:
        return self.decisions / self.seconds


class _CountingFsync:
    """Stands in for os.fsync during a run: counts and times the calls on one file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.count = 0
        self.seconds = 0.0
        self._real = os.fsync

    def __call__(self, fd: int) -> None:
        t0 = time.perf_counter()
        self._real(fd)
        took = time.perf_counter() - t0
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == self.path:
                self.count += 1
                self.seconds += took
        except OSError:
            pass


def run_cell(
    folder: Path,
    sink: str,
    policy: str,
    threads: int,
    seconds: float,
    matters: list[Any],
    apps: list[Any],
    batch: int = 1,
) -> Cell:
    """Decide with `threads` threads for `seconds` into a fresh keyed log; count the returns."""
    log = folder / f"{sink}-{policy}-{threads}-{batch}" / SINKS[sink]
    log.parent.mkdir()
    engine = Engine(matters, audit=open_log(log, key=KEY, fsync=policy), audit_key=KEY, vouch="all")
    counter = _CountingFsync(log)
    os.fsync = counter  # type: ignore[assignment]
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def work(k: int) -> None:
        decide, n, stopped = engine.decide, len(apps), stop.is_set
        i = k * 97
        start.wait()
        while not stopped():  # checked per decision: a durable one may wait for a slow fsync
            decide(REFERENCE, apps[i % n], on=ON)
            i += 1
        counts[k] = i - k * 97

    def work_in_batches(k: int) -> None:
        decide_many, stopped = engine.decide_many, stop.is_set
        batches = [apps[j : j + batch] for j in range(0, len(apps) - batch + 1, batch)]
        done = 0
        start.wait()
        while not stopped():
            done += len(decide_many(REFERENCE, batches[(k + done) % len(batches)], on=ON))
        counts[k] = done

    target = work if batch == 1 else work_in_batches
    pool = [threading.Thread(target=target, args=(k,)) for k in range(threads)]
    try:
        for t in pool:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        os.fsync = counter._real
    engine.close()
    fsyncs = counter.count if sink == "jsonl" else None
    return Cell(sink, policy, threads, batch, sum(counts), elapsed, fsyncs, counter.seconds)


def fsync_latency(folder: Path, seconds: float) -> list[float]:
    """Seconds of one os.write + os.fsync of 600 bytes appended to a file in `folder`."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    times: list[float] = []
    data = b"x" * 599 + b"\n"
    try:
        deadline = time.perf_counter() + seconds
        while len(times) < 20 or (time.perf_counter() < deadline and len(times) < 2_000):
            t0 = time.perf_counter()
            os.write(fd, data)
            os.fsync(fd)
            times.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        path.unlink()
    return times


def table(cells: Sequence[Cell]) -> str:
    base = {(c.sink, c.threads, c.batch): c.rate for c in cells if c.policy == "none"}
    lines = [
        "| sink | policy | threads | batch | decisions/s | ratio to none | records per fsync | "
        "mean fsync ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in cells:
        none = base.get((c.sink, c.threads, c.batch))
        ratio = f"{c.rate / none:.2f}×" if none else "–"
        per = f"{c.decisions / c.fsyncs:.1f}" if c.fsyncs else "–"
        took = f"{c.fsync_seconds / c.fsyncs * 1e3:.2f}" if c.fsyncs else "–"
        lines.append(
            f"| {c.sink} | {c.policy} | {c.threads} | {c.batch} | {c.rate:,.0f} | {ratio} | {per} "
            f"| {took} |"
        )
    return "\n".join(lines)


def targets(cells: Sequence[Cell], latency: float) -> list[str]:
    out = []
    for policy, target in TARGETS.items():
        cell = next(
            (c for c in cells if (c.sink, c.policy, c.threads, c.batch) == ("jsonl", policy, 8, 1)),
            None,
        )
        if cell is None:
            continue
        verdict = "MET " if cell.rate >= target else "MISS"
        note = ""
        if policy == "group":
            during = cell.fsync_seconds / cell.fsyncs if cell.fsyncs else latency
            note = (
                f" (bound with 8 threads waiting each for its own record: 8 / mean fsync = "
                f"{8 / latency:,.0f}/s by the probe, {8 / during:,.0f}/s by the "
                f"{during * 1e3:.2f} ms fsyncs of this cell)"
            )
        out.append(
            f"  {verdict}  JSON Lines, {policy}, 8 threads ≥ {target:,}/s: {cell.rate:,.0f}/s{note}"
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per cell")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--policies", nargs="+", choices=POLICIES, default=list(POLICIES))
    parser.add_argument("--sink", nargs="+", choices=sorted(SINKS), default=["jsonl", "sqlite"])
    parser.add_argument(
        "--batch", type=int, nargs="+", default=[1], help="applications per call (1: decide())"
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the logs go (a temp dir)")
    args = parser.parse_args(argv)
    plain = Engine(MATTERS)
    matters = list(plain.versions(REFERENCE))
    version = plain.version_on(REFERENCE, ON)
    assert version is not None
    apps = list(itertools.islice(applications(version, on=ON, seed=0), 1_000))
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="throughput-") as name:
        folder = Path(name)
        print(
            f"reference matter {REFERENCE}, 1,000 generated valid applications, keyed logs in "
            f"{folder.parent}, {args.seconds:g} s per cell"
        )
        print(machine())
        probe = fsync_latency(folder, min(1.0, args.seconds))
        latency = statistics.fmean(probe)
        print(
            f"os.write + os.fsync of 600 bytes: mean {latency * 1e3:.3f} ms, median "
            f"{statistics.median(probe) * 1e3:.3f} ms, p90 "
            f"{statistics.quantiles(probe, n=10)[-1] * 1e3:.3f} ms ({len(probe)} times)"
        )
        cells = [
            run_cell(folder, sink, policy, threads, args.seconds, matters, apps, batch)
            for sink in args.sink
            for batch in args.batch
            for policy in args.policies
            for threads in args.threads
        ]
    print(table(cells))
    print()
    for line in targets(cells, latency):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
