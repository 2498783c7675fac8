"""What the database sinks (SQLite, PostgreSQL) share: a sealed line as a row, and the check of a
table's end against its head row when a log is reopened.

A database log keeps each record as one row (its number, decision id, matter, time and hash in
columns of their own, for indexes, and the sealed line itself) and its head in a row beside them,
both written in the same transaction: a crash leaves all of a batch or none of it. On reopening,
the last row must be an intact sealed record and the head row must name it; a log whose head is
missing is refused unless the caller says to rebuild it (after checking it against a head kept
elsewhere), a log whose end and head disagree is refused outright.
"""

from __future__ import annotations

import shlex
from typing import NamedTuple

import orjson

from ..errors import AuditError
from .canonical import split_sealed
from .head import Head
from .sinks import Found


class Row(NamedTuple):
    """A sealed record as a database row: its indexed members and its line (no newline)."""

    seq: int
    decision_id: str
    matter: str
    time: str
    hash: str
    record: str


def row_of(line: bytes) -> Row:
    """The row of a sealed line (as `ChainSink` hands it to `_commit`)."""
    text = line.decode("utf-8").rstrip("\n")
    doc = orjson.loads(text)
    # a swap record decides nothing: no decision id or matter to index ("" never matches one)
    decision_id, matter = doc.get("decision_id", ""), doc.get("matter", "")
    return Row(doc["seq"], decision_id, matter, doc["time"], doc["hash"], text)


def found_at_end(
    where: str, last_row: tuple[int, str] | None, stored: Head | None, *, rebuild_head: bool
) -> Found:
    """What a database log holds at its end: its last row (seq, record text) checked against
    its head row; AuditError if the last record is damaged, if the head names another record,
    or if there are records but no head (unless `rebuild_head`). `where` names the log."""
    verify = f"secondapproval audit verify {shlex.quote(where)}"
    last = Head()
    if last_row is not None:
        seq, record = last_row
        parts = split_sealed(record.encode("utf-8"))
        if parts is None:
            raise AuditError(f"{where}: the last record is damaged; run `{verify}`")
        last = Head(seq, parts.hash, parts.mac)
    if stored is None:
        if last.count and not rebuild_head:
            raise AuditError(
                f"{where}: the database holds {last.count} records but no head row, so "
                f"records cut from its end could not be detected; check it with `{verify} "
                "--expect-head COUNT:HASH` against a head kept elsewhere, then reopen it with "
                "rebuild_head=True"
            )
    elif (stored.count, stored.hash) != (last.count, last.hash):
        raise AuditError(
            f"{where}: the records end at {last.count} but the head names record "
            f"{stored.count}; run `{verify}`"
        )
    return Found(last, stored)
