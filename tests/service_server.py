"""A real decision service for the tests: `secondapproval serve` as a child process (uvicorn and
its worker processes), its keys and configuration made in a temporary folder.

    with ServiceProcess.start(tmp_path, rules, workers=2) as svc:
        httpx.post(svc.url + "/v1/matters/m/decisions", headers=svc.auth, json={...})

`start` makes a platform key (every matter, vouching for `vouch`, may read audit records), a
second platform key for one matter only (`narrow`) and an admin key, writes the configuration,
starts the service on a free port of 127.0.0.1 and returns once `/readyz` lists every worker.
`stop()` sends SIGTERM (uvicorn's graceful exit) and, after a while, SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from secondapproval.service.keys import hash_key, new_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Keys:
    platform: str
    narrow: str
    admin: str


def write_config(
    folder: Path,
    *,
    vouch: list[str],
    narrow_matter: str = "none",
    audit: str | None = "audit/decisions.sqlite",
    key_file: Path | None = None,
    limits: dict[str, Any] | None = None,
) -> tuple[Path, Keys]:
    """A service configuration with three keys (see the module's text); the keys themselves."""
    made = [new_key() for _ in range(3)]
    entries = [
        {
            "name": "portal",
            "id": made[0][0],
            "hash": hash_key(made[0][1]),
            "matters": ["*"],
            "vouch": list(vouch),
            "audit_read": True,
        },
        {
            "name": "narrow",
            "id": made[1][0],
            "hash": hash_key(made[1][1]),
            "matters": [narrow_matter],
            "vouch": list(vouch),
        },
        {"name": "ops", "id": made[2][0], "hash": hash_key(made[2][1]), "admin": True},
    ]
    doc: dict[str, Any] = {"keys": entries}
    if audit is not None:
        doc["audit"] = {"target": audit, "fsync": "group"}
        if key_file is not None:
            doc["audit"]["key_file"] = str(key_file)
    if limits:
        doc["limits"] = limits
    path = folder / "service.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path, Keys(made[0][1], made[1][1], made[2][1])


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class ServiceProcess:
    process: subprocess.Popen[bytes]
    url: str
    keys: Keys
    folder: Path
    workers: int

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.keys.platform)

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.keys.admin)

    @classmethod
    def start(
        cls,
        folder: Path,
        rules: Path,
        *,
        workers: int = 1,
        vouch: list[str] | None = None,
        narrow_matter: str = "none",
        audit: str = "audit/decisions.sqlite",
        key_file: Path | None = None,
        within: float = 60.0,
    ) -> ServiceProcess:
        config, keys = write_config(
            folder, vouch=vouch or [], narrow_matter=narrow_matter, audit=audit, key_file=key_file
        )
        port = free_port()
        log = (folder / "serve.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "secondapproval",
                "serve",
                "--rules",
                str(rules),
                "--config",
                str(config),
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--state",
                str(folder / "state"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )
        svc = cls(process, f"http://127.0.0.1:{port}", keys, folder, workers)
        try:
            svc.wait_ready(within)
        except BaseException:
            svc.stop()
            raise
        return svc

    def wait_ready(self, within: float) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited ({self.process.returncode}): {self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(self.url + "/readyz", timeout=2)
                doc: dict[str, Any] = r.json()
                if r.status_code == 200 and len(doc["workers"]) >= self.workers:
                    return doc
            time.sleep(0.1)
        raise RuntimeError(f"the service was not ready within {within} s: {self.log()}")

    def log(self) -> str:
        return (self.folder / "serve.log").read_text(encoding="utf-8", errors="replace")[-3000:]

    def worker_pids(self) -> dict[str, int]:
        doc = httpx.get(self.url + "/readyz", timeout=5).json()
        return {w["worker"]: w["pid"] for w in doc["workers"]}

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
