"""`secondapproval check [PATHS]` — load and type-check rule files, reporting every error.

`--show-code MATTER` prints, once the files check, the Python generated for each version of the
matter (`showcode`): its native evaluator, its fast validator and its flattener.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import DeploymentError, Problem, UnknownMatterError
from ..loader import check_files, find_registry
from ..registry import Registry
from ..ruleset import Matter
from ..showcode import listing, sources_of
from ..sources.deployment import load_deployment


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("check", help="load and type-check matter and pack files")
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("rules")],
        help="files or folders (default ./rules)",
    )
    p.add_argument(
        "--show-code",
        metavar="MATTER",
        help="print the Python generated for each version of this matter",
    )
    p.add_argument(
        "--analyze",
        action="store_true",
        help="also analyse each matter (secondapproval analyze): fail on its errors",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="with --analyze, fail on its warnings too",
    )
    p.add_argument(
        "--deployment",
        type=Path,
        metavar="FILE",
        help="also check a deployment file (docs/sources.md) against these rules",
    )
    p.set_defaults(func=run)


def check_paths(paths: list[Path]) -> tuple[list[Matter], list[Problem], int]:
    """Every matter and pack file under `paths`: the matters, all problems, the pack-file count."""
    return check_files(paths)


def run(args: argparse.Namespace) -> int:
    from ..guide import guide_gaps

    matters, problems, pack_files = check_paths(args.paths)
    if args.deployment is not None:
        problems += deployment_problems(args.deployment, matters, find_registry(args.paths))
    for m in matters:
        for gap in guide_gaps(m):
            print(f"warning: {gap}", file=sys.stderr)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        return 1
    if args.show_code is not None:
        print(generated_code(matters, args.show_code), end="")
        return 0
    if args.analyze:
        from .analyze import analyze_paths, failed, print_reports

        folders = [p for p in args.paths if p.is_dir()]
        reports = analyze_paths(folders)
        print_reports(reports)
        if failed(reports, args.strict):
            return 1
    ids = sorted({m.id for m in matters})
    for line in matter_lines(matters):
        print(line)
    print(
        f"ok: {len(ids)} matters ({len(matters)} versions), {sum(len(m.rules) for m in matters)}"
        f" rules, {pack_files} pack files"
    )
    return 0


def matter_lines(matters: list[Matter]) -> list[str]:
    """A line per matter (its latest version): id, version, rules (partial ones), its sources by
    status, and whether its guide has an online address."""
    latest: dict[str, Matter] = {}
    for m in matters:
        if m.id not in latest or m.spec.effective.from_ > latest[m.id].spec.effective.from_:
            latest[m.id] = m
    lines = []
    for mid, m in sorted(latest.items()):
        statuses = Counter(s.status for s in m.spec.sources)
        sources = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "none"
        partial = sum(r.spec.partial for r in m.rules)
        rules = f"{len(m.rules)} rules" + (f" ({partial} partial)" if partial else "")
        online = "online" if m.spec.service_url else "no service_url"
        lines.append(f"  {mid} {m.version}: {rules}; sources: {sources}; {online}")
    return lines


def deployment_problems(path: Path, matters: list[Matter], registry: Registry) -> list[Problem]:
    """A deployment file's problems: its own (shape, adapters' settings) and against the rules."""
    try:
        deployment = load_deployment(path)
    except DeploymentError as exc:
        return list(exc.problems)
    return deployment.problems_with(matters, registry)


def generated_code(matters: list[Matter], matter: str) -> str:
    """The generated Python of every version of one matter, oldest first."""
    versions = [m for m in matters if m.id == matter]
    if not versions:
        raise UnknownMatterError(matter, {m.id for m in matters})
    versions.sort(key=lambda m: m.spec.effective.from_)
    return "".join(listing(sources_of(m)) for m in versions)
