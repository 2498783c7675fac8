"""Guides as pages: Jinja2 templates (autoescaped) turn a `Guide` into HTML or Markdown.

HTML is one self-contained page (inline CSS, inline SVG picture and QR code, nothing loaded from
the network). Markdown refers to two SVG files written beside it: the picture and the QR code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import jinja2
from markupsafe import Markup

from .fit import density
from .flow import Flow, layout
from .model import Guide
from .qr import qr_svg
from .texts import TEXTS, Lang

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def _num(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 20, 0.5, 1200."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_MD_ANGLES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _md(value: object) -> Markup:
    """Text for a Markdown page: its markup characters escaped, and `& < >` as entities (a
    renderer passes raw HTML through; already-safe text keeps its entities); quotes stay
    quotes. Marked done, so that it is not escaped again."""
    text = str(value) if isinstance(value, Markup) else str(value).translate(_MD_ANGLES)
    return Markup(_MD_SPECIAL.sub(r"\\\1", text))  # noqa: S704


def _md_output(value: object) -> object:
    """Every other value printed on a Markdown page: `& < >` as entities, nothing else."""
    return value if isinstance(value, Markup) else str(value).translate(_MD_ANGLES)


@cache
def environment(markdown: bool = False) -> jinja2.Environment:
    """The template environment: package templates, undefined names fail; HTML and SVG
    autoescaped, Markdown escaped as Markdown (`md`, and `& < >` for every other value)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("secondapproval.guide", "templates"),
        autoescape=not markdown,  # noqa: S701 (Markdown: escaped by `md` and `finalize`)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_md_output if markdown else None,
    )
    env.filters["num"] = _num
    env.filters["md"] = _md
    return env


def flow_svg(flow: Flow, *, standalone: bool = False) -> str:
    """The decision picture as SVG (`standalone`: as a file, with an XML declaration)."""
    return environment().get_template("flow.svg.j2").render(flow=flow, standalone=standalone)


def render_html(guide: Guide) -> str:
    """One self-contained HTML page of a guide."""
    qr = Markup(qr_svg(guide.service_url)) if guide.service_url else None  # noqa: S704
    flow = layout(guide, TEXTS[guide.lang])
    svg = Markup(flow_svg(flow))  # noqa: S704
    template = environment().get_template("guide.html.j2")
    t = TEXTS[guide.lang]
    return template.render(
        g=guide, t=t, f=t.form(guide.form), qr=qr, flow_svg=svg, density=density(guide, flow)
    )


@dataclass(frozen=True, slots=True)
class MarkdownGuide:
    """A Markdown page and the SVG files it refers to, by file name (to be written beside it)."""

    text: str
    files: Mapping[str, str]


def render_markdown(guide: Guide, stem: str) -> MarkdownGuide:
    """A Markdown page of a guide; its pictures are `<stem>.flow.svg` and `<stem>.qr.svg`."""
    names = {"flow": f"{stem}.flow.svg", "qr": f"{stem}.qr.svg"}
    files = {names["flow"]: flow_svg(layout(guide, TEXTS[guide.lang]), standalone=True)}
    if guide.service_url:
        files[names["qr"]] = '<?xml version="1.0" encoding="UTF-8"?>\n' + qr_svg(guide.service_url)
    text = (
        environment(markdown=True)
        .get_template("guide.md.j2")
        .render(g=guide, t=TEXTS[guide.lang], f=TEXTS[guide.lang].form(guide.form), files=names)
    )
    return MarkdownGuide(text, files)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One matter on the index page; `file` is None when no version is in force on the date."""

    matter: str
    title: str
    version: str | None
    file: str | None
    online: bool = False
    """The page has an online address, so a QR code."""


def render_index(entries: Sequence[IndexEntry], lang: Lang, on: dt.date, fmt: str) -> str:
    """The index page of a folder of guides, as HTML or Markdown."""
    name = "index.md.j2" if fmt == "md" else "index.html.j2"
    return (
        environment(markdown=fmt == "md")
        .get_template(name)
        .render(entries=entries, t=TEXTS[lang], on=on)
    )
