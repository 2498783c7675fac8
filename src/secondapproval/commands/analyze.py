"""`secondapproval analyze [PATHS] [--matter ID] [--on DATE] [--json] [--strict]` — what each
matter version can and cannot approve, with witness applications (`secondapproval.analysis`)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import RuleSetError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "analyze", help="prove what each matter can and cannot approve (needs the [analyze] extra)"
    )
    p.add_argument("paths", nargs="*", type=Path, default=[Path("rules")], help="rule folders")
    p.add_argument("--matter", help="analyse only this matter")
    p.add_argument("--on", type=dt.date.fromisoformat, help="decision date (default: any in force)")
    p.add_argument("--json", action="store_true", help="print the reports as JSON")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.set_defaults(func=run)


def analyze_paths(
    paths: list[Path], matter: str | None = None, on: dt.date | None = None
) -> list[Any]:
    """The reports of every version of every matter under the rule folders `paths` (of `matter`
    only, if given; of the versions in force `on`, if given). Needs z3 (ImportError otherwise)."""
    from ..analysis import analyze
    from ..engine import Engine

    reports = []
    for folder in paths:
        engine = Engine(folder, vouch="all")
        for matter_id in engine.matters:
            if matter is not None and matter_id != matter:
                continue
            for version in engine.versions(matter_id):
                if on is None or version.spec.effective.covers(on):
                    reports.append(analyze(version, engine, on))
    return reports


def print_reports(reports: list[Any]) -> None:
    for r in reports:
        why = f" ({r.approvable.why})" if r.approvable.why else ""
        print(f"{r.matter}@{r.version}: approvable: {r.approvable.answer}{why}")
        for f in r.findings:
            print(f"  {f.severity}: {f.kind}: {f.message}")


def failed(reports: list[Any], strict: bool) -> bool:
    """Whether a finding fails the run: an error, or with `strict` a warning too."""
    failing = {"error", "warning"} if strict else {"error"}
    return any(f.severity in failing for r in reports for f in r.findings)


def run(args: argparse.Namespace) -> int:
    try:
        reports = analyze_paths(args.paths, args.matter, args.on)
    except ImportError:  # z3 is the [analyze] extra
        print("error: analyze needs z3: pip install 'secondapproval[analyze]'", file=sys.stderr)
        return 2
    except RuleSetError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        print_reports(reports)
    return 1 if failed(reports, args.strict) else 0
