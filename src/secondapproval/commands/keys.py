"""`secondapproval keys add|list|remove --config FILE` — the service's API keys.

A key is printed once, when it is made; the configuration file keeps only its salted scrypt hash
(`service.keys`). The file is rewritten atomically, readable by its owner only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("keys", help="API keys of the decision service")
    sub = p.add_subparsers(dest="keys_command", required=True)
    a = sub.add_parser("add", help="make a key, print it once, keep its hash in the config")
    a.add_argument("name", help="the calling platform (letters, digits, . _ -)")
    a.add_argument("--config", type=Path, required=True, metavar="FILE")
    a.add_argument("--matters", nargs="+", default=[], metavar="ID", help='matter ids, or "*"')
    a.add_argument(
        "--vouch",
        nargs="+",
        default=[],
        metavar="SOURCE",
        help="sources whose facts this platform supplies (recorded as vouched)",
    )
    a.add_argument("--audit-read", action="store_true", help="may read audit records")
    a.add_argument("--admin", action="store_true", help="an admin key (/v1/admin only)")
    a.set_defaults(func=run_add)
    ls = sub.add_parser("list", help="the configured keys (never a key itself)")
    ls.add_argument("--config", type=Path, required=True, metavar="FILE")
    ls.set_defaults(func=run_list)
    rm = sub.add_parser("remove", help="remove a key by name")
    rm.add_argument("name")
    rm.add_argument("--config", type=Path, required=True, metavar="FILE")
    rm.set_defaults(func=run_remove)


def run_add(args: argparse.Namespace) -> int:
    from ..service.config import load_config
    from ..service.keys import hash_key, new_key

    config = load_config(args.config)
    if any(k.name == args.name for k in config.settings.keys):
        raise ConfigError(f"{args.config}: a key named {args.name!r} exists (remove it first)")
    if args.admin and (args.matters or args.vouch or args.audit_read):
        raise ConfigError("an admin key reaches /v1/admin only: give it no matters or vouch")
    if not args.admin and not args.matters:
        raise ConfigError('a platform key needs --matters (ids, or "*")')
    key_id, key = new_key()
    entry: dict[str, Any] = {"name": args.name, "id": key_id, "hash": hash_key(key)}
    if args.admin:
        entry["admin"] = True
    else:
        entry["matters"] = list(args.matters)
        if args.vouch:
            entry["vouch"] = list(args.vouch)
        if args.audit_read:
            entry["audit_read"] = True
    data = _raw(args.config)
    data.setdefault("keys", []).append(entry)
    _write(args.config, data)
    load_config(args.config)  # the file as written must load
    print(key)
    print(
        f"key {args.name} ({key_id}) added to {args.config}; it is shown only now: store it "
        "with the platform",
        file=sys.stderr,
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from ..service.config import load_config

    for k in load_config(args.config).settings.keys:
        what = "admin" if k.admin else f"matters {', '.join(k.matters)}"
        extra = (f"; vouch {', '.join(k.vouch)}" if k.vouch else "") + (
            "; audit-read" if k.audit_read else ""
        )
        print(f"{k.name:<24} {k.id}  {what}{extra}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    data = _raw(args.config)
    keys = data.get("keys") or []
    kept = [k for k in keys if not (isinstance(k, dict) and k.get("name") == args.name)]
    if len(kept) == len(keys):
        raise ConfigError(f"{args.config}: no key named {args.name!r}")
    data["keys"] = kept
    _write(args.config, data)
    print(f"key {args.name} removed from {args.config}", file=sys.stderr)
    return 0


class _NoAliases(yaml.SafeDumper):
    """Every value written out (the configuration is read without anchors or aliases)."""

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002
        return True


def _raw(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a mapping")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.dump(data, f, Dumper=_NoAliases, allow_unicode=True, sort_keys=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
