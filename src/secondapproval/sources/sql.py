"""The `sql` adapter: one parameterised SELECT of the deployment file, run on SQLite or PostgreSQL.

    people:
      adapter: sql
      database: postgresql://approvals@db.internal:5432/registry
      password: {env: REGISTRY_PASSWORD}
      statement: |
        SELECT id_number, name, born, hukou_district AS district
        FROM residents WHERE id_number = %(id_number)s
      reference: id_number

    degrees:
      adapter: sql
      database: sqlite:///exports/degrees.db      # relative to the deployment file's folder
      statement: SELECT * FROM degrees WHERE id_number = :id_number

The statement is its text, one per source (`statement:`), in its driver's own named style:
`:id_number` for SQLite, `%(id_number)s` for PostgreSQL (a literal `%` is written `%%` there, as
psycopg reads every `%`). Its parameters are exactly the lookup key's names: the key's values are
bound by the driver, never put in the text, so no value can change what the statement does. When
the file is loaded the text is read for what it is (outside its quotes and comments): one SELECT
(or WITH … SELECT), nothing after a `;`, no writing verb (INSERT, UPDATE, DELETE, MERGE, INTO,
CREATE, ATTACH, PRAGMA …; a column of such a name is written quoted), named parameters only.

That check is a first door; the database is the second, so a statement that gets past it still
cannot write. SQLite is opened read-only (`file:…?mode=ro`), with `PRAGMA query_only` and an
authorizer that allows reading and functions and denies everything else; a PostgreSQL session
starts with `default_transaction_read_only=on`. The role should still be granted SELECT only: a
read-only transaction forbids writes, not every function with an effect.

A lookup answers with the one row of the key: zero rows is `NotFound`, more is `Unavailable`
("ambiguous: N rows", counted up to 100). The row becomes a record of JSON values (a date or a
timestamp as ISO text, a decimal as its text, a NULL absent, bytes refused), its digest the
SHA-256 of its canonical JSON, as for the `table` adapter. SQLite has no date nor decimal type:
keep them in TEXT columns to have them back as written (a NUMERIC column turns `1250.50` into the
float 1250.5). Any driver error — connection refused, bad SQL at run time, a lock, a timeout, a
session the server dropped (the pool replaces it) — is `Unavailable` with its first line, never
the password.

The timeout bounds the whole call, the wait for a connection included. SQLite runs in a pool of
worker threads (`connections`, 4 by default), bounded by `asyncio.timeout` and, in the thread, by
a progress handler that aborts the statement at the same deadline (and `timeout=` for locks).
Each thread reuses its connection: opening one and reading the schema costs about 200 µs against
15 µs for the query on an open one (a 100,000-row, 21-table file on this machine), and an open
read-only connection holds nothing between queries. PostgreSQL runs through a
`psycopg_pool.AsyncConnectionPool` (at most `connections` sessions, opened at the first lookup,
in that event loop: one Engine, one loop), each session with `statement_timeout` set to the
timeout, inside the same `asyncio.timeout`.

The drivers are used directly (sqlite3 of the standard library, psycopg 3), not SQLAlchemy: one
parameterised SELECT per lookup needs no ORM nor a query builder, each driver's own named style is
no burden for one statement, and the dependency set stays small (SQLite needs nothing, PostgreSQL
the `postgres` extra, imported only by a PostgreSQL source).
"""

from __future__ import annotations

import asyncio
import math
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self
from urllib.parse import parse_qs, urlsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .contract import Answer, NotFound, Unavailable, raw_digest
from .secrets import Secret
from .table import canonical, in_folder, json_value, reference_of

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

Dialect = Literal["sqlite", "postgresql"]
COUNTED = 100
"""The most rows an ambiguous answer is counted up to."""


class SqlSettings(BaseModel):
    """The options of a `sql` source in the deployment file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str
    """`sqlite:///PATH` (relative to the deployment file's folder; absolute once validated) or
    `postgresql://USER@HOST:PORT/DB` (the password never in it)."""
    password: Secret | None = None
    """PostgreSQL: the role's password, `{env: NAME}` or `{file: PATH}`."""
    statement: str
    """The SELECT, with the lookup key's names as named parameters of its driver."""
    reference: str | None = None
    """A column whose value is the answer's reference (a row id, a certificate number)."""
    connections: int = Field(default=4, ge=1, le=100)
    """The most statements at once: PostgreSQL sessions of the pool, SQLite worker threads."""
    booleans: list[str] = []
    """Columns holding 0 or 1 for false or true (SQLite has no boolean type): given as JSON
    booleans; any other value in them is Unavailable, never guessed."""
    json_columns: list[str] = []
    """Columns holding JSON text (SQLite has no JSON type; a list of records, as a credit
    platform's penalties, is kept so): parsed with orjson; text that is not JSON is Unavailable.
    PostgreSQL's json and jsonb columns come back parsed and need no entry."""

    @field_validator("database")
    @classmethod
    def _database(cls, value: str, info: ValidationInfo) -> str:
        parts = urlsplit(value)
        if parts.scheme == "sqlite":
            path = value.removeprefix("sqlite:///")
            if parts.netloc or path == value or not path or path == ":memory:":
                raise ValueError("a SQLite database is sqlite:///PATH (a file, read-only)")
            return "sqlite:///" + str(in_folder(path, info))
        if parts.scheme in ("postgresql", "postgres"):
            query = parse_qs(parts.query)
            if parts.password is not None or "password" in query:
                raise ValueError("give the password as password: {env: NAME}, never in the URL")
            if "options" in query:
                raise ValueError("options are the adapter's (read-only, statement_timeout)")
            return value
        raise ValueError("database is sqlite:///PATH or postgresql://USER@HOST:PORT/DB")

    @property
    def dialect(self) -> Dialect:
        """`sqlite` or `postgresql`, from the database URL."""
        return "sqlite" if self.database.startswith("sqlite:") else "postgresql"

    @property
    def parameters(self) -> frozenset[str]:
        """The statement's parameter names: what a lookup's key must give, no more, no less."""
        return parameters(self.statement, self.dialect)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.password is not None and self.dialect == "sqlite":
            raise ValueError("a SQLite file takes no password")
        parameters(self.statement, self.dialect)  # a ValueError for what is not one SELECT
        return self


class Sql:
    """A named office reached through one SELECT (see the module's text)."""

    Settings: ClassVar[type[SqlSettings]] = SqlSettings

    def __init__(self, source: str, settings: SqlSettings, *, timeout: float) -> None:
        self.source = source
        self.settings = settings
        self.timeout = timeout
        self.parameters = settings.parameters
        """The names a lookup's key gives (the deployment loader can compare them with the
        source's lookup parameters)."""
        self._database: _Database
        if settings.dialect == "sqlite":
            self._database = _Sqlite(settings, timeout)
        else:
            self._database = _Postgres(source, settings, timeout)

    async def lookup(self, key: Mapping[str, Any]) -> Answer:
        """The one row of the key; `NotFound` for none, `Unavailable` for more or any failure."""
        if set(key) != self.parameters:
            given, wanted = ", ".join(sorted(key)), ", ".join(sorted(self.parameters))
            raise Unavailable(f"the key gives {given or 'nothing'}; the statement binds {wanted}")
        for name, value in key.items():
            if not isinstance(value, str | int | float | Decimal) and value is not None:
                raise Unavailable(f"the key's {name} is a {type(value).__name__}, not bound")
            if isinstance(value, float) and not math.isfinite(value):
                raise Unavailable(f"the key's {name} is not a finite number")
        names, rows = await self._database.rows(dict(key))
        if not rows:
            raise NotFound("no row for the key")
        if len(rows) > 1:
            count = f"more than {COUNTED}" if len(rows) > COUNTED else str(len(rows))
            raise Unavailable(f"ambiguous: {count} rows for the key")
        record = _record(names, rows[0])
        try:
            raw = canonical(record)
        except ValueError as exc:
            raise Unavailable(str(exc)) from None
        record = _booleans(record, self.settings.booleans)  # after the digest of the row as read
        record = _json_texts(record, self.settings.json_columns)
        return Answer(record, reference_of(record, self.settings.reference), raw_digest(raw))

    async def aclose(self) -> None:
        """Closes the pool (PostgreSQL) or the worker threads and their connections (SQLite)."""
        await self._database.close()

    def describe(self) -> str:
        """The database URL (never with a password: one is refused in it)."""
        return self.settings.database


def _booleans(record: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """The record with these columns' 0 and 1 as false and true (`booleans`)."""
    for name in columns:
        if name in record:
            value = record[name]
            if value.__class__ is not int or value not in (0, 1):
                raise Unavailable(f"column {name}: {value!r} is not 0 or 1")
            record[name] = value == 1
    return record


def _json_texts(record: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """The record with these columns' JSON text parsed (`json_columns`)."""
    for name in columns:
        if name in record:
            value = record[name]
            if value.__class__ is not str:
                raise Unavailable(f"column {name}: {value!r} is not JSON text")
            try:
                record[name] = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise Unavailable(f"column {name}: not JSON ({exc})") from None
    return record


def _record(names: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """A row as a record of JSON values; a NULL is absent, as an empty cell of a table."""
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise Unavailable(f"the statement gives the column {', '.join(twice)} twice")
    record = {}
    for name, value in zip(names, row, strict=True):
        if value is None:
            continue
        try:
            record[name] = json_value(value)
        except ValueError as exc:
            raise Unavailable(f"column {name}: {exc}") from None
    return record


class _Database(Protocol):
    async def rows(self, params: dict[str, Any]) -> tuple[list[str], list[Sequence[Any]]]:
        """The column names and up to COUNTED + 1 rows of the statement for these parameters."""
        ...

    async def close(self) -> None: ...


class _Sqlite:
    """A read-only SQLite file, queried from worker threads, each reusing its connection."""

    def __init__(self, settings: SqlSettings, timeout: float) -> None:
        self.path = Path(settings.database.removeprefix("sqlite:///"))
        self.statement = settings.statement
        self.timeout = timeout
        self._threads = ThreadPoolExecutor(settings.connections, thread_name_prefix="sql-sqlite")
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    async def rows(self, params: dict[str, Any]) -> tuple[list[str], list[Sequence[Any]]]:
        deadline = time.monotonic() + self.timeout
        bound = {k: str(v) if isinstance(v, Decimal) else v for k, v in params.items()}
        try:
            future = self._threads.submit(self._run, bound, deadline)
        except RuntimeError:  # the executor is shut down
            raise Unavailable("the source is closed") from None
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            raise Unavailable(f"no answer within {self.timeout:g} s") from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if future.cancelled() and task is not None and not task.cancelling():
                # aclose() dropped the call before a thread took it, not a cancelled caller
                raise Unavailable("the source is closed") from None
            raise

    def _run(
        self, params: dict[str, Any], deadline: float
    ) -> tuple[list[str], list[Sequence[Any]]]:
        """In a worker thread: the statement on a connection of the pool, aborted at `deadline`
        or when the source is closed."""
        try:
            connection = self._connection()
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open {self.path.name}: {_first_line(exc)}") from None
        try:
            connection.set_progress_handler(
                lambda: self._closed or time.monotonic() > deadline, 1000
            )
            cursor = connection.execute(self.statement, params)
            try:
                rows = cursor.fetchmany(COUNTED + 1)
                names = [column[0] for column in cursor.description]
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted":
                late = (
                    "the source is closed"
                    if self._closed
                    else f"no answer within {self.timeout:g} s"
                )
                raise Unavailable(late) from None
            raise Unavailable(_first_line(exc)) from None
        except OverflowError:  # an int key of more than 64 bits
            raise Unavailable("a key value is too large for SQLite") from None
        finally:
            connection.set_progress_handler(None, 0)
            with self._lock:
                self._idle.append(connection)
        return names, rows

    def _connection(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        uri = self.path.as_uri() + "?mode=ro"
        connection = sqlite3.connect(
            uri, uri=True, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_read_only)
        return connection

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._threads.shutdown, wait=True, cancel_futures=True)
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


_READS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _read_only(action: int, *_: str | None) -> int:
    """SQLite's authorizer, asked as a statement is compiled: reading, functions and WITH
    RECURSIVE pass; a write, a PRAGMA, an ATTACH, a transaction are denied."""
    return sqlite3.SQLITE_OK if action in _READS else sqlite3.SQLITE_DENY


class _Postgres:
    """A PostgreSQL database through a pool of read-only sessions, opened at the first lookup."""

    def __init__(self, source: str, settings: SqlSettings, timeout: float) -> None:
        try:
            import psycopg  # noqa: F401 (the postgres extra is there)
            import psycopg_pool  # noqa: F401
        except ModuleNotFoundError as exc:
            raise ValueError(
                f"the sql adapter on PostgreSQL needs {exc.name}: "
                "pip install 'secondapproval[postgres]'"
            ) from None
        self.url = settings.database
        self.statement = settings.statement
        self.timeout = timeout
        self.size = settings.connections
        milliseconds = max(1, math.ceil(timeout * 1000))
        self._kwargs: dict[str, Any] = {
            "autocommit": True,
            "options": f"-c default_transaction_read_only=on -c statement_timeout={milliseconds}",
            "application_name": f"secondapproval {source}"[:63],
            "connect_timeout": max(2, math.ceil(timeout)),
        }
        self._secret = settings.password.get_secret_value() if settings.password else None
        if self._secret is not None:
            self._kwargs["password"] = self._secret
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening = asyncio.Lock()
        self._closed = False
        self.refused: str | None = None
        """Why the pool's last connection failed (None after one succeeded)."""

    async def rows(self, params: dict[str, Any]) -> tuple[list[str], list[Sequence[Any]]]:
        import psycopg

        step = "no connection to the database"
        try:
            async with asyncio.timeout(self.timeout):
                pool = await self._opened()
                async with pool.connection() as connection:
                    step = "no answer"
                    cursor = await connection.execute(self.statement, params)
                    rows = await cursor.fetchmany(COUNTED + 1)
                    names = [column.name for column in cursor.description or ()]
        except TimeoutError:
            raise Unavailable(self._late(step)) from None
        except psycopg.errors.QueryCanceled:
            raise Unavailable(self._late("no answer")) from None
        except psycopg.Error as exc:
            if step != "no answer":  # the pool's own timeout: PoolTimeout
                raise Unavailable(self._late(step)) from None
            raise Unavailable(self._why(exc)) from None
        return names, list(rows)

    def _late(self, step: str) -> str:
        why = f"{step} within {self.timeout:g} s"
        if step != "no answer" and self.refused:
            why += f" ({self.refused})"
        return why

    async def _opened(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        from psycopg_pool import AsyncConnectionPool

        if self._closed:
            raise Unavailable("the source is closed")
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            raise Unavailable("the pool belongs to another event loop (one Engine, one loop)")
        self._loop = loop
        async with self._opening:
            if self._pool is None:
                pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                    self.url,
                    connection_class=self._remembering(),
                    kwargs=self._kwargs,
                    min_size=0,
                    max_size=self.size,
                    open=False,
                    timeout=self.timeout,
                    name="secondapproval",
                )
                await pool.open(wait=False)
                self._pool = pool
        return self._pool

    def _remembering(self) -> type[AsyncConnection[Any]]:
        """psycopg's connection, remembering why the last one failed: the pool connects in the
        background, so a lookup that waited for a connection in vain can still say why."""
        from psycopg import AsyncConnection, Error

        adapter = self

        class Remembering(AsyncConnection[Any]):
            @classmethod
            async def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
                try:
                    connection = await super().connect(conninfo, **kwargs)
                except Error as exc:
                    adapter.refused = adapter._why(exc)
                    raise
                adapter.refused = None
                return connection

        return Remembering

    def _why(self, exc: Exception) -> str:
        why = _first_line(exc)
        return why.replace(self._secret, "**********") if self._secret else why

    async def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None and self._loop is asyncio.get_running_loop():
            await pool.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


# The statement as read when the file is loaded: tokens outside quotes and comments.

_WORD = r"(?P<word>[^\W\d][\w$]*)"
_SKIP = r"(?P<skip>\s+|--[^\n]*|/\*.*?\*/|[0-9][\w.]*)"
_COMMON_QUOTES = r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
_TOKENS: dict[Dialect, re.Pattern[str]] = {
    "sqlite": re.compile(
        rf"{_SKIP}|(?P<quoted>{_COMMON_QUOTES}|`(?:[^`]|``)*`|\[[^\]]*\])|{_WORD}"
        r"|(?P<param>[:@$?][\w$]*)|(?P<open>['\"`\[]|/\*)|(?P<other>.)",
        re.S,
    ),
    "postgresql": re.compile(
        rf"{_SKIP}|(?P<quoted>[Ee]'(?:[^'\\]|\\.|'')*'|{_COMMON_QUOTES}"
        r"|\$(?P<tag>(?:[^\W\d]\w*)?)\$.*?\$(?P=tag)\$)"
        rf"|{_WORD}|(?P<param>\$\d+)|(?P<open>['\"$]|/\*)|(?P<other>.)",
        re.S,
    ),
}
_WRITES = frozenset(
    {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "TRUNCATE", "INTO", "CREATE", "DROP"}
    | {"ALTER", "GRANT", "REVOKE", "COPY", "ATTACH", "DETACH", "PRAGMA", "VACUUM", "REINDEX"}
)
"""Words that write (or lock, `FOR UPDATE`), refused outside quotes. REPLACE before `(` is the
string function, and stays allowed."""
_NAME = re.compile(r"[^\W\d]\w*")
_PSYCOPG = re.compile(r"%(?:\((?P<name>[^)]*)\))?(?P<kind>.?)", re.S)
"""Every `%` of a PostgreSQL statement, as psycopg reads them (inside quotes too)."""


def _tokens(statement: str, dialect: Dialect) -> Iterator[tuple[str, str]]:
    """(kind, text) of each token outside quotes and comments: word, param, other (`;`, `(`)."""
    for match in _TOKENS[dialect].finditer(statement):
        kind = match.lastgroup or "other"
        if kind == "tag":  # the inner group of a dollar quote
            kind = "quoted"
        if kind == "open":
            raise ValueError(f"the statement has an unterminated {match.group()!r}")
        if kind not in ("skip", "quoted"):
            yield kind, match.group()


def parameters(statement: str, dialect: Dialect) -> frozenset[str]:
    """The named parameters of a statement that is one read-only SELECT; a ValueError for
    anything else (see the module's text)."""
    tokens = list(_tokens(statement, dialect))
    words = [text.upper() for kind, text in tokens if kind == "word"]
    if not words or words[0] not in ("SELECT", "WITH"):
        raise ValueError("the statement is not a SELECT (nor WITH … SELECT)")
    semicolons = [n for n, (_, text) in enumerate(tokens) if text == ";"]
    if semicolons and semicolons != [len(tokens) - 1]:
        raise ValueError("the statement is one SELECT: nothing may follow a ';'")
    for n, (kind, text) in enumerate(tokens):
        word = text.upper()
        if kind == "word" and word in _WRITES:
            if word == "REPLACE" and n + 1 < len(tokens) and tokens[n + 1][1] == "(":
                continue
            raise ValueError(
                f"the statement is read-only: {word} is refused (quote a column of that name)"
            )
    names = _psycopg_names(statement) if dialect == "postgresql" else _sqlite_names(tokens)
    if not names:
        raise ValueError("the statement binds no parameter: it would answer every key alike")
    return names


def _sqlite_names(tokens: list[tuple[str, str]]) -> frozenset[str]:
    names = set()
    for kind, text in tokens:
        if kind == "param":
            if not (text.startswith(":") and _NAME.fullmatch(text[1:])):
                raise ValueError(f"{text} is not a named parameter: write :name")
            names.add(text[1:])
    return frozenset(names)


def _psycopg_names(statement: str) -> frozenset[str]:
    names = set()
    for match in _PSYCOPG.finditer(statement):
        name, kind = match.group("name"), match.group("kind")
        if name is None and kind == "%":
            continue
        if name is None or kind != "s" or not _NAME.fullmatch(name):
            raise ValueError(
                f"{match.group()!r} is not a named parameter: write %(name)s (a literal % is %%)"
            )
        names.add(name)
    for kind, text in _tokens(statement, "postgresql"):
        if kind == "param":
            raise ValueError(f"{text} is positional: write %(name)s")
    return frozenset(names)
