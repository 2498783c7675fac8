"""`secondapproval impact`: flips counted right (against a plain loop over `Engine.decide`), one
result however it is run (one process, two Dask workers, a worker killed mid-run), audit logs
replayed against their recorded outcomes, a log that does not verify refused, the CI gate."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from postgres import (
    PostgresServer,
    postgres,  # noqa: F401  (the session's server, a fixture)
)
from reference import ROOT, RULES
from secondapproval import Engine
from secondapproval.audit import open_log
from secondapproval.cli import main
from secondapproval.errors import AuditError, ImpactError
from secondapproval.impact import FLIPS, SUMMARY, Options, run_impact
from secondapproval.samples import generate, seeds_from_scenarios
from secondapproval.trust import VOUCH_ALL

MATTER = "longevity-allowance-guangzhou"
ROWS = 20_000
KEY = b"k" * 32


@pytest.fixture(scope="module")
def new_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled rules with one rule changed: the Guangzhou allowance from 75, not 70."""
    folder = tmp_path_factory.mktemp("new") / "rules"
    shutil.copytree(RULES, folder)
    path = folder / "elderly" / f"{MATTER}.yaml"
    text = path.read_text(encoding="utf-8")
    assert 'when: "elder.age >= 70"' in text
    path.write_text(text.replace('when: "elder.age >= 70"', 'when: "elder.age >= 75"'), "utf-8")
    return folder


@pytest.fixture(scope="module")
def applications(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 applications of every bundled matter (the sample generator), as Parquet."""
    engine = Engine(RULES, vouch=VOUCH_ALL)
    rows = list(generate(engine, seeds_from_scenarios([ROOT / "scenarios"], engine), ROWS, 7))
    table = pa.table(
        {
            "matter": [r["matter"] for r in rows],
            "on": [dt.date.fromisoformat(r["on"]) for r in rows],
            "id": [f"a{i}" for i in range(len(rows))],
            "facts": [orjson.dumps(r["facts"], option=orjson.OPT_SORT_KEYS).decode() for r in rows],
        }
    )
    path = tmp_path_factory.mktemp("apps") / "applications.parquet"
    pq.write_table(table, path, row_group_size=1_000)
    return path


def _summary(out: Path) -> dict[str, Any]:
    doc = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    doc.pop("run")
    return doc


def _oracle(new_rules: Path, path: Path) -> Counter[tuple[str, str]]:
    """(matter, change) counts by a plain loop: each application decided alone, twice."""
    old, new = Engine(RULES, vouch=VOUCH_ALL), Engine(new_rules, vouch=VOUCH_ALL)
    counts: Counter[tuple[str, str]] = Counter()
    for row in pq.read_table(path).to_pylist():
        facts = json.loads(row["facts"])
        a = old.decide(row["matter"], facts, on=row["on"])
        b = new.decide(row["matter"], facts, on=row["on"])
        if a.outcome != b.outcome:
            counts[row["matter"], f"{a.outcome}-to-{b.outcome}"] += 1
    return counts


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory, new_rules: Path, applications: Path) -> Path:
    out = tmp_path_factory.mktemp("single")
    options = Options(baseline=RULES, vouch=("all",), workers=0, rows=2_000)
    run_impact(new_rules, [str(applications)], out, options)
    return out


def test_the_flips_are_those_of_deciding_each_application_twice(
    single: Path, new_rules: Path, applications: Path
) -> None:
    summary = _summary(single)
    counted = Counter(
        {
            (m, k): n
            for m, c in summary["by_matter"].items()
            for k in ("approve-to-refer", "refer-to-approve")
            if (n := c.get(k, 0))
        }
    )
    assert counted == _oracle(new_rules, applications)
    assert counted[MATTER, "approve-to-refer"] > 0
    assert set(counted) == {(MATTER, "approve-to-refer")}  # only the changed rule flips anything
    assert summary["totals"]["applications"] == ROWS
    assert summary["by_rule"] == {
        MATTER: {"aged-70-or-over": {"approve-to-refer": counted[MATTER, "approve-to-refer"]}}
    }
    flips = pq.read_table(single / FLIPS).to_pylist()
    assert len(flips) == counted[MATTER, "approve-to-refer"] == summary["flips_written"]
    assert [f["row"] for f in flips] == sorted(f["row"] for f in flips)  # input order
    first = flips[0]
    assert first["new_reasons"] == ["UNDER_70"]
    assert first["old_reasons"] == []
    number = json.loads(first["facts"])["elder"]["id_number"]
    assert "*" in number  # personal data masked as in the audit trail
    assert "<svg" in (single / "report.html").read_text(encoding="utf-8")


def test_two_dask_workers_give_the_single_process_result(
    single: Path, new_rules: Path, applications: Path, tmp_path: Path
) -> None:
    options = Options(baseline=RULES, vouch=("all",), workers=2, rows=2_000)
    impact = run_impact(new_rules, [str(applications)], tmp_path, options)
    assert _summary(tmp_path) == _summary(single)
    assert (tmp_path / FLIPS).read_bytes() == (single / FLIPS).read_bytes()
    assert len(impact.summary["run"]["peak_kib_by_worker"]) == 2


@pytest.mark.long
def test_a_worker_killed_mid_run_does_not_change_the_result(
    single: Path, new_rules: Path, applications: Path, tmp_path: Path
) -> None:
    killed: list[int] = []

    def kill_one(client: Any) -> None:
        pids = client.run(os.getpid)

        def kill() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # wait for a worker that is busy deciding
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(pids[busy[0]])
                    return
                time.sleep(0.005)

        threading.Thread(target=kill, daemon=True).start()

    options = Options(baseline=RULES, vouch=("all",), workers=2, rows=500)
    run_impact(new_rules, [str(applications)], tmp_path, options, on_start=kill_one)
    assert killed, "no worker was busy to be killed"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)
    assert _summary(tmp_path) | {"rows_per_partition": 2_000, "partitions": 10} == _summary(single)
    assert (tmp_path / FLIPS).exists()
    flips = pq.read_table(tmp_path / FLIPS).drop_columns([]).to_pylist()
    assert flips == pq.read_table(single / FLIPS).to_pylist()


def _record_samples(log: str | Path) -> None:
    """The sample applications decided under the bundled rules into an audit log."""
    rows = [json.loads(line) for line in (ROOT / "samples" / "applications.jsonl").open()]
    with Engine(RULES, vouch=VOUCH_ALL, audit=open_log(log, key=KEY)) as engine:
        for row in rows:
            engine.decide(row["matter"], row["facts"], on=dt.date.fromisoformat(row["on"]))


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An audit log of the sample applications, decided under the bundled rules."""
    path = tmp_path_factory.mktemp("log") / "audit.jsonl"
    _record_samples(path)
    return path


def test_a_log_is_compared_with_its_recorded_outcomes(
    log: Path, new_rules: Path, tmp_path: Path
) -> None:
    key = tmp_path / "key"
    key.write_bytes(KEY)
    recorded = run_impact(new_rules, [str(log)], tmp_path / "r", Options(key_file=str(key)))
    afresh = run_impact(
        new_rules,
        [str(ROOT / "samples" / "applications.jsonl")],
        tmp_path / "a",
        Options(baseline=RULES, vouch=("all",), workers=0, rows=300),
    )
    r, a = recorded.summary, afresh.summary
    assert r["baseline"] == "recorded"
    assert r["by_matter"][MATTER] == a["by_matter"][MATTER]
    assert r["totals"]["approve-to-refer"] == a["totals"]["approve-to-refer"] > 0
    assert r["totals"]["refer-to-approve"] == 0


def test_a_log_that_does_not_verify_is_refused(log: Path, new_rules: Path, tmp_path: Path) -> None:
    bad = tmp_path / "audit.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b'"latency_ns":', b'"latency_ns":1', 1)  # edited in place
    bad.write_bytes(b"".join(lines))
    shutil.copy(f"{log}.head", f"{bad}.head")
    key = tmp_path / "key"
    key.write_bytes(KEY)
    with pytest.raises(AuditError, match="does not verify"):
        run_impact(new_rules, [str(bad)], tmp_path / "out", Options(key_file=str(key)))
    assert not (tmp_path / "out" / SUMMARY).exists()
    assert list((tmp_path / "out").iterdir()) == []  # nor a part of the flipped cases


def test_the_gate_fails_the_command_on_a_flip_it_names(
    new_rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = str(ROOT / "samples" / "applications.jsonl")
    common = ["impact", "--rules", str(new_rules), "--baseline", str(RULES), apps, "--vouch", "all"]
    common += ["--workers", "0"]
    assert main([*common, "--out", str(tmp_path / "a"), "--fail-on", "refer-to-approve"]) == 0
    assert main([*common, "--out", str(tmp_path / "b"), "--fail-on", "approve-to-refer"]) == 1
    assert "FAILED: --fail-on approve-to-refer" in capsys.readouterr().out
    assert json.loads((tmp_path / "b" / SUMMARY).read_text())["failed"] is True


def test_application_files_need_a_baseline(
    new_rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apps = str(ROOT / "samples" / "applications.jsonl")
    assert main(["impact", "--rules", str(new_rules), apps, "--out", str(tmp_path)]) == 2
    assert "--baseline OLD" in capsys.readouterr().err


def test_a_bad_row_is_named_by_file_row_and_field(new_rules: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "apps.jsonl"
    jsonl.write_text('{"matter": "x", "on": "2025-01-01", "facts": {}}\n{"matter": "x"}\n')
    options = Options(baseline=RULES, workers=0)
    with pytest.raises(ImpactError, match=r"apps\.jsonl:2 \[facts\]"):
        run_impact(new_rules, [str(jsonl)], tmp_path / "o", options)
    parquet = tmp_path / "apps.parquet"
    pq.write_table(pa.table({"matter": ["x"], "facts": ["{}"]}), parquet)
    with pytest.raises(ImpactError, match="no column 'on'"):
        run_impact(new_rules, [str(parquet)], tmp_path / "o", options)
    pq.write_table(pa.table({"matter": ["x"], "on": ["2025-13-01"], "facts": ["{}"]}), parquet)
    with pytest.raises(ImpactError, match=r"row 1 \[on\]"):
        run_impact(new_rules, [str(parquet)], tmp_path / "o", options)


def test_unvouched_facts_are_refused_as_from_any_caller(
    new_rules: Path, applications: Path, tmp_path: Path
) -> None:
    """Without --vouch, a file's facts of an authoritative source are not believed: the
    applications that read them are referred under both rule sets, so nothing flips there."""
    options = Options(baseline=RULES, workers=0, rows=5_000)
    summary = run_impact(new_rules, [str(applications)], tmp_path, options).summary
    assert summary["totals"]["approve-to-refer"] == 0
    assert summary["by_reason"] == {}


def test_on_a_date_decides_every_application_that_day(new_rules: Path, tmp_path: Path) -> None:
    apps = str(ROOT / "samples" / "applications.jsonl")
    day = dt.date(2030, 1, 1)
    options = Options(baseline=RULES, vouch=("all",), workers=0, on=day)
    summary = run_impact(new_rules, [apps], tmp_path, options).summary
    assert summary["on"] == "2030-01-01"
    assert set(summary["by_date"]) <= {"2030-01-01"}


@pytest.mark.long
def test_an_existing_scheduler_gives_the_same_result(
    single: Path, new_rules: Path, applications: Path, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        options = Options(
            baseline=RULES, vouch=("all",), scheduler=cluster.scheduler_address, rows=2_000
        )
        impact = run_impact(new_rules, [str(applications)], tmp_path, options)
    assert impact.summary["run"]["scheduler"] == cluster.scheduler_address
    assert impact.summary["run"]["workers"] == 1
    assert _summary(tmp_path) == _summary(single)


def test_a_sqlite_log_gives_what_its_json_lines_twin_gives(
    log: Path, new_rules: Path, tmp_path: Path
) -> None:
    """The same decisions recorded in SQLite: verified the same way, the same flips."""
    db = tmp_path / "audit.sqlite"
    _record_samples(db)
    key = tmp_path / "key"
    key.write_bytes(KEY)
    options = Options(key_file=str(key), rows=100)
    from_db = run_impact(new_rules, [str(db)], tmp_path / "db", options).summary
    from_lines = run_impact(new_rules, [str(log)], tmp_path / "lines", options).summary
    assert from_db["partitions"] == from_lines["partitions"] == 12
    for part in ("totals", "by_matter", "by_rule", "by_reason", "by_date"):
        assert from_db[part] == from_lines[part]
    assert from_db["totals"]["approve-to-refer"] > 0


def test_a_postgres_log_gives_what_its_json_lines_twin_gives(
    postgres: PostgresServer,  # noqa: F811
    log: Path,
    new_rules: Path,
    tmp_path: Path,
) -> None:
    """The same decisions recorded in a PostgreSQL chain: verified, streamed, the same flips."""
    postgres.create_database("impact")
    url = postgres.url_of("impact").replace("@", f":{postgres.password}@", 1) + "?chain=main"
    _record_samples(url)
    key = tmp_path / "key"
    key.write_bytes(KEY)
    options = Options(key_file=str(key), rows=100, workers=0)
    from_db = run_impact(new_rules, [url], tmp_path / "db", options).summary
    from_lines = run_impact(new_rules, [str(log)], tmp_path / "lines", options).summary
    for part in ("totals", "by_matter", "by_rule", "by_reason", "by_date"):
        assert from_db[part] == from_lines[part]
    assert from_db["totals"]["approve-to-refer"] > 0
