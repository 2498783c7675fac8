"""Audited decisions on an event loop: records committed in batches (`RecordBatcher`), each
decision returned only once its record is durable, failures given to every request held."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import orjson
import pytest

from secondapproval import AuditError, Engine
from secondapproval.audit import JsonLinesSink, SqliteSink, log_lines, verify_log
from secondapproval.audit.batcher import RecordBatcher
from secondapproval.audit.record import Unsealed
from test_audit_durability import (  # the same application, key and versions
    FACTS,
    KEY,
    ON,
    assert_each_returned_after_its_fsync,
    fail_the_nth_fsync_of,
    slow_fsyncs_of,
)


@pytest.fixture(scope="module")
def matters(reference_engine: Engine) -> list:
    return list(reference_engine.versions("talent-reference"))


def test_concurrent_decisions_share_commits_and_each_returns_after_its_own(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 decisions awaited at once on one loop: far fewer fsyncs than records, and every
    decide_async returned only after an fsync that covered its record had completed."""
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="group")
    synced = slow_fsyncs_of(log, monkeypatch)
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")
    seen: dict[str, int] = {}

    async def one() -> None:
        decision = await engine.decide_async("talent-reference", FACTS, on=ON)
        seen[decision.decision_id] = len(synced)

    async def many() -> None:
        for _ in range(3):
            await asyncio.gather(*(one() for _ in range(100)))

    asyncio.run(many())
    commits = len(synced)
    engine.close()
    monkeypatch.undo()
    assert len(seen) == 300
    assert commits * 10 <= len(seen), f"{commits} fsyncs for {len(seen)} records"
    assert_each_returned_after_its_fsync(log, KEY, seen, synced)


def test_a_failed_commit_fails_every_request_it_held_and_the_rest_are_refused(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log's 3rd fsync fails: no request hangs, each either got its decision (its record
    was in a completed fsync) or AuditError, and the log holds every returned decision."""
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="group")
    fail_the_nth_fsync_of(log, 3, monkeypatch)
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")
    returned: list[str] = []
    refused: list[str] = []

    async def one() -> None:
        try:
            decision = await engine.decide_async("talent-reference", FACTS, on=ON)
        except AuditError as exc:
            refused.append(str(exc))
        else:
            returned.append(decision.decision_id)

    async def many() -> None:
        for _ in range(6):
            await asyncio.wait_for(asyncio.gather(*(one() for _ in range(50))), 60)

    asyncio.run(many())
    monkeypatch.undo()
    assert len(returned) + len(refused) == 300
    assert returned
    assert refused
    assert any("refuses records" in r for r in refused)
    with pytest.raises(AuditError):
        engine.close()
    stored = {orjson.loads(line)["decision_id"] for _, line in log_lines(log)}
    assert set(returned) <= stored


def test_a_cancelled_request_still_has_its_record_committed(tmp_path: Path, matters: list) -> None:
    """A request that gives up waiting (a service's time limit) does not withdraw its record:
    it is committed with its batch, and the chain stays whole."""
    log = tmp_path / "audit.sqlite"
    engine = Engine(matters, audit=SqliteSink(log, fsync="group"), audit_key=KEY, vouch="all")
    started = engine.decide("talent-reference", FACTS, on=ON).decision_id

    async def cancelled() -> None:
        tasks = [
            asyncio.ensure_future(engine.decide_async("talent-reference", FACTS, on=ON))
            for _ in range(20)
        ]
        await asyncio.sleep(0)  # every one decided and queued, none committed yet
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.decide_async("talent-reference", FACTS, on=ON)  # after their batch

    asyncio.run(cancelled())
    engine.close()
    ids = [orjson.loads(line)["decision_id"] for _, line in log_lines(log)]
    assert ids[0] == started
    assert len(ids) == 22
    assert verify_log(log, key=KEY).ok


def test_batches_keep_the_order_of_arrival_and_are_bounded() -> None:
    """Records are written in the order their requests handed them over, no batch holds more
    than its bound (a request's records stay together), and a loop commits one batch at a time."""
    written: list[list[Any]] = []
    active = threading.Lock()

    def write_many(records: Sequence[Unsealed]) -> None:
        assert active.acquire(blocking=False), "two batches of one loop at once"
        try:
            time.sleep(0.001)
            written.append(list(records))
        finally:
            active.release()

    batcher = RecordBatcher(write_many, most=16)

    async def many() -> None:
        await asyncio.gather(
            *(batcher.write(cast(Any, [i * 10 + j for j in range(1 + i % 3)])) for i in range(200))
        )

    asyncio.run(many())
    flat = [n for batch in written for n in batch]
    assert flat == [i * 10 + j for i in range(200) for j in range(1 + i % 3)]
    assert all(len(batch) <= 16 for batch in written)
    assert len(written) < 200


@pytest.mark.parametrize(
    ("sink_of", "name"), [(JsonLinesSink, "a.jsonl"), (SqliteSink, "a.sqlite")]
)
def test_a_batch_is_committed_without_waiting_for_writers_that_are_not_coming(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch, sink_of: Any, name: str
) -> None:
    """A group commit of one batch after a commit of ten: the batch is all that is coming (it
    was gathered by the one thread that hands batches over), so the sink does not linger for
    nine more writers. With the linger made 30 s, a lingering commit would hang the test."""
    monkeypatch.setattr("secondapproval.audit.sinks.LINGER", 30.0)
    engine = Engine(
        matters, audit=sink_of(tmp_path / name, fsync="group"), audit_key=KEY, vouch="all"
    )

    async def batches() -> None:
        await asyncio.gather(
            *(engine.decide_async("talent-reference", FACTS, on=ON) for _ in range(10))
        )
        await engine.decide_async("talent-reference", FACTS, on=ON)

    worker = threading.Thread(target=asyncio.run, args=(batches(),), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "a batch waited for writers that were not coming"
    engine.close()
    assert len(list(log_lines(tmp_path / name))) == 11
    assert verify_log(tmp_path / name, key=KEY).ok
