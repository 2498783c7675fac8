"""`secondapproval check [PATHS]` — load and type-check rule files, reporting every error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..engine import find_registry, rule_files, version_problems
from ..errors import Problem, RuleSetError
from ..ruleset import Matter, check_matter, is_matter_document
from ..yamlfile import load_yaml


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("check", help="load and type-check matter and pack files")
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("rules")],
        help="files or folders (default ./rules)",
    )
    p.set_defaults(func=run)


def check_paths(paths: list[Path]) -> tuple[list[Matter], list[Problem], int]:
    """Every matter and pack file under `paths`: the matters, all problems, the pack-file count."""
    from ..packs import discover

    problems: list[Problem] = []
    try:
        registry = find_registry(paths)
        files = rule_files(paths)
    except RuleSetError as exc:
        return [], list(exc.problems), 0
    packs = {lp.pack.file_key: lp.pack for lp in discover().values()}
    matters: list[Matter] = []
    pack_files = 0
    for f in files:
        try:
            doc = load_yaml(f)
            data = doc.data
            if is_matter_document(data):
                matters.append(check_matter(doc, registry, f.read_text(encoding="utf-8")))
                continue
            key = next((k for k in packs if isinstance(data, dict) and k in data), None)
            if key is None:
                problems.append(
                    Problem(
                        "not a matter file (no `matter:` and `rules:`) and no "
                        "installed pack claims it",
                        str(f),
                        1,
                    )
                )
                continue
            packs[key].check_file(doc)
            pack_files += 1
        except RuleSetError as exc:
            problems += exc.problems
    problems += version_problems(matters)
    return matters, problems, pack_files


def run(args: argparse.Namespace) -> int:
    from ..guide import guide_gaps

    matters, problems, pack_files = check_paths(args.paths)
    for m in matters:
        for gap in guide_gaps(m):
            print(f"warning: {gap}", file=sys.stderr)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        return 1
    ids = sorted({m.id for m in matters})
    print(
        f"ok: {len(ids)} matters ({len(matters)} versions), {sum(len(m.rules) for m in matters)}"
        f" rules, {pack_files} pack files"
    )
    return 0
