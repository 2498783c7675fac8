"""The SQLite sink: a real database file in WAL mode, one `audit` table and a one-row `head`.

Each commit is one transaction holding the new records and the new head, so a crash leaves
either all of a batch or none of it. Records are indexed by decision id and by matter. A second
writer is refused through an exclusive lock on `DB.lock`; readers (verify) are never blocked. As
with a JSON Lines log, records without a head row are refused unless `rebuild_head=True`.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from typing_extensions import override

from ..errors import AuditError
from .head import Head
from .keys import AuditKey
from .rule_texts import rules_store_of
from .sinks import Anchor, ChainSink, Found, FsyncPolicy
from .tables import found_at_end, row_of

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
    hash TEXT NOT NULL,
    mac TEXT
);
"""
_SYNC = {"always": "FULL", "group": "FULL", "fire-and-forget": "FULL", "none": "OFF"}


def is_sqlite(path: str | os.PathLike[str]) -> bool:
    """Whether a log path names a SQLite database (by its suffix)."""
    return Path(path).suffix in (".sqlite", ".sqlite3", ".db")


class SqliteSink(ChainSink):
    """Inserts sealed records into a SQLite database under an fsync policy."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        key: AuditKey | bytes | None = None,
        fsync: FsyncPolicy = "group",
        batch: int = 512,
        delay: float = 0.01,
        rebuild_head: bool = False,
        anchor: Anchor | None = None,
        anchor_every: float = 1.0,
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
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(head)")}
            if "mac" not in columns:  # a database written before format v2
                self._db.execute("ALTER TABLE head ADD COLUMN mac TEXT")
            found = self._recover(rebuild_head)
            super().__init__(
                found,
                key=key,
                fsync=fsync,
                batch=batch,
                delay=delay,
                where=str(self.path),
                anchor=anchor,
                anchor_every=anchor_every,
            )
        except (sqlite3.Error, AuditError) as exc:
            if hasattr(self, "_db"):
                self._db.close()
            os.close(self._lock_fd)
            if isinstance(exc, AuditError):
                raise
            raise AuditError(f"{self.path}: cannot open the audit database: {exc}") from None
        self.rules_store = rules_store_of(self.path)
        self._start()

    def _recover(self, rebuild_head: bool) -> Found:
        row = self._db.execute("SELECT seq, record FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        got = self._db.execute("SELECT count, hash, mac FROM head WHERE id = 1").fetchone()
        stored = Head(int(got[0]), str(got[1]), got[2]) if got else None
        last = (int(row[0]), str(row[1])) if row else None
        return found_at_end(str(self.path), last, stored, rebuild_head=rebuild_head)

    @override
    def _commit(self, lines: list[bytes], head: Head, durable: bool) -> None:
        rows = [row_of(line) for line in lines]
        db = self._db
        signed = self._signed(head)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute(
                "INSERT OR REPLACE INTO head VALUES (1, ?, ?, ?)",
                (signed.count, signed.hash, signed.mac),
            )
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
            columns = {c[1] for c in db.execute("PRAGMA table_info(head)")}
            query = (
                "SELECT count, hash, mac FROM head WHERE id = 1"
                if "mac" in columns
                else "SELECT count, hash, NULL FROM head WHERE id = 1"  # before format v2
            )
            row = db.execute(query).fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise AuditError(f"{path}: cannot read the audit database: {exc}") from None
    return Head(int(row[0]), str(row[1]), row[2]) if row else None
