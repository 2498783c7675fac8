"""Shared options and helpers of the subcommands (modules starting with _ are not commands)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from .. import jsonfile
from ..lang.parser import parse_iso_date


def add_rules_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rules",
        type=Path,
        default=Path("rules"),
        metavar="DIR",
        help="folder of matter files and sources.yaml (default ./rules)",
    )


def add_backend_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        default="native",
        choices=["native", "durable"],
        help="decision backend (default native)",
    )


def add_trust_options(p: argparse.ArgumentParser) -> None:
    """`--deployment FILE` (the connected sources) and `--vouch SOURCE` (DESIGN, "Trust")."""
    p.add_argument(
        "--deployment",
        type=Path,
        metavar="FILE",
        help="deployment file: how to reach the connected sources (docs/sources.md); "
        "their facts are gathered from them",
    )
    p.add_argument(
        "--vouch",
        action="append",
        default=[],
        metavar="SOURCE",
        help="a source whose facts the caller supplies itself (repeatable; `all`: every "
        "authoritative source); without it a caller's fact of an authoritative source is refused",
    )


def trust_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Engine keywords of `add_trust_options`."""
    vouch: Any = "all" if "all" in args.vouch else tuple(args.vouch)
    return {"deployment": args.deployment, "vouch": vouch}


def iso_date(text: str) -> dt.date:
    try:
        return parse_iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def read_json(path: Path | str) -> Any:
    """An application's JSON file (`-`: standard input) as data, parsed strictly (`jsonfile`):
    a key given twice or a file beyond the limits is referred by the engine, not lost here;
    unreadable or malformed files are FactErrors naming line and column."""
    return jsonfile.load(path)
