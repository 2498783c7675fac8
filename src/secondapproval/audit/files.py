"""Opening a log by its target: PostgreSQL for a `postgresql://` URL, SQLite for a `.sqlite`
(`.sqlite3`, `.db`) path, else JSON Lines."""

from __future__ import annotations

import os
from pathlib import Path

from .jsonl import JsonLinesSink
from .keys import AuditKey
from .postgres import PostgresSink, Target, is_postgres
from .sinks import Anchor, ChainSink, FsyncPolicy
from .sqlite import SqliteSink, is_sqlite

LogTarget = str | os.PathLike[str]
"""A log: a path (JSON Lines, SQLite) or a PostgreSQL URL (a `str`)."""


def log_target(text: str) -> Path | str:
    """A log as the command line names it: a PostgreSQL URL stays text, anything else is a path
    (a `Path` would fold the URL's `//`)."""
    return text if is_postgres(text) else Path(text)


def log_name(target: LogTarget) -> str:
    """How messages name a log: its path, or its URL without the password (with its chain)."""
    return Target.parse(target).where if is_postgres(target) else os.fspath(target)


def open_log(
    path: LogTarget,
    *,
    key: AuditKey | bytes | None = None,
    fsync: FsyncPolicy = "group",
    batch: int = 512,
    delay: float = 0.01,
    rebuild_head: bool = False,
    anchor: Anchor | None = None,
    anchor_every: float = 1.0,
) -> ChainSink:
    """A sink writing to the log at `path` (created if absent, recovered if torn), or to the
    chain a `postgresql://…?chain=NAME` URL names (`PostgresSink`; the chain `main` if none).

    `key` authenticates the log (records and head MACed; the last record and the head must be
    vouched for by it); without one, the Engine's `audit_key` binds it before the first record.
    `fsync`: `group` (the default: `decide()` returns once its record is on disk, concurrent
    decisions sharing one fsync), `always`, `fire-and-forget` or `none` (see `sinks`).
    `anchor` keeps heads outside the log (e.g. signed checkpoints), every `anchor_every` seconds.
    """
    if is_postgres(path):
        return PostgresSink(
            path,
            key=key,
            fsync=fsync,
            batch=batch,
            delay=delay,
            rebuild_head=rebuild_head,
            anchor=anchor,
            anchor_every=anchor_every,
        )
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
