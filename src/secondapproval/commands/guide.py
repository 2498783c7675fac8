"""`secondapproval guide MATTER` / `guide --all --out DIR` — one-page guides (一图看懂) of matters.

HTML by default (one self-contained page); `--format md` (or an `--out` ending in `.md`) writes
Markdown with its two SVG pictures beside it, so it needs `--out`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from ..engine import Engine
from ..guide import (
    LANGS,
    Guide,
    GuideError,
    IndexEntry,
    Lang,
    build_guide,
    render_html,
    render_index,
    render_markdown,
)
from ..loader import find_registry
from ..registry import Registry
from ..ruleset import Matter
from ..sources.deployment import Deployment, load_deployment
from ..sources.report import Route, routes
from ._common import add_rules_option, iso_date


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("guide", help="write the one-page guide (一图看懂) of a matter")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("matter", nargs="?", help="matter id")
    which.add_argument(
        "--all",
        action="store_true",
        help="every matter: one page each and an index page, into --out DIR",
    )
    add_rules_option(p)
    p.add_argument("--lang", choices=LANGS, default="zh", help="language (default zh)")
    p.add_argument(
        "--on", type=iso_date, help="show the version in force on YYYY-MM-DD (default today)"
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="file to write (a folder with --all); default stdout for one HTML page",
    )
    p.add_argument(
        "--format",
        choices=["html", "md"],
        help="html or md (default: md if --out ends in .md, else html)",
    )
    p.add_argument(
        "--deployment",
        type=Path,
        metavar="FILE",
        help='say "looked up by the office" only for the sources this deployment connects '
        "(docs/sources.md); default: every authoritative source, as the registry says",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    on: dt.date = args.on or dt.date.today()
    registry = find_registry([args.rules])
    engine = Engine(args.rules, sources=registry)
    deployment = None if args.deployment is None else load_deployment(args.deployment)
    if deployment is not None:  # checked against the rules; a guide opens no adapter
        deployment.fit(engine.snapshot.all_versions(), registry)
    out: Path | None = args.out
    fmt: str = args.format or ("md" if out is not None and out.suffix == ".md" else "html")
    if args.all:
        if out is None:
            raise GuideError("guide --all needs --out DIR")
        for path in write_all(engine, registry, args.lang, on, out, fmt, deployment):
            print(path)
        return 0
    matter = engine.version_on(args.matter, on)
    if matter is None:
        raise GuideError(f"no version of {args.matter!r} is in force on {on.isoformat()}")
    guide = build_guide(matter, registry, args.lang, on, _routes(matter, registry, deployment))
    if fmt == "html" and out is None:
        sys.stdout.write(render_html(guide))
        return 0
    if out is None:
        raise GuideError("a Markdown guide needs --out FILE (its SVG pictures go beside it)")
    for path in write_page(guide, out, fmt):
        print(path)
    return 0


def write_page(guide: Guide, out: Path, fmt: str) -> list[Path]:
    """Write one guide page (and, for Markdown, its pictures); return the paths written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        out.write_text(render_html(guide), encoding="utf-8")
        return [out]
    page = render_markdown(guide, out.stem)
    out.write_text(page.text, encoding="utf-8")
    written = [out]
    for name, svg in page.files.items():
        (out.parent / name).write_text(svg, encoding="utf-8")
        written.append(out.parent / name)
    return written


def _routes(
    matter: Matter, registry: Registry, deployment: Deployment | None
) -> dict[str, Route] | None:
    return None if deployment is None else routes(matter, registry, deployment)


def write_all(
    engine: Engine,
    registry: Registry,
    lang: Lang,
    on: dt.date,
    folder: Path,
    fmt: str,
    deployment: Deployment | None = None,
) -> list[Path]:
    """One page per matter in force on `on`, and an index page listing every matter."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: list[IndexEntry] = []
    written: list[Path] = []
    for matter_id in engine.matters:
        matter = engine.version_on(matter_id, on)
        if matter is None:
            latest = engine.versions(matter_id)[-1]
            title = latest.spec.title.zh if lang == "zh" else latest.spec.title.en
            entries.append(IndexEntry(matter_id, title, None, None))
            continue
        guide = build_guide(matter, registry, lang, on, _routes(matter, registry, deployment))
        name = f"{matter_id}.{fmt}"
        written += write_page(guide, folder / name, fmt)
        entries.append(
            IndexEntry(matter_id, guide.title, guide.version, name, guide.service_url is not None)
        )
    index = folder / f"index.{fmt}"
    index.write_text(render_index(entries, lang, on, fmt), encoding="utf-8")
    return [*written, index]
