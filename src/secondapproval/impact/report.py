"""The outputs of an impact run, in `--out DIR`:

- `flips.parquet`: one row per flipped application (`decide.FLIP_FIELDS`), in input order,
  personal data masked as in the audit trail; written partition by partition as results arrive
  (held back only until the partitions before them are in), one row group per partition;
- `summary.json`: the counts (`compare.Tally.summary`) with the rule sets, inputs and options,
  whether the `--fail-on` gate failed, and, under `run`, what varies between runs (workers,
  seconds, throughput, peak memory per worker): everything outside `run` is the same for the same
  input and options, however many workers decided it;
- `report.html`: the totals, flips by matter, a chart of flips by rule and one by date, and the
  reasons; a page with no script, its charts inline SVG.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .compare import DIRECTIONS
from .decide import PartResult

FORMAT = "secondapproval-impact"
SUMMARY, FLIPS, REPORT = "summary.json", "flips.parquet", "report.html"
_COLOURS = {"approve-to-refer": "#c0392b", "refer-to-approve": "#2471a3"}


def flip_schema() -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    text, texts = pa.string(), pa.list_(pa.string())
    return pa.schema(
        [
            ("input", text),
            ("row", pa.int64()),
            ("id", text),
            ("matter", text),
            ("on", pa.date32()),
            ("change", text),
            ("old_outcome", text),
            ("new_outcome", text),
            ("old_reasons", texts),
            ("new_reasons", texts),
            ("rules", texts),
            ("facts", text),
        ]
    )


class FlipWriter:
    """Writes the flipped cases of partitions in partition order, whatever order they come in."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        self.schema = flip_schema()
        self._writer = pq.ParquetWriter(path, self.schema)
        self._next = 0
        self._held: dict[int, list[dict[str, Any]]] = {}
        self.rows = 0

    def add(self, result: PartResult) -> None:
        self._held[result.index] = result.flips
        while self._next in self._held:
            self._write(self._held.pop(self._next))
            self._next += 1

    def _write(self, flips: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        if flips:
            self._writer.write_table(pa.Table.from_pylist(flips, schema=self.schema))
            self.rows += len(flips)

    def close(self) -> None:
        for index in sorted(self._held):  # none, unless partitions were skipped
            self._write(self._held.pop(index))
        self._writer.close()


@dataclasses.dataclass(frozen=True, slots=True)
class Gate:
    """`--fail-on DIRECTION…`: the run fails when any application flips that way."""

    directions: tuple[str, ...]

    def failed(self, totals: Mapping[str, int]) -> bool:
        return any(totals.get(d, 0) for d in self.directions)


def write_summary(out: Path, summary: Mapping[str, Any]) -> None:
    (out / SUMMARY).write_bytes(
        orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )


def write_report(out: Path, summary: Mapping[str, Any]) -> None:
    (out / REPORT).write_text(render(summary), encoding="utf-8")


def render(summary: Mapping[str, Any]) -> str:
    """The HTML page of a summary."""
    totals = summary["totals"]
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(m)}</td>"
        + "".join(f"<td>{c.get(k, 0):,}</td>" for k in _COLUMNS)
        + f"<td>{sum(c.get('undecided', {}).values()):,}</td></tr>"
        for m, c in summary["by_matter"].items()
    )
    head = "".join(f"<th>{k}</th>" for k in (*_COLUMNS, "undecided"))
    by_rule = {f"{m}/{r}": d for m, rules in summary["by_rule"].items() for r, d in rules.items()}
    reasons = "".join(
        f"<tr><td>{e(m)}</td><td><code>{e(code)}</code></td>"
        + "".join(f"<td>{d.get(k, 0):,}</td>" for k in DIRECTIONS)
        + "</tr>"
        for m, codes in summary["by_reason"].items()
        for code, d in codes.items()
    )
    gate = summary.get("fail_on") or []
    verdict = (
        f"<p class=fail>FAILED: --fail-on {' '.join(map(e, gate))}</p>"
        if summary.get("failed")
        else (f"<p>passed: --fail-on {' '.join(map(e, gate))}</p>" if gate else "")
    )
    return _PAGE.format(
        new=e(str(summary["new"]["rules"])),
        baseline=e(_baseline(summary)),
        on=e(str(summary["on"])),
        applications=totals.get("applications", 0),
        a2r=totals.get("approve-to-refer", 0),
        r2a=totals.get("refer-to-approve", 0),
        verdict=verdict,
        head=head,
        rows=rows,
        rule_chart=bars(by_rule, "flips by rule"),
        date_chart=columns(summary["by_date"], "flips by date"),
        reasons=reasons,
        legend="".join(f'<span style="color:{c}">■</span> {k} ' for k, c in _COLOURS.items()),
    )


_COLUMNS = ("applications", "same", "reasons-changed", *DIRECTIONS)


def _baseline(summary: Mapping[str, Any]) -> str:
    base = summary["baseline"]
    return "the outcomes recorded in the audit logs" if base == "recorded" else str(base["rules"])


def bars(counts: Mapping[str, Mapping[str, int]], title: str) -> str:
    """A horizontal bar chart (SVG) of counts by label and direction, stacked."""
    if not counts:
        return "<p>no flips</p>"
    label_w, bar_w, row_h = 320, 480, 22
    top = max(sum(d.get(k, 0) for k in DIRECTIONS) for d in counts.values()) or 1
    parts = []
    for i, (label, d) in enumerate(sorted(counts.items())):
        y, x = i * row_h, float(label_w)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>'
        )
        for k in DIRECTIONS:
            w = bar_w * d.get(k, 0) / top
            if w:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                    f'fill="{_COLOURS[k]}"><title>{html.escape(label)}: {d.get(k, 0):,} {k}'
                    "</title></rect>"
                )
                x += w
        total = sum(d.get(k, 0) for k in DIRECTIONS)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{total:,}</text>')
    height = len(counts) * row_h
    return _svg(title, label_w + bar_w + 80, height, "".join(parts))


def columns(counts: Mapping[str, Mapping[str, int]], title: str) -> str:
    """A column chart (SVG) of counts by date and direction, stacked, dates in order."""
    if not counts:
        return "<p>no flips</p>"
    plot_h, width = 200, 800
    dates = sorted(counts)
    step = width / len(dates)
    top = max(sum(counts[d].get(k, 0) for k in DIRECTIONS) for d in dates) or 1
    parts = []
    for i, day in enumerate(dates):
        y = float(plot_h)
        for k in DIRECTIONS:
            h = plot_h * counts[day].get(k, 0) / top
            if h:
                y -= h
                parts.append(
                    f'<rect x="{i * step:.1f}" y="{y:.1f}" width="{max(step - 1, 1):.1f}" '
                    f'height="{h:.1f}" fill="{_COLOURS[k]}"><title>{day}: '
                    f"{counts[day].get(k, 0):,} {k}</title></rect>"
                )
    parts.append(f'<text x="0" y="{plot_h + 16}">{dates[0]}</text>')
    parts.append(f'<text x="{width}" y="{plot_h + 16}" text-anchor="end">{dates[-1]}</text>')
    return _svg(title, width, plot_h + 20, "".join(parts))


def _svg(title: str, width: float, height: float, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(title)}" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="sans-serif" font-size="12">{body}</svg>'
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Impact of {new}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}td:first-child{{text-align:left}}
.fail{{color:#c0392b;font-weight:bold}}</style></head><body>
<h1>Impact of the candidate rules {new}</h1>
<p>Compared with {baseline}; decided {on}.</p>
<p><strong>{applications:,}</strong> applications: <strong>{a2r:,}</strong> approved before and
referred now, <strong>{r2a:,}</strong> referred before and approved now.</p>
{verdict}
<h2>By matter</h2><table><tr><th>matter</th>{head}</tr>{rows}</table>
<h2>Flips by rule</h2><p>{legend}</p>{rule_chart}
<h2>Flips by date</h2>{date_chart}
<h2>Reasons of the flips</h2>
<p>approve → refer: the reasons it is referred now; refer → approve: the reasons it was
referred before.</p>
<table><tr><th>matter</th><th>reason</th><th>approve-to-refer</th><th>refer-to-approve</th></tr>
{reasons}</table>
</body></html>
"""
