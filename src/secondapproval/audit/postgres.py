"""The PostgreSQL sink: many chains side by side in one database, one transaction per commit.

For deployments beyond one process: each writer (a worker of the decision service, say) keeps a
chain of its own, named (`w0`, `w1`, …; `main` by default), with its own records and head, in two
tables created if absent (in `schema`, or the first schema of the search path):

    audit_records (chain, seq, decision_id, matter, time, hash, record)   PRIMARY KEY (chain, seq)
    audit_heads   (chain PRIMARY KEY, count, hash, mac, updated)

`record` is the sealed line as text (canonical JSON: the database must be UTF8). A commit is one
transaction, pipelined (two round trips): it moves the chain's head row from the head this sink
last stored to the new one and inserts the batch's records — if the head row is no longer what
this sink stored (another writer, one that took no lock), it is rolled back and the sink fails
closed. Under a durable policy (`always`, `group`, and the batches of `fire-and-forget`)
the session's `synchronous_commit` is at least `on` (a stronger setting of the server, such as
`remote_apply`, is kept), so the commit returns once the server has flushed its WAL; under `none`
it is `off` (the server has the records; a crash of the server may lose the last of them).

A writer holds a session-level advisory lock keyed by its schema and chain for the sink's life:
a second writer on the same chain gets AuditError naming the chain; other chains are free.
Reopening a chain continues it from its last row, checked against its head row as a SQLite log
is (`tables.found_at_end`). Readers (`postgres_lines`, `postgres_head`, `postgres_record`,
`postgres_chains`) connect read-only and never block the writers.

A log is named by a URL, `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?chain=NAME][&schema=S]`
(or `postgres://`; other query parameters go to libpq), or, from Python, by a libpq string and
`chain=`. Every message names it without its password (`Target.where`); prefer `PGPASSWORD` or a
`~/.pgpass` file to a password in the URL. psycopg (`secondapproval[postgres]`) is imported only
when a database is opened.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from typing_extensions import TypeIs, override

from ..errors import AuditError
from .head import Head
from .keys import AuditKey
from .sinks import Anchor, ChainSink, Found, FsyncPolicy
from .tables import found_at_end, row_of

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_CHAIN = "main"
"""The chain a sink writes, and `verify_log` reads, when the target names none."""
CONNECT_TIMEOUT = 10
"""Seconds a connection may take (unless the target sets `connect_timeout`)."""
RECORDS, HEADS = "audit_records", "audit_heads"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PAIR = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
_OWN = ("chain", "schema")
"""Query parameters of the URL that the library reads (libpq would refuse them)."""
_ITERSIZE = 2000


def is_postgres(target: object) -> TypeIs[str]:
    """Whether a log target is a PostgreSQL URL (a `str` starting `postgresql://`/`postgres://`)."""
    return isinstance(target, str) and target.startswith(SCHEMES)


@dataclass(frozen=True, slots=True)
class Target:
    """A chain of a PostgreSQL audit log: how to connect, which chain and schema, and its name
    without the password (`where`)."""

    conninfo: str = field(repr=False)
    """What libpq is given: the URL less `chain` and `schema`, or the libpq string."""
    shown: str
    """The database as `postgresql://USER@HOST:PORT/DB`, never with a password."""
    chain: str | None = None
    schema: str | None = None
    secret: str | None = field(default=None, repr=False)
    """The password, if the target holds one (to scrub it from the driver's messages)."""

    @classmethod
    def parse(cls, target: str, *, chain: str | None = None, schema: str | None = None) -> Target:
        """A URL (`?chain=`, `?schema=` read here) or a libpq `key=value` string; `chain` and
        `schema` given here must agree with the URL's. AuditError if malformed."""
        if is_postgres(target):
            parts = urlsplit(target)
            query = parse_qsl(parts.query, keep_blank_values=True)
            own = {k: v for k, v in query if k in _OWN}
            rest = [(k, v) for k, v in query if k not in _OWN]
            userinfo, _, hostport = parts.netloc.rpartition("@")
            user, colon, password = userinfo.partition(":")
            secret = unquote(password) if colon else None
            secret = next((v for k, v in rest if k == "password"), secret)
            shown_query = urlencode([(k, v) for k, v in rest if k != "password"])
            shown = urlunsplit(
                (parts.scheme, f"{user}@{hostport}" if user else hostport, parts.path, "", "")
            )
            if shown_query:
                shown += "?" + shown_query
            conninfo = urlunsplit(parts._replace(query=urlencode(rest)))
            found = cls(conninfo, shown, own.get("chain"), own.get("schema"), secret)
        else:
            pairs = {k: _unquoted(v) for k, v in _PAIR.findall(target)}
            if not pairs:
                raise AuditError("not a PostgreSQL target (postgresql://… or a libpq string)")
            host, port = pairs.get("host", ""), pairs.get("port")
            user = pairs.get("user")
            netloc = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
            shown = f"postgresql://{netloc}/{pairs.get('dbname', '')}"
            found = cls(target, shown, None, None, pairs.get("password"))
        for what, given, named in (("chain", chain, found.chain), ("schema", schema, found.schema)):
            if given is not None and named is not None and given != named:
                raise AuditError(f"{found.where}: the target names {what} {named}, not {given}")
        found = replace(found, chain=chain or found.chain, schema=schema or found.schema)
        if found.chain is not None and not _NAME.fullmatch(found.chain):
            raise AuditError(
                f"{found.shown}: a chain name is 1–63 letters, digits, '_', '.' or '-' "
                f"(starting with a letter or digit), not {found.chain!r}"
            )
        if found.schema is not None and not _SCHEMA_NAME.fullmatch(found.schema):
            raise AuditError(
                f"{found.shown}: a schema name is 1–63 letters, digits or '_', not {found.schema!r}"
            )
        return found

    @property
    def where(self) -> str:
        """The chain as a URL without the password: `postgresql://USER@HOST:PORT/DB?chain=NAME`."""
        own = [(k, v) for k, v in (("chain", self.chain), ("schema", self.schema)) if v]
        if not own:
            return self.shown
        return self.shown + ("&" if "?" in self.shown else "?") + urlencode(own)

    @property
    def chain_name(self) -> str:
        """The chain, `DEFAULT_CHAIN` if none is named."""
        return self.chain or DEFAULT_CHAIN

    def of_chain(self, chain: str) -> Target:
        """The same database and schema, another chain."""
        if not _NAME.fullmatch(chain):
            raise AuditError(f"{self.shown}: not a chain name: {chain!r}")
        return replace(self, chain=chain)

    def scrub(self, text: str) -> str:
        """A message of the driver without the password."""
        return text.replace(self.secret, "***") if self.secret else text


def with_chain(target: str, chain: str) -> str:
    """A PostgreSQL URL naming `chain` instead of any chain it named (for per-worker chains:
    `with_chain(url, f"w{n}")`)."""
    if not is_postgres(target):
        raise AuditError("with_chain takes a postgresql:// URL")
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "chain"]
    named = urlunsplit(parts._replace(query=urlencode([*query, ("chain", chain)])))
    Target.parse(named)  # refuses a bad chain name
    return named


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def lock_key(chain: str, schema: str | None = None) -> int:
    """The advisory lock (a signed 64-bit key) a writer of `chain` holds in its database."""
    return _key("chain", schema, chain)


def _key(*parts: str | None) -> int:
    text = "\0".join(["secondapproval audit", *(part or "" for part in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def _driver(target: Target) -> Any:
    try:
        import psycopg
    except ModuleNotFoundError as exc:
        raise AuditError(
            f"{target.where}: a PostgreSQL audit log needs {exc.name}: "
            "pip install 'secondapproval[postgres]'"
        ) from None
    return psycopg


def _connect(target: Target, *, read_only: bool) -> psycopg.Connection[Any]:
    """A session on the target's database (autocommit for the writer, read-only for readers)."""
    pg = _driver(target)
    try:
        given = pg.conninfo.conninfo_to_dict(target.conninfo)
        extra: dict[str, Any] = {}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in given:
            role = "reader" if read_only else "writer"
            extra["application_name"] = f"secondapproval audit {role} {target.chain_name}"[:63]
        conn: psycopg.Connection[Any] = pg.connect(
            target.conninfo, autocommit=not read_only, **extra
        )
        if read_only:
            conn.read_only = True
    except pg.Error as exc:
        raise AuditError(f"{target.where}: cannot connect: {_why(target, exc)}") from None
    return conn


def _why(target: Target, exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return target.scrub((text[0] if text else type(exc).__name__)[:300])


def _tables(schema: str | None) -> dict[str, sql.Composable]:
    from psycopg import sql

    def table(name: str) -> sql.Identifier:
        return sql.Identifier(schema, name) if schema else sql.Identifier(name)

    return {"records": table(RECORDS), "heads": table(HEADS)}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS {records} (
    chain text NOT NULL,
    seq bigint NOT NULL,
    decision_id text NOT NULL,
    matter text NOT NULL,
    time text NOT NULL,
    hash text NOT NULL,
    record text NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_decision ON {records} (decision_id);
CREATE INDEX IF NOT EXISTS audit_records_matter ON {records} (matter);
CREATE TABLE IF NOT EXISTS {heads} (
    chain text PRIMARY KEY,
    count bigint NOT NULL,
    hash text NOT NULL,
    mac text,
    updated timestamptz NOT NULL DEFAULT now()
)
"""
_MOVE = """
UPDATE {heads} SET count = %(count)s, hash = %(hash)s, mac = %(mac)s, updated = now()
WHERE chain = %(chain)s AND count = %(was_count)s AND hash = %(was_hash)s
RETURNING 1
"""
"""The chain's head row moved on from the head this sink last stored (a row that is no longer
that head, changed by a writer that took no lock, moves nothing)."""
_FIRST = """
INSERT INTO {heads} (chain, count, hash, mac) VALUES (%(chain)s, %(count)s, %(hash)s, %(mac)s)
ON CONFLICT (chain) DO NOTHING
RETURNING 1
"""
"""A chain's first head row (none was there when the sink opened), unless one appeared since."""
_ADD = """
INSERT INTO {records} (chain, seq, decision_id, matter, time, hash, record)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""


class _HeadMovedError(Exception):
    """The head row was not the one this sink stored: the commit is rolled back."""


class PostgresSink(ChainSink):
    """Inserts one chain's sealed records into a PostgreSQL database under an fsync policy."""

    def __init__(
        self,
        dsn: str,
        *,
        chain: str | None = None,
        schema: str | None = None,
        key: AuditKey | bytes | None = None,
        fsync: FsyncPolicy = "group",
        batch: int = 512,
        delay: float = 0.01,
        rebuild_head: bool = False,
        anchor: Anchor | None = None,
        anchor_every: float = 1.0,
        lock_wait: float = 0.0,
    ) -> None:
        """`dsn`: a `postgresql://` URL (its `chain` and `schema` parameters read here) or a
        libpq string; `chain`: the chain to write (the URL's, else `main`); `schema`: where the
        tables are (the URL's, else the search path's first); `lock_wait`: seconds to wait for
        the chain's lock (a writer that was just killed may hold it a moment longer, until its
        server process notices). The other arguments are `ChainSink`'s."""
        target = Target.parse(dsn, chain=chain, schema=schema)
        self.target = replace(target, chain=target.chain_name)
        self.chain = self.target.chain_name
        where = self.target.where
        psycopg = _driver(self.target)
        self._conn = _connect(self.target, read_only=False)
        try:
            self._names = _tables(self.target.schema)
            self._prepare(fsync)
            self._claim(where, lock_wait)
            found = self._recover(rebuild_head)
            self._head_row: Head | None = found.stored
            """The head row as this sink last stored it (what the next commit moves on from)."""
            super().__init__(
                found,
                key=key,
                fsync=fsync,
                batch=batch,
                delay=delay,
                where=where,
                anchor=anchor,
                anchor_every=anchor_every,
            )
        except psycopg.Error as exc:
            self._conn.close()
            raise AuditError(
                f"{where}: cannot open the audit log: {_why(self.target, exc)}"
            ) from None
        except BaseException:
            self._conn.close()
            raise
        self._start()

    def _prepare(self, fsync: FsyncPolicy) -> None:
        """Check the encoding, set the commit's durability, create the tables if absent."""
        from psycopg import sql

        conn = self._conn
        row = conn.execute("SHOW server_encoding").fetchone()
        if row is None or row[0] not in ("UTF8", "SQL_ASCII"):
            raise AuditError(
                f"{self.target.where}: the database's encoding is {row and row[0]}: audit "
                "records are UTF-8 text (create the database with ENCODING 'UTF8')"
            )
        conn.execute("SET client_encoding = 'UTF8'")
        row = conn.execute("SHOW synchronous_commit").fetchone()
        self._sync = fsync != "none"
        """Whether this session's commits wait for the server's WAL flush."""
        if not self._sync:
            conn.execute("SET synchronous_commit = off")
        elif row is None or row[0] == "off":
            conn.execute("SET synchronous_commit = on")
        if not self._tables_exist():  # tables made by a DBA need no CREATE privilege
            with conn.transaction():  # writers opening at once: one creates, the others wait
                lock = _key("tables", self.target.schema)
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                if self.target.schema:
                    conn.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                            sql.Identifier(self.target.schema)
                        )
                    )
                for statement in _SCHEMA.split(";"):
                    conn.execute(sql.SQL(statement).format(**self._names))
        self._first, self._move, self._add = (
            sql.SQL(statement).format(**self._names) for statement in (_FIRST, _MOVE, _ADD)
        )

    def _tables_exist(self) -> bool:
        names = [name.as_string(self._conn) for name in self._names.values()]
        row = self._conn.execute("SELECT to_regclass(%s), to_regclass(%s)", names).fetchone()
        return row is not None and None not in row

    def _claim(self, where: str, wait: float) -> None:
        """Take the chain's advisory lock for the session, waiting up to `wait` seconds, or
        refuse: another writer holds it."""
        key = lock_key(self.chain, self.target.schema)
        deadline = time.monotonic() + wait
        while True:
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row is not None and row[0]:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        holder = self._conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        ).fetchone()
        by = f" (held by server process {holder[0]})" if holder else ""
        raise AuditError(f"{where}: chain {self.chain} is open for writing elsewhere{by}")

    def _recover(self, rebuild_head: bool) -> Found:
        from psycopg import sql

        conn, names = self._conn, self._names
        last = conn.execute(
            sql.SQL(
                "SELECT seq, record FROM {records} WHERE chain = %s ORDER BY seq DESC LIMIT 1"
            ).format(**names),
            (self.chain,),
        ).fetchone()
        got = conn.execute(
            sql.SQL("SELECT count, hash, mac FROM {heads} WHERE chain = %s").format(**names),
            (self.chain,),
        ).fetchone()
        stored = Head(int(got[0]), str(got[1]), got[2]) if got else None
        row = (int(last[0]), str(last[1])) if last else None
        return found_at_end(self.target.where, row, stored, rebuild_head=rebuild_head)

    @override
    def _commit(self, lines: list[bytes], head: Head, durable: bool) -> None:
        """One transaction, pipelined (two round trips): the head row moved on, the records
        inserted; rolled back if the head row was not the one this sink stored."""
        import psycopg

        signed, was = self._signed(head), self._head_row
        params = {
            "chain": self.chain,
            "count": signed.count,
            "hash": signed.hash,
            "mac": signed.mac,
            "was_count": None if was is None else was.count,
            "was_hash": None if was is None else was.hash,
        }
        rows = [(self.chain, *row_of(line)) for line in lines]
        conn = self._conn
        try:
            with conn.pipeline(), conn.transaction():
                if durable != self._sync:
                    conn.execute(f"SET LOCAL synchronous_commit = {'on' if durable else 'off'}")
                moved = conn.execute(self._first if was is None else self._move, params)
                if rows:
                    with conn.cursor() as cursor:
                        cursor.executemany(self._add, rows)
                if moved.fetchone() is None:
                    raise _HeadMovedError
        except (_HeadMovedError, psycopg.errors.UniqueViolation):
            raise AuditError(
                f"the head row of chain {self.chain} is no longer the one this sink stored "
                f"({was or 'none'}): another writer changed the chain, one that holds no lock"
            ) from None
        except psycopg.Error as exc:
            raise AuditError(_why(self.target, exc)) from None
        self._head_row = signed

    @override
    def _release(self) -> None:
        self._conn.close()  # ends the session: its advisory lock with it


# ---- readers ------------------------------------------------------------------------------


def _reading(target: str | Target, chain: str | None, schema: str | None) -> Target:
    if isinstance(target, Target):
        return target if chain is None else target.of_chain(chain)
    return Target.parse(target, chain=chain, schema=schema)


def _read(target: Target, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows of one read-only query; AuditError naming the target (without its password)."""
    from psycopg import sql

    psycopg = _driver(target)
    conn = _connect(target, read_only=True)
    try:
        with conn:
            return conn.execute(sql.SQL(query).format(**_tables(target.schema)), params).fetchall()
    except psycopg.errors.UndefinedTable:
        raise AuditError(f"{target.where}: no audit tables in this database") from None
    except psycopg.Error as exc:
        raise AuditError(
            f"{target.where}: cannot read the audit log: {_why(target, exc)}"
        ) from None


def postgres_lines(
    target: str | Target, *, chain: str | None = None, schema: str | None = None
) -> Iterator[tuple[int, bytes]]:
    """(record seq, record line) of one chain, in seq order, read-only and streamed."""
    from psycopg import sql

    at = _reading(target, chain, schema)
    psycopg = _driver(at)
    conn = _connect(at, read_only=True)
    try:
        with conn, conn.cursor(name="secondapproval_audit_lines") as cursor:
            cursor.itersize = _ITERSIZE
            cursor.execute(
                sql.SQL("SELECT seq, record FROM {records} WHERE chain = %s ORDER BY seq").format(
                    **_tables(at.schema)
                ),
                (at.chain_name,),
            )
            for seq, record in cursor:
                yield int(seq), str(record).encode("utf-8") + b"\n"
    except psycopg.errors.UndefinedTable:
        raise AuditError(f"{at.where}: no audit tables in this database") from None
    except psycopg.Error as exc:
        raise AuditError(f"{at.where}: cannot read the audit log: {_why(at, exc)}") from None


def postgres_head(
    target: str | Target, *, chain: str | None = None, schema: str | None = None
) -> Head | None:
    """The head row of one chain, or None."""
    at = _reading(target, chain, schema)
    rows = _read(at, "SELECT count, hash, mac FROM {heads} WHERE chain = %s", (at.chain_name,))
    return Head(int(rows[0][0]), str(rows[0][1]), rows[0][2]) if rows else None


def postgres_record(
    target: str | Target,
    decision_id: str,
    *,
    chain: str | None = None,
    schema: str | None = None,
) -> tuple[str, int, bytes] | None:
    """(chain, record seq, record line) of one decision, found by its index: in the chain the
    target names, else in any chain."""
    at = _reading(target, chain, schema)
    query = "SELECT chain, seq, record FROM {records} WHERE decision_id = %s"
    params: tuple[Any, ...] = (decision_id,)
    if at.chain is not None:
        query, params = query + " AND chain = %s", (decision_id, at.chain)
    rows = _read(at, query + " ORDER BY chain, seq LIMIT 1", params)
    if not rows:
        return None
    found_chain, seq, record = rows[0]
    return str(found_chain), int(seq), str(record).encode("utf-8") + b"\n"


def postgres_chains(target: str | Target, *, schema: str | None = None) -> list[str]:
    """The chains of a database, sorted: every chain with records or a head row."""
    at = _reading(target, None, schema)
    rows = _read(
        at,
        # the distinct chains of the records' primary key, one index probe each
        "WITH RECURSIVE c(chain) AS ("
        " SELECT min(chain) FROM {records}"
        " UNION ALL SELECT (SELECT min(chain) FROM {records} r WHERE r.chain > c.chain)"
        " FROM c WHERE c.chain IS NOT NULL)"
        " SELECT chain FROM c WHERE chain IS NOT NULL UNION SELECT chain FROM {heads}"
        " ORDER BY 1",
        (),
    )
    return [str(r[0]) for r in rows]


def postgres_has_chain(target: str | Target) -> bool:
    """Whether the chain the target names (else `main`) has a record or a head row."""
    at = _reading(target, None, None)
    rows = _read(
        at,
        "SELECT EXISTS (SELECT FROM {records} WHERE chain = %s)"
        " OR EXISTS (SELECT FROM {heads} WHERE chain = %s)",
        (at.chain_name, at.chain_name),
    )
    return bool(rows[0][0])
