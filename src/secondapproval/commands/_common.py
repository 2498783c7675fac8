"""Shared options and helpers of the subcommands (modules starting with _ are not commands)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from ..errors import FactError
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


def iso_date(text: str) -> dt.date:
    try:
        return parse_iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def read_json(path: Path) -> Any:
    """A JSON file as data; unreadable or malformed files are FactErrors naming line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8") if str(path) != "-" else _stdin()
    except (OSError, UnicodeDecodeError) as exc:
        raise FactError(f"{path}: cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None


def _stdin() -> str:
    import sys

    return sys.stdin.read()
