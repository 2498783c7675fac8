"""`secondapproval sources [--rules DIR] [--deployment FILE] [--json]` — the deployment report:
each authoritative source connected, vouched for or neither, and how each matter's facts arrive."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..loader import checked_rules
from ..sources.deployment import load_deployment
from ..sources.report import render, report_json
from ._common import add_rules_option


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "sources", help="what a deployment connects, vouches for, and leaves to no one"
    )
    add_rules_option(p)
    p.add_argument("--deployment", metavar="FILE", help="the deployment file (docs/sources.md)")
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = checked_rules([args.rules])
    deployment = load_deployment(args.deployment) if args.deployment else None
    if deployment is not None:
        deployment.fit(loaded.matters, loaded.registry)
    if args.json:
        doc = report_json(loaded.matters, loaded.registry, deployment)
        print(json.dumps(doc, ensure_ascii=False, sort_keys=True))
    else:
        print(render(loaded.matters, loaded.registry, deployment))
    return 0
