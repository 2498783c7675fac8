"""`secondapproval decide MATTER FACTS.json` — one decision, readable or as stable JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..decision import Decision, jsonable
from ..engine import Engine
from ..messages import as_json
from ._audit_options import add_audit_options, audited_engine_options
from ._common import (
    add_backend_option,
    add_rules_option,
    add_trust_options,
    iso_date,
    read_json,
    trust_options,
)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("decide", help="decide one application (FACTS.json, or - for stdin)")
    p.add_argument("matter", help="matter id")
    p.add_argument("facts", help="application facts as JSON (nested along dotted paths)")
    add_rules_option(p)
    add_backend_option(p)
    p.add_argument("--on", type=iso_date, help="decision date YYYY-MM-DD (default today)")
    p.add_argument("--json", action="store_true", help="print the Decision as one JSON object")
    add_trust_options(p)
    add_audit_options(p, fsync="always")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    facts = read_json(args.facts)
    options = {**trust_options(args), **audited_engine_options(args)}
    with Engine(args.rules, backend=args.backend, **options) as engine:
        decision = engine.decide(args.matter, facts, on=args.on, gather=args.deployment is not None)
    if args.json:
        print(json.dumps(decision.to_dict(), ensure_ascii=False, sort_keys=True))
    else:
        print(render(decision))
    return 0


def render(d: Decision) -> str:
    """A decision for a terminal: outcome first, then reasons, then each rule."""
    mark = "APPROVE" if d.approved else "REFER"
    lines = [f"{mark}  {d.matter} version {d.version} on {d.on}  (decision {d.decision_id})"]
    if d.digest:
        lines.append(f"  rule set sha256:{d.digest[:16]}…  backend {d.backend}")
    if d.reasons:
        lines.append("reasons:")
        for r in d.reasons:
            where = f" [rule {r.rule}]" if r.rule else ""
            lines.append(f"  {r.code}{where}: {r.en} / {r.zh}")
    sourced = {p: v for p, v in d.provenance.items() if v.via != "applicant"}
    if sourced:
        lines.append("facts from sources:")
        for path, v in sorted(sourced.items()):
            how = "vouched for by the caller" if v.via == "vouched" else "looked up"
            ref = f", ref {v.reference}" if v.reference else ""
            cached = ", cached" if v.cached else ""
            lines.append(f"  {path:<36} {v.source}: {how}{ref}{cached}")
    if d.results:
        lines.append("rules:")
        for res in d.results:
            read = ", ".join(f"{k}={as_json(jsonable(v))}" for k, v in res.facts_read.items())
            lines.append(f"  {res.status:<8} {res.rule:<28} {read}")
    return "\n".join(lines)
