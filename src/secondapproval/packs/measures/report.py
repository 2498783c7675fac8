"""The dashboard: a terminal table by domain and unit, and an HTML report with a chart per measure.

Measures under key supervision (重点督办) come first, marked, each with its tasks, their
responsible units and deadlines; a plan that counts supervised measures without naming them
says so with its source's quote. Then, and within the supervised ones, overdue and at-risk
measures first, each with the row of the status table that applied and the facts it read, and
the trips and deliveries its events measured. The HTML is rendered from Jinja2 templates shipped
with the package; the progress-against-time chart is inline SVG drawn by the template from
points computed here.
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
from .service import Service
from .state import MeasureState, fold
from .status import RANK, MeasureStatus

CHART_W, CHART_H, SAMPLES = 240, 60, 12
_ORDER = {"overdue": 0, "at_risk": 1}
SUPERVISED = "重点督办"
"""The mark of a measure under key supervision."""


def severity(st: MeasureStatus) -> tuple[int, str]:
    """Sort key: overdue, then at risk, then the rest worse to better; by id within a status."""
    return (_ORDER.get(st.status, 2 + RANK.get(st.status, -1)), st.measure)


def ranked(st: MeasureStatus) -> tuple[bool, tuple[int, str]]:
    """Sort key of the dashboard: supervised measures first, then by severity."""
    return (st.state.measure.supervised is not True, severity(st))


def _least(st: MeasureStatus) -> str:
    least = st.state.least()
    return "unknown" if least is None else f"{least:.0%}"


def figure(value: Decimal | None) -> str:
    """A number as written (at most two decimals), or `unknown`."""
    if value is None:
        return UNKNOWN
    if value == value.to_integral_value():
        return str(value.to_integral_value())
    return f"{value:.2f}"


def reduction_lines(r: Reduction) -> list[str]:
    """Each kind's baseline → after-state of one matter, both sides with their units."""
    return [
        f"{kind}: {figure(before)} {before_unit} → {figure(after)} {after_unit}"
        for kind, before, before_unit, after, after_unit in r.lines()
    ]


def reductions_text(items: Iterable[Reduction]) -> str:
    """Per matter, one line per kind: its baseline → its after-state, each with its unit."""
    out = []
    for r in items:
        out.append(f"{r.matter}@{r.version} ({r.decisions} decisions)")
        out += [f"  {line}" for line in reduction_lines(r)]
    return "\n".join(out)


def service_lines(service: Service) -> list[str]:
    """Trips and deliveries as measured from events (nothing when none was recorded)."""
    if not service.recorded():
        return []
    applications = len(service.applications)
    lines = [
        f"trips: {figure(service.trips())} trip per application "
        f"({service.visits} visits, {applications} applications)"
        + ("" if service.visits else "; no visit recorded, so trips are unknown")
    ]
    for mode, d in service.deliveries.items():
        target = "no target" if d.target is None else f"target {figure(d.target)} h"
        share = d.share()
        within = "unknown" if share is None else f"{d.within()}/{len(d.hours)} ({share:.0%})"
        lines.append(
            f"{mode}: median {figure(d.median())} h over {len(d.hours)} deliveries, "
            f"{target}, within target {within}"
        )
    return lines


def task_lines(state: MeasureState) -> list[str]:
    """A measure's tasks: id, responsible unit, deadline as it stands, done or not, title."""
    lines = []
    for task in state.measure.tasks:
        deadline = state.task_deadlines.get(task.id)
        shown = deadline.isoformat() if deadline else UNKNOWN
        done = "done" if task.id in state.tasks_done else "open"
        lines.append(f"task {task.id}: {task.unit}, deadline {shown}, {done} — {task.title.zh}")
    return lines


def supervised_note(plan: Plan) -> str | None:
    """The plan-level count of supervised measures it does not name, with its quote."""
    unnamed = plan.unnamed_supervised()
    count = plan.spec.supervised
    if count is None or not unnamed:
        return None
    named = len(plan.supervised())
    return (
        f"{SUPERVISED}: the plan counts {count.count} measures under key supervision and names "
        f"{named}; {unnamed} unnamed — 「{count.quote}」"
    )


def _row(st: MeasureStatus) -> list[str]:
    deadline = st.state.deadline.isoformat() if st.state.deadline else UNKNOWN
    row = f"  {st.measure:<28} {st.status:<12} {deadline:<10} {_least(st):>8}  {st.why()}"
    return [row] + [f"      {line}" for line in service_lines(st.state.service)]


def terminal(plan: Plan, result: Mapping[str, MeasureStatus]) -> str:
    """Supervised measures first with their tasks; then a table by domain and unit, worst first."""
    lines = []
    note = supervised_note(plan)
    if note:
        lines.append(note)
    supervised = sorted(
        (st for st in result.values() if st.state.measure.supervised is True), key=severity
    )
    if supervised:
        lines.append(f"{SUPERVISED} (under key supervision)")
    for st in supervised:
        m = st.state.measure
        lines += _row(st)
        lines.append(f"      {SUPERVISED} · {m.domain} / {m.unit}")
        lines += [f"      {line}" for line in task_lines(st.state)]
    groups: dict[tuple[str, str], list[MeasureStatus]] = {}
    for st in result.values():
        m = st.state.measure
        if m.supervised is not True:
            groups.setdefault((m.domain, m.unit), []).append(st)
    for (domain, unit), items in sorted(groups.items()):
        lines.append(f"{domain} / {unit}")
        for st in sorted(items, key=severity):
            lines += _row(st)
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
    """The HTML report: supervised first, then overdue and at risk, with reasons and a chart."""
    ordered = sorted(result.values(), key=ranked)
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
            reduction_lines=reduction_lines,
            service_lines=service_lines,
            task_lines=task_lines,
            supervised_note=supervised_note(plan),
            mark=SUPERVISED,
            width=CHART_W,
            height=CHART_H,
        )
    )
