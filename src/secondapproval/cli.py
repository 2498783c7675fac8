"""The `secondapproval` command. Each subcommand lives in `secondapproval.commands.<name>` (a
module with `register(subparsers)`), and each installed pack may add its own.

Exit status: 0 success, 1 a check or test failed, 2 bad input: a typed SecondApprovalError, or
anything else that escapes a command, printed as one line naming the command's input files, never
as a traceback (`-vv` logs the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from . import commands
from .errors import SecondApprovalError
from .version import __version__


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
    except Exception as exc:  # whatever escaped a command: no traceback reaches the user
        logging.getLogger(__name__).debug("traceback", exc_info=True)
        print(f"error: {_inputs(args)}{_what(exc)}", file=sys.stderr)
        return 2
    return code


def _what(exc: BaseException) -> str:
    """What went wrong, in words rather than a traceback."""
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to be read"
    if isinstance(exc, MemoryError):
        return "the input is too large to be read"
    text = str(exc) or type(exc).__name__
    if "int_max_str_digits" in text:  # Python's limit on int() of a text, with Python's advice
        return "an integer of more than 4300 digits"
    return f"cannot be read: {text}" if isinstance(exc, OSError | UnicodeError) else text


def _inputs(args: argparse.Namespace) -> str:
    """The files and folders the command was given, to say where the problem is."""
    named: list[str] = []
    for value in vars(args).values():
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, Path) or (isinstance(item, str) and Path(item).exists()):
                named.append(str(item))
    return f"in {', '.join(dict.fromkeys(named))}: " if named else ""


if __name__ == "__main__":
    sys.exit(main())
