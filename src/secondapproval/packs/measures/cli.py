"""`secondapproval measures status PLAN EVENTS --on DATE [--html OUT] [--rules DIR --audit LOG]`.

Exit status 1 when some events were refused (they are listed on stderr), else 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ...commands._common import iso_date
from ...errors import Problem
from ...loader import find_registry, load_matters
from .events import Event, EventError, iter_events, read_events
from .plan import Plan, load_plan
from .reductions import Reduction, feed, read_audit, reductions
from .report import html, reductions_text, terminal
from .status import MeasureStatus, StatusChange, statuses
from .trail import AuditTrail


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("measures", help="measure tracking: statuses of a plan's measures")
    sub = p.add_subparsers(dest="measures_command", metavar="COMMAND", required=True)
    s = sub.add_parser("status", help="each measure's status as of a date, with its reasons")
    s.add_argument("plan", type=Path, help="a plan file (rules/measures/…)")
    s.add_argument("events", type=Path, help="a JSON Lines events file")
    s.add_argument(
        "--on",
        type=iso_date,
        metavar="DATE",
        help="the as-of date (default: the date of the last good event, never the wall clock)",
    )
    s.add_argument("--html", type=Path, metavar="OUT", help="also write an HTML report")
    s.add_argument(
        "--rules",
        type=Path,
        metavar="DIR",
        help="measure the four reductions of the matters in DIR for measured targets",
    )
    s.add_argument(
        "--audit",
        type=Path,
        metavar="LOG",
        help="an audit log (JSON Lines) for decision time, trips and the automatic share",
    )
    s.add_argument(
        "--record",
        type=Path,
        metavar="LOG",
        help="write each measure's status decision to this audit log (JSON Lines or SQLite)",
    )
    s.set_defaults(func=run_status)


def run_status(args: argparse.Namespace) -> int:
    plan = load_plan(args.plan)
    problems: list[Problem] = []
    events: Sequence[Event] | Iterator[Event]
    if args.html or args.on is None:
        log = read_events(plan, args.events)
        events, problems = log.events, list(log.problems)
        if args.on is None:
            if not events:
                raise EventError(
                    [Problem("no good event to date the status by: give --on", str(args.events))]
                )
            args.on = events[-1].date
    else:
        events = iter_events(plan, args.events, problems)
    measured_rows: tuple[Reduction, ...] = ()
    measured = None
    if args.rules is not None:
        audit = read_audit(args.audit) if args.audit else None
        matters = load_matters([args.rules])
        measured_rows = reductions(matters, find_registry([args.rules]), args.on, audit)
        measured = feed(plan, measured_rows)
    result = statuses(plan, events, args.on, measured=measured)
    print(terminal(plan, result))
    if measured_rows:
        print(reductions_text(measured_rows))
    for problem in problems:
        print(f"refused event: {problem}", file=sys.stderr)
    if args.html:
        page = html(
            plan, result, list(events), args.on, problems=problems, reductions=measured_rows
        )
        args.html.write_text(page, encoding="utf-8")
    if args.record:
        _record(args.record, plan, result.values())
    return 1 if problems else 0


def _record(path: Path, plan: Plan, result: Iterable[MeasureStatus]) -> None:
    from ...audit import open_log
    from ...audit.settings import log_secret

    key = log_secret(path, None, create=True, note=lambda line: print(line, file=sys.stderr))
    trail = AuditTrail(open_log(path, key=key), plan.table)
    try:
        for st in result:
            trail(StatusChange(None, st))
    finally:
        trail.close()
