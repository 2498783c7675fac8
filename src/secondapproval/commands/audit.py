"""`secondapproval audit verify|show|head|keygen` — check a log, show a record, print its head,
make a checkpoint signing key.

`verify LOG…` checks every hash, link and MAC and the end against the head (exit 1 on any
problem), of each log given (per-worker logs side by side; a PostgreSQL URL that names no chain
stands for every chain in its database), with a summary when there are several; with
`--checkpoints PATH --public-key FILE` also against signed checkpoints, which vouch for every
record up to the last one the log matches; with `--rules DIR` (or `--replay`, which
uses the rule texts kept beside the log) it also re-decides every record and reports any whose
outcome or reasons differ. The `--audit PATH` option of `decide` and `test` is `_audit_options`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from ..audit.canonical import sha256_hex, split_sealed
from ..audit.checkpoints import Checkpoints, PublicKey, SigningKey, read_checkpoints
from ..audit.files import LogTarget, log_name, log_target
from ..audit.head import Head
from ..audit.postgres import Target, is_postgres, postgres_chains, postgres_head, postgres_record
from ..audit.replay import replay_log
from ..audit.rule_texts import RuleIndex, rules_store_of
from ..audit.settings import log_secret
from ..audit.sqlite import is_sqlite, sqlite_record
from ..audit.verify import VerifyReport, log_lines, log_targets, stored_head, verify_log
from ..errors import AuditError
from ._audit_options import add_key_option
from ._common import read_json


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("audit", help="verify an audit log, show a record, print a head")
    sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    v = sub.add_parser("verify", help="check every hash and link; with --rules, re-decide")
    v.add_argument(
        "log",
        type=log_target,
        nargs="+",
        help="JSON Lines log, SQLite database (.sqlite), or PostgreSQL URL "
        "(postgresql://USER@HOST:PORT/DB[?chain=NAME]; no chain: every chain); several: each "
        "verified, then a summary",
    )
    v.add_argument(
        "--rules",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="re-decide each record under the rule set its digest names, found in "
        "these folders (rules, snapshots); repeatable",
    )
    v.add_argument(
        "--replay",
        action="store_true",
        help="re-decide using the rule texts kept beside the log (LOG.rules)",
    )
    v.add_argument(
        "--facts",
        type=Path,
        metavar="FILE",
        help="original applications, a JSON object {decision_id: facts}, checked "
        "against each record's keyed digest (for rules that read personal data)",
    )
    add_key_option(v)
    v.add_argument(
        "--checkpoints",
        type=Path,
        metavar="PATH",
        help="signed checkpoints of the log (`--audit-checkpoints`): they vouch for every record "
        "up to the last one the log matches; needs --public-key",
    )
    v.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="the public key the checkpoints are signed with (FILE.pub of `audit keygen FILE`)",
    )
    v.add_argument(
        "--expect-head",
        metavar="COUNT:HASH",
        help="a head stored elsewhere (`audit head`), or a file holding one",
    )
    v.add_argument(
        "--chain-only",
        action="store_true",
        help="check hashes and links only, not MACs (a log written without a key, format v1): "
        "whoever can write the log could have rewritten it consistently",
    )
    v.add_argument(
        "--no-head",
        action="store_true",
        help="the log never had a head (else a missing head is a problem)",
    )
    v.add_argument("--max-problems", type=int, default=20, help="problems to print (default 20)")
    v.set_defaults(func=run_verify)

    s = sub.add_parser("show", help="print one record readably")
    s.add_argument("log", type=log_target, help="a log (a PostgreSQL URL: any chain, or ?chain=)")
    s.add_argument("decision_id")
    s.add_argument("--json", action="store_true", help="print the record as JSON")
    s.set_defaults(func=run_show)

    h = sub.add_parser("head", help="print the head (COUNT:HASH) kept beside a log")
    h.add_argument(
        "log",
        type=log_target,
        help="a log (a PostgreSQL URL without ?chain=: each chain's head, `NAME COUNT:HASH`)",
    )
    h.set_defaults(func=run_head)

    k = sub.add_parser(
        "keygen", help="make an Ed25519 key that signs checkpoints (FILE) and its FILE.pub"
    )
    k.add_argument(
        "file", type=Path, help="the private key file to write (mode 0600; never overwritten)"
    )
    k.set_defaults(func=run_keygen)


def _expected(text: str | None) -> Head | None:
    if text is None:
        return None
    if ":" not in text and Path(text).exists():
        text = Path(text).read_text(encoding="utf-8")
    return Head.parse(text)


def _checkpoints(args: argparse.Namespace) -> Checkpoints | None:
    if args.checkpoints is None and args.public_key is None:
        return None
    if args.checkpoints is None or args.public_key is None:
        raise AuditError("--checkpoints and --public-key go together")
    return read_checkpoints(args.checkpoints, PublicKey.read(args.public_key))


def run_verify(args: argparse.Namespace) -> int:
    targets = [target for log in args.log for target in _verified(log)]
    if len(targets) > 1 and (args.expect_head is not None or args.checkpoints is not None):
        raise AuditError(
            "--expect-head and --checkpoints are of one log: verify one log (a PostgreSQL URL "
            "with ?chain=NAME) at a time with them"
        )
    expect = _expected(args.expect_head)
    points = _checkpoints(args)
    indexes: dict[tuple[Path, ...], RuleIndex] = {}
    failed = [
        log_name(target)
        for target in targets
        if not _verify_one(args, target, expect, points, indexes)
    ]
    if len(targets) == 1:
        return 1 if failed else 0
    if failed:
        print(f"FAILED: {len(failed)} of {len(targets)} logs: {', '.join(failed)}")
        return 1
    print(f"ok: {len(targets)} logs, each one valid chain")
    return 0


def _index(folders: list[Path], indexes: dict[tuple[Path, ...], RuleIndex]) -> RuleIndex:
    """The rule index of some folders, made once per run (its skipped files said once)."""
    index = indexes.get(tuple(folders))
    if index is None:
        index = indexes[tuple(folders)] = RuleIndex(folders)
        for skipped in index.problems:
            print(f"warning: rule file skipped: {skipped}", file=sys.stderr)
    return index


def _verified(log: LogTarget) -> list[LogTarget]:
    """The logs an argument of `verify` stands for (a PostgreSQL database: each of its chains)."""
    targets = log_targets(log)
    if not targets:
        raise AuditError(f"{log_name(log)}: no audit chains in this database")
    return targets


def _verify_one(
    args: argparse.Namespace,
    log: LogTarget,
    expect: Head | None,
    points: Checkpoints | None,
    indexes: dict[tuple[Path, ...], RuleIndex],
) -> bool:
    """Verify (and replay) one log, printing its problems, notes and summary; whether it is ok."""
    name = log_name(log)
    folders = list(args.rules)
    if args.replay:
        if is_postgres(log):
            raise AuditError(
                f"{name}: no rule texts are kept beside a PostgreSQL log: give --rules DIR "
                "(`secondapproval rules snapshot` keeps them by digest)"
            )
        folders.append(rules_store_of(log))
    key = None if args.chain_only else log_secret(log, args.audit_key, create=False)
    checks: dict[str, Any] = {
        "key": key,
        "checkpoints": () if points is None else points,
        "expect_head": expect,
        "chain_only": args.chain_only,
        "no_head": args.no_head,
    }
    if not folders:
        report: VerifyReport = verify_log(log, **checks)
        replayed = None
    else:
        index = _index(folders, indexes)
        applications = read_json(args.facts) if args.facts else None
        if applications is not None and not isinstance(applications, dict):
            raise AuditError(f"{args.facts}: expected a JSON object {{decision_id: facts}}")
        report, replayed = replay_log(log, index, applications=applications, **checks)
    for problem in report.problems[: args.max_problems]:
        print(f"{name}: {problem}", file=sys.stderr)
    if len(report.problems) > args.max_problems:
        print(f"… and {len(report.problems) - args.max_problems} more problems", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}")
    print(report.summary())
    if replayed is None:
        return report.ok
    for r in replayed.notable[: args.max_problems]:
        print(f"  {r}")
    if replayed.substituted:
        print(
            f"note: {replayed.substituted} records named a rule set not found in "
            f"{', '.join(map(str, folders))}; they were re-decided under the version in force"
        )
    print(replayed.summary())
    return report.ok and replayed.ok


def _find(log: LogTarget, decision_id: str) -> tuple[str, bytes] | None:
    """Where a decision's record is in a log (`line 3`, `row 3`, `chain w0, row 3`), and its
    line."""
    if is_postgres(log):
        found = postgres_record(log, decision_id)
        return None if found is None else (f"chain {found[0]}, row {found[1]}", found[2])
    if is_sqlite(log):
        row = sqlite_record(log, decision_id)
        return None if row is None else (f"row {row[0]}", row[1])
    needle = b'"decision_id":' + orjson.dumps(decision_id)
    for number, line in log_lines(log):
        parts = split_sealed(line) if needle in line else None
        if parts is None:
            continue
        try:
            if orjson.loads(parts[0]).get("decision_id") == decision_id:
                return f"line {number}", line
        except (orjson.JSONDecodeError, AttributeError):
            continue
    return None


def run_show(args: argparse.Namespace) -> int:
    name = log_name(args.log)
    if not is_postgres(args.log) and not args.log.exists():
        raise AuditError(f"{name}: no such log")
    found = _find(args.log, args.decision_id)
    if found is None:
        print(f"{name}: no record of decision {args.decision_id}", file=sys.stderr)
        return 1
    where, line = found
    parts = split_sealed(line)
    assert parts is not None
    try:
        doc = orjson.loads(parts[0])
        intact = sha256_hex(parts.body) == parts.hash
        doc["hash"] = parts.hash
        if parts.mac is not None:
            doc["mac"] = parts.mac
        text = (
            orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode()
            if args.json
            else render_record(doc, where, intact)
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise AuditError(f"{name}: {where}: not an audit record ({exc!r})") from None
    print(text)
    return 0 if intact else 1


def render_record(doc: dict[str, Any], where: str, intact: bool) -> str:
    """One record for a terminal: outcome first, then what decided it, then every rule."""
    mark = "APPROVE" if doc["outcome"] == "approve" else "REFER"
    values = doc.get("values", {})
    lines = [
        f"{mark}  decision {doc['decision_id']}  ({where}, record {doc['seq']})",
        f"  matter {doc['matter']} version {doc['version']} on {doc['on']}",
        f"  rule set sha256:{doc['digest']}",
        f"  decided at {doc['time']} by {doc['engine']}, backend {doc['backend']}, "
        f"in {doc['latency_ns'] / 1000:.1f} µs",
    ]
    if doc["reasons"]:
        lines.append("reasons: " + ", ".join(doc["reasons"]))
    if doc["results"]:
        lines.append("rules:")
        for r in doc["results"]:
            read = ", ".join(f"{p}={_show(values.get(p))}" for p in r["reads"])
            lines.append(f"  {r['status']:<8} {r['rule']:<28} {read}")
    if doc["invalid"]:
        lines.append("invalid facts:")
        lines += [f"  {p}: {why}" for p, why in doc["invalid"].items()]
    if doc["missing"]:
        lines.append("missing facts: " + ", ".join(doc["missing"]))
    lines.append(
        "facts (personal and undeclared values masked): "
        + orjson.dumps(doc["facts"], option=orjson.OPT_SORT_KEYS).decode()
    )
    lines.append(f"  facts HMAC-SHA256 {doc['facts_hmac']} (key {doc['key_id']})")
    lines.append(f"  prev {doc['prev']}")
    lines.append(f"  hash {doc['hash']} {'(matches the record)' if intact else '(DOES NOT MATCH)'}")
    if "mac" in doc:
        lines.append(f"  mac  {doc['mac']} (checked by `audit verify` with the key)")
    else:
        lines.append("  no mac: the log was written without an audit key")
    return "\n".join(lines)


def _show(value: Any) -> str:
    """A recorded value as JSON (`["a", "b"]`, `"2020-12-31"`), never a Python repr."""
    return "—" if value is None else orjson.dumps(value).decode()


def run_head(args: argparse.Namespace) -> int:
    if is_postgres(args.log) and Target.parse(args.log).chain is None:
        return _every_head(args.log)
    head = stored_head(args.log)
    if head is None:
        print(f"{log_name(args.log)}: no head kept beside this log", file=sys.stderr)
        return 1
    print(head)
    return 0


def _every_head(url: str) -> int:
    """`NAME COUNT:HASH` for each chain of a PostgreSQL log; 1 if any has no head row."""
    chains = postgres_chains(url)
    if not chains:
        print(f"{log_name(url)}: no audit chains in this database", file=sys.stderr)
        return 1
    missing = 0
    for chain in chains:
        head = postgres_head(url, chain=chain)
        if head is None:
            missing += 1
            print(f"{log_name(url)}: chain {chain} has no head row", file=sys.stderr)
        else:
            print(f"{chain} {head}")
    return 1 if missing else 0


def run_keygen(args: argparse.Namespace) -> int:
    key = SigningKey.generate()
    pub = key.write(args.file)
    print(f"signing key {key.id} written to {args.file} (keep it secret); public key: {pub}")
    return 0
