"""The PostgreSQL audit sink on a real server: chains side by side, one commit per batch, the
advisory lock, tampering, group commit, kill -9, the CLI's URLs (never showing the password)."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from postgres import (
    PostgresServer,
    free_port,
    postgres,  # noqa: F401
)
from reference import REFERENCE
from secondapproval import AuditError, Engine
from secondapproval.audit import (
    DURABLE,
    POLICIES,
    Head,
    PostgresSink,
    SqliteSink,
    log_lines,
    log_targets,
    postgres_chains,
    verify_log,
    with_chain,
)
from secondapproval.audit.postgres import (
    Target,
    lock_key,
    postgres_head,
    postgres_lines,
    postgres_record,
)
from secondapproval.cli import main
from test_audit_durability import FACTS, FORK_CHILD, KEY, ON

DATABASE = "audit_postgres"
_schemas = itertools.count()


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> str:  # noqa: F811
    """The URL of this module's database, password included (each test adds its own schema)."""
    postgres.create_database(DATABASE)
    return postgres.url_of(DATABASE).replace("@", f":{postgres.password}@", 1)


@pytest.fixture
def url(database: str) -> str:
    """A schema of this test's own in the module's database (created by the first sink)."""
    return f"{database}?schema=t{next(_schemas)}"


@pytest.fixture
def admin(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A session in the test's schema, to change the tables behind the sinks' backs."""
    target = Target.parse(url)
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {target.schema}")
        conn.execute(f"SET search_path = {target.schema}")
        yield conn


def engine_on(sink: PostgresSink) -> Engine:
    return Engine(REFERENCE, audit=sink, audit_key=KEY, vouch="all")


def decide(engine: Engine, n: int) -> list[str]:
    return [engine.decide("talent-reference", FACTS, on=ON).decision_id for _ in range(n)]


def written(url: str, chain: str = "main", n: int = 20, policy: str = "group") -> list[str]:
    """`n` decisions recorded in a chain (opened, written, closed); their ids."""
    with engine_on(PostgresSink(url, chain=chain, key=KEY, fsync=policy)) as engine:
        return decide(engine, n)


def ids_of(url: str, chain: str = "main") -> list[str]:
    return [orjson.loads(line)["decision_id"] for _, line in postgres_lines(url, chain=chain)]


def problems(url: str, chain: str = "main") -> list[tuple[int | None, str]]:
    report = verify_log(with_chain(url, chain), key=KEY)
    return [(p.line, p.kind) for p in report.problems]


# ---- targets (no server) --------------------------------------------------------------------


def test_a_url_names_its_chain_and_schema_and_is_shown_without_its_password() -> None:
    """`chain` and `schema` are read from the URL (not given to libpq); the password is in what
    libpq gets, never in what messages show, nor in the repr."""
    target = Target.parse("postgres://ann:s%3Acret@db.example:6432/audit?chain=w3&sslmode=require")
    assert (target.chain, target.schema, target.secret) == ("w3", None, "s:cret")
    assert target.conninfo == "postgres://ann:s%3Acret@db.example:6432/audit?sslmode=require"
    assert target.where == "postgres://ann@db.example:6432/audit?sslmode=require&chain=w3"
    assert "cret" not in repr(target)
    assert target.scrub("password s:cret refused") == "password *** refused"
    libpq = Target.parse("host=h port=5 dbname=d user=u password='a b'", chain="w0")
    assert libpq.where == "postgresql://u@h:5/d?chain=w0"
    assert libpq.secret == "a b"
    query = Target.parse("postgresql://u@h/d?password=pw&schema=audit")
    assert (query.where, query.schema) == ("postgresql://u@h/d?schema=audit", "audit")


def test_with_chain_names_a_chain_and_bad_names_are_refused() -> None:
    """`with_chain` replaces the URL's chain; a chain or schema that is no plain name is refused,
    and so is a chain given twice differently."""
    assert with_chain("postgresql://u@h/d?chain=w0", "w1") == "postgresql://u@h/d?chain=w1"
    for bad in ("a b", "-w", "x" * 64, "w'0", "é"):
        with pytest.raises(AuditError, match="chain name"):
            Target.parse("postgresql://u@h/d", chain=bad)
    with pytest.raises(AuditError, match="chain name"):
        with_chain("postgresql://u@h/d", "w 0")
    with pytest.raises(AuditError, match="schema name"):
        Target.parse("postgresql://u@h/d?schema=a.b")
    with pytest.raises(AuditError, match="names chain w0, not w1"):
        Target.parse("postgresql://u@h/d?chain=w0", chain="w1")
    assert lock_key("w0") != lock_key("w1") != lock_key("w1", "s")


# ---- writing and verifying --------------------------------------------------------------------


def test_decisions_are_recorded_in_their_chain_and_verify_with_the_key(url: str) -> None:
    """Decisions one by one and in a batch make one chain, in order, that verifies with the key
    (authenticated); each is found by its decision id; the head row names the last record."""
    sink = PostgresSink(url, key=KEY)
    with engine_on(sink) as engine:
        ids = decide(engine, 30)
        ids += [d.decision_id for d in engine.decide_many("talent-reference", [FACTS] * 16)]
    assert ids_of(url) == ids
    report = verify_log(url, key=KEY)
    assert report.ok, report.summary()
    assert (report.records, report.authenticated) == (46, True)
    assert report.source == Target.parse(url).where  # the chain `main`, no password
    assert postgres_head(url) == report.head == sink.head
    found = postgres_record(url, ids[7])
    assert found is not None
    assert found[:2] == ("main", 8)
    assert orjson.loads(found[2])["decision_id"] == ids[7]
    assert postgres_record(url, "no-such-decision") is None
    assert sink.rules_store is None


def test_every_policy_continues_the_same_chain(url: str) -> None:
    """Opened under each fsync policy in turn, a chain continues where it ended: one chain."""
    ids = [i for policy in POLICIES for i in written(url, n=10, policy=policy)]
    assert ids_of(url) == ids
    report = verify_log(url, key=KEY)
    assert report.ok, report.summary()
    assert report.records == 10 * len(POLICIES)


def test_a_durable_commit_is_synchronous_and_none_is_not(url: str) -> None:
    """A durable policy's session commits with synchronous_commit on (the test server's default is
    off); `none`'s with it off."""
    for policy, expected in (("group", "on"), ("always", "on"), ("none", "off")):
        sink = PostgresSink(url, chain=f"sync-{policy}", key=KEY, fsync=policy)
        try:
            row = sink._conn.execute("SHOW synchronous_commit").fetchone()
            assert row is not None
            assert row[0] == expected, policy
        finally:
            sink.close()


def test_chains_side_by_side_each_verify_and_cli_verifies_them_all(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Workers' chains w0, w1, w2 written at once are each one chain; `audit verify URL` (no
    chain) verifies every chain and sums up; `head` and `show` read them; no output shows the
    password."""
    sinks = [PostgresSink(url, chain=f"w{n}", key=KEY) for n in range(3)]
    engines = [engine_on(sink) for sink in sinks]
    ids: dict[str, list[str]] = {f"w{n}": [] for n in range(3)}
    for _ in range(10):
        for n, engine in enumerate(engines):
            ids[f"w{n}"] += decide(engine, 1)
    for engine in engines:
        engine.close()
    assert postgres_chains(url) == ["w0", "w1", "w2"]
    assert log_targets(url) == [with_chain(url, c) for c in ("w0", "w1", "w2")]
    for chain, chain_ids in ids.items():
        assert ids_of(url, chain) == chain_ids
    key = tmp_path / "audit.key"
    key.write_bytes(KEY)
    secret = Target.parse(url).secret
    assert secret
    assert main(["audit", "verify", url, "--audit-key", str(key)]) == 0
    out, err = capsys.readouterr()
    assert out.count("one valid chain (authenticated)") == 3
    assert f"{Target.parse(url).shown}?chain=w2&schema=" in out
    assert out.splitlines()[-1] == "ok: 3 logs, each one valid chain"
    assert main(["audit", "head", url]) == 0
    heads = capsys.readouterr().out.split()
    assert heads[0::2] == ["w0", "w1", "w2"]
    assert heads[1::2] == [str(postgres_head(url, chain=c)) for c in ("w0", "w1", "w2")]
    assert main(["audit", "head", with_chain(url, "w1")]) == 0
    assert capsys.readouterr().out.strip() == heads[3]
    assert main(["audit", "show", url, ids["w2"][4]]) == 0
    shown = capsys.readouterr().out
    assert "(chain w2, row 5, record 5)" in shown
    assert main(["audit", "verify", url]) == 1  # no key: unauthenticated
    out, err = capsys.readouterr()
    assert "FAILED: 3 of 3 logs" in out
    for text in (out, err, shown):
        assert secret not in text


def test_the_cli_records_decisions_in_a_chain_and_needs_a_key_file(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`decide --audit URL?chain=w0 --audit-key FILE` records the decision in that chain; with no
    key file nor $SECONDAPPROVAL_AUDIT_KEY it is refused (no LOG.key beside a database)."""
    monkeypatch.delenv("SECONDAPPROVAL_AUDIT_KEY", raising=False)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS), encoding="utf-8")
    key = tmp_path / "audit.key"
    key.write_bytes(KEY)
    decide_args = ["decide", "talent-reference", str(facts), "--rules", str(REFERENCE)]
    decide_args += ["--vouch", "all", "--audit", with_chain(url, "w0")]
    assert main([*decide_args, "--audit-key", str(key)]) == 0
    assert len(ids_of(url, "w0")) == 1
    capsys.readouterr()
    assert main(decide_args) == 2
    err = capsys.readouterr().err
    assert "needs its audit key" in err
    secret = Target.parse(url).secret
    assert secret
    assert secret not in err
    monkeypatch.setenv("SECONDAPPROVAL_AUDIT_KEY", KEY.decode())
    assert main(decide_args) == 0
    assert main(["audit", "verify", with_chain(url, "w0")]) == 0
    assert "2 records, one valid chain (authenticated)" in capsys.readouterr().out


def test_a_missing_chain_is_no_log_and_replay_needs_rule_folders(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify_log of a chain the database does not hold raises AuditError (as a missing file
    does); `audit verify --replay` of a PostgreSQL log asks for --rules (no LOG.rules beside it)."""
    written(url, "w0", n=2)
    with pytest.raises(AuditError, match="no such log"):
        verify_log(with_chain(url, "w9"), key=KEY)
    assert main(["audit", "verify", with_chain(url, "w0"), "--replay"]) == 2
    assert "give --rules DIR" in capsys.readouterr().err
    assert (
        main(["audit", "verify", with_chain(url, "w0"), "--rules", str(REFERENCE), "--chain-only"])
        == 0
    )
    assert "2 records" in capsys.readouterr().out


def test_a_wrong_password_is_an_audit_error_that_does_not_show_it(url: str) -> None:
    """A refused connection raises AuditError naming the database, never the password given."""
    wrong = url.replace(f":{Target.parse(url).secret}@", ":WrongPassword@")
    with pytest.raises(AuditError, match="password authentication failed") as caught:
        PostgresSink(wrong, key=KEY)
    assert "WrongPassword" not in str(caught.value)
    with pytest.raises(AuditError, match="cannot connect") as caught:
        verify_log(wrong, key=KEY)
    assert "WrongPassword" not in str(caught.value)


def test_verify_takes_several_sqlite_logs_and_fails_if_one_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`audit verify a.sqlite b.sqlite` verifies both and sums up; one tampered: exit 1, named."""
    logs = [tmp_path / f"audit.w{n}.sqlite" for n in range(2)]
    for log in logs:
        with Engine(REFERENCE, audit=SqliteSink(log, key=KEY), audit_key=KEY, vouch="all") as e:
            decide(e, 5)
    key = tmp_path / "audit.key"
    key.write_bytes(KEY)
    argv = ["audit", "verify", *map(str, logs), "--audit-key", str(key)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("5 records, one valid chain") == 2
    assert out.splitlines()[-1] == "ok: 2 logs, each one valid chain"
    import sqlite3

    with sqlite3.connect(logs[1]) as db:
        db.execute("DELETE FROM audit WHERE seq = 3")
    db.close()
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == f"FAILED: 1 of 2 logs: {logs[1]}"
    assert f"{logs[1]}: row 4 (record 4): deleted" in err
    assert main([*argv, "--expect-head", "1:" + "0" * 64]) == 2
    assert "--expect-head and --checkpoints are of one log" in capsys.readouterr().err


# ---- tampering ----------------------------------------------------------------------------------


def test_an_edited_record_is_detected(url: str, admin: psycopg.Connection[Any]) -> None:
    """A record's line rewritten in the table (one fact changed) fails verify at its row."""
    written(url)
    admin.execute(
        "UPDATE audit_records SET record = replace(record, '\"age\":30', '\"age\":31')"
        " WHERE chain = 'main' AND seq = 7"
    )
    assert problems(url)[0] == (7, "edited")


def test_a_deleted_middle_row_is_detected(url: str, admin: psycopg.Connection[Any]) -> None:
    """A row deleted from the middle of a chain fails verify at the row after it."""
    written(url)
    admin.execute("DELETE FROM audit_records WHERE chain = 'main' AND seq = 5")
    assert problems(url) == [(6, "deleted")]


def test_a_deleted_last_row_is_detected_and_the_chain_refused(
    url: str, admin: psycopg.Connection[Any]
) -> None:
    """The last row deleted: verify reports the truncation against the head row, and reopening
    the chain for writing is refused."""
    written(url)
    admin.execute("DELETE FROM audit_records WHERE chain = 'main' AND seq = 20")
    assert problems(url) == [(None, "truncated")]
    with pytest.raises(AuditError, match="the records end at 19 but the head names record 20"):
        PostgresSink(url, key=KEY)


def test_a_rewritten_head_is_detected(url: str, admin: psycopg.Connection[Any]) -> None:
    """The last row deleted and the head row rewritten to the one before: the head's MAC is not
    the key's, so verify fails and reopening is refused."""
    written(url)
    row = admin.execute("SELECT hash FROM audit_records WHERE chain = 'main' AND seq = 19")
    hash19 = row.fetchone()
    assert hash19 is not None
    admin.execute("DELETE FROM audit_records WHERE chain = 'main' AND seq = 20")
    admin.execute("UPDATE audit_heads SET count = 19, hash = %s WHERE chain = 'main'", hash19)
    assert (None, "head") in problems(url)
    with pytest.raises(AuditError, match="head kept beside the log is not authenticated"):
        PostgresSink(url, key=KEY)


def test_a_deleted_head_row_is_detected_and_rebuilt_only_when_asked(
    url: str, admin: psycopg.Connection[Any]
) -> None:
    """Without its head row a chain fails verify and is refused for writing, unless reopened
    with rebuild_head=True (after checking it against a head kept elsewhere)."""
    written(url)
    expected = postgres_head(url)
    assert expected is not None
    admin.execute("DELETE FROM audit_heads WHERE chain = 'main'")
    assert (None, "head") in problems(url)
    with pytest.raises(AuditError, match="20 records but no head row"):
        PostgresSink(url, key=KEY)
    assert verify_log(url, key=KEY, expect_head=expected, no_head=True).ok
    PostgresSink(url, key=KEY, rebuild_head=True).close()
    assert verify_log(url, key=KEY).ok


def test_a_record_copied_from_another_chain_is_detected(
    url: str, admin: psycopg.Connection[Any]
) -> None:
    """Chains share the key but not their links: w1's record 3 put in place of w0's fails."""
    written(url, "w0")
    written(url, "w1")
    admin.execute(
        "UPDATE audit_records a SET record = b.record FROM audit_records b"
        " WHERE a.chain = 'w0' AND a.seq = 3 AND b.chain = 'w1' AND b.seq = 3"
    )
    assert problems(url, "w0")[0] == (3, "edited")
    assert problems(url, "w1") == []


# ---- writers ------------------------------------------------------------------------------------


def test_a_second_writer_on_a_chain_is_refused_another_chain_is_not(url: str) -> None:
    """While a sink holds chain w0, a second one (here, or in another process) gets AuditError
    naming the chain; w1 opens beside it; once closed, w0 opens again."""
    first = PostgresSink(url, chain="w0", key=KEY)
    with pytest.raises(AuditError, match="chain w0 is open for writing elsewhere"):
        PostgresSink(url, chain="w0", key=KEY)
    code = (
        "import sys\nfrom secondapproval import AuditError\n"
        "from secondapproval.audit import open_log\n"
        "try:\n    open_log(sys.argv[1], key=sys.argv[2].encode())\n"
        "except AuditError as e:\n    print('refused', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, with_chain(url, "w0"), KEY.decode()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "refused" in out
    assert "chain w0 is open for writing elsewhere (held by server process" in out
    other = PostgresSink(url, chain="w1", key=KEY)
    other.close()
    first.close()
    PostgresSink(url, chain="w0", key=KEY, lock_wait=5).close()


def test_a_writer_that_takes_no_lock_is_detected_and_the_sink_fails_closed(
    url: str, admin: psycopg.Connection[Any]
) -> None:
    """A head row moved behind the sink's back (a writer that took no lock): the sink's next
    commit writes nothing, raises AuditError, and the sink refuses every record after it."""
    sink = PostgresSink(url, key=KEY)
    engine = engine_on(sink)
    decide(engine, 3)
    admin.execute("UPDATE audit_heads SET count = 4 WHERE chain = 'main'")
    with pytest.raises(AuditError, match="no longer the one this sink stored"):
        decide(engine, 1)
    with pytest.raises(AuditError, match="refuses"):
        decide(engine, 1)
    with pytest.raises(AuditError):
        engine.close()
    assert len(ids_of(url)) == 3


def test_writers_opening_at_once_create_the_tables_once(url: str) -> None:
    """Eight sinks opened at the same moment in a new schema: each opens, none fails on a table
    another is creating."""
    errors: list[BaseException] = []
    sinks: list[PostgresSink] = []
    start = threading.Barrier(8)

    def open_one(n: int) -> None:
        start.wait()
        try:
            sinks.append(PostgresSink(url, chain=f"w{n}", key=KEY))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for sink in sinks:
        sink.close()
    assert errors == []
    assert postgres_chains(url) == [f"w{n}" for n in range(8)]


def test_group_commit_shares_transactions_and_returns_after_its_own(url: str) -> None:
    """Eight threads deciding under `group`: far fewer commits than records, and each decide()
    returns only after the commit that stored its record had returned."""
    sink = PostgresSink(url, key=KEY, fsync="group")
    committed: set[str] = set()
    commits = 0
    real_commit = sink._commit

    def counting(lines: list[bytes], head: Head, durable: bool) -> None:
        nonlocal commits
        time.sleep(0.002)  # a server farther away than loopback: writers queue meanwhile
        real_commit(lines, head, durable)
        commits += 1
        committed.update(orjson.loads(line)["decision_id"] for line in lines)

    sink._commit = counting  # type: ignore[method-assign]
    engine = engine_on(sink)
    late: list[str] = []

    def work() -> None:
        for decision_id in (decide(engine, 1)[0] for _ in range(60)):
            if decision_id not in committed:
                late.append(decision_id)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    assert late == []
    report = verify_log(url, key=KEY)
    assert report.ok, report.summary()
    assert report.records == 480
    assert commits * 3 <= 480, f"{commits} commits for 480 records"


@pytest.mark.long
def test_a_forked_child_cannot_write_the_parents_chain(url: str) -> None:
    """After fork(), the child's inherited sink refuses records and its exit leaves the parent's
    session (and lock) alone: the parent goes on writing one chain."""
    configs = [(with_chain(url, policy), policy) for policy in ("group", "fire-and-forget")]
    code = FORK_CHILD.format(facts=FACTS, key=KEY, matters=str(REFERENCE))
    args = [x for config in configs for x in config]
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    docs = [orjson.loads(line) for line in out.stdout.splitlines()]
    for (target, policy), child, parent in zip(configs, docs[::2], docs[1::2], strict=True):
        assert child["child"] == "refused", (policy, child)
        held = 5 if policy in DURABLE else 0
        assert (parent["held"], parent["after_child"]) == (held, held), policy
        assert [orjson.loads(line)["decision_id"] for _, line in log_lines(target)] == parent["ids"]
        report = verify_log(target, key=KEY)
        assert report.ok, report.summary()
        assert report.records == 10


# ---- kill -9 ------------------------------------------------------------------------------------

CRASH_CHILD = """
import os, sys, threading
from secondapproval import Engine
from secondapproval.audit import open_log

url, policy = sys.argv[1], sys.argv[2]
sink = open_log(url, key={key!r}, fsync=policy)
engine = Engine({matters!r}, audit=sink, audit_key={key!r}, vouch="all")
facts = {facts!r}

def work(k):
    while True:
        if k % 2:  # half the threads decide in batches (one commit each)
            ids = [d.decision_id for d in engine.decide_many("talent-reference", [facts] * 16)]
        else:
            ids = [engine.decide("talent-reference", facts).decision_id]
        os.write(1, b"".join(b"D " + i.encode() + b"\\n" for i in ids))  # once acknowledged

threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(8)]
os.write(1, b"ready\\n")
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def crash_runs(url: str, policy: str, runs: int, seed: int) -> list[str]:
    """`runs` times: a child decides into the chain with 8 threads and is SIGKILLed at a random
    moment; the chain is then reopened (recovered, continued by one decision) and closed. The ids
    the child printed (each once acknowledged) and those decided on reopening."""
    rng = random.Random(f"{seed}:{policy}")
    code = CRASH_CHILD.format(key=KEY, matters=str(REFERENCE), facts=FACTS)
    returned: list[str] = []
    for _ in range(runs):
        child = subprocess.Popen(
            [sys.executable, "-c", code, url, policy],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        assert child.stderr is not None
        assert child.stdout.readline() == b"ready\n", child.stderr.read().decode()
        out: list[bytes] = []
        reader = threading.Thread(target=lambda f=child.stdout, o=out: o.append(f.read()))
        reader.start()
        time.sleep(rng.uniform(0.2, 0.6))
        child.send_signal(signal.SIGKILL)
        reader.join()
        errors = child.stderr.read()
        child.wait()
        child.stdout.close()
        child.stderr.close()
        assert child.returncode == -signal.SIGKILL, errors.decode()  # killed, not crashed
        assert b"Traceback" not in errors, errors.decode()
        returned += [w[2:].decode() for w in b"".join(out).splitlines() if w.startswith(b"D ")]
        # reopened once the server has noticed the dead session (its lock goes with it)
        with engine_on(PostgresSink(url, key=KEY, fsync=policy, lock_wait=30)) as engine:
            returned += decide(engine, 1)
    return returned


@pytest.mark.long
def test_sigkill_of_a_writer_loses_no_acknowledged_record(url: str) -> None:
    """A child writing a chain with 8 threads, SIGKILLed at random moments (twice per policy,
    the policies side by side): every decision it acknowledged is in its chain, which verifies
    with the key and continues on reopening; under `fire-and-forget` only the unflushed tail is
    lost."""
    results: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def one(policy: str) -> None:
        try:
            results[policy] = crash_runs(with_chain(url, policy), policy, runs=2, seed=9)
        except BaseException as exc:  # raised again in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(policy,)) for policy in POLICIES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    for policy in POLICIES:
        target = with_chain(url, policy)
        report = verify_log(target, key=KEY)
        assert report.ok, f"{policy}: {report.summary()}"
        logged = [orjson.loads(line)["decision_id"] for _, line in log_lines(target)]
        assert len(set(logged)) == len(logged)
        returned = results[policy]
        assert len(returned) > 2, f"{policy}: the child acknowledged no decision"
        lost = set(returned) - set(logged)
        print(f"kill -9 × 2, PostgreSQL {policy}: {len(lost)} of {len(returned)} acknowledged lost")
        if policy == "fire-and-forget":
            # per kill at most a full backlog pending (8 batches, and a decide_many's 16 more
            # admitted just below it) and the one being committed
            assert len(lost) <= 2 * 2 * (8 * 512 + 16)
        else:  # durable, or (none) handed to the server before decide() returned
            assert not lost, f"{policy}: {len(lost)} of {len(returned)} acknowledged ids lost"


def test_a_refused_port_is_an_audit_error() -> None:
    """No server on the port: AuditError saying it cannot connect (within the connect timeout)."""
    with pytest.raises(AuditError, match="cannot connect"):
        PostgresSink(f"postgresql://u:pw@127.0.0.1:{free_port()}/d?connect_timeout=2")
