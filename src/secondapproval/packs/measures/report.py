"""The dashboard: a terminal table by domain and unit, and an HTML report with a chart per measure.

Overdue and at-risk measures come first, each with the row of the status table that applied and
the facts it read. The HTML is rendered from Jinja2 templates shipped with the package; the
progress-against-time chart is inline SVG drawn by the template from points computed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import jinja2

from .events import Event
from .plan import UNKNOWN, Plan, known
from .reductions import Reduction
from .state import fold
from .status import RANK, MeasureStatus

CHART_W, CHART_H, SAMPLES = 240, 60, 12
_ORDER = {"overdue": 0, "at_risk": 1}


def severity(st: MeasureStatus) -> tuple[int, str]:
    """Sort key: overdue, then at risk, then the rest worse to better; by id within a status."""
    return (_ORDER.get(st.status, 2 + RANK.get(st.status, -1)), st.measure)


def _least(st: MeasureStatus) -> str:
    least = st.state.least()
    return "unknown" if least is None else f"{least:.0%}"


def _figure(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value:.4g}"


def reductions_text(items: Iterable[Reduction]) -> str:
    """One line per matter: each metric's baseline → measured after-state."""
    return "\n".join(
        f"{r.matter}@{r.version} ({r.decisions} decisions): "
        + ", ".join(f"{k} {_figure(r.baseline.get(k))}→{_figure(v)}" for k, v in r.after.items())
        for r in items
    )


def terminal(plan: Plan, result: Mapping[str, MeasureStatus]) -> str:
    """A plain-text table grouped by domain and responsible unit, worst first in each group."""
    groups: dict[tuple[str, str], list[MeasureStatus]] = {}
    for st in result.values():
        m = st.state.measure
        groups.setdefault((m.domain, m.unit), []).append(st)
    lines = []
    for (domain, unit), items in sorted(groups.items()):
        lines.append(f"{domain} / {unit}")
        for st in sorted(items, key=severity):
            deadline = st.state.deadline.isoformat() if st.state.deadline else UNKNOWN
            lines.append(
                f"  {st.measure:<28} {st.status:<12} {deadline:<10} {_least(st):>8}  {st.why()}"
            )
    counts: dict[str, int] = {}
    for st in result.values():
        counts[st.status] = counts.get(st.status, 0) + 1
    summary = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: RANK.get(kv[0], -1))
    )
    lines.append(f"{plan.id}: {summary}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Chart:
    """Coordinates of one measure's chart: actual progress, the straight-line plan, today."""

    points: str
    expected: tuple[float, float, float, float] | None
    today: float | None


def _x(day: dt.date, first: dt.date, last: dt.date) -> float:
    span = max((last - first).days, 1)
    return round(CHART_W * min(max((day - first).days / span, 0.0), 1.0), 1)


def _y(fraction: Decimal) -> float:
    return round(CHART_H * (1 - float(fraction)), 1)


def charts(plan: Plan, events: Sequence[Event], on: dt.date) -> dict[str, Chart]:
    """Each measure's progress sampled at up to 12 dates from its start (or first event) to `on`."""
    firsts = [d for m in plan.spec.measures if (d := known(m.start)) is not None]
    first = min([*firsts, *(e.date for e in events[:1])], default=on)
    days = sorted({first + (on - first) * k / SAMPLES for k in range(SAMPLES + 1)})
    history = {day: fold(plan, events, day) for day in days}
    out: dict[str, Chart] = {}
    for mid, m in plan.measures.items():
        start = known(m.start)
        begin = start or first
        end = max(history[on][mid].deadline or on, on)
        pts = []
        for day in days:
            if day < begin:
                continue
            least = history[day][mid].least()
            if least is not None:
                pts.append(f"{_x(day, begin, end)},{_y(least)}")
        deadline = history[on][mid].deadline
        expected = (
            (0.0, float(CHART_H), _x(deadline, begin, end), 0.0)
            if deadline is not None and start is not None
            else None
        )
        out[mid] = Chart(" ".join(pts), expected, _x(on, begin, end))
    return out


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("secondapproval.packs.measures", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html(
    plan: Plan,
    result: Mapping[str, MeasureStatus],
    events: Sequence[Event],
    on: dt.date,
    *,
    problems: Iterable[object] = (),
    reductions: Iterable[Reduction] = (),
) -> str:
    """The HTML report: overdue and at-risk first, each with its reasons and its chart."""
    ordered = sorted(result.values(), key=severity)
    return (
        _env()
        .get_template("status.html.j2")
        .render(
            plan=plan.spec,
            on=on.isoformat(),
            measures=ordered,
            charts=charts(plan, events, on),
            least=_least,
            problems=[str(p) for p in problems],
            reductions=list(reductions),
            width=CHART_W,
            height=CHART_H,
        )
    )
