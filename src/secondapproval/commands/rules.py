"""`secondapproval rules snapshot` — keep the exact text of each rule-set version by its digest.

Every audit record names the digest of the rule set that decided it; a snapshot store keeps those
texts after the rules change, so `audit verify --rules STORE` can still re-decide old records.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..audit.rule_texts import keep_texts
from ..loader import load_matters
from ._common import add_rules_option


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("rules", help="keep rule-set versions (snapshot by digest)")
    sub = p.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    s = sub.add_parser("snapshot", help="store every matter version's exact text by digest")
    add_rules_option(s)
    s.add_argument(
        "--store",
        type=Path,
        default=Path("rule-snapshots"),
        metavar="DIR",
        help="snapshot folder (default ./rule-snapshots)",
    )
    s.set_defaults(func=run_snapshot)


def run_snapshot(args: argparse.Namespace) -> int:
    matters = load_matters([args.rules])
    written = keep_texts(matters, args.store)
    for folder in written:
        print(f"stored {folder}")
    print(f"{len(matters)} versions, {len(written)} new snapshots in {args.store}")
    return 0
