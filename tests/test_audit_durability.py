"""Audit sinks under stress: fsync policy, group commit, exclusive lock, fork, SIGKILL, threads,
SQLite, failures."""

from __future__ import annotations

import datetime as dt
import errno
import os
import pickle
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

from reference import REFERENCE
from secondapproval import AuditError, Engine
from secondapproval.audit import (
    DURABLE,
    POLICIES,
    AuditKey,
    Head,
    JsonLinesSink,
    MemorySink,
    SqliteSink,
    StructlogSink,
    log_lines,
    open_log,
    verify_lines,
    verify_log,
)

ON = dt.date(2020, 1, 1)
KEY = b"durability-test-key"
"""The audit key of every log here (verify checks each record's MAC with it)."""
FACTS = {
    "degree": "master",
    "age": 30,
    "graduated_years_ago": 1,
    "has_degree_certificate": True,
    "social_insurance_months": 3,
    "criminal_record": False,
}


@pytest.fixture(scope="module")
def matters(reference_engine: Engine) -> list:
    return list(reference_engine.versions("talent-reference"))


def decide(engine: Engine, n: int) -> list[str]:
    return [engine.decide("talent-reference", FACTS, on=ON).decision_id for _ in range(n)]


def ids_in(log: Path) -> list[str]:
    """The decision ids of a JSON Lines or SQLite log, in its order."""
    return [orjson.loads(line)["decision_id"] for _, line in log_lines(log)]


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
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")
    for _ in range(5):
        synced.clear()
        engine.decide("talent-reference", FACTS, on=ON)
        assert (str(log), log.stat().st_size) in synced  # the whole record was on disk
    engine.close()


def test_fire_and_forget_commits_on_close_and_none_never_fsyncs(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fire-and-forget` holds records until a batch or close; `none` writes at once, no fsync."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    grouped = tmp_path / "fire-and-forget.jsonl"
    sink = JsonLinesSink(grouped, fsync="fire-and-forget", batch=10_000, delay=60)
    with Engine(matters, audit=sink, audit_key=KEY, vouch="all") as engine:
        ids = decide(engine, 50)
        assert grouped.read_bytes() == b""
    assert ids_in(grouped) == ids
    assert verify_log(grouped, key=KEY).ok
    plain = tmp_path / "none.jsonl"
    sink = JsonLinesSink(plain, fsync="none")
    with Engine(
        matters, audit=sink, audit_key=KEY, vouch="all"
    ) as engine:  # opened: its head MACed, fsynced
        synced.clear()
        ids = decide(engine, 20)
        assert ids_in(plain) == ids
    assert str(plain) not in synced
    assert f"{plain}.head" not in synced
    assert verify_log(plain, key=KEY).ok


def test_fire_and_forget_flushes_within_its_delay(tmp_path: Path, matters: list) -> None:
    """`fire-and-forget` commits pending records by itself after its delay, without close."""
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="fire-and-forget", delay=0.01)
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")
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
        matters,
        audit=JsonLinesSink(tmp_path / "a.jsonl", fsync="always"),
        audit_key=KEY,
        vouch="all",
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


@pytest.mark.parametrize("policy", ["group", "fire-and-forget"])
def test_a_failed_batch_commit_is_raised_by_the_next_write_or_close(
    tmp_path: Path, matters: list, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch commit that fails is never silent: the next decide or close raises AuditError."""
    sink = JsonLinesSink(tmp_path / "a.jsonl", fsync=policy, batch=1, delay=0.005)
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")

    def vanished(fd: int, data: object) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(os, "write", vanished)  # the file vanishes under the sink
    if policy in DURABLE:  # the decision waits for its own commit, so it fails at once
        with pytest.raises(AuditError, match="not written"):
            engine.decide("talent-reference", FACTS, on=ON)

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

CRASH_CHILD = """
import os, sys, threading
from secondapproval import Engine
from secondapproval.audit import open_log

log, policy = sys.argv[1], sys.argv[2]
sink = open_log(log, key={key!r}, fsync=policy)
engine = Engine({matters!r}, audit=sink, audit_key={key!r}, vouch="all")
facts = {facts!r}

def work(k):
    while True:
        if k % 2:  # half the threads decide in batches (one commit each)
            ids = [d.decision_id for d in engine.decide_many("talent-reference", [facts] * 16)]
        else:
            ids = [engine.decide("talent-reference", facts).decision_id]
        os.write(1, b"".join(b"D " + i.encode() + b"\\n" for i in ids))  # once returned

threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range({threads})]
os.write(1, b"ready\\n")
for t in threads:
    t.start()
for t in threads:
    t.join()
"""
THREADS = 8
CRASH_CONFIGS = [("audit.jsonl", policy) for policy in POLICIES] + [("audit.sqlite", "group")]


def crash_runs(log: Path, policy: str, runs: int, seed: int) -> list[str]:
    """`runs` times: a child decides into `log` with 8 threads and is SIGKILLed at a random moment,
    then the log is reopened (recovered) and closed. The ids the child printed, each once its
    decide() had returned."""
    rng = random.Random(f"{seed}:{log.name}:{policy}")
    code = CRASH_CHILD.format(key=KEY, matters=str(REFERENCE), facts=FACTS, threads=THREADS)
    errors = log.with_name(log.name + ".stderr")
    # The log's first commit is made here: a kill during it would leave records and the head of
    # the empty log, which reopening refuses like a head rewritten to hide a truncation.
    with Engine(
        REFERENCE, audit=open_log(log, key=KEY, fsync=policy), audit_key=KEY, vouch="all"
    ) as engine:
        returned = decide(engine, 1)
    for _ in range(runs):
        with open(errors, "wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-c", code, str(log), policy],
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        stdout = child.stdout
        assert stdout is not None
        assert stdout.readline() == b"ready\n", errors.read_text()
        out: list[bytes] = []
        reader = threading.Thread(target=lambda f=stdout, o=out: o.append(f.read()))
        reader.start()
        time.sleep(rng.uniform(0.1, 0.5))
        child.send_signal(signal.SIGKILL)
        reader.join()
        child.wait()
        stdout.close()
        assert child.returncode == -signal.SIGKILL, errors.read_text()  # killed, not crashed
        assert b"Traceback" not in errors.read_bytes(), errors.read_text()
        returned += [w[2:].decode() for w in b"".join(out).splitlines() if w.startswith(b"D ")]
        sink = open_log(log, key=KEY, fsync=policy)  # reopen: recover, continue the chain
        sink.close()
        if isinstance(sink, JsonLinesSink) and sink.recovered is not None:
            assert Path(sink.recovered.moved_to).stat().st_size >= sink.recovered.size
    return returned


def lost_after_crashes(log: Path, policy: str, runs: int, returned: list[str]) -> int:
    """How many returned decisions a crashed log lacks; fails if it does not verify with the key,
    holds a decision twice, or lost one under a policy that promised it."""
    report = verify_log(log, key=KEY)
    assert report.ok, f"{log.name} {policy}: {report.summary()}"
    logged = ids_in(log)
    assert len(set(logged)) == len(logged)
    assert returned, f"{log.name} {policy}: the child returned no decision"
    lost = set(returned) - set(logged)
    if policy == "fire-and-forget":
        # at most what was pending (back-pressure stops at 8 batches) and a batch being written
        assert len(lost) <= runs * 16 * 512
    else:  # durable, or (none) in the page cache before decide() returned: kill -9 loses nothing
        assert not lost, f"{log.name} {policy}: {len(lost)} of {len(returned)} returned ids lost"
    return len(lost)


def crash_every_policy(tmp_path: Path, runs: int, seed: int) -> dict[str, tuple[int, int]]:
    """Crash every configuration `runs` times, the configurations side by side (one thread each);
    per configuration, (lost, returned)."""
    results: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def one(name: str, policy: str) -> None:
        folder = tmp_path / f"{policy}-{name}"
        folder.mkdir()
        try:
            results[f"{name} {policy}"] = crash_runs(folder / name, policy, runs, seed)
        except BaseException as exc:  # raised again in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=one, args=config) for config in CRASH_CONFIGS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    summary = {}
    for name, policy in CRASH_CONFIGS:
        returned = results[f"{name} {policy}"]
        lost = lost_after_crashes(tmp_path / f"{policy}-{name}" / name, policy, runs, returned)
        summary[f"{name} {policy}"] = (lost, len(returned))
    print()
    for config, (lost, returned_count) in summary.items():
        print(f"kill -9 × {runs}, {config}: {lost} of {returned_count} returned decisions lost")
    return summary


@pytest.mark.long
def test_sigkill_under_every_policy(tmp_path: Path) -> None:
    """Killed at random moments while 8 threads decide, a child leaves every decision it returned
    in a log that verifies with the key (`always`, `group`, `none`, SQLite `group`); under
    `fire-and-forget` the log still verifies, only its unflushed tail is lost."""
    crash_every_policy(tmp_path, runs=2, seed=4)


@pytest.mark.slow
def test_sigkill_25_times_under_every_policy(tmp_path: Path) -> None:
    """The same, 25 kills per policy (`make fuzz`; `-s` prints the losses of fire-and-forget)."""
    crash_every_policy(tmp_path, runs=25, seed=25)


def test_a_torn_last_line_is_moved_aside_reported_and_the_chain_continues(
    tmp_path: Path, matters: list
) -> None:
    """Reopening a log with a torn tail moves the bytes to LOG.torn, reports it and continues."""
    log = tmp_path / "audit.jsonl"
    with Engine(matters, audit=JsonLinesSink(log), audit_key=KEY, vouch="all") as engine:
        decide(engine, 5)
    whole = log.read_bytes()
    torn = b'{"backend":"native 1","decision_id":"abc'
    log.write_bytes(whole + torn)
    report = verify_log(log, key=KEY)
    assert report.first is not None
    assert report.first.kind == "torn"
    assert report.first.line == 6
    sink = JsonLinesSink(log, key=KEY)
    assert sink.recovered is not None
    assert sink.recovered.size == len(torn)
    assert Path(sink.recovered.moved_to).read_bytes() == torn + b"\n"
    with Engine(matters, audit=sink, audit_key=KEY, vouch="all") as engine:
        decide(engine, 3)
    report = verify_log(log, key=KEY)
    assert report.ok
    assert report.records == 8
    assert report.notes
    assert "moved aside" in report.notes[0]


def test_truncated_log_is_detected_and_refused_for_writing(tmp_path: Path, matters: list) -> None:
    """Whole records cut from the end are reported by verify and the sink will not reopen."""
    log = tmp_path / "audit.jsonl"
    with Engine(matters, audit=JsonLinesSink(log), audit_key=KEY, vouch="all") as engine:
        decide(engine, 10)
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:7]))
    report = verify_log(log, key=KEY)
    assert report.first is not None
    assert report.first.kind == "truncated"
    with pytest.raises(AuditError, match="records are missing"):
        JsonLinesSink(log, key=KEY)


def test_expect_head_catches_a_rewritten_tail(tmp_path: Path, matters: list) -> None:
    """A head stored elsewhere exposes a tail cut and a head file rewritten to match it."""
    log = tmp_path / "audit.jsonl"
    with Engine(matters, audit=JsonLinesSink(log), audit_key=KEY, vouch="all") as engine:
        decide(engine, 10)
    kept = Head.parse(str(verify_log(log, key=KEY).head))
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:6]))
    last = orjson.loads(lines[5])
    head_file = tmp_path / "audit.jsonl.head"
    head_file.write_bytes(Head(6, last["hash"]).to_bytes())  # rewritten without the key
    assert verify_log(log, chain_only=True).ok  # the chain alone cannot tell
    assert any(p.kind == "head" for p in verify_log(log, key=KEY).problems)
    mac = AuditKey(KEY).head_mac(6, last["hash"])
    head_file.write_bytes(Head(6, last["hash"], mac).to_bytes())  # rewritten with the key
    assert verify_log(log, key=KEY).ok
    report = verify_log(log, key=KEY, expect_head=kept)
    assert report.first is not None
    assert report.first.kind == "truncated"


# ---- concurrency --------------------------------------------------------------------------


@pytest.mark.long
def test_eight_threads_make_one_chain_of_eighty_thousand_records(
    tmp_path: Path, matters: list
) -> None:
    """8 threads × 10,000 decisions give one valid chain of exactly 80,000 records."""
    log = tmp_path / "audit.jsonl"
    engine = Engine(matters, audit=JsonLinesSink(log, fsync="none"), audit_key=KEY, vouch="all")
    ids: list[list[str]] = [[] for _ in range(8)]

    def work(k: int) -> None:
        ids[k] = decide(engine, 10_000)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    report = verify_log(log, key=KEY)
    assert report.ok, report.summary()
    assert report.records == 80_000
    assert report.head.count == 80_000
    assert sorted(ids_in(log)) == sorted(i for chunk in ids for i in chunk)


def test_fire_and_forget_under_back_pressure_keeps_one_chain(tmp_path: Path, matters: list) -> None:
    """With tiny batches, threads that wait for the disk still make one gapless chain."""
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="fire-and-forget", batch=4, delay=0.001)
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")
    threads = [threading.Thread(target=decide, args=(engine, 1500)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    report = verify_log(log, key=KEY)
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
        vouch="all",
    ) as engine:
        ids = decide(engine, 25)
    assert verify_lines(enumerate(memory.lines, 1), heads=[(memory.head, "head")], key=KEY).ok
    logged = [(str(e["record"]) + "\n").encode() for e in events]
    assert verify_lines(enumerate(logged, 1), key=KEY).ok
    assert [orjson.loads(x)["decision_id"] for x in logged] == ids
    assert [orjson.loads(x)["decision_id"] for x in memory.lines] == ids
    assert verify_log(tmp_path / "a.sqlite", key=KEY).ok


# ---- SQLite -------------------------------------------------------------------------------


def test_sqlite_log_is_wal_indexed_continues_and_detects_tampering(
    tmp_path: Path, matters: list
) -> None:
    """SQLite: WAL mode, indexed by decision and matter, reopened it continues; edits detected."""
    db = tmp_path / "audit.sqlite"
    for policy in POLICIES:
        with Engine(
            matters, audit=SqliteSink(db, fsync=policy), audit_key=KEY, vouch="all"
        ) as engine:
            decide(engine, 20)
    report = verify_log(db, key=KEY)
    assert report.ok
    assert report.records == 20 * len(POLICIES)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[1] for r in con.execute("PRAGMA index_list(audit)")}
    assert {"audit_decision", "audit_matter"} <= indexes
    con.execute(
        "UPDATE audit SET record = replace(record, '\"age\":30', '\"age\":31') WHERE seq = 7"
    )
    con.commit()
    report = verify_log(db, key=KEY)
    assert report.first is not None
    assert (report.first.line, report.first.kind) == (7, "edited")
    con.execute("DELETE FROM audit WHERE seq >= 50")
    con.commit()
    con.close()
    assert any(p.kind == "truncated" for p in verify_log(db, key=KEY).problems)


# ---- group commit -------------------------------------------------------------------------


def slow_fsyncs_of(log: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every fsync take a real disk's 2 ms (other writers queue meanwhile); the list
    returned receives the log's size at each completed fsync of `log`, in order of completion."""
    synced: list[int] = []
    real_fsync = os.fsync

    def disk_fsync(fd: int) -> None:
        path, size = os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size
        time.sleep(0.002)
        real_fsync(fd)
        if path == str(log):
            synced.append(size)

    monkeypatch.setattr(os, "fsync", disk_fsync)
    return synced


def assert_each_returned_after_its_fsync(
    log: Path, key: bytes, seen: dict[str, int], synced: list[int]
) -> None:
    """The log verifies, holds exactly the decisions in `seen`, and each of them (with how many
    fsyncs had completed when it returned) had its whole line covered by one of those fsyncs."""
    assert verify_log(log, key=key).ok
    ends, offset = {}, 0
    for _, line in log_lines(log):
        offset += len(line)
        ends[orjson.loads(line)["decision_id"]] = offset
    assert sorted(ends) == sorted(seen)
    for decision_id, before in seen.items():
        assert before, decision_id
        assert ends[decision_id] <= max(synced[:before]), decision_id


def test_group_commit_shares_fsyncs_and_returns_only_after_its_own(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 8 threads, `group` makes far fewer fsyncs than records, and every decide() returns
    only after an fsync that covered its record's line had completed."""
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="group")
    synced = slow_fsyncs_of(log, monkeypatch)
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")
    seen: dict[str, int] = {}
    """Per decision, how many fsyncs of the log had completed when its decide() returned."""

    def work() -> None:
        for _ in range(60):
            decision_id = engine.decide("talent-reference", FACTS, on=ON).decision_id
            seen[decision_id] = len(synced)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    commits = len(synced)
    engine.close()
    monkeypatch.undo()
    assert len(seen) == 480
    assert commits * 3 <= len(seen), f"{commits} fsyncs for {len(seen)} records"
    assert_each_returned_after_its_fsync(log, KEY, seen, synced)


def fail_the_nth_fsync_of(log: Path, nth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fsync takes 2 ms; the `nth` fsync of `log` fails with EIO (a dying disk)."""
    real_fsync = os.fsync
    fsyncs = [0]

    def failing_fsync(fd: int) -> None:
        time.sleep(0.002)
        if os.readlink(f"/proc/self/fd/{fd}") == str(log):
            fsyncs[0] += 1
            if fsyncs[0] == nth:
                raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)


def test_a_failed_group_commit_fails_every_writer_it_held_and_refuses_the_rest(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8 threads under `group`; the log's 6th fsync fails. No writer hangs: each decide()
    returns (its record was in an fsync that completed) or raises AuditError, and every decide()
    after the failure is refused; the log then holds exactly the records of returned decisions
    and of the failed batch (written, never confirmed)."""
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="group")
    fail_the_nth_fsync_of(log, 6, monkeypatch)
    engine = Engine(matters, audit=sink, audit_key=KEY, vouch="all")
    returned: list[str] = []
    refused: list[str] = []

    def work() -> None:
        for _ in range(40):
            try:
                returned.append(engine.decide("talent-reference", FACTS, on=ON).decision_id)
            except AuditError as exc:
                refused.append(str(exc))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer waits forever"
    monkeypatch.undo()
    assert len(returned) + len(refused) == 320
    assert returned
    assert any("audit record not written" in r for r in refused)
    assert any("refuses records" in r for r in refused)
    with pytest.raises(AuditError):
        engine.close()
    stored = [orjson.loads(line)["decision_id"] for _, line in log_lines(log)]
    assert set(returned) <= set(stored)
    assert len(stored) - len(returned) <= 8  # at most one batch written and never confirmed


# ---- batches (decide_many) ----------------------------------------------------------------

BATCH_APPS = [
    FACTS,
    {**FACTS, "age": 50},
    {**FACTS, "degree": "phd"},
    {**FACTS, "age": "30"},
    {**FACTS, "extra": None},
    [],
]
"""An approval, a failed rule, an invalid enum, a string for an int, an undeclared key, not an
object: each batch mixes decisions of every kind."""


@pytest.mark.parametrize("policy", POLICIES)
def test_a_batch_is_one_commit_in_order_and_decided_as_one_by_one(
    tmp_path: Path, matters: list, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """decide_many() into a log: the records follow each other in the batch's order in one chain,
    hold the same decisions as decide() one by one, and a durable policy makes one fsync of the
    log per batch (not one per record), done before decide_many() returns."""
    log = tmp_path / "audit.jsonl"
    real_fsync = os.fsync
    synced: list[int] = []

    def counting_fsync(fd: int) -> None:
        real_fsync(fd)
        if os.readlink(f"/proc/self/fd/{fd}") == str(log):
            synced.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    engine = Engine(matters, audit=JsonLinesSink(log, fsync=policy), audit_key=KEY, vouch="all")
    alone = Engine(matters, vouch="all")
    for _ in range(3):
        before = len(synced)
        batch = engine.decide_many("talent-reference", BATCH_APPS * 4, on=ON)
        assert [d.reasons for d in batch] == [
            alone.decide("talent-reference", a, on=ON).reasons for a in BATCH_APPS * 4
        ]
        if policy in DURABLE:
            assert len(synced) == before + 1
            assert synced[-1] == log.stat().st_size  # every line of the batch was on disk
    assert engine.decide_many("talent-reference", [], on=ON) == []
    engine.close()
    monkeypatch.undo()
    report = verify_log(log, key=KEY)
    assert report.ok, report.summary()
    assert report.records == 3 * 24
    records = [orjson.loads(line) for _, line in log_lines(log)]
    assert [r["seq"] for r in records] == list(range(1, 73))
    outcomes = [r["outcome"] for r in records[:6]]
    assert outcomes == ["approve"] + ["refer"] * 5
    assert records[5]["invalid"] == {"$": "the application is not a JSON object"}
    assert records[4]["invalid"] == {"extra": "not a declared fact of this matter"}


def test_a_failed_batch_commit_returns_no_decision_of_it(
    tmp_path: Path, matters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the fsync of a batch fails, decide_many() raises AuditError (none of its decisions is
    returned unrecorded) and the sink refuses every record after it."""
    log = tmp_path / "audit.jsonl"
    engine = Engine(matters, audit=JsonLinesSink(log, fsync="group"), audit_key=KEY, vouch="all")
    assert len(engine.decide_many("talent-reference", BATCH_APPS, on=ON)) == 6

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(AuditError, match=r"audit record not written: .*No space left"):
        engine.decide_many("talent-reference", BATCH_APPS, on=ON)
    monkeypatch.undo()
    with pytest.raises(AuditError, match="refuses records"):
        engine.decide_many("talent-reference", BATCH_APPS, on=ON)
    with pytest.raises(AuditError, match="refuses records"):
        engine.decide("talent-reference", FACTS, on=ON)


def test_a_batch_reaches_a_sink_without_write_many_record_by_record(matters: list) -> None:
    """A sink that has only `write` (the `Sink` protocol) gets a batch's records one by one."""
    events: list[dict] = []

    class Logger:
        def info(self, event: str, **kw: object) -> None:
            events.append(kw)

    with Engine(matters, audit=StructlogSink(Logger()), audit_key=KEY, vouch="all") as engine:
        ids = [d.decision_id for d in engine.decide_many("talent-reference", BATCH_APPS, on=ON)]
    assert [orjson.loads(str(e["record"]))["decision_id"] for e in events] == ids


def test_a_log_without_its_head_is_refused_until_rebuilt(tmp_path: Path, matters: list) -> None:
    """A deleted head file or an emptied head row is refused on reopen and reported by verify;
    `rebuild_head=True` continues the log once it has been checked."""
    for log in (tmp_path / "audit.jsonl", tmp_path / "audit.sqlite"):
        with Engine(matters, audit=open_log(log, key=KEY), audit_key=KEY, vouch="all") as engine:
            ids = decide(engine, 3)
        if log.suffix == ".jsonl":
            Path(f"{log}.head").unlink()
        else:
            with sqlite3.connect(log) as con:
                con.execute("DELETE FROM head")
            con.close()
        with pytest.raises(AuditError, match="no head"):
            open_log(log, key=KEY)
        assert [p.kind for p in verify_log(log, key=KEY).problems] == ["head"]
        with Engine(
            matters, audit=open_log(log, key=KEY, rebuild_head=True), audit_key=KEY, vouch="all"
        ) as e:
            ids += decide(e, 2)
        assert ids_in(log) == ids
        assert verify_log(log, key=KEY).ok


# ---- one process per sink -----------------------------------------------------------------

FORK_CHILD = """
import os, sys
import orjson
from secondapproval import AuditError, Engine
from secondapproval.audit import log_lines, open_log

facts = {facts!r}
for log, policy in zip(sys.argv[1::2], sys.argv[2::2]):
    sink = open_log(log, key={key!r}, fsync=policy, batch=10_000, delay=60)
    engine = Engine({matters!r}, audit=sink, audit_key={key!r}, vouch="all")
    ids = [engine.decide("talent-reference", facts).decision_id for _ in range(5)]
    held = sum(1 for _ in log_lines(log))
    pid = os.fork()
    if pid == 0:  # the child: an inherited engine and sink
        try:
            engine.decide("talent-reference", facts)
            print(orjson.dumps({{"child": "decided"}}).decode(), flush=True)
        except AuditError as exc:
            print(orjson.dumps({{"child": "refused", "error": str(exc)}}).decode(), flush=True)
        sys.exit(0)  # a normal exit: atexit handlers run
    _, status = os.waitpid(pid, 0)
    after_child = sum(1 for _ in log_lines(log))
    ids += [engine.decide("talent-reference", facts).decision_id for _ in range(5)]
    engine.close()
    print(orjson.dumps({{
        "log": log, "exit": os.waitstatus_to_exitcode(status), "held": held,
        "after_child": after_child, "ids": ids,
    }}).decode(), flush=True)
"""


@pytest.mark.long
def test_a_forked_child_cannot_write_the_parents_log(tmp_path: Path) -> None:
    """After fork(), the child's decide() through the inherited engine raises AuditError and
    writes nothing, its exit flushes nothing of the parent's, and the parent keeps one chain
    (JSON Lines and SQLite, `group` and `fire-and-forget`)."""
    configs = [
        (tmp_path / f"{policy}.{kind}", policy)
        for kind in ("jsonl", "sqlite")
        for policy in ("group", "fire-and-forget")
    ]
    code = FORK_CHILD.format(facts=FACTS, key=KEY, matters=str(REFERENCE))
    args = [str(x) for log, policy in configs for x in (log, policy)]
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    docs = [orjson.loads(line) for line in out.stdout.splitlines()]
    assert len(docs) == 2 * len(configs)
    for (log, policy), child, parent in zip(configs, docs[::2], docs[1::2], strict=True):
        assert child["child"] == "refused", (log.name, child)
        assert "belongs to process" in child["error"]
        assert parent["exit"] == 0
        held = 5 if policy in DURABLE else 0  # fire-and-forget: still pending in the parent
        assert (parent["held"], parent["after_child"]) == (held, held), log.name
        assert ids_in(log) == parent["ids"]  # the parent's ten, in order: one chain
        report = verify_log(log, key=KEY)
        assert report.ok, report.summary()
        assert report.records == 10


def test_a_sink_cannot_be_pickled(tmp_path: Path) -> None:
    """pickle (and so multiprocessing's spawn) refuses a sink with AuditError: open it there."""
    for log in (tmp_path / "audit.jsonl", tmp_path / "audit.sqlite"):
        with open_log(log, key=KEY) as sink, pytest.raises(AuditError, match="another process"):
            pickle.dumps(sink)
