"""`secondapproval samples MATTER --n N --out FILE.parquet` — many applications of one matter at a
stated mix, from a seed (`samples.write_samples`, docs/samples.md).

A pool of distinct applications is perturbed from the matter's approved scenario cases and
classified by deciding each; the rows are drawn from it by category (`--valid`, `--missing`,
`--invalid`, `--fail RULE=RATE`; the rest split evenly across the matter's rules) and streamed to
Parquet in row groups, or to JSON Lines for a `.jsonl` name. Prints the rows written, the time,
the rate and each category's realised share; the same seed writes the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..engine import Engine
from ..errors import SamplesError, UnknownMatterError
from ..samples import (
    DEFAULT_RATES,
    INVALID,
    MISSING,
    ROW_GROUP,
    VALID,
    failable_rules,
    seeds_from_scenarios,
    stated_rates,
    write_samples,
)
from ..trust import VOUCH_ALL
from ._common import add_rules_option


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "samples", help="write N applications of a matter at a stated mix (Parquet or JSON Lines)"
    )
    p.add_argument("matter", help="matter id")
    p.add_argument("--n", type=int, default=1_000_000, help="rows to write (default 1,000,000)")
    p.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="FILE.parquet, or FILE.jsonl"
    )
    p.add_argument("--seed", type=int, default=2019, help="the seed (default 2019)")
    add_rules_option(p)
    p.add_argument(
        "--scenarios",
        type=Path,
        default=Path("scenarios"),
        metavar="DIR",
        help="scenario files whose approved cases start the pool (default ./scenarios)",
    )
    p.add_argument(
        "--pool",
        type=int,
        metavar="P",
        help="distinct applications to draw from (default min(N, 20000))",
    )
    p.add_argument(
        "--row-group",
        type=int,
        default=ROW_GROUP,
        metavar="ROWS",
        help=f"rows per Parquet row group, the most held at once (default {ROW_GROUP:,})",
    )
    for name in (VALID, MISSING, INVALID):
        p.add_argument(
            f"--{name}",
            type=float,
            default=DEFAULT_RATES[name],
            metavar="RATE",
            help=f"share of {name} applications (default {DEFAULT_RATES[name]})",
        )
    p.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="RULE=RATE",
        help="share refused by this one rule failing (repeatable; the rules not named share "
        "what is left evenly)",
    )
    p.set_defaults(func=run)


def fail_rates(items: list[str]) -> dict[str, float]:
    """`--fail RULE=RATE` options as rates by rule."""
    rates: dict[str, float] = {}
    for item in items:
        rule, sep, rate = item.partition("=")
        try:
            rates[rule.strip()] = float(rate)
        except ValueError:
            sep = ""
        if not sep or not rule.strip():
            raise SamplesError(f"--fail {item!r}: give RULE=RATE, such as my-rule=0.05")
    return rates


def run(args: argparse.Namespace) -> int:
    engine = Engine(args.rules, vouch=VOUCH_ALL)  # samples hold every fact, the offices' too
    if args.matter not in engine.matters:
        raise UnknownMatterError(args.matter, engine.matters)
    seeds = [s for s in seeds_from_scenarios([args.scenarios], engine) if s.matter == args.matter]
    if not seeds:
        raise SamplesError(f"{args.matter}: no approved case in the scenarios of {args.scenarios}")
    rates = stated_rates(
        failable_rules(engine, seeds),
        valid=args.valid,
        missing=args.missing,
        invalid=args.invalid,
        fail=fail_rates(args.fail),
    )
    report = write_samples(
        engine,
        args.matter,
        args.n,
        args.out,
        seed=args.seed,
        rates=rates,
        pool=args.pool,
        seeds=seeds,
        row_group=args.row_group,
    )
    for line in report.lines():
        print(line)
    return 0
