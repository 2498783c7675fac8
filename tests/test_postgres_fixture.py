"""tests/postgres.py itself: the cluster it starts, what it lets the tests do, that it leaves
nothing behind, and that CI never skips for want of PostgreSQL."""

from __future__ import annotations

import os
import pwd
import socket
from pathlib import Path

import psycopg
import pytest

from postgres import (
    DATABASE,
    OS_USER,
    ROLE,
    PostgresMissingError,
    PostgresServer,
    binaries,
    postgres,  # noqa: F401
    server_or_skip,
)


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_role_connects_with_its_password_and_owns_the_database(
    postgres: PostgresServer,  # noqa: F811
) -> None:
    """`dsn` connects as ROLE, which is no superuser, owns DATABASE and can write in it."""
    with psycopg.connect(postgres.dsn, autocommit=True) as db:
        who = db.execute(
            "SELECT current_user, current_database(), usesuper FROM pg_user"
            " WHERE usename = current_user"
        ).fetchone()
        assert who == (ROLE, DATABASE, False)
        db.execute("CREATE TABLE fixture_check (n integer)")
        db.execute("INSERT INTO fixture_check VALUES (1)")
        db.execute("DROP TABLE fixture_check")


def test_the_password_is_checked(postgres: PostgresServer) -> None:  # noqa: F811
    """A wrong password is refused: the cluster checks it (scram-sha-256), so a test of a
    password setting tests something."""
    wrong = postgres.dsn.replace(f"password={postgres.password}", "password=wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()


def test_the_url_names_the_role_and_the_port_without_the_password(
    postgres: PostgresServer,  # noqa: F811
) -> None:
    """`url` is postgresql://ROLE@127.0.0.1:PORT/DATABASE; psycopg connects with it and the
    password given apart."""
    assert postgres.url == f"postgresql://{ROLE}@127.0.0.1:{postgres.port}/{DATABASE}"
    assert postgres.password not in postgres.url
    with psycopg.connect(postgres.url, password=postgres.password) as db:
        assert db.execute("SELECT 1").fetchone() == (1,)


def test_a_module_makes_its_own_database(postgres: PostgresServer) -> None:  # noqa: F811
    """create_database gives a database of ROLE, reached through its dsn_of and url_of."""
    dsn = postgres.create_database("fixture_own")
    assert dsn == postgres.dsn_of("fixture_own")
    with psycopg.connect(postgres.url_of("fixture_own"), password=postgres.password) as db:
        assert db.execute("SELECT current_database(), current_user").fetchone() == (
            "fixture_own",
            ROLE,
        )


def test_the_cluster_lives_in_its_own_folder(postgres: PostgresServer) -> None:  # noqa: F811
    """The data and the Unix socket are in the temporary folder; as root it belongs to the
    `postgres` OS user; the superuser runs SQL through `psql`."""
    assert postgres.folder is not None
    assert (postgres.folder / f".s.PGSQL.{postgres.port}").exists()
    if os.geteuid() == 0:
        assert postgres.folder.stat().st_uid == pwd.getpwnam(OS_USER).pw_uid
    assert postgres.psql("SHOW fsync") == "off\n"


def test_a_start_that_fails_half_way_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server started, then making the role failed: start() stops the server and removes
    the folder before the error is raised; stop() again does nothing."""
    server = PostgresServer()
    seen: list[Path] = []

    def fail() -> None:
        assert server.folder is not None
        seen.append(server.folder)
        assert listening(server.port)
        raise RuntimeError("the role could not be made")

    monkeypatch.setattr(server, "_make_role_and_database", fail)
    with pytest.raises(RuntimeError, match="the role could not be made"):
        server.start()
    assert server.folder is None
    assert not seen[0].exists()
    assert not listening(server.port)
    server.stop()


def test_the_newest_debian_version_is_taken(tmp_path: Path) -> None:
    """Among 9.6, 13 and 15 (compared as versions, not as text), 15's binaries."""
    for version in ("9.6", "13", "15", "notes"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    assert binaries(tmp_path) == tmp_path / "15" / "bin"


def test_without_binaries_a_laptop_skips_and_ci_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No PostgreSQL anywhere: skipped, unless CI is "true", where the tests fail."""
    monkeypatch.setattr("postgres.DEBIAN", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PostgresMissingError):
        binaries()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server binaries"):
        server_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no PostgreSQL"):
        server_or_skip()
