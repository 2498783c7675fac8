"""`secondapproval impact --rules NEW [--baseline OLD] INPUT… --out DIR` — whom a candidate rule
set changes, over application files or audit logs (docs/impact.md).

Exit status 0 when the run is done and the `--fail-on` gate (if any) passes, 1 when it fails,
2 for bad input (a log that does not verify, an unreadable file, rules that do not load).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from ..impact import DIRECTIONS, FLIPS, REPORT, SUMMARY, Options, run_impact
from ..impact.run import ROWS
from ._audit_options import add_key_option


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "impact",
        help="decide history under candidate rules: flips by matter, rule and reason",
        description=__doc__,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=_INPUTS)
    p.add_argument(
        "--rules", required=True, metavar="NEW", help="the candidate rules (folder or bundle)"
    )
    p.add_argument(
        "--baseline",
        metavar="OLD",
        help="the rules to compare with, decided afresh (folder or bundle); without it, audit "
        "records are compared with their recorded outcome (application files need it)",
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--on", type=dt.date.fromisoformat, metavar="DATE", help="decide every application on DATE"
    )
    when.add_argument(
        "--as-recorded",
        action="store_true",
        help="decide each application on its own date (the default)",
    )
    p.add_argument(
        "--vouch",
        action="append",
        default=[],
        metavar="SOURCE",
        help="a source whose facts the input files hold (repeatable; `all`: every one); "
        "without it, such facts are refused as from any caller",
    )
    p.add_argument(
        "--deployment",
        metavar="FILE",
        help="deployment file connecting sources (a `table` adapter: the offices' exports) "
        "whose facts are looked up for application files",
    )
    p.add_argument(
        "--facts",
        metavar="FILE",
        help="original applications of audit records, a JSON object {decision_id: facts} "
        "(for rules that read personal data), checked against each record's facts digest",
    )
    add_key_option(p)
    p.add_argument("--no-head", action="store_true", help="the audit logs never had a head")
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="Dask worker processes on this machine (default: one per core; 0: no Dask)",
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="an existing Dask scheduler (tcp://HOST:PORT)"
    )
    p.add_argument(
        "--rows",
        type=int,
        default=ROWS,
        metavar="N",
        help=f"applications per partition (default {ROWS:,}; Parquet row groups stay whole)",
    )
    p.add_argument(
        "--fail-on",
        action="append",
        default=[],
        choices=DIRECTIONS,
        help="exit 1 when any application flips this way (repeatable): a CI gate",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar on stderr (default: when stderr is a terminal)",
    )
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="where the outputs go")
    p.set_defaults(func=run)


_INPUTS = (
    "audit logs (JSON Lines, SQLite, PostgreSQL URL) or application files (.parquet with "
    "columns matter, on, facts, id; or JSON Lines of {matter, on, facts, id})"
)


def run(args: argparse.Namespace) -> int:
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    options = Options(
        baseline=args.baseline,
        on=args.on,
        vouch=tuple(args.vouch),
        deployment=args.deployment,
        originals=args.facts,
        key_file=args.audit_key,
        workers=args.workers,
        scheduler=args.scheduler,
        rows=args.rows,
        fail_on=tuple(args.fail_on),
        no_head=args.no_head,
        progress=progress,
    )
    impact = run_impact(args.rules, args.inputs, args.out, options)
    s = impact.summary
    totals, figures = s["totals"], s["run"]
    print(
        f"{totals['applications']:,} applications: {totals['approve-to-refer']:,} approve → "
        f"refer, {totals['refer-to-approve']:,} refer → approve, "
        f"{totals['reasons-changed']:,} reasons changed"
    )
    for matter, counts in s["by_matter"].items():
        undecided = sum(counts.get("undecided", {}).values())
        if not (undecided or counts.get("approve-to-refer") or counts.get("refer-to-approve")):
            continue
        note = f", {undecided:,} not decided" if undecided else ""
        print(
            f"  {matter}: {counts.get('approve-to-refer', 0):,} approve → refer, "
            f"{counts.get('refer-to-approve', 0):,} refer → approve{note}"
        )
    print(
        f"{figures['seconds']} s, {figures['applications_per_second']:,.0f} applications/s on "
        f"{figures['workers']} worker(s); wrote {args.out / SUMMARY}, {args.out / FLIPS}, "
        f"{args.out / REPORT}"
    )
    if impact.failed:
        print(f"FAILED: --fail-on {' '.join(s['fail_on'])}")
        return 1
    return 0
