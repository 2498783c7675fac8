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


def run(args: argparse.Namespace) -> int:
    try:
        from ..analysis import analyze
    except ImportError:  # pragma: no cover - z3 is the [analyze] extra
        print("error: analyze needs z3: pip install 'secondapproval[analyze]'", file=sys.stderr)
        return 2
    from ..engine import Engine

    reports = []
    try:
        for folder in args.paths:
            engine = Engine(folder, vouch="all")
            for matter_id in engine.matters:
                if args.matter is not None and matter_id != args.matter:
                    continue
                for version in engine.versions(matter_id):
                    if args.on is None or version.spec.effective.covers(args.on):
                        reports.append(analyze(version, engine, args.on))
    except RuleSetError as exc:
        print(exc, file=sys.stderr)
        return 1
    failing = {"error", "warning"} if args.strict else {"error"}
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            print(
                f"{r.matter}@{r.version}: approvable: {r.approvable.answer}"
                + (f" ({r.approvable.why})" if r.approvable.why else "")
            )
            for f in r.findings:
                print(f"  {f.severity}: {f.kind}: {f.message}")
    return 1 if any(f.severity in failing for r in reports for f in r.findings) else 0
