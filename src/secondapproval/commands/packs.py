"""`secondapproval packs` — list the installed rule packs, where each came from."""

from __future__ import annotations

import argparse
from typing import Any

from ..packs import discover


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("packs", help="list installed rule packs (entry points)")
    p.set_defaults(func=run)


def run(_args: argparse.Namespace) -> int:
    packs = discover()
    if not packs:
        print("no packs installed (entry-point group secondapproval.packs)")
        return 0
    print(f"{'pack':<14} {'file key':<10} {'distribution':<24} entry point")
    for name, lp in sorted(packs.items()):
        dist = f"{lp.distribution} {lp.version}"
        print(f"{name:<14} {lp.pack.file_key:<10} {dist:<24} {lp.entry_point}")
    return 0
