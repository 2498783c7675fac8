"""The SQLite sink: a real database file in WAL mode, one `audit` table and a one-row `head`.

Each commit is one transaction holding the new records and the new head, so a crash leaves
either all of a batch or none of it. Records are indexed by decision id and by matter. A second
writer is refused through an exclusive lock on `DB.lock`; readers (verify) are never blocked.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson
from typing_extensions import override

from ..errors import AuditError
from .head import Head
from .sinks import ChainSink, FsyncPolicy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    decision_id TEXT NOT NULL,
    matter TEXT NOT NULL,
    time TEXT NOT NULL,
    hash TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_decision ON audit (decision_id);
CREATE INDEX IF NOT EXISTS audit_matter ON audit (matter);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL,
    hash TEXT NOT NULL
);
"""
_SYNC = {"always": "FULL", "group": "FULL", "none": "OFF"}


def is_sqlite(path: str | os.PathLike[str]) -> bool:
    """Whether a log path names a SQLite database (by its suffix)."""
    return Path(path).suffix in (".sqlite", ".sqlite3", ".db")


class SqliteSink(ChainSink):
    """Inserts sealed records into a SQLite database under an fsync policy."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = "group",
        batch: int = 512,
        delay: float = 0.01,
    ) -> None:
        self.path = Path(path)
        try:
            self._lock_fd = os.open(os.fspath(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise AuditError(f"{self.path}: cannot open the log: {exc.strerror}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise AuditError(f"{self.path}: the log is open for writing elsewhere") from None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={_SYNC[fsync]}")
            self._db.executescript(_SCHEMA)
            head = self._recover()
        except (sqlite3.Error, AuditError) as exc:
            os.close(self._lock_fd)
            if isinstance(exc, AuditError):
                raise
            raise AuditError(f"{self.path}: cannot open the audit database: {exc}") from None
        super().__init__(head, fsync=fsync, batch=batch, delay=delay)
        self._start()

    def _recover(self) -> Head:
        row = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        head = Head(int(row[0]), str(row[1])) if row else Head()
        stored = self._db.execute("SELECT count, hash FROM head WHERE id = 1").fetchone()
        if stored is not None and (int(stored[0]), str(stored[1])) != (head.count, head.hash):
            raise AuditError(
                f"{self.path}: the records end at {head.count} but the head names record "
                f"{stored[0]}; run `secondapproval audit verify {self.path}`"
            )
        return head

    @override
    def _commit(self, lines: list[bytes], count: int, last: str, durable: bool) -> None:
        rows = []
        for line in lines:
            text = line.decode("utf-8").rstrip("\n")
            doc = orjson.loads(text)
            rows.append(
                (doc["seq"], doc["decision_id"], doc["matter"], doc["time"], doc["hash"], text)
            )
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute("INSERT OR REPLACE INTO head VALUES (1, ?, ?)", (count, last))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @override
    def _release(self) -> None:
        self._db.close()
        os.close(self._lock_fd)


def sqlite_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """(row seq, record line) of an audit database, in seq order, read-only."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise AuditError(f"{path}: cannot open the audit database: {exc}") from None
    try:
        for seq, record in db.execute("SELECT seq, record FROM audit ORDER BY seq"):
            yield int(seq), str(record).encode("utf-8") + b"\n"
    except sqlite3.Error as exc:
        raise AuditError(f"{path}: cannot read the audit database: {exc}") from None
    finally:
        db.close()


def sqlite_record(path: str | os.PathLike[str], decision_id: str) -> tuple[int, bytes] | None:
    """(row seq, record line) of one decision in an audit database, found by its index."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            row = db.execute(
                "SELECT seq, record FROM audit WHERE decision_id = ? ORDER BY seq LIMIT 1",
                (decision_id,),
            ).fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise AuditError(f"{path}: cannot read the audit database: {exc}") from None
    return (int(row[0]), str(row[1]).encode("utf-8") + b"\n") if row else None


def sqlite_head(path: str | os.PathLike[str]) -> Head | None:
    """The head stored in an audit database, or None."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            row = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise AuditError(f"{path}: cannot read the audit database: {exc}") from None
    return Head(int(row[0]), str(row[1])) if row else None
