"""Opening a log by its path: SQLite for a `.sqlite` (`.sqlite3`, `.db`) path, else JSON Lines."""

from __future__ import annotations

import os

from .jsonl import JsonLinesSink
from .sinks import ChainSink, FsyncPolicy
from .sqlite import SqliteSink, is_sqlite


def open_log(
    path: str | os.PathLike[str],
    *,
    fsync: FsyncPolicy = "group",
    batch: int = 512,
    delay: float = 0.01,
) -> ChainSink:
    """A sink writing to the log at `path` (created if absent, recovered if torn)."""
    if is_sqlite(path):
        return SqliteSink(path, fsync=fsync, batch=batch, delay=delay)
    return JsonLinesSink(path, fsync=fsync, batch=batch, delay=delay)
