"""Audit trail costs (DESIGN §8): building a record, audited decisions/s per sink, flat memory.

`make bench` times each; the figures go to benchmarks/README.md. Throughput benchmarks time a
batch of decisions per round; `decisions_per_s` in extra_info is the batch size over the mean.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import override

from benchmarks.conftest import ON, REFERENCE, rss_mb
from secondapproval import Engine
from secondapproval.audit import (
    AuditKey,
    ChainSink,
    Head,
    JsonLinesSink,
    RecordBuilder,
    SqliteSink,
)

KEY = b"benchmark-key-0123456789"


class NullSink(ChainSink):
    """Seals every record into its chain and stores nothing: the cost of auditing itself."""

    def __init__(self) -> None:
        super().__init__(fsync="none", where="null sink")

    @override
    def _commit(self, lines: list[bytes], head: Head, durable: bool) -> None:
        """Nothing stored."""

    @override
    def _release(self) -> None:
        """Nothing to release."""


@pytest.fixture(scope="module")
def matters(reference_engine: Engine) -> list[Any]:
    return list(reference_engine.versions(REFERENCE))


def test_build_record(
    benchmark: Any, reference_engine: Engine, reference_app: Any, matters: list[Any]
) -> None:
    """Building one record body from a decision (target ≤ 5 µs with sealing, DESIGN §8)."""
    builder = RecordBuilder(matters, key=KEY, backend="native 1")
    decision = reference_engine.decide(REFERENCE, reference_app, on=ON)
    record = benchmark(builder.build, REFERENCE, decision, reference_app, 1000)
    assert b'"outcome":"approve"' in record.head


def test_build_and_seal_record(
    benchmark: Any, reference_engine: Engine, reference_app: Any, matters: list[Any]
) -> None:
    """Building one record and sealing it (canonical JSON, SHA-256, link, MAC)."""
    key = AuditKey(KEY)
    builder = RecordBuilder(matters, key=key, backend="native 1")
    decision = reference_engine.decide(REFERENCE, reference_app, on=ON)

    def build_and_seal() -> tuple[bytes, str]:
        return builder.build(REFERENCE, decision, reference_app, 1000).seal(1, "0" * 64, key)

    line, _ = benchmark(build_and_seal)
    assert b',"mac":"' in line


def test_decide_without_audit(benchmark: Any, matters: list[Any], reference_app: Any) -> None:
    """decide() with no sink: the baseline the audited figures are compared with."""
    engine = Engine(matters, vouch="all")
    assert benchmark(engine.decide, REFERENCE, reference_app, on=ON).approved


def test_decide_with_null_sink(benchmark: Any, matters: list[Any], reference_app: Any) -> None:
    """decide() with its record built, hashed and chained (target p50 ≤ 8 µs, DESIGN §8)."""
    engine = Engine(matters, audit=NullSink(), audit_key=KEY, vouch="all")
    decision = benchmark(engine.decide, REFERENCE, reference_app, on=ON)
    assert decision.approved


def _throughput(
    benchmark: Any,
    make_sink: Callable[[], ChainSink],
    matters: list[Any],
    apps: list[Any],
    batch: int,
) -> None:
    n = 100 if benchmark.disabled else batch
    engine = Engine(matters, audit=make_sink(), audit_key=KEY, vouch="all")
    decide = engine.decide

    def run() -> None:
        for i in range(n):
            decide(REFERENCE, apps[i % len(apps)], on=ON)

    benchmark.pedantic(run, rounds=1 if benchmark.disabled else 5, iterations=1, warmup_rounds=0)
    engine.close()
    if not benchmark.disabled:
        benchmark.extra_info["decisions_per_s"] = round(n / benchmark.stats.stats.mean)


# one thread: `group` and `always` both wait for an fsync per decision (threads: throughput.py)
@pytest.mark.parametrize(
    ("policy", "batch"),
    [("fire-and-forget", 20_000), ("none", 20_000), ("group", 300), ("always", 300)],
)
def test_jsonl_decisions_per_second(
    benchmark: Any,
    tmp_path: Path,
    matters: list[Any],
    reference_apps: list[Any],
    policy: str,
    batch: int,
) -> None:
    """Audited decisions per second into a JSON Lines log, one thread (fire-and-forget: the
    target is ≥ 50,000/s)."""
    _throughput(
        benchmark,
        lambda: JsonLinesSink(tmp_path / "audit.jsonl", fsync=policy),
        matters,
        reference_apps,
        batch,
    )


# one thread: `group` and `always` both wait for an fsync per decision (threads: throughput.py)
@pytest.mark.parametrize(
    ("policy", "batch"),
    [("fire-and-forget", 20_000), ("none", 20_000), ("group", 300), ("always", 300)],
)
def test_sqlite_decisions_per_second(
    benchmark: Any,
    tmp_path: Path,
    matters: list[Any],
    reference_apps: list[Any],
    policy: str,
    batch: int,
) -> None:
    """Audited decisions per second into a SQLite log (WAL)."""
    _throughput(
        benchmark,
        lambda: SqliteSink(tmp_path / "audit.sqlite", fsync=policy),
        matters,
        reference_apps,
        batch,
    )


DECISIONS = 2_000_000
WARMUP = 200_000
LIMIT_MB = 20


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_rss_is_flat_over_two_million_audited_decisions(
    tmp_path: Path, matters: list[Any], reference_apps: list[Any]
) -> None:
    """RSS grows by less than 20 MB over 2,000,000 decisions audited to a batched log."""
    log = tmp_path / "audit.jsonl"
    engine = Engine(
        matters,
        audit=JsonLinesSink(log, fsync="fire-and-forget"),
        audit_key=KEY,
        vouch="all",
    )
    apps, count = reference_apps, len(reference_apps)
    for i in range(WARMUP):
        engine.decide(REFERENCE, apps[i % count], on=ON)
    before = rss_mb()
    for i in range(DECISIONS - WARMUP):
        engine.decide(REFERENCE, apps[i % count], on=ON)
    growth = rss_mb() - before
    engine.close()
    print(f"\nRSS growth over {DECISIONS - WARMUP:,} audited decisions: {growth:.2f} MB")
    assert growth < LIMIT_MB
