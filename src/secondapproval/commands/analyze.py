"""`secondapproval analyze [PATHS] [--matter ID] [--on DATE] [--json] [--strict]` — what each
matter version can and cannot approve, with witness applications (`secondapproval.analysis`);
`analyze --diff OLD NEW` — what a new version approves that the old one refers, and the converse
(OLD and NEW: two rule folders, or two versions `MATTER@VERSION` of one matter under PATHS)."""

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
    p.add_argument(
        "--diff",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="compare two rule folders, or two versions MATTER@VERSION under PATHS",
    )
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


def diff_paths(
    old: str, new: str, paths: list[Path], matter: str | None = None, on: dt.date | None = None
) -> list[Any]:
    """The comparisons `analyze --diff OLD NEW` asks for: of two folders, each version of each
    matter in both (of `matter` only, if given) with the old folder's version in force when it
    begins (or the last one before); of two `MATTER@VERSION`s, those two versions."""
    from ..analysis.versions import compare
    from ..engine import Engine

    if Path(old).is_dir() and Path(new).is_dir():
        before, after = Engine(Path(old), vouch="all"), Engine(Path(new), vouch="all")
        pairs = [
            (o, n)
            for m in after.matters
            if m in before.matters and matter in (None, m)
            for n in after.versions(m)
            if (o := _predecessor(before.versions(m), n)) is not None
        ]
        in_force = [(o, n) for o, n in pairs if on is None or n.spec.effective.covers(on)]
        return [compare(o, before, n, after, on) for o, n in in_force]
    engine = _engine_over(paths)
    return [compare(_version(engine, old), engine, _version(engine, new), engine, on)]


def _predecessor(versions: tuple[Any, ...], new: Any) -> Any:
    """The version in force on the day `new` begins, or else the last one to begin before it."""
    begins = new.spec.effective.from_
    in_force = [v for v in versions if v.spec.effective.covers(begins)]
    earlier = [v for v in versions if v.spec.effective.from_ < begins]
    if in_force:
        return in_force[0]
    return max(earlier, key=lambda v: v.spec.effective.from_, default=None)


def _engine_over(paths: list[Path]) -> Any:
    from ..engine import Engine

    if len(paths) != 1:
        raise ValueError(f"--diff MATTER@VERSION reads one rule folder, not {len(paths)}")
    return Engine(paths[0], vouch="all")


def _version(engine: Any, named: str) -> Any:
    """The version `MATTER@VERSION` names."""
    matter, at, version = named.rpartition("@")
    if not at:
        raise ValueError(f"{named}: a folder, or a version as MATTER@VERSION")
    for v in engine.versions(matter):
        if v.version == version:
            return v
    known = ", ".join(v.version for v in engine.versions(matter))
    raise ValueError(f"{matter} has no version {version!r} (it has {known})")


def print_diffs(diffs: list[Any]) -> None:
    for d in diffs:
        changed = ", ".join(d.rules_changed) or "none"
        print(f"{d.matter} {d.old} → {d.new}: rules added, removed or reworded: {changed}")
        for c in d.changes:
            line = f"  {c.direction}: {c.claim.answer}"
            if c.claim.witness is not None:
                w = c.claim.witness
                facts = json.dumps(w.facts, ensure_ascii=False, sort_keys=True)
                differ = "; ".join(f"{r}: {s}" for r, s in c.rules.items())
                line += f": {facts} on {w.on.isoformat()} ({differ})"
            elif c.claim.why:
                line += f" ({c.claim.why})"
            print(line)


def widens(diffs: list[Any]) -> bool:
    """Whether a new version approves an application its predecessor refers."""
    changes = [c for d in diffs for c in d.changes]
    return any(c.direction == "widens" and c.claim.answer == "yes" for c in changes)


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
    if args.diff is not None:
        return run_diff(args)
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


def run_diff(args: argparse.Namespace) -> int:
    """Print the comparisons; with `--strict`, a version that widens approval fails the run (a
    reviewer must accept it: run without `--strict`)."""
    try:
        old, new = args.diff
        diffs = diff_paths(old, new, args.paths, args.matter, args.on)
    except ImportError:  # z3 is the [analyze] extra
        print("error: analyze needs z3: pip install 'secondapproval[analyze]'", file=sys.stderr)
        return 2
    except (RuleSetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([d.to_dict() for d in diffs], ensure_ascii=False, indent=2))
    else:
        print_diffs(diffs)
    return 1 if args.strict and widens(diffs) else 0
