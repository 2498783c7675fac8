"""The decision service with several workers: `secondapproval serve --workers 2`, a real uvicorn
supervisor and its worker processes, each with its own Engine and audit chain.

Hot reload under load (requests in flight during swaps between two rule sets that decide the
probe differently: every answer names a digest and has that digest's outcome), a worker killed
with SIGKILL mid-load (every decision a client was answered is in the audit trail afterwards),
and a bad bundle refused while the old rule set keeps serving.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from postgres import PostgresServer, postgres  # noqa: F401 (the fixture)
from reference import GOOD_REF, ON, REFERENCE, examples
from secondapproval.audit.postgres import postgres_chains, postgres_record
from secondapproval.audit.sqlite import sqlite_record
from secondapproval.bundle import write_bundle
from secondapproval.service.board import Board
from secondapproval.service.runtime import chains_of
from service_server import ServiceProcess

REF_SOURCES = ["criminal-records", "degree-registry", "public-security", "social-insurance"]
DECIDE = "/v1/matters/talent-reference/decisions"
PROBE = {"facts": {**GOOD_REF, "age": 35}, "on": ON.isoformat()}
"""Approved when the master's age limit is 40 (lenient), referred when it is 29 (strict)."""

pytestmark = pytest.mark.long


def rules_with_age_limit(folder: Path, limit: int) -> Path:
    shutil.copytree(REFERENCE, folder)
    matter = folder / "talent-reference.yaml"
    text = matter.read_text(encoding="utf-8")
    matter.write_text(text.replace('"master": 40', f'"master": {limit}'), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def rule_sets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("rule-sets")
    return rules_with_age_limit(folder / "lenient", 40), rules_with_age_limit(folder / "strict", 29)


@pytest.fixture
def service(tmp_path: Path, rule_sets: tuple[Path, Path]) -> Iterator[ServiceProcess]:
    with ServiceProcess.start(tmp_path, rule_sets[0], workers=2, vouch=REF_SOURCES) as svc:
        yield svc


def reload(svc: ServiceProcess, rules: Path) -> httpx.Response:
    return httpx.post(
        svc.url + "/v1/admin/reload",
        json={"rules": str(rules), "wait": 20},
        headers=svc.admin,
        timeout=30,
    )


class Load:
    """Clients posting the probe until stopped: every answer kept, every transport error too."""

    def __init__(self, service: ServiceProcess, clients: int = 4) -> None:
        self.service = service
        self.answers: list[httpx.Response] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._post) for _ in range(clients)]

    def _post(self) -> None:
        svc = self.service
        with httpx.Client(base_url=svc.url, headers=svc.auth, timeout=30) as c:
            while not self._stop.is_set():
                try:
                    self.answers.append(c.post(DECIDE, json=PROBE))
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def test_a_reload_reaches_every_worker_and_readyz_shows_each_digest(
    service: ServiceProcess, rule_sets: tuple[Path, Path]
) -> None:
    before = service.wait_ready(10)
    assert len({w["worker"] for w in before["workers"]}) == 2
    r = reload(service, rule_sets[1])
    assert r.status_code == 200, r.text
    new = r.json()["snapshot"]
    assert r.json()["previous"] == before["snapshot"] != new
    assert {w["snapshot"] for w in r.json()["workers"]} == {new}
    for _ in range(20):  # any worker answers: every one serves the new rules
        doc = httpx.post(service.url + DECIDE, json=PROBE, headers=service.auth).json()
        assert (doc["snapshot"], doc["outcome"]) == (new, "refer")
    ready = httpx.get(service.url + "/readyz").json()
    assert {w["snapshot"] for w in ready["workers"]} == {new}
    metrics = httpx.get(service.url + "/metrics").text
    assert metrics.count(f'snapshot="{new}"') >= 2


def test_hot_reload_under_load_never_mixes_and_never_fails(
    service: ServiceProcess, rule_sets: tuple[Path, Path]
) -> None:
    lenient, strict = rule_sets
    outcome_of: dict[str, str] = {}
    with Load(service) as load:
        swaps = examples(100)
        for i in range(swaps):
            r = reload(service, strict if i % 2 == 0 else lenient)
            assert r.status_code == 200, r.text
            outcome_of[r.json()["snapshot"]] = "refer" if i % 2 == 0 else "approve"
    failures = load.errors + [
        f"{r.status_code}: {r.text[:200]}" for r in load.answers if r.status_code != 200
    ]
    assert not failures
    answers = [(d["snapshot"], d["outcome"]) for d in (r.json() for r in load.answers)]
    assert len(outcome_of) == 2
    assert len(answers) > swaps
    for digest, outcome in answers:
        assert outcome_of[digest] == outcome
    assert {d for d, _ in answers} == set(outcome_of)


def test_a_worker_killed_mid_load_loses_no_acknowledged_decision(
    service: ServiceProcess,
) -> None:
    with Load(service) as load:  # a connection the killed worker held is not acknowledged
        time.sleep(1.0)
        victim = service.worker_pids()["w1"]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # uvicorn's supervisor starts another worker
            pids = service.worker_pids()
            if len(pids) == 2 and victim not in pids.values():
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"no worker replaced the killed one: {service.log()}")
        time.sleep(1.0)
    acknowledged = [r.json()["decision_id"] for r in load.answers if r.status_code == 200]
    service.stop()
    assert len(acknowledged) > 100
    chains = chains_of(str(service.folder / "audit" / "decisions.sqlite"))
    assert [c.name for c in chains] == ["decisions.w0.sqlite", "decisions.w1.sqlite"]
    lost = [d for d in acknowledged if not any(sqlite_record(c, d) for c in chains)]
    assert lost == []
    verified = subprocess.run(
        [
            sys.executable,
            "-m",
            "secondapproval",
            "audit",
            "verify",
            *map(str, chains),
            "--audit-key",
            str(service.folder / "audit" / "decisions.sqlite.key"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_bad_bundle_published_is_refused_and_the_old_rules_keep_serving(
    service: ServiceProcess, rule_sets: tuple[Path, Path], tmp_path: Path
) -> None:
    before = service.wait_ready(10)["snapshot"]
    bundle = tmp_path / "strict.tar"
    manifest = write_bundle(rule_sets[1], bundle)
    data = bytearray(bundle.read_bytes())
    at = data.find(b'"master": 29')
    data[at + 10 : at + 12] = b"99"  # the matter changed after its manifest was made
    bundle.write_bytes(bytes(data))
    Board(service.folder / "state").publish(manifest.snapshot, bundle)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        workers = httpx.get(service.url + "/readyz").json()["workers"]
        if all(w["error"] for w in workers):
            break
        time.sleep(0.1)
    assert all("refused" in w["error"] for w in workers)
    assert {w["snapshot"] for w in workers} == {before}
    doc = httpx.post(service.url + DECIDE, json=PROBE, headers=service.auth).json()
    assert (doc["snapshot"], doc["outcome"]) == (before, "approve")
    published = orjson.loads((service.folder / "state" / "published.json").read_bytes())
    assert published["digest"] == manifest.snapshot
    # a worker started while the bad bundle is published serves the last good one
    victim = service.worker_pids()["w0"]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = httpx.get(service.url + "/readyz").json()["workers"]
        if len(workers) == 2 and victim not in {w["pid"] for w in workers}:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"no worker replaced the killed one: {service.log()}")
    assert {w["snapshot"] for w in workers} == {before}
    assert all("refused" in w["error"] for w in workers)


def test_serve_refuses_to_start_what_its_workers_could_not(tmp_path: Path) -> None:
    """A key vouching for a source the rules do not know: `serve` says so and exits, instead
    of uvicorn restarting workers that fail forever."""
    config = tmp_path / "service.yaml"
    from secondapproval.cli import main

    assert (
        main(
            [
                "keys",
                "add",
                "p",
                "--config",
                str(config),
                "--matters",
                "*",
                "--vouch",
                "no-such-source",
            ]
        )
        == 0
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "secondapproval",
            "serve",
            "--rules",
            str(REFERENCE),
            "--config",
            str(config),
            "--workers",
            "2",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "no-such-source" in done.stderr
    assert "Traceback" not in done.stderr


def test_two_workers_audit_to_postgresql_one_chain_each(
    tmp_path: Path,
    rule_sets: tuple[Path, Path],
    postgres: PostgresServer,  # noqa: F811
) -> None:
    """`--audit postgresql://…`: each worker writes chain w<slot> of one database; every
    acknowledged decision is there, every chain verifies, and any worker finds any record."""
    postgres.create_database("service_audit")
    url = postgres.url_of("service_audit").replace("@", f":{postgres.password}@", 1)
    key_file = tmp_path / "audit.key"
    key_file.write_text(os.urandom(32).hex(), encoding="utf-8")
    svc = ServiceProcess.start(
        tmp_path, rule_sets[0], workers=2, vouch=REF_SOURCES, audit=url, key_file=key_file
    )
    with svc, httpx.Client(base_url=svc.url, headers=svc.auth, timeout=30) as c:
        ids = [c.post(DECIDE, json=PROBE).json()["decision_id"] for _ in range(200)]
        for decision_id in ids[:: len(ids) // 10]:
            record = c.get(f"/v1/decisions/{decision_id}")
            assert record.status_code == 200
            assert record.json()["decision_id"] == decision_id
    assert postgres_chains(url) == ["w0", "w1"]
    assert all(postgres_record(url, d) is not None for d in ids)
    verified = subprocess.run(
        [
            sys.executable,
            "-m",
            "secondapproval",
            "audit",
            "verify",
            url,
            "--audit-key",
            str(key_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert postgres.password not in verified.stdout + verified.stderr + svc.log()
