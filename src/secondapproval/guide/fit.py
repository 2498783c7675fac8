"""How tightly to set a guide page so that it stays on one A4 page.

The page is laid out by the browser, so this is an estimate: the height of each part of the page
at the normal size (text wrapped by estimated glyph widths, the picture by its exact layout),
compared with the A4 height; the settings scale the text up or down. `make test-browser` measures
the real pages and fails any that do not fit, so an estimate that is off shows up there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .flow import Flow, text_width
from .model import Guide
from .texts import TEXTS

PX_PER_PT = 96 / 72
PAGE_HEIGHT = 297 / 25.4 * 96
CONTENT_WIDTH = 186 / 25.4 * 96
FIXED = 370.0
"""Header, figure tiles, headings, footer and page margins, in px at the normal setting."""
QR_EXTRA = 60.0
"""A QR code makes the header this much taller than the text beside it."""
BODY = 9 * PX_PER_PT
LINE = BODY * 1.35
SETTINGS = (("roomy", 1.12), ("normal", 1.0), ("compact", 0.93), ("dense", 0.86))
"""Each setting and how much it shrinks the text (the CSS of the page sets the same sizes)."""
MARGIN = 0.94
"""Aim below the A4 height by this factor: the estimate is not exact."""


def _lines(texts: Iterable[str], width: float, indent: float = 22.0) -> int:
    return sum(max(1, math.ceil(text_width(t, BODY) / (width - indent))) for t in texts)


def estimated_height(guide: Guide, flow: Flow) -> float:
    """The estimated page height in px at the normal setting."""
    title = math.ceil(text_width(guide.title, 17 * PX_PER_PT) / (CONTENT_WIDTH - 150))
    many = len(guide.conditions) > 8
    width = (CONTENT_WIDTH - 30) / 2 if many else CONTENT_WIDTH
    partial = TEXTS[guide.lang].partial
    says = [
        c.says + (f" ({c.legal})" if c.legal else "") + (f" ({partial})" if c.partial else "")
        for c in guide.conditions
    ]
    conditions = _lines(says, width)
    conditions = math.ceil(conditions / 2) + 1 if many else conditions
    brings = _lines((m.label for m in guide.brings), CONTENT_WIDTH / 2.25)
    lookups = _lines(
        (
            lk.office + ": " + "; ".join(lk.items)
            for lk in (*guide.looked_up, *guide.platform_supplies, *guide.reviewer_checks)
        ),
        CONTENT_WIDTH * 1.25 / 2.25,
    )
    legal = _lines(((lr.ref + (lr.title or "") + (lr.url or "")) for lr in guide.legal), width)
    outputs = _lines((o.label + " " + o.derive for o in guide.outputs), CONTENT_WIDTH)
    headings = 2.5 if guide.outputs else 0.0
    text_lines = (
        title * 1.6 + conditions + max(brings, lookups) + max(legal, 1) * 0.9 + outputs + headings
    )
    fixed = FIXED + (QR_EXTRA if guide.service_url else 0.0)
    return fixed + text_lines * LINE + flow.height * CONTENT_WIDTH / flow.width


def density(guide: Guide, flow: Flow) -> str:
    """The loosest setting whose estimated height fits on A4 (the densest if none does)."""
    height = estimated_height(guide, flow)
    for name, scale in SETTINGS:
        if height * scale <= PAGE_HEIGHT * MARGIN:
            return name
    return SETTINGS[-1][0]
