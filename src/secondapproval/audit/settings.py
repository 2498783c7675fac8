"""Audit settings turned into an open log: its key found (or created), checkpoints, the sink.

What the command line's `--audit LOG` and a deployment ask for alike: the key from a file, the
environment (`KEY_ENV`) or `LOG.key` beside the log (a PostgreSQL log has no folder beside it:
its key comes from a file or the environment); signed checkpoints kept elsewhere; the sink
opened (and recovered) under a fsync policy. Nothing here prints: what the caller should know —
a key just created, a torn record set aside, a torn checkpoint dropped — is said to `note`, as
one line each, when it happens.

settings = AuditSettings("audit.jsonl", key_file=Path("/etc/secondapproval/audit.key"))
with Engine("rules", **open_audit(settings, note=print).engine_options()) as engine:
    engine.decide("graduate-talent-introduction", facts)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AuditError
from .checkpoints import CheckpointFile, SigningKey
from .files import LogTarget, log_name, open_log
from .keys import KEY_ENV, NEW_KEY_NOTE, log_key
from .postgres import is_postgres
from .sinks import Anchor, ChainSink, FsyncPolicy

Note = Callable[[str], None]
"""Told one line (`note: …`, `warning: …`) about something done that the caller should know."""


def _unheard(line: str) -> None:
    """The default `Note`: nobody is told."""


def log_secret(
    log: LogTarget,
    key_file: str | os.PathLike[str] | None,
    *,
    create: bool,
    note: Note = _unheard,
) -> bytes | None:
    """The audit key of a log: from `key_file`, `$KEY_ENV`, or `LOG.key` (created if `create`).

    A PostgreSQL log takes its key from `key_file` or `$KEY_ENV` only; with neither, `create`
    (a log about to be written) is an AuditError, and a log being read has no key (None).
    """
    if is_postgres(log):
        if key_file is None and not os.environ.get(KEY_ENV):
            if create:
                raise AuditError(
                    f"{log_name(log)}: a PostgreSQL log needs its audit key from a file "
                    f"(--audit-key FILE) or ${KEY_ENV}: there is no folder beside it for LOG.key"
                )
            return None
        return log_key(log, key_file, create=False, env=KEY_ENV)[0]  # never LOG.key: see above
    key, created = log_key(log, key_file, create=create, env=KEY_ENV)
    if created is not None:
        note(NEW_KEY_NOTE.format(created))
    return key


def open_checkpoints(
    path: str | os.PathLike[str],
    signing_key_file: str | os.PathLike[str],
    note: Note = _unheard,
) -> CheckpointFile:
    """The checkpoint file at `path`, signed with the key in `signing_key_file` (`audit keygen`)."""
    anchor = CheckpointFile(path, SigningKey.read(signing_key_file))
    if anchor.repaired:
        note(f"warning: {path}: {anchor.repaired} bytes of a checkpoint torn by a crash dropped")
    return anchor


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Where decisions are recorded and how: the log, its key file, fsync policy, anchor."""

    log: Path | str
    """A path, or a PostgreSQL URL (`postgresql://…?chain=NAME`)."""
    key_file: Path | None = None
    """None: the key is `$KEY_ENV`, else `LOG.key` (created if absent)."""
    fsync: FsyncPolicy = "group"
    rebuild_head: bool = False
    """Continue a log whose head file is missing."""
    anchor: Anchor | None = None
    """Where heads are kept outside the log (`open_checkpoints`)."""


@dataclass(frozen=True, slots=True)
class OpenedAudit:
    """An open audit log and the key its records are MACed with."""

    sink: ChainSink
    key: bytes | None

    def engine_options(self) -> dict[str, Any]:
        """The `Engine` keyword arguments that record every decision in this log."""
        return {"audit": self.sink, "audit_key": self.key}


def open_audit(settings: AuditSettings, note: Note = _unheard) -> OpenedAudit:
    """The log of `settings` opened (created if absent, recovered if torn) with its key."""
    key = log_secret(settings.log, settings.key_file, create=True, note=note)
    sink = open_log(
        settings.log,
        key=key,
        fsync=settings.fsync,
        rebuild_head=settings.rebuild_head,
        anchor=settings.anchor,
    )
    recovered = getattr(sink, "recovered", None)
    if recovered is not None:
        note(f"warning: {log_name(settings.log)}: {recovered}")
    return OpenedAudit(sink, key)
