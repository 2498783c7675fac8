"""The `--audit PATH` options of `decide` and `test` (and `--audit-key` of `audit verify`).

Only the argparse wiring lives here; finding the key, opening checkpoints and the log is
`secondapproval.audit.settings`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..audit.checkpoints import CheckpointFile
from ..audit.files import log_target
from ..audit.keys import KEY_ENV
from ..audit.settings import AuditSettings, open_audit, open_checkpoints
from ..audit.sinks import POLICIES
from ..errors import AuditError


def add_audit_options(p: argparse.ArgumentParser, fsync: str) -> None:
    p.add_argument(
        "--audit",
        type=log_target,
        metavar="PATH",
        help="append an audit record of each decision to this log (JSON Lines, SQLite for a "
        ".sqlite path, or a chain of a PostgreSQL database: postgresql://USER@HOST:PORT/DB"
        "[?chain=NAME], the password best in $PGPASSWORD or ~/.pgpass)",
    )
    p.add_argument(
        "--audit-fsync",
        choices=POLICIES,
        default=fsync,
        help=f"when records are forced to disk (default {fsync}; `group` and `always` answer "
        "only once the record is on disk)",
    )
    p.add_argument(
        "--audit-rebuild-head",
        action="store_true",
        help="continue a log whose head file is missing (after checking it against a head "
        "kept elsewhere)",
    )
    add_key_option(p, create=True)
    p.add_argument(
        "--audit-checkpoints",
        type=Path,
        metavar="PATH",
        help="append a signed checkpoint of the log's head to this file (every second and on "
        "exit); keep it where the log's writers cannot rewrite it. Needs --audit-signing-key",
    )
    p.add_argument(
        "--audit-signing-key",
        type=Path,
        metavar="FILE",
        help="the Ed25519 private key that signs checkpoints (`audit keygen FILE`)",
    )


def add_key_option(p: argparse.ArgumentParser, create: bool = False) -> None:
    p.add_argument(
        "--audit-key",
        type=Path,
        metavar="FILE",
        help=f"file holding the audit key that MACs the records and keys the facts digests "
        f"(default ${KEY_ENV}, else LOG.key{', created if absent' if create else ''}) — keep it "
        "away from the log: whoever can read it can rewrite the log unseen",
    )


def to_stderr(line: str) -> None:
    """A note or warning of the library, for the person at the terminal."""
    print(line, file=sys.stderr)


def audited_engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """Engine keyword arguments for `--audit` (none when not given)."""
    anchor = _checkpoint_file(args)
    if args.audit is None:
        if anchor is not None:
            raise AuditError("--audit-checkpoints needs --audit (the log they are checkpoints of)")
        return {}
    settings = AuditSettings(
        args.audit, args.audit_key, args.audit_fsync, args.audit_rebuild_head, anchor
    )
    return open_audit(settings, note=to_stderr).engine_options()


def _checkpoint_file(args: argparse.Namespace) -> CheckpointFile | None:
    """The anchor of `--audit-checkpoints PATH --audit-signing-key FILE` (None: not asked for)."""
    path, key_file = args.audit_checkpoints, args.audit_signing_key
    if path is None and key_file is None:
        return None
    if path is None or key_file is None:
        raise AuditError("--audit-checkpoints and --audit-signing-key go together")
    return open_checkpoints(path, key_file, note=to_stderr)


def close_audit(options: dict[str, Any]) -> None:
    """Commit and close the sink of `audited_engine_options`."""
    if options:
        options["audit"].close()
