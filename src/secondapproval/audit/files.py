"""Opening a log by its path: SQLite for a `.sqlite` (`.sqlite3`, `.db`) path, else JSON Lines."""

from __future__ import annotations

import os

from .jsonl import JsonLinesSink
from .keys import AuditKey
from .sinks import Anchor, ChainSink, FsyncPolicy
from .sqlite import SqliteSink, is_sqlite


def open_log(
    path: str | os.PathLike[str],
    *,
    key: AuditKey | bytes | None = None,
    fsync: FsyncPolicy = "group",
    batch: int = 512,
    delay: float = 0.01,
    rebuild_head: bool = False,
    anchor: Anchor | None = None,
    anchor_every: float = 1.0,
) -> ChainSink:
    """A sink writing to the log at `path` (created if absent, recovered if torn).

    `key` authenticates the log (records and head MACed; the last record and the head must be
    vouched for by it); without one, the Engine's `audit_key` binds it before the first record.
    `fsync`: `group` (the default: `decide()` returns once its record is on disk, concurrent
    decisions sharing one fsync), `always`, `fire-and-forget` or `none` (see `sinks`).
    `anchor` keeps heads outside the log (e.g. signed checkpoints), every `anchor_every` seconds.
    """
    cls = SqliteSink if is_sqlite(path) else JsonLinesSink
    return cls(
        path,
        key=key,
        fsync=fsync,
        batch=batch,
        delay=delay,
        rebuild_head=rebuild_head,
        anchor=anchor,
        anchor_every=anchor_every,
    )
