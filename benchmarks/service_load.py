"""Decision service throughput and latency against its transport floor, with wrk, in one run.

    python -m benchmarks.service_load [--seconds 8] [--quick]

For 1 and 2 uvicorn workers and 16 and 64 connections: the floor (Starlette answering a
constant JSON body, `benchmarks.floor_app`), FastAPI doing the same, and `secondapproval serve`
deciding the reference matter with audit to SQLite and to PostgreSQL (a throw-away cluster, as
the tests run it: fsync off, so the figure is the service's cost, not the disk's). Each cell is
requests/s and p50/p99 as wrk reports them, and the service's ratio to the floor of the same
cell. Placement (2 cores shared by server, wrk and PostgreSQL): 1 worker on CPU 0 and wrk on
CPU 1; 2 workers on CPUs 0-1 and wrk on CPU 1 — the same for the floor and for the service.
Also the reload latency: trigger → every worker serving the new digest, for the bundled rules.

Needs Debian's `wrk` (`apt-get install -y wrk`): an httpx client manages only a few hundred
requests/s, so it would measure itself. A non-2xx answer in any cell fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from secondapproval.service.keys import hash_key, new_key
from secondapproval.timing import machine

from .conftest import RULES

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "benchmarks" / "matters"
SOURCES = ["criminal-records", "degree-registry", "public-security", "social-insurance"]
PROBE = {
    "facts": {
        "degree": "master",
        "age": 30,
        "graduated_years_ago": 1,
        "has_degree_certificate": True,
        "social_insurance_months": 12,
        "criminal_record": False,
    },
    "on": "2021-06-01",
}
PATH = "/v1/matters/talent-reference/decisions"
SERVER_CPUS = {1: "0", 2: "0,1"}
WRK_CPU = "1"
TARGETS = "≥ 60 % of the floor's throughput, p99 ≤ 2× the floor's (2 workers, SQLite, 64 conns)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def taskset(cpus: str) -> list[str]:
    return ["taskset", "-c", cpus] if shutil.which("taskset") else []


@contextmanager
def running(command: list[str], url: str, cwd: Path, env: dict[str, str]) -> Iterator[None]:
    log = (cwd / f"server-{time.monotonic_ns()}.log").open("wb")
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited: {Path(log.name).read_text()[-2000:]}")
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        time.sleep(0.5)  # every worker up
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wrk(
    url: str,
    key: str,
    connections: int,
    seconds: float,
    folder: Path,
    counts: Callable[[], dict[str, int]] | None = None,
) -> dict[str, Any]:
    """wrk's figures of one cell (after a 1 s warm-up); with `counts` (records per worker
    chain), also each worker's share of the cell's decisions."""
    script = folder / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(PROBE))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n',
        encoding="utf-8",
    )
    warm = [*taskset(WRK_CPU), "wrk", "-t1", f"-c{connections}", "-d1s", "-s", str(script), url]
    subprocess.run(warm, capture_output=True, check=True)
    before = counts() if counts else {}
    command = [
        *taskset(WRK_CPU),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    try:
        figures: dict[str, Any] = dict(parse_wrk(out))
    except RuntimeError:
        probe = httpx.post(url, json=PROBE, headers={"Authorization": f"Bearer {key}"})
        raise RuntimeError(f"{out}\none request: {probe.status_code} {probe.text[:300]}") from None
    if counts:
        after = counts()
        made = [after[chain] - before.get(chain, 0) for chain in sorted(after)]
        figures["shares"] = [n / max(1, sum(made)) for n in made]
    return figures


def records_per_chain(target: str) -> Callable[[], dict[str, int]]:
    """How many records each worker's chain of an audit target holds (SQLite files beside the
    target's name, or the chains of a PostgreSQL database)."""
    if target.startswith("postgresql://"):

        def in_postgres() -> dict[str, int]:
            import psycopg

            with psycopg.connect(target) as db:
                rows = db.execute("SELECT chain, count(*) FROM audit_records GROUP BY chain")
                return {str(chain): int(n) for chain, n in rows}

        return in_postgres
    path = Path(target)

    def in_sqlite() -> dict[str, int]:
        found = {}
        for file in sorted(path.parent.glob(f"{path.stem}.w*{path.suffix}")):
            with closing(sqlite3.connect(file)) as db:
                found[file.name] = int(db.execute("SELECT count(*) FROM audit").fetchone()[0])
        return found

    return in_sqlite


def parse_wrk(out: str) -> dict[str, float]:
    def millis(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = millis(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = millis(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if bad or (errors and "timeout 0" not in errors.group(0)):
        raise RuntimeError(f"wrk saw failures:\n{out}")
    return {"rps": rps, "p50": p50, "p99": p99}


def service_config(folder: Path, audit: str, key_file: Path | None) -> tuple[Path, str, str]:
    (pid, platform), (aid, admin) = new_key(), new_key()
    doc: dict[str, Any] = {
        "keys": [
            {
                "name": "bench",
                "id": pid,
                "hash": hash_key(platform),
                "matters": ["*"],
                "vouch": list(SOURCES),
            },
            {"name": "ops", "id": aid, "hash": hash_key(admin), "admin": True},
        ],
        "audit": {"target": audit, "fsync": "group"},
    }
    if key_file is not None:
        doc["audit"]["key_file"] = str(key_file)
    path = folder / "service.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path, platform, admin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--quick", action="store_true", help="2 s per cell, 64 connections")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    seconds = 2.0 if args.quick else args.seconds
    connections = [64] if args.quick else [16, 64]
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres import PostgresServer  # the tests' throw-away cluster

    folder = Path(tempfile.mkdtemp(prefix="service-load-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    py = sys.executable
    rows: list[dict[str, Any]] = []
    pg = PostgresServer().start()
    try:
        pg.create_database("bench")
        pg_url = pg.url_of("bench").replace("@", f":{pg.password}@", 1)
        key_file = folder / "audit.key"
        key_file.write_text(os.urandom(32).hex(), encoding="utf-8")
        for workers in (1, 2):
            cpus = SERVER_CPUS[workers]
            for name, factory in (("starlette", "starlette"), ("fastapi", "fastapi")):
                port = free_port()
                url = f"http://127.0.0.1:{port}{PATH}"
                command = [
                    *taskset(cpus),
                    py,
                    "-m",
                    "uvicorn",
                    f"benchmarks.floor_app:{factory}",
                    "--factory",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ]
                with running(command, f"http://127.0.0.1:{port}/", folder, env):
                    for c in connections:
                        rows.append(
                            {
                                "server": f"floor: {name} constant",
                                "workers": workers,
                                "connections": c,
                                **wrk(url, "x", c, seconds, folder),
                            }
                        )
            for audit_name, target in (
                ("sqlite", str(folder / f"a{workers}" / "d.sqlite")),
                ("postgresql", pg_url),
            ):
                run = folder / f"{audit_name}{workers}"
                run.mkdir()
                config, key, admin = service_config(run, target, key_file)
                port = free_port()
                command = [
                    *taskset(cpus),
                    py,
                    "-m",
                    "secondapproval",
                    "serve",
                    "--rules",
                    str(REFERENCE),
                    "--config",
                    str(config),
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--state",
                    str(run / "state"),
                ]
                base = f"http://127.0.0.1:{port}"
                counted = records_per_chain(target)
                with running(command, base + "/readyz", run, env):
                    for c in connections:
                        rows.append(
                            {
                                "server": f"service, audit {audit_name}",
                                "workers": workers,
                                "connections": c,
                                **wrk(base + PATH, key, c, seconds, folder, counted),
                            }
                        )
                    if audit_name == "sqlite":
                        rows.append({"reload": reload_latency(base, admin, workers, run)})
    finally:
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(render(rows, seconds))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


def reload_latency(base: str, admin: str, workers: int, run: Path) -> dict[str, Any]:
    """Trigger → every worker serving it, alternating the reference and the bundled rules."""
    times = []
    for i in range(10):
        rules = RULES if i % 2 == 0 else REFERENCE
        started = time.perf_counter()
        r = httpx.post(
            base + "/v1/admin/reload",
            json={"rules": str(rules)},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=60,
        )
        r.raise_for_status()
        times.append(time.perf_counter() - started)
    return {
        "workers": workers,
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
    }


def render(rows: list[dict[str, Any]], seconds: float) -> str:
    floors = {
        (r["workers"], r["connections"]): r
        for r in rows
        if r.get("server") == "floor: starlette constant"
    }
    lines = [
        f"## Decision service (wrk, {seconds:g} s per cell, loopback; {machine()})",
        "",
        "placement: 1 worker on CPU 0, 2 workers on CPUs 0-1; wrk on CPU 1 (floor and service "
        "alike); PostgreSQL unpinned, fsync off",
        "",
        "| server | workers | conns | req/s | p50 ms | p99 ms | × floor req/s | × floor p99 "
        "| workers' shares |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if "server" not in r:
            continue
        floor = floors[(r["workers"], r["connections"])]
        shares = " / ".join(f"{share:.0%}" for share in r.get("shares", []))
        lines.append(
            f"| {r['server']} | {r['workers']} | {r['connections']} | {r['rps']:,.0f} | "
            f"{r['p50']:.2f} | {r['p99']:.2f} | {r['rps'] / floor['rps']:.2f} | "
            f"{r['p99'] / floor['p99']:.2f} | {shares} |"
        )
    lines += ["", f"targets: {TARGETS}", "", "reload (trigger → every worker swapped):"]
    for r in rows:
        if "reload" in r:
            rl = r["reload"]
            lines.append(
                f"- {rl['workers']} worker(s): median {rl['median_ms']:.0f} ms, "
                f"max {rl['max_ms']:.0f} ms (10 reloads)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
