"""`secondapproval test [PATHS]` — run scenario files; non-zero exit on any failure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..loader import installed_packs
from ..scenarios.coverage import Coverage
from ..scenarios.junit import junit_xml
from ..scenarios.model import CaseResult, Setting
from ..scenarios.run import EngineCache, run_file, scenario_files
from ._audit_options import add_audit_options, audited_engine_options, close_audit
from ._common import add_backend_option, add_rules_option


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("test", help="run scenario files (default ./scenarios)")
    p.add_argument("paths", nargs="*", type=Path, default=[Path("scenarios")])
    add_rules_option(p)
    add_backend_option(p)
    p.add_argument("--junit-xml", type=Path, metavar="FILE", help="also write JUnit XML")
    p.add_argument(
        "--coverage",
        action="store_true",
        help="report which rules the scenarios saw pass, fail and go unknown",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print failures and the summary only")
    add_audit_options(p, fsync="group")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    audit = audited_engine_options(args)  # one sink for every engine, closed once below
    engines = EngineCache(args.rules, backend=args.backend, **audit)
    packs = installed_packs()
    results: list[CaseResult] = []
    coverage = Coverage()
    for path in scenario_files(args.paths):
        for r in run_file(path, engines, args.rules, packs):
            results.append(r)
            coverage.add(r)
            if not r.passed:
                where = f"{r.file}:{r.line}" if r.line else r.file
                print(f"FAIL {where} {r.name}\n{r.diff}", file=sys.stderr)
            elif not args.quiet:
                print(f"ok   {r.file} {r.name}")
    if args.coverage:  # the default rules' engine, while the engines are open
        try:
            engine = engines(Setting())
        except Exception:
            engine = None
        print(coverage.report(engine))
    engines.close()
    close_audit(audit)
    failed = sum(not r.passed for r in results)
    if args.junit_xml:
        args.junit_xml.write_text(junit_xml(results), encoding="utf-8")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or not results else 0
