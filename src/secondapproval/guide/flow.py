"""The decision as a picture: where every box and line of text goes (the SVG template draws it).

application → automatic checks → approved at once / handed to a reviewer, and below it the
referral reasons the applicant can avoid. SVG has no line wrapping, so text is wrapped here with
an estimate of glyph widths (full-width characters 1 em, others about 0.56 em).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .model import Guide
from .texts import Texts

WIDTH = 700.0
SIZE = 12.0
TITLE_SIZE = 13.0
LINE = 1.35
PAD = 8.0
GAP = 34.0
_NO_LINE_START = set("，。、；：！？）》」』】,.;:!?)")
_TOKEN = re.compile(r"\s+|[^\s\u2e80-\uffef]+|.", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of SVG text at a baseline position."""

    x: float
    y: float
    text: str
    size: float
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Box:
    """A rounded box of the flow; `kind` picks its colours (step, ok, refer, note)."""

    x: float
    y: float
    w: float
    h: float
    kind: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Flow:
    """The laid-out picture: its size, boxes, connecting polylines and free text."""

    width: float
    height: float
    title: str
    boxes: tuple[Box, ...]
    arrows: tuple[tuple[tuple[float, float], ...], ...]

    @property
    def heads(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        """An arrowhead (a triangle pointing right) at the end of each arrow."""
        return tuple(
            ((x - 7, y - 4), (x, y), (x - 7, y + 4))
            for x, y in (arrow[-1] for arrow in self.arrows)
        )


def text_width(text: str, size: float) -> float:
    """Estimated rendered width of `text` at font size `size`."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.56 * size for c in text)


def wrap(text: str, width: float, size: float) -> tuple[str, ...]:
    """Greedy line breaking: at spaces between words, anywhere between full-width characters."""
    lines: list[str] = []
    current = ""
    for piece in _TOKEN.findall(" ".join(text.split())):
        if piece == " ":
            if current:
                current += " "
            continue
        candidate = current + piece
        if (
            text_width(candidate.rstrip(), size) <= width
            or not current.strip()
            or (piece[0] in _NO_LINE_START)
        ):
            current = candidate
            while text_width(current, size) > width and len(current) > 1:
                cut = _hard_cut(current, width, size)
                lines.append(current[:cut])
                current = current[cut:]
            continue
        lines.append(current.rstrip())
        current = piece
    if current.strip():
        lines.append(current.rstrip())
    return tuple(lines) or ("",)


def _hard_cut(text: str, width: float, size: float) -> int:
    """The longest prefix (at least one character) that fits in `width`."""
    return next((i for i in range(len(text), 1, -1) if text_width(text[:i], size) <= width), 1)


def _box(x: float, y: float, w: float, kind: str, title: str, body: str) -> Box:
    inner = w - 2 * PAD
    lines: list[Line] = []
    cy = y + PAD
    for part in wrap(title, inner, TITLE_SIZE):
        cy += TITLE_SIZE * LINE
        lines.append(Line(x + PAD, cy - 0.3 * TITLE_SIZE, part, TITLE_SIZE, bold=True))
    for part in wrap(body, inner, SIZE):
        cy += SIZE * LINE
        lines.append(Line(x + PAD, cy - 0.3 * SIZE, part, SIZE))
    return Box(x, y, w, cy - y + PAD, kind, tuple(lines))


def _moved(box: Box, dy: float) -> Box:
    lines = tuple(Line(ln.x, ln.y + dy, ln.text, ln.size, ln.bold) for ln in box.lines)
    return Box(box.x, box.y + dy, box.w, box.h, box.kind, lines)


def _reasons(guide: Guide, t: Texts, y: float) -> Box:
    items = [t.flow_fixable_missing] if guide.brings else []
    items += [c.refer for c in guide.fixable]
    lines: list[Line] = []
    cy = y + PAD + TITLE_SIZE * LINE
    lines.append(Line(PAD, cy - 0.3 * TITLE_SIZE, t.flow_fixable, TITLE_SIZE, bold=True))
    if not items:
        for part in wrap(t.flow_fixable_none, WIDTH - 2 * PAD, SIZE):
            cy += SIZE * LINE
            lines.append(Line(PAD, cy - 0.3 * SIZE, part, SIZE))
        return Box(0, y, WIDTH, cy - y + PAD, "note", tuple(lines))
    column = (WIDTH - 3 * PAD) / 2
    half = (len(items) + 1) // 2
    bottom = cy
    for col, chunk in enumerate((items[:half], items[half:])):
        x = PAD + col * (column + PAD)
        cy_col = cy
        for item in chunk:
            for k, part in enumerate(wrap(item, column - 14, SIZE)):
                cy_col += SIZE * LINE
                lines.append(Line(x + 14, cy_col - 0.3 * SIZE, part, SIZE))
                if k == 0:
                    lines.append(Line(x, cy_col - 0.3 * SIZE, "•", SIZE, bold=True))
        bottom = max(bottom, cy_col)
    return Box(0, y, WIDTH, bottom - y + PAD, "note", tuple(lines))


def layout(guide: Guide, t: Texts) -> Flow:
    """Place the boxes of the decision picture of a guide."""
    offices = len(guide.looked_up)
    f = t.form(guide.form)
    w_apply, w_check = 160.0, 200.0
    x_check = w_apply + GAP
    x_out = x_check + w_check + GAP + 12
    w_out = WIDTH - x_out
    ok = _box(x_out, 0, w_out, "ok", f.flow_ok, f.flow_ok_body)
    refer = _box(x_out, ok.h + 12, w_out, "refer", t.flow_refer, t.flow_refer_body)
    apply = _box(0, 0, w_apply, "step", f.flow_apply, f.flow_apply_body.format(n=len(guide.brings)))
    check = _box(
        x_check,
        0,
        w_check,
        "step",
        t.flow_check,
        t.flow_check_body.format(rules=len(guide.conditions), offices=offices),
    )
    right = max(refer.y + refer.h, apply.h, check.h)
    apply, check = (_moved(b, (right - b.h) / 2) for b in (apply, check))
    reasons = _reasons(guide, t, right + 16)
    mid = right / 2
    fork = x_check + w_check + GAP / 2 + 6
    arrows = (
        ((w_apply, mid), (x_check - 2, mid)),
        ((x_check + w_check, mid), (fork, mid), (fork, ok.h / 2), (x_out - 2, ok.h / 2)),
        ((fork, mid), (fork, refer.y + refer.h / 2), (x_out - 2, refer.y + refer.h / 2)),
    )
    return Flow(
        WIDTH, reasons.y + reasons.h + 1, t.flow_title, (apply, check, ok, refer, reasons), arrows
    )
