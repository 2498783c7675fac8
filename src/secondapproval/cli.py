"""The `secondapproval` command. Each subcommand lives in `secondapproval.commands.<name>` (a
module with `register(subparsers)`), and each installed pack may add its own.

Exit status: 0 success, 1 a check or test failed, 2 bad input (a typed SecondApprovalError).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from . import __version__, commands
from .errors import SecondApprovalError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secondapproval",
        description="Declarative 秒批 rule sets: instant, explained, audited decisions.",
    )
    parser.add_argument("--version", action="version", version=f"secondapproval {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log events to stderr (-v info, -vv debug)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    try:
        from .packs import discover

        for loaded in discover().values():
            loaded.pack.register_cli(sub)
    except SecondApprovalError as exc:
        print(f"warning: {exc}", file=sys.stderr)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s")
    try:
        code: int = args.func(args)
    except SecondApprovalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
