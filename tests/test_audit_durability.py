"""Audit sinks under stress: fsync policy, exclusive lock, SIGKILL, threads, SQLite, failures."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from secondapproval import AuditError, Engine
from secondapproval.audit import (
    Head,
    JsonLinesSink,
    MemorySink,
    SqliteSink,
    StructlogSink,
    open_log,
    verify_lines,
    verify_log,
)

ROOT = Path(__file__).resolve().parent.parent
MATTERS = ROOT / "benchmarks" / "matters"
ON = dt.date(2020, 1, 1)
KEY = b"durability-test-key"
FACTS = {
    "degree": "master",
    "age": 30,
    "graduated_years_ago": 1,
    "has_degree_certificate": True,
    "social_insurance_months": 3,
    "criminal_record": False,
}


@pytest.fixture(scope="module")
def matters() -> list:
    return list(Engine(MATTERS).versions("talent-reference"))


def decide(engine: Engine, n: int) -> list[str]:
    return [engine.decide("talent-reference", FACTS, on=ON).decision_id for _ in range(n)]


def ids_in(log: Path) -> list[str]:
    return [orjson.loads(line)["decision_id"] for line in log.read_bytes().splitlines()]


# ---- fsync policy -------------------------------------------------------------------------


def test_always_fsyncs_each_record_before_decide_returns(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `always`, the log (and its folder, on creation) is fsynced before decide returns."""
    synced: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="always")
    assert (str(tmp_path), os.stat(tmp_path).st_size) in synced  # the folder, on creation
    engine = Engine(matters, audit=sink, audit_key=KEY)
    for _ in range(5):
        synced.clear()
        engine.decide("talent-reference", FACTS, on=ON)
        assert (str(log), log.stat().st_size) in synced  # the whole record was on disk
    engine.close()


def test_group_commits_on_close_and_none_never_fsyncs(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`group` holds records until a batch or close; `none` writes at once and never fsyncs."""
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    grouped = tmp_path / "group.jsonl"
    with Engine(
        matters, audit=JsonLinesSink(grouped, fsync="group", batch=10_000, delay=60), audit_key=KEY
    ) as engine:
        ids = decide(engine, 50)
        assert grouped.read_bytes() == b""
    assert ids_in(grouped) == ids
    assert verify_log(grouped).ok
    plain = tmp_path / "none.jsonl"
    sink = JsonLinesSink(plain, fsync="none")
    synced.clear()
    with Engine(matters, audit=sink, audit_key=KEY) as engine:
        ids = decide(engine, 20)
        assert ids_in(plain) == ids
    assert synced == []
    assert verify_log(plain).ok


def test_group_commit_flushes_within_its_delay(tmp_path: Path, matters: list) -> None:
    """`group` commits pending records by itself after its delay, without close."""
    log = tmp_path / "audit.jsonl"
    engine = Engine(matters, audit=JsonLinesSink(log, fsync="group", delay=0.01), audit_key=KEY)
    ids = decide(engine, 30)
    for _ in range(500):
        if log.stat().st_size and len(ids_in(log)) == 30:
            break
        time.sleep(0.01)
    assert ids_in(log) == ids
    engine.close()


def test_a_failed_write_with_always_raises_and_the_sink_stays_closed(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a record cannot be made durable, decide raises AuditError, now and afterwards."""
    engine = Engine(
        matters, audit=JsonLinesSink(tmp_path / "a.jsonl", fsync="always"), audit_key=KEY
    )
    decide(engine, 2)

    def failing(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(AuditError, match="not written"):
        engine.decide("talent-reference", FACTS, on=ON)
    monkeypatch.undo()
    with pytest.raises(AuditError, match="refuses"):
        engine.decide("talent-reference", FACTS, on=ON)


def test_a_failed_group_commit_is_raised_by_the_next_write_or_close(
    tmp_path: Path, matters: list
) -> None:
    """A group commit that fails is never silent: the next decide or close raises AuditError."""
    sink = JsonLinesSink(tmp_path / "a.jsonl", fsync="group", batch=1, delay=0.005)
    engine = Engine(matters, audit=sink, audit_key=KEY)
    os.close(sink._fd)  # the file vanishes under the sink

    def keep_deciding() -> None:
        for _ in range(1000):
            engine.decide("talent-reference", FACTS, on=ON)
            time.sleep(0.001)

    with pytest.raises(AuditError):
        keep_deciding()
    with pytest.raises(AuditError):
        engine.close()


def test_a_log_that_cannot_be_opened_is_an_audit_error(tmp_path: Path) -> None:
    """A log in a missing folder raises AuditError naming it, for both file kinds."""
    for name in ("audit.jsonl", "audit.sqlite"):
        with pytest.raises(AuditError, match="cannot open the log"):
            open_log(tmp_path / "missing" / name)


# ---- exclusive writer ---------------------------------------------------------------------


def test_a_second_process_cannot_open_the_log_for_writing(tmp_path: Path) -> None:
    """While one process holds a log open, another gets AuditError (and can still verify it)."""
    log = tmp_path / "audit.jsonl"
    db = tmp_path / "audit.sqlite"
    with JsonLinesSink(log), SqliteSink(db):
        code = (
            "import sys\nfrom secondapproval.audit import open_log\nfrom secondapproval import "
            "AuditError\nfor p in sys.argv[1:]:\n    try:\n        open_log(p)\n    except "
            "AuditError as e:\n        print('refused', e)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(log), str(db)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert out.count("refused") == 2
        assert "open for writing elsewhere" in out
        assert verify_log(log).ok
    with JsonLinesSink(log):
        pass  # released on close


# ---- crash safety -------------------------------------------------------------------------

CHILD = """
import sys
from secondapproval import Engine
from secondapproval.audit import JsonLinesSink
facts = {facts!r}
engine = Engine({matters!r}, audit=JsonLinesSink(sys.argv[1], fsync="always"), audit_key=b"k")
print("ready", flush=True)
while True:
    d = engine.decide("talent-reference", facts)
    print(d.decision_id, flush=True)
"""


def test_sigkill_loses_no_returned_decision(tmp_path: Path) -> None:
    """Killed at random moments, a child leaves every decision it returned in a valid chain."""
    log = tmp_path / "audit.jsonl"
    code = CHILD.format(facts=FACTS, matters=str(MATTERS))
    rng = random.Random(4)
    returned: list[str] = []
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", code, str(log)], stdout=subprocess.PIPE)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.1, 0.6))
        child.send_signal(signal.SIGKILL)
        out = child.stdout.read()
        child.wait()
        returned += [w.decode() for w in out.split()]
        sink = JsonLinesSink(log, fsync="always")  # reopen: recover, continue the chain
        sink.close()
        if sink.recovered is not None:
            assert Path(sink.recovered.moved_to).stat().st_size >= sink.recovered.size
    assert returned
    assert set(returned) <= set(ids_in(log))
    report = verify_log(log)
    assert report.ok, report.summary()


def test_a_torn_last_line_is_moved_aside_reported_and_the_chain_continues(
    tmp_path: Path, matters: list
) -> None:
    """Reopening a log with a torn tail moves the bytes to LOG.torn, reports it and continues."""
    log = tmp_path / "audit.jsonl"
    with Engine(matters, audit=JsonLinesSink(log), audit_key=KEY) as engine:
        decide(engine, 5)
    whole = log.read_bytes()
    torn = b'{"backend":"native 1","decision_id":"abc'
    log.write_bytes(whole + torn)
    report = verify_log(log)
    assert report.first is not None
    assert report.first.kind == "torn"
    assert report.first.line == 6
    sink = JsonLinesSink(log)
    assert sink.recovered is not None
    assert sink.recovered.size == len(torn)
    assert Path(sink.recovered.moved_to).read_bytes() == torn + b"\n"
    with Engine(matters, audit=sink, audit_key=KEY) as engine:
        decide(engine, 3)
    report = verify_log(log)
    assert report.ok
    assert report.records == 8
    assert report.notes
    assert "moved aside" in report.notes[0]


def test_truncated_log_is_detected_and_refused_for_writing(tmp_path: Path, matters: list) -> None:
    """Whole records cut from the end are reported by verify and the sink will not reopen."""
    log = tmp_path / "audit.jsonl"
    with Engine(matters, audit=JsonLinesSink(log), audit_key=KEY) as engine:
        decide(engine, 10)
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:7]))
    report = verify_log(log)
    assert report.first is not None
    assert report.first.kind == "truncated"
    with pytest.raises(AuditError, match="records are missing"):
        JsonLinesSink(log)


def test_expect_head_catches_a_rewritten_tail(tmp_path: Path, matters: list) -> None:
    """A head stored elsewhere exposes a tail cut and a head file rewritten to match it."""
    log = tmp_path / "audit.jsonl"
    with Engine(matters, audit=JsonLinesSink(log), audit_key=KEY) as engine:
        decide(engine, 10)
    kept = Head.parse(str(verify_log(log).head))
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:6]))
    last = orjson.loads(lines[5])
    (tmp_path / "audit.jsonl.head").write_bytes(Head(6, last["hash"]).to_bytes())
    assert verify_log(log).ok
    report = verify_log(log, expect_head=kept)
    assert report.first is not None
    assert report.first.kind == "truncated"


# ---- concurrency --------------------------------------------------------------------------


def test_eight_threads_make_one_chain_of_eighty_thousand_records(
    tmp_path: Path, matters: list
) -> None:
    """8 threads × 10,000 decisions give one valid chain of exactly 80,000 records."""
    log = tmp_path / "audit.jsonl"
    engine = Engine(matters, audit=JsonLinesSink(log, fsync="none"), audit_key=KEY)
    ids: list[list[str]] = [[] for _ in range(8)]

    def work(k: int) -> None:
        ids[k] = decide(engine, 10_000)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    report = verify_log(log)
    assert report.ok, report.summary()
    assert report.records == 80_000
    assert report.head.count == 80_000
    assert sorted(ids_in(log)) == sorted(i for chunk in ids for i in chunk)


def test_group_commit_under_back_pressure_keeps_one_chain(tmp_path: Path, matters: list) -> None:
    """With tiny batches, threads that wait for the disk still make one gapless chain."""
    log = tmp_path / "audit.jsonl"
    engine = Engine(
        matters, audit=JsonLinesSink(log, fsync="group", batch=4, delay=0.001), audit_key=KEY
    )
    threads = [threading.Thread(target=decide, args=(engine, 1500)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    report = verify_log(log)
    assert report.ok, report.summary()
    assert report.records == 6000


def test_several_sinks_each_keep_their_own_chain(tmp_path: Path, matters: list) -> None:
    """One engine writing to three sinks gives three valid chains of the same decisions."""
    memory = MemorySink()
    events: list[dict] = []

    class Logger:
        def info(self, event: str, **kw: object) -> None:
            events.append({"event": event, **kw})

    with Engine(
        matters,
        audit=[memory, open_log(tmp_path / "a.sqlite"), StructlogSink(Logger())],
        audit_key=KEY,
    ) as engine:
        ids = decide(engine, 25)
    assert verify_lines(enumerate(memory.lines, 1), heads=[(memory.head, "head")]).ok
    logged = [(str(e["record"]) + "\n").encode() for e in events]
    assert verify_lines(enumerate(logged, 1)).ok
    assert [orjson.loads(x)["decision_id"] for x in logged] == ids
    assert verify_log(tmp_path / "a.sqlite").ok


# ---- SQLite -------------------------------------------------------------------------------


def test_sqlite_log_is_wal_indexed_continues_and_detects_tampering(
    tmp_path: Path, matters: list
) -> None:
    """SQLite: WAL mode, indexed by decision and matter, reopened it continues; edits detected."""
    db = tmp_path / "audit.sqlite"
    for policy in ("always", "group", "none"):
        with Engine(matters, audit=SqliteSink(db, fsync=policy), audit_key=KEY) as engine:
            decide(engine, 20)
    report = verify_log(db)
    assert report.ok
    assert report.records == 60
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[1] for r in con.execute("PRAGMA index_list(audit)")}
    assert {"audit_decision", "audit_matter"} <= indexes
    con.execute(
        "UPDATE audit SET record = replace(record, '\"age\":30', '\"age\":31') WHERE seq = 7"
    )
    con.commit()
    report = verify_log(db)
    assert report.first is not None
    assert (report.first.line, report.first.kind) == (7, "edited")
    con.execute("DELETE FROM audit WHERE seq >= 50")
    con.commit()
    con.close()
    assert any(p.kind == "truncated" for p in verify_log(db).problems)
