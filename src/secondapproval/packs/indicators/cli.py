"""`secondapproval score SYSTEM [VALUES]` — score a values file (or a published row, or a bare
score) under an indicator system, print the result and optionally write an HTML report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ...errors import Problem, RuleSetError
from .dataset import Data, load_data
from .inputs import load_values
from .rank import rank_table
from .report import build_report, render_html, render_text
from .scoring import Scorecard, Scorer
from .system import load_system, resolve


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "score",
        help="score component values under an indicator system; rank equivalence; weak points",
        description=__doc__,
    )
    p.add_argument("system", help="system file, or a system id under --rules (e.g. db17-20)")
    p.add_argument("values", nargs="?", type=Path, help="values file (JSON or CSV)")
    p.add_argument("--row", metavar="YEAR:CODE", help="score a row of the system's dataset instead")
    p.add_argument("--score", type=float, help="rank equivalence of a bare overall score")
    p.add_argument("--edition", default="DB2020", help="rank table (default DB2020; e.g. DB2019)")
    p.add_argument(
        "--table",
        choices=["published", "computed"],
        default="published",
        help="rank against published scores (default) or the pack's own",
    )
    p.add_argument("--html", type=Path, metavar="OUT", help="also write an HTML report")
    p.add_argument("--trace", action="store_true", help="print every component's value and score")
    p.add_argument("--rules", type=Path, default=Path("rules"), metavar="DIR", help="rules folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    system = load_system(resolve(args.system, args.rules))
    given = [x for x in (args.values, args.row, args.score) if x is not None]
    if len(given) != 1:
        raise RuleSetError([Problem("give exactly one of VALUES, --row YEAR:CODE or --score X")])
    data: Data | None = load_data(system) if system.dataset is not None else None
    if args.score is not None:
        if data is None:
            raise RuleSetError(
                [Problem(f"system {system.id!r} has no dataset to rank in", system.path)]
            )
        table = rank_table(system, data, args.edition, system.rank_node, args.table)
        place = table.place(args.score)
        print(
            f"{args.score} ranks {place.rank} of {place.of} in {args.edition} ({args.table} scores)"
        )
        for e in place.above:
            print(f"  above: {e.name} {e.score:.3f}")
        for e in place.below:
            print(f"  below: {e.name} {e.score:.3f}")
        return 0
    scorer = Scorer(system)
    exclude = None
    if args.row is not None:
        if data is None:
            raise RuleSetError([Problem(f"system {system.id!r} has no dataset", system.path)])
        year, _, code = args.row.partition(":")
        if not year.isdigit() or not code:
            raise RuleSetError([Problem(f"--row takes YEAR:CODE, not {args.row!r}")])
        card = scorer.score_row(data, int(year), code)
        exclude = code
    else:
        card = _score_file(scorer, args.values)
    report = build_report(card, data, args.edition if data else None, args.table, exclude)
    sys.stdout.write(render_text(report, trace=args.trace))
    if args.html is not None:
        try:
            args.html.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise RuleSetError([Problem(f"cannot write report: {exc}", str(args.html))]) from None
        print(f"wrote {args.html}")
    return 0


def _score_file(scorer: Scorer, path: Path) -> Scorecard:
    """The scorecard of a values file: of its one set of values, or of its cities combined."""
    values = load_values(scorer.system, path)
    if values.cities:
        return scorer.score_cities(values.cities, values.name)
    return scorer.score_values(values.values, values.name)
