"""A real PostgreSQL server for the tests: a throw-away cluster in a temporary folder.

    from postgres import postgres  # noqa: F401     (the session fixture)

    def test_x(postgres: PostgresServer) -> None:
        with psycopg.connect(postgres.dsn) as conn: ...

`PostgresServer` runs the server binaries found on the machine (Debian's
/usr/lib/postgresql/<version>/bin, the newest; else the folder of `pg_ctl` on PATH): `initdb` in a
temporary folder, `pg_ctl start` on a free TCP port of 127.0.0.1 with the Unix socket inside the
folder, then a database and a role that owns it. Run as root, the folder is given to the
`postgres` OS user and every binary runs as that user (`initdb` refuses root). Durability is off
(`fsync`, `synchronous_commit`, `full_page_writes`) and the buffers small: a cluster starts in
about a second and its data is worth nothing. `stop()` stops it (fast, else immediate) and
removes the folder, also after a start that failed half-way.

The role (`ROLE`) logs in with its password (scram-sha-256) over TCP; the superuser `postgres`
is trusted on 127.0.0.1 (`admin_dsn`, `psql()`), for what a test must set up as the owner of the
cluster. A test module that wants its tables apart makes its own database (`create_database`,
then `url_of` / `dsn_of`).

Without the binaries the fixture skips the tests on a laptop, and fails them when the environment
variable CI is "true": CI never silently skips the PostgreSQL tests (.ci/run installs them).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

ROLE = "secondapproval"
"""The role the tests connect as: it owns `DATABASE`, so it could write (read-only is the
session's doing, never a missing privilege)."""
DATABASE = "secondapproval"
"""The database made for the tests."""
PASSWORD = "not-a-real-secret"
"""The role's password (the server checks it: scram-sha-256); a throw-away cluster on 127.0.0.1."""
DEBIAN = Path("/usr/lib/postgresql")
"""Where Debian installs each PostgreSQL version (`15/bin/initdb`)."""
OS_USER = "postgres"
"""The OS user that runs the server when the tests run as root."""
READY_WITHIN = 30.0
"""Seconds that `pg_ctl start` may take before the start counts as failed."""

_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "60",
    "max_wal_senders": "0",
    "wal_level": "minimal",
    "log_min_messages": "warning",
}
_HBA = f"""\
local all all trust
host all {ROLE} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
"""


class PostgresMissingError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def binaries(debian: Path | None = None) -> Path:
    """The folder of the server binaries: Debian's newest version (under `debian`, by default
    `DEBIAN`), else the folder of `pg_ctl` on PATH."""
    debian = debian or DEBIAN
    versions = [p.parent for p in debian.glob("*/bin/initdb") if _version(p.parent.parent.name)]
    if versions:
        return max(versions, key=lambda folder: _version(folder.parent.name))
    found = shutil.which("pg_ctl")
    if found and (Path(found).parent / "initdb").exists():
        return Path(found).parent
    raise PostgresMissingError(
        f"no PostgreSQL server binaries ({debian}/*/bin, nor pg_ctl on PATH): "
        "apt-get install postgresql"
    )


def _version(name: str) -> tuple[int, ...]:
    """`15` → (15,), `9.6` → (9, 6); () for a folder that is no version."""
    return (
        tuple(int(part) for part in name.split(".")) if re.fullmatch(r"\d+(\.\d+)*", name) else ()
    )


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One temporary PostgreSQL cluster: `start()`, connect through `url` or `dsn`, `stop()`."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.host = "127.0.0.1"
        self.port = 0
        self.folder: Path | None = None
        self._as_postgres = os.geteuid() == 0

    @property
    def data(self) -> Path:
        """The cluster's data folder."""
        if self.folder is None:
            raise RuntimeError("the server is not started")
        return self.folder / "data"

    @property
    def url(self) -> str:
        """`postgresql://ROLE@127.0.0.1:PORT/DATABASE`, without the password (`password`)."""
        return self.url_of(DATABASE)

    @property
    def dsn(self) -> str:
        """The libpq connection string of `ROLE` on `DATABASE`, password included."""
        return self.dsn_of(DATABASE)

    @property
    def password(self) -> str:
        """The password of `ROLE`."""
        return PASSWORD

    @property
    def admin_dsn(self) -> str:
        """The libpq connection string of the superuser `postgres` on `DATABASE` (trusted)."""
        return f"host={self.host} port={self.port} dbname={DATABASE} user=postgres"

    def url_of(self, database: str) -> str:
        """The URL of `ROLE` on another database of the cluster, without the password."""
        return f"postgresql://{ROLE}@{self.host}:{self.port}/{database}"

    def dsn_of(self, database: str) -> str:
        """The libpq connection string of `ROLE` on another database, password included."""
        return (
            f"host={self.host} port={self.port} dbname={database} user={ROLE} password={PASSWORD}"
        )

    def create_database(self, name: str) -> str:
        """Makes a database owned by `ROLE` (one per test module keeps their tables apart in the
        session's one cluster); returns its `dsn_of`."""
        self.psql(f'CREATE DATABASE "{name}" OWNER {ROLE}', database="postgres")
        return self.dsn_of(name)

    def start(self) -> PostgresServer:
        """Makes the cluster, starts it, makes the role and the database; returns the server.
        A failure stops what was started and removes the folder before it is raised."""
        try:
            self._make_folder()
            self._initdb()
            self._start_on_a_free_port()
            self._make_role_and_database()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops the server (fast; immediate if that fails) and removes its folder. Idempotent."""
        if self.folder is None:
            return
        if (self.data / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                done = self._run(
                    ["pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "10"],
                    check=False,
                )
                if done.returncode == 0:
                    break
            else:
                self._kill()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def psql(self, *statements: str, database: str = DATABASE) -> str:
        """Runs SQL statements, one after the other, as the superuser over the Unix socket;
        returns what psql printed."""
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", str(self.folder)]
        argv += ["-p", str(self.port), "-U", "postgres", "-d", database]
        for sql in statements:
            argv += ["-c", sql]
        return self._run(argv).stdout

    def _kill(self) -> None:
        """The last resort: SIGKILL to the postmaster named in postmaster.pid."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)

    def _make_folder(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="secondapproval-pg-"))
        if self._as_postgres:
            user = pwd.getpwnam(OS_USER)
            os.chown(self.folder, user.pw_uid, user.pw_gid)

    def _initdb(self) -> None:
        argv = ["initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        self._run([*argv, "--locale=C", "--no-sync", "--no-instructions"])
        settings = "".join(f"{name} = '{value}'\n" for name, value in _SETTINGS.items())
        settings += f"unix_socket_directories = '{self.folder}'\n"
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)
        (self.data / "pg_hba.conf").write_text(_HBA, encoding="utf-8")

    def _start_on_a_free_port(self, tries: int = 3) -> None:
        for attempt in range(tries):
            self.port = free_port()
            log = self.data.parent / "server.log"
            argv = ["pg_ctl", "start", "-D", str(self.data), "-l", str(log), "-w"]
            argv += ["-t", str(int(READY_WITHIN)), "-o", f"-p {self.port}"]
            done = self._run(argv, check=False)
            if done.returncode == 0:
                return
            if attempt == tries - 1:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"PostgreSQL did not start:\n{done.stderr}\n{tail}")
            time.sleep(0.1)

    def _make_role_and_database(self) -> None:
        role = f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'"
        self.psql(role, f"CREATE DATABASE {DATABASE} OWNER {ROLE}", database="postgres")

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", OS_USER, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, cwd=self.folder, timeout=60
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr}")
        return done


def server_or_skip() -> PostgresServer:
    """A server ready to start; without the binaries, `pytest.skip` — or `pytest.fail` when the
    environment variable CI is "true", so CI never silently skips what needs PostgreSQL."""
    try:
        return PostgresServer()
    except PostgresMissingError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL for the whole session (skipped without the binaries, failed in CI)."""
    server = server_or_skip().start()
    try:
        yield server
    finally:
        server.stop()
