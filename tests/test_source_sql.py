"""The `sql` adapter on a real SQLite file and a real PostgreSQL: rows, bound keys, read-only
sessions, timeouts, refused connections, many lookups at once."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from postgres import (
    PostgresServer,
    free_port,
    postgres,  # noqa: F401
)
from secondapproval.sources import sql
from secondapproval.sources.contract import Adapter, Answer, NotFound, Unavailable
from secondapproval.sources.sql import Sql, SqlSettings
from secondapproval.sources.table import Table, TableSettings

LI_LEI = {
    "id_number": "110101199003074514",
    "name": "Li Lei",
    "born": "1990-03-07",
    "fee": "1250.50",
    "credits": 120,
}
HAN_MEIMEI = {"id_number": "110101199204085521", "name": "Han Meimei", "credits": 98}
MANY = [f"P{n:03}" for n in range(100)]
"""The keys of the rows for the lookups in flight at once."""
BY_ID = "SELECT id_number, name, born, fee, credits FROM people WHERE id_number = {id_number}"
BY_HOUSEHOLD = "SELECT id_number FROM people WHERE household = {household}"
PLACEHOLDER = {"sqlite": ":{}", "postgresql": "%({})s"}

SQLITE_SCHEMA = """
CREATE TABLE people (id_number TEXT PRIMARY KEY, name TEXT, born TEXT, fee TEXT,
                     credits INTEGER, household TEXT, photo BLOB, score REAL);
CREATE TABLE keys (k TEXT, n INTEGER);
"""
POSTGRES_SCHEMA = """
CREATE TABLE people (id_number text PRIMARY KEY, name text, born date, fee numeric(10, 2),
                     credits integer, household text, photo bytea, score double precision,
                     seen timestamptz, tags text[], extra jsonb, uid uuid, active boolean);
CREATE TABLE keys (k text, n integer);
CREATE FUNCTION bump(id text) RETURNS integer LANGUAGE sql AS
    'UPDATE people SET credits = credits + 1 WHERE id_number = id RETURNING credits';
"""


def rows() -> list[tuple[Any, ...]]:
    """The people rows: Li Lei, Han Meimei (no born, no fee), a household of two, 100 more."""
    people = [
        (LI_LEI["id_number"], "Li Lei", "1990-03-07", "1250.50", 120, "H0", b"\x89PNG", 0.5),
        (HAN_MEIMEI["id_number"], "Han Meimei", None, None, 98, "H1", None, None),
        ("110101200001010011", "Wei Hua", "2000-01-01", "0.00", 0, "H1", None, None),
    ]
    return people + [
        (key, f"Person {key}", None, None, n, None, None, None) for n, key in enumerate(MANY)
    ]


@dataclass
class Office:
    """One database holding the people rows, and how to build an adapter over it."""

    dialect: str
    database: str
    password: str | None = None
    direct: str | None = None
    """PostgreSQL: the libpq string of the tests' own connection (to change the data behind the
    adapter's back)."""

    def settings(self, statement: str, **options: Any) -> SqlSettings:
        """Settings of a statement whose `{name}` are written as the dialect's parameters."""
        text = re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDER[self.dialect].format(m[1]), statement)
        given: dict[str, Any] = {"database": self.database, "statement": text, **options}
        if self.password is not None:
            given.setdefault("password", SecretStr(self.password))
        return SqlSettings.model_validate(given)

    def adapter(self, statement: str = BY_ID, *, timeout: float = 5.0, **options: Any) -> Sql:
        return Sql("people", self.settings(statement, **options), timeout=timeout)

    def count(self) -> int:
        """The rows of people, read by the tests' own connection."""
        if self.dialect == "sqlite":
            with sqlite3.connect(self.database.removeprefix("sqlite:///")) as db:
                return int(db.execute("SELECT count(*) FROM people").fetchone()[0])
        with psycopg.connect(self.direct or "") as db:
            found = db.execute("SELECT count(*) FROM people").fetchone()
            return int(found[0]) if found else 0


def run(adapter: Sql, *keys: dict[str, Any]) -> list[Answer | BaseException]:
    """The lookups of `keys` at once in one event loop, then `aclose()`; failures returned."""

    async def lookups() -> list[Answer | BaseException]:
        try:
            return await asyncio.gather(*(adapter.lookup(k) for k in keys), return_exceptions=True)
        finally:
            await adapter.aclose()

    return asyncio.run(lookups())


def one_by_one(adapter: Sql, *keys: dict[str, Any]) -> list[tuple[float, Answer | Exception]]:
    """The lookups of `keys` one after the other in one event loop, then `aclose()`: the
    seconds each took and its answer or failure."""

    async def lookups() -> list[tuple[float, Answer | Exception]]:
        done: list[tuple[float, Answer | Exception]] = []
        try:
            for key in keys:
                started = time.monotonic()
                try:
                    answer: Answer | Exception = await adapter.lookup(key)
                except (NotFound, Unavailable) as exc:
                    answer = exc
                done.append((time.monotonic() - started, answer))
        finally:
            await adapter.aclose()
        return done

    return asyncio.run(lookups())


def one(adapter: Sql, **key: Any) -> Answer:
    """The answer of one lookup (its failure raised)."""
    [answer] = run(adapter, key)
    if isinstance(answer, BaseException):
        raise answer
    return answer


@pytest.fixture(scope="module")
def sqlite_office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    path = tmp_path_factory.mktemp("sqlite") / "people.db"
    with sqlite3.connect(path) as db:
        db.executescript(SQLITE_SCHEMA)
        db.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows())
    db.close()
    return Office("sqlite", f"sqlite:///{path}")


@pytest.fixture(scope="module")
def postgres_office(postgres: PostgresServer) -> Office:  # noqa: F811
    dsn = postgres.create_database("sql_adapter")
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(POSTGRES_SCHEMA)
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO people (id_number, name, born, fee, credits, household, photo, score)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                rows(),
            )
    return Office("postgresql", postgres.url_of("sql_adapter"), postgres.password, dsn)


@pytest.fixture(params=["sqlite", "postgres"])
def office(request: pytest.FixtureRequest) -> Office:
    """Each test that takes it runs on SQLite, then on PostgreSQL."""
    found: Office = request.getfixturevalue(f"{request.param}_office")
    return found


def test_a_row_is_found_as_a_record_of_json_values(office: Office) -> None:
    """The row of the key: a date and a decimal as text, an integer as a number, the reference
    from its column."""
    answer = one(office.adapter(reference="id_number"), id_number=LI_LEI["id_number"])
    assert dict(answer.record) == LI_LEI
    assert answer.reference == LI_LEI["id_number"]


def test_a_null_is_absent_from_the_record(office: Office) -> None:
    """Han Meimei has no birth date nor fee: the record has no such fields."""
    assert one(office.adapter(), id_number=HAN_MEIMEI["id_number"]).record == HAN_MEIMEI


def test_the_same_row_gives_one_record_and_one_digest_from_every_source(
    sqlite_office: Office, postgres_office: Office, tmp_path: Path
) -> None:
    """Li Lei from SQLite, from PostgreSQL and from a CSV table: one record, one digest."""
    csv = tmp_path / "people.csv"
    csv.write_text(
        "id_number,name,born,fee,credits\n110101199003074514,Li Lei,1990-03-07,1250.50,120\n"
    )
    settings = TableSettings(
        path=csv, key=["id_number"], columns={"born": "date", "fee": "decimal", "credits": "int"}
    )
    table = asyncio.run(Table("people", settings, timeout=1).lookup(LI_LEI))
    answers = [
        one(o.adapter(), id_number=LI_LEI["id_number"]) for o in (sqlite_office, postgres_office)
    ]
    assert [dict(a.record) for a in answers] == [LI_LEI, LI_LEI]
    assert {a.digest for a in answers} == {table.digest}


def test_no_row_is_not_found(office: Office) -> None:
    """A key no row has: NotFound."""
    with pytest.raises(NotFound):
        one(office.adapter(), id_number="000000000000000000")


def test_two_rows_are_ambiguous(office: Office) -> None:
    """Two rows for one key: Unavailable, saying how many, never the first of them."""
    with pytest.raises(Unavailable, match=r"^ambiguous: 2 rows for the key$"):
        one(office.adapter(BY_HOUSEHOLD), household="H1")


def test_more_rows_than_counted_are_said_so(office: Office) -> None:
    """A statement that matches every row: 'more than 100 rows', counted no further."""
    statement = "SELECT id_number FROM people WHERE CAST({household} AS TEXT) IS NOT NULL"
    with pytest.raises(Unavailable, match=r"ambiguous: more than 100 rows"):
        one(office.adapter(statement), household="x")


@pytest.mark.parametrize(
    "value", ["' OR 1=1 --", "x' OR 'a'='a", "'; DROP TABLE people; --", "H1' OR household='H1"]
)
def test_a_key_is_bound_never_spliced_into_the_statement(office: Office, value: str) -> None:
    """A key holding SQL finds nothing (it is compared as a value), and the table is intact."""
    before = office.count()
    with pytest.raises(NotFound):
        one(office.adapter(BY_HOUSEHOLD), household=value)
    assert office.count() == before


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM people WHERE id_number = {id_number}",
        "INSERT INTO people (id_number) VALUES ({id_number})",
        "UPDATE people SET name = 'x' WHERE id_number = {id_number}",
        "SELECT * FROM people WHERE id_number = {id_number}; DELETE FROM people",
        "WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone WHERE 1 = {id_number}",
        "SELECT * INTO copy FROM people WHERE id_number = {id_number}",
        "SELECT * FROM people WHERE id_number = {id_number} FOR UPDATE",
        "CREATE TABLE x AS SELECT * FROM people WHERE id_number = {id_number}",
    ],
)
def test_a_statement_that_writes_is_refused_when_the_file_is_loaded(
    office: Office, statement: str
) -> None:
    """DELETE, INSERT, UPDATE, a second statement, a writing WITH, SELECT INTO, FOR UPDATE:
    refused by the settings, before anything is connected."""
    with pytest.raises(ValidationError, match=r"not a SELECT|read-only|nothing may follow"):
        office.settings(statement)


def test_the_session_cannot_write_even_so(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the statement check switched off, an UPDATE and a DELETE still fail as Unavailable,
    and the table is unchanged: the database itself is read-only for the adapter."""
    monkeypatch.setattr(sql, "parameters", lambda statement, dialect: frozenset({"id_number"}))
    before = office.count()
    for statement in (
        "UPDATE people SET name = 'x' WHERE id_number = {id_number}",
        "DELETE FROM people WHERE id_number = {id_number} RETURNING id_number",
    ):
        with pytest.raises(Unavailable, match=r"read-only|not authorized"):
            one(office.adapter(statement), id_number=LI_LEI["id_number"])
    assert office.count() == before


def test_a_function_that_writes_fails_in_the_read_only_session(postgres_office: Office) -> None:
    """`SELECT bump(id)` passes the statement check (a function call), but its UPDATE is refused
    by PostgreSQL: the session is read-only."""
    adapter = postgres_office.adapter("SELECT bump({id_number}) AS credits")
    with pytest.raises(Unavailable, match=r"read-only transaction"):
        one(adapter, id_number=LI_LEI["id_number"])
    assert one(postgres_office.adapter(), id_number=LI_LEI["id_number"]).record["credits"] == 120


def test_a_slow_statement_is_unavailable_within_its_timeout(postgres_office: Office) -> None:
    """`pg_sleep(5)` with a 0.3 s timeout: Unavailable well before the 5 s are over; the pool's
    one connection then answers the next lookup at once (the statement was cancelled)."""
    statement = (
        "SELECT {id_number} AS id_number"
        " FROM pg_sleep(CASE WHEN {id_number} = 'slow' THEN 5 ELSE 0 END)"
    )
    adapter = postgres_office.adapter(statement, timeout=0.3, connections=1)
    [(took, slow), (_, fast)] = one_by_one(adapter, {"id_number": "slow"}, {"id_number": "fast"})
    assert took < 1.5
    assert isinstance(slow, Unavailable)
    assert slow.why == "no answer within 0.3 s"
    assert isinstance(fast, Answer)
    assert fast.record == {"id_number": "fast"}


def test_a_session_the_server_dropped_is_replaced(postgres_office: Office) -> None:
    """The server ends the pool's one session: that lookup may fail (Unavailable, never another
    exception), and the next one is answered on a new session."""
    adapter = postgres_office.adapter(connections=1)
    key = {"id_number": LI_LEI["id_number"]}

    async def drop_between() -> list[Answer | Exception]:
        done: list[Answer | Exception] = [await adapter.lookup(key)]
        with psycopg.connect(postgres_office.direct or "", autocommit=True) as db:
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'secondapproval people'"
            )
        for _ in range(2):
            try:
                done.append(await adapter.lookup(key))
            except Unavailable as exc:
                done.append(exc)
        await adapter.aclose()
        return done

    first, dropped, again = asyncio.run(drop_between())
    assert isinstance(first, Answer)
    assert isinstance(dropped, Answer | Unavailable)
    assert isinstance(again, Answer)
    assert again.record == LI_LEI


def test_the_server_cancels_a_statement_at_the_timeout(postgres_office: Office) -> None:
    """statement_timeout is the session's: the server stops the statement itself."""
    answer = one(
        postgres_office.adapter(
            "SELECT current_setting('statement_timeout') AS t, {id_number} AS id_number",
            timeout=0.3,
        ),
        id_number="x",
    )
    assert answer.record["t"] == "300ms"


ENDLESS = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE {id_number} = 'endless')"
    " SELECT count(*) AS n, {id_number} AS id_number FROM c"
)
"""A SQLite statement that never ends for the key `endless`, and answers at once for another."""


def test_a_slow_sqlite_statement_is_interrupted(sqlite_office: Office) -> None:
    """An endless recursive count on SQLite with a 0.3 s timeout: Unavailable in time, and the
    one worker thread is free again for the next lookup."""
    adapter = sqlite_office.adapter(ENDLESS, timeout=0.3, connections=1)
    [(took, slow), (_, fast)] = one_by_one(adapter, {"id_number": "endless"}, {"id_number": "x"})
    assert took < 1.5
    assert isinstance(slow, Unavailable)
    assert slow.why == "no answer within 0.3 s"
    assert isinstance(fast, Answer)
    assert fast.record == {"n": 1, "id_number": "x"}


def test_closing_ends_the_sqlite_lookups_in_flight(sqlite_office: Office) -> None:
    """aclose() while five endless statements run or wait for the one thread: each lookup is
    Unavailable (never a CancelledError), long before its 5 s timeout."""
    adapter = sqlite_office.adapter(ENDLESS, timeout=5.0, connections=1)

    async def close_soon() -> list[Answer | BaseException]:
        key = {"id_number": "endless"}
        lookups = [asyncio.ensure_future(adapter.lookup(key)) for _ in range(5)]
        await asyncio.sleep(0.2)
        await adapter.aclose()
        return await asyncio.gather(*lookups, return_exceptions=True)

    started = time.monotonic()
    failed = asyncio.run(close_soon())
    assert time.monotonic() - started < 3.0
    assert [type(f) for f in failed] == [Unavailable] * 5
    assert {f.why for f in failed if isinstance(f, Unavailable)} == {"the source is closed"}


def test_a_locked_sqlite_file_is_unavailable_within_the_timeout(tmp_path: Path) -> None:
    """A writer holds an exclusive lock: the lookup waits no longer than its timeout."""
    path = tmp_path / "locked.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.executescript("CREATE TABLE t (k TEXT); INSERT INTO t VALUES ('a');")
    writer.execute("BEGIN EXCLUSIVE")
    try:
        settings = SqlSettings(
            database=f"sqlite:///{path}", statement="SELECT k FROM t WHERE k = :k"
        )
        started = time.monotonic()
        with pytest.raises(Unavailable, match=r"locked|within"):
            one(Sql("t", settings, timeout=0.3), k="a")
        assert time.monotonic() - started < 2.0
    finally:
        writer.close()


def test_a_refused_connection_is_unavailable() -> None:
    """Nothing listens on the port: Unavailable within the timeout, saying there is no
    connection."""
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    dead = SqlSettings(database=url, statement="SELECT %(id)s AS id")
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"no connection to the .* 0.5 s \(.*Connection refused"):
        one(Sql("people", dead, timeout=0.5), id="x")
    assert time.monotonic() - started < 2.0


def test_a_missing_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    """A file that is not there is never created (read-only): Unavailable."""
    settings = SqlSettings(database=f"sqlite:///{tmp_path}/none.db", statement="SELECT :k AS k")
    with pytest.raises(Unavailable, match=r"cannot open none\.db"):
        one(Sql("people", settings, timeout=1.0), k="x")
    assert not (tmp_path / "none.db").exists()


def test_a_wrong_password_is_unavailable_and_never_shown(
    postgres_office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password from the environment, wrong: Unavailable; the why names the failure, never the
    password (nor does describe())."""
    monkeypatch.setenv("PEOPLE_PASSWORD", "wrong-horse-battery")
    adapter = postgres_office.adapter(password={"env": "PEOPLE_PASSWORD"}, timeout=1.0)
    with pytest.raises(Unavailable, match=r"password authentication failed") as caught:
        one(adapter, id_number=LI_LEI["id_number"])
    assert "wrong-horse-battery" not in caught.value.why
    assert "wrong-horse-battery" not in adapter.describe()
    monkeypatch.setenv("PEOPLE_PASSWORD", postgres_office.password or "")
    adapter = postgres_office.adapter(password={"env": "PEOPLE_PASSWORD"})
    assert one(adapter, id_number=LI_LEI["id_number"]).record == LI_LEI


def test_bad_sql_at_run_time_is_unavailable(office: Office) -> None:
    """A table that is not there: Unavailable with the database's own first line."""
    with pytest.raises(Unavailable, match=r"nowhere"):
        one(office.adapter("SELECT * FROM nowhere WHERE id_number = {id_number}"), id_number="x")


def test_a_hundred_lookups_in_flight_are_each_answered_rightly(office: Office) -> None:
    """100 lookups at once through 4 connections: each gets its own row."""
    keys = [{"id_number": key} for key in MANY]
    answers = run(office.adapter(connections=4), *keys)
    assert [a.record if isinstance(a, Answer) else a for a in answers] == [
        {"id_number": key, "name": f"Person {key}", "credits": n} for n, key in enumerate(MANY)
    ]


def test_postgres_types_become_json_values(postgres_office: Office) -> None:
    """A timestamp, an array, jsonb, a uuid, a boolean and a float come back as JSON values."""
    statement = (
        "SELECT timestamptz '2021-06-01 09:30:00+00' AS seen, ARRAY['a', 'b'] AS tags,"
        """ '{"level": 2}'::jsonb AS extra, true AS active, 0.5::float8 AS score,"""
        " '6f1c2a6e-5b1e-4c8e-9d6a-1f2e3d4c5b6a'::uuid AS uid, 12.30::numeric AS fee,"
        " {id_number} AS id_number"
    )
    record = one(postgres_office.adapter(statement), id_number="x").record
    assert dict(record) == {
        "seen": "2021-06-01T09:30:00+00:00",
        "tags": ["a", "b"],
        "extra": {"level": 2},
        "uid": "6f1c2a6e-5b1e-4c8e-9d6a-1f2e3d4c5b6a",
        "active": True,
        "score": 0.5,
        "fee": "12.30",
        "id_number": "x",
    }


def test_a_binary_column_is_refused(office: Office) -> None:
    """bytes are no JSON value: Unavailable naming the column."""
    adapter = office.adapter("SELECT photo FROM people WHERE id_number = {id_number}")
    with pytest.raises(Unavailable, match=r"column photo: a bytes"):
        one(adapter, id_number=LI_LEI["id_number"])


def test_a_column_given_twice_is_refused(office: Office) -> None:
    """Two columns of one name would make one field: Unavailable."""
    adapter = office.adapter("SELECT name, name FROM people WHERE id_number = {id_number}")
    with pytest.raises(Unavailable, match=r"the column name twice"):
        one(adapter, id_number=LI_LEI["id_number"])


def test_the_key_must_give_exactly_the_statements_parameters(office: Office) -> None:
    """The parameters are read from the statement; a key with other names is Unavailable."""
    adapter = office.adapter()
    assert adapter.parameters == {"id_number"}
    failed = run(adapter, {"id": "x"}, {"id_number": "x", "name": "y"}, {"id_number": [1]})
    assert all(isinstance(f, Unavailable) for f in failed)


def test_a_closed_source_is_unavailable(office: Office) -> None:
    """After aclose() a lookup is Unavailable, and aclose() may be called again."""
    adapter = office.adapter()

    async def after_close() -> None:
        await adapter.aclose()
        await adapter.aclose()
        await adapter.lookup({"id_number": LI_LEI["id_number"]})

    with pytest.raises(Unavailable, match=r"closed"):
        asyncio.run(after_close())


def test_the_pool_stays_in_its_event_loop(postgres_office: Office) -> None:
    """A second event loop gets Unavailable, not a pool whose connections belong to the first."""
    adapter = postgres_office.adapter()
    assert asyncio.run(adapter.lookup({"id_number": LI_LEI["id_number"]})).record == LI_LEI
    with pytest.raises(Unavailable, match=r"another event loop"):
        asyncio.run(adapter.lookup({"id_number": LI_LEI["id_number"]}))
    asyncio.run(adapter.aclose())


def test_an_sql_source_is_an_adapter_and_describes_itself(
    sqlite_office: Office, postgres_office: Office
) -> None:
    """Both satisfy the Adapter protocol; describe() is the URL, never with a password."""
    on_sqlite, on_postgres = sqlite_office.adapter(), postgres_office.adapter()
    assert isinstance(on_sqlite, Adapter)
    assert isinstance(on_postgres, Adapter)
    assert on_sqlite.describe() == sqlite_office.database
    assert on_postgres.describe() == postgres_office.database
    assert postgres_office.password not in on_postgres.describe()


def test_a_relative_sqlite_path_is_taken_from_the_deployment_folder(tmp_path: Path) -> None:
    """`sqlite:///exports/p.db` in a deployment file in tmp_path names tmp_path/exports/p.db."""
    options = {"database": "sqlite:///exports/p.db", "statement": "SELECT :k AS k"}
    settings = SqlSettings.model_validate(options, context={"folder": tmp_path})
    assert settings.database == f"sqlite:///{tmp_path}/exports/p.db"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"database": "postgresql://u:pw@h/db"}, r"never in the URL"),
        ({"database": "postgresql://u@h/db?password=pw"}, r"never in the URL"),
        ({"database": "postgresql://u@h/db?options=-c%20x%3Dy"}, r"options are the adapter's"),
        ({"database": "sqlite:///:memory:"}, r"sqlite:///PATH"),
        ({"database": "sqlite://host/p.db"}, r"sqlite:///PATH"),
        ({"database": "mysql://u@h/db"}, r"sqlite:///PATH or postgresql://"),
        ({"password": "literal"}, r"never written in the file"),
        ({"password": SecretStr("x")}, r"a SQLite file takes no password"),
        ({"connections": 0}, r"greater than or equal to 1"),
        ({"statement": "SELECT * FROM t WHERE k = ?"}, r"write :name"),
        ({"statement": "SELECT * FROM t"}, r"binds no parameter"),
        ({"statement": "SELECT 'open FROM t WHERE k = :k"}, r"unterminated"),
        ({"table": "t"}, r"Extra inputs"),
    ],
)
def test_bad_settings_are_refused_when_the_file_is_loaded(
    options: dict[str, Any], error: str
) -> None:
    """A password in the URL or written in the file, an in-memory or unknown database, no
    connection, a positional or no parameter, an open quote, an unknown option: refused."""
    given = {"database": "sqlite:///p.db", "statement": "SELECT * FROM t WHERE k = :k", **options}
    with pytest.raises(ValidationError, match=error):
        SqlSettings.model_validate(given)


@pytest.mark.parametrize(
    ("dialect", "statement", "names"),
    [
        ("sqlite", "SELECT ':no', \"a;b\" FROM t WHERE k = :k -- ; :no", {"k"}),
        ("sqlite", "SELECT replace(name, :a, :b) FROM t", {"a", "b"}),
        ("postgresql", "SELECT 1 FROM t WHERE k = %(k)s AND n LIKE 'a%%'", {"k"}),
        ("postgresql", "SELECT $$; DELETE$$, $q$x$q$ FROM t WHERE k = %(k)s::text;", {"k"}),
        ("postgresql", "SELECT E'it\\'s; DROP' FROM t WHERE k = %(k)s AND j = %(k)s", {"k"}),
    ],
)
def test_parameters_are_read_outside_quotes_and_comments(
    dialect: sql.Dialect, statement: str, names: set[str]
) -> None:
    """Quotes, comments, dollar quotes and a trailing ';' are read as SQL reads them."""
    assert sql.parameters(statement, dialect) == names


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("SELECT 1 FROM t WHERE k = %s", r"write %\(name\)s"),
        ("SELECT 1 FROM t WHERE k = $1", r"positional"),
        ("SELECT 1 FROM t WHERE n LIKE 'a%' AND k = %(k)s", r"a literal % is %%"),
        ("SELECT 1 FROM t WHERE k = %(k)b", r"write %\(name\)s"),
    ],
)
def test_a_postgresql_statement_takes_named_parameters_only(statement: str, error: str) -> None:
    """psycopg reads every `%`: a positional one, a bare `%` or another format are refused."""
    with pytest.raises(ValueError, match=error):
        sql.parameters(statement, "postgresql")


texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)


@given(st.lists(texts, min_size=1, max_size=5, unique=True))
def test_any_text_key_round_trips_through_both_drivers(
    sqlite_office: Office, postgres_office: Office, values: list[str]
) -> None:
    """Keys of any text (quotes, percent signs, colons, non-ASCII) written by the tests' own
    connection are each found, with their row, on SQLite and on PostgreSQL."""
    with sqlite3.connect(sqlite_office.database.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM keys")
        db.executemany("INSERT INTO keys VALUES (?, ?)", [(v, n) for n, v in enumerate(values)])
    db.close()
    with psycopg.connect(postgres_office.direct or "", autocommit=True) as pg:
        pg.execute("DELETE FROM keys")
        with pg.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO keys VALUES (%s, %s)",
                list(zip(values, range(len(values)), strict=True)),
            )
    for office in (sqlite_office, postgres_office):
        answers = run(
            office.adapter("SELECT k, n FROM keys WHERE k = {k}"), *({"k": v} for v in values)
        )
        assert [a.record if isinstance(a, Answer) else a for a in answers] == [
            {"k": v, "n": n} for n, v in enumerate(values)
        ]


def test_json_text_columns_are_parsed_and_anything_else_is_unavailable(office: Office) -> None:
    """`json_columns`: a column of JSON text (SQLite has no JSON type) comes back parsed; text
    that is not JSON, or a value that is not text, is Unavailable, never kept as a string."""
    penalties = '[{"decided_on": "2024-03-01", "serious": false}]'
    statement = (
        f"SELECT id_number, '{penalties}' AS penalties, name, credits FROM people"
        " WHERE id_number = {id_number}"
    )
    found = one(
        office.adapter(statement, json_columns=["penalties"]), id_number=LI_LEI["id_number"]
    )
    assert found.record["penalties"] == [{"decided_on": "2024-03-01", "serious": False}]
    assert one(office.adapter(statement), id_number=LI_LEI["id_number"]).record["penalties"] == (
        penalties
    )
    for column, error in (("name", r"column name: not JSON"), ("credits", r"is not JSON text")):
        adapter = office.adapter(statement, json_columns=[column])
        with pytest.raises(Unavailable, match=error):
            one(adapter, id_number=LI_LEI["id_number"])
