"""Events folded into each measure's state as of a date, and that state as facts for the table.

Only the as-of date and the events decide: events after the date are ignored, and events of one
day combine the same whatever their order (the best value of a day counts, the latest of several
new deadlines of a day counts, a completion is a completion, visits and deliveries are counted).
A value measured from visit and delivery events (`service.py`) stands over a reported one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from .events import Event, Mode
from .plan import UNKNOWN, Measure, Plan, known
from .service import Service, service


@dataclass(frozen=True, slots=True)
class MeasureState:
    """What the events say about one measure on a date."""

    measure: Measure
    deadline: dt.date | None
    values: Mapping[str, Decimal] = field(default_factory=dict)
    completed: bool = False
    tasks_done: frozenset[str] = frozenset()
    task_deadlines: Mapping[str, dt.date] = field(default_factory=dict)
    reports: int = 0
    service: Service = field(default_factory=Service)
    """Trips and deliveries measured from visit and delivery events."""

    def progress(self) -> dict[str, Decimal | None]:
        """Progress fraction per target (no report yet is no progress; unknown ends are None)."""
        out: dict[str, Decimal | None] = {}
        for t in self.measure.targets:
            value = self.values.get(t.metric)
            if value is None:
                out[t.metric] = None if UNKNOWN in (t.baseline, t.target) else Decimal(0)
            else:
                out[t.metric] = t.progress(value)
        return out

    def least(self) -> Decimal | None:
        """The least progress toward any target, or of the tasks done; None if none is known."""
        fractions = [p for p in self.progress().values() if p is not None]
        if self.measure.tasks:
            fractions.append(Decimal(len(self.tasks_done)) / len(self.measure.tasks))
        return min(fractions) if fractions else None

    def targets_met(self) -> int:
        return sum(
            1
            for t in self.measure.targets
            if t.metric in self.values and t.met(self.values[t.metric])
        )

    def late_tasks(self, on: dt.date) -> tuple[str, ...]:
        return tuple(
            task_id
            for task_id, deadline in self.task_deadlines.items()
            if deadline < on and task_id not in self.tasks_done
        )

    def facts(self, on: dt.date) -> dict[str, Any]:
        """The facts of the status table (nested, DESIGN §10)."""
        m = self.measure
        measure: dict[str, Any] = {"id": m.id, "completed": self.completed}
        if self.deadline is not None:
            measure["deadline"] = self.deadline.isoformat()
        start = known(m.start)
        if start is not None:
            measure["start"] = start.isoformat()
        facts: dict[str, Any] = {
            "measure": measure,
            "targets": {"total": len(m.targets), "met": self.targets_met()},
            "tasks": {
                "total": len(m.tasks),
                "done": len(self.tasks_done),
                "late": len(self.late_tasks(on)),
            },
            "reports": {"count": self.reports},
        }
        least = self.least()
        if least is not None:
            facts["progress"] = {"least": least}
        return facts


class DeadlineChange(NamedTuple):
    """A deadline as it stands, and the day it was set (None: the plan's own)."""

    day: dt.date | None
    deadline: dt.date


class _Folding:
    """One measure's state while its events are folded in; `state()` freezes it.

    Private to `fold` and changed in place, for speed (a million events against a 5 s budget,
    `benchmarks/test_measures_bench.py`): even a named pair per progress report, most events,
    made the fold some 40% slower, so a metric's value and the day it was reported are kept in
    two dicts.
    """

    __slots__ = (
        "applications",
        "completed",
        "deadline",
        "done",
        "down",
        "hours",
        "reported_on",
        "reports",
        "task_deadlines",
        "values",
        "visits",
    )

    def __init__(self, m: Measure) -> None:
        self.down = frozenset(t.metric for t in m.targets if t.direction == "down")
        """The metrics whose target is a fall."""
        self.values: dict[str, Decimal] = {}
        self.reported_on: dict[str, dt.date] = {}
        self.completed = False
        self.done: set[str] = set()
        self.deadline: DeadlineChange | None = None
        self.task_deadlines: dict[str, DeadlineChange] = {
            t.id: DeadlineChange(None, t.deadline)
            for t in m.tasks
            if isinstance(t.deadline, dt.date)
        }
        self.reports = 0
        self.applications: set[str] = set()
        self.visits = 0
        self.hours: dict[Mode, list[Decimal]] = {}

    def state(self, m: Measure) -> MeasureState:
        served = service(m, self.applications, self.visits, self.hours)
        targeted = {t.metric for t in m.targets}
        values = dict(self.values)
        values.update((k, v) for k, v in served.measured().items() if k in targeted)
        return MeasureState(
            m,
            self.deadline.deadline if self.deadline else known(m.deadline),
            values,
            self.completed,
            frozenset(self.done),
            {task: change.deadline for task, change in self.task_deadlines.items()},
            self.reports,
            served,
        )


def _progress(f: _Folding, event: Event) -> None:
    """A value reported on a later day than the last stands, and the best of one day's."""
    day, values, reported_on, down = event.date, f.values, f.reported_on, f.down
    for metric, value in event.values:
        last = reported_on.get(metric)
        if (
            last is None
            or day > last
            or (day == last and _better(value, values[metric], metric in down))
        ):
            values[metric] = value
            reported_on[metric] = day


def _better(value: Decimal, than: Decimal, down: bool) -> bool:
    """Whether `value` is nearer a target that is a fall (`down`) or a rise."""
    return value < than if down else value > than


def _complete(f: _Folding, event: Event) -> None:
    """The measure, or one of its tasks, is done."""
    if event.task is None:
        f.completed = True
    else:
        f.done.add(event.task)


def _move_deadline(f: _Folding, event: Event) -> None:
    """The measure's deadline, or a task's, changes (if it supersedes the one standing)."""
    task, day, deadline = event.task, event.date, event.deadline
    if deadline is None:
        return
    if task is None:
        if _supersedes(f.deadline, day, deadline):
            f.deadline = DeadlineChange(day, deadline)
    elif _supersedes(f.task_deadlines.get(task), day, deadline):
        f.task_deadlines[task] = DeadlineChange(day, deadline)


def _supersedes(old: DeadlineChange | None, day: dt.date, new: dt.date) -> bool:
    """A deadline change wins over an older one; of one day's changes the latest deadline wins."""
    return (
        old is None or old.day is None or day > old.day or (day == old.day and new > old.deadline)
    )


def _visit(f: _Folding, event: Event) -> None:
    """The applicant came to a counter about an application: one trip."""
    f.visits += 1
    f.applications.add(event.application or "")


def _delivery(f: _Folding, event: Event) -> None:
    """A parcel or express item reached the applicant: its hours count for its mode."""
    f.applications.add(event.application or "")
    if event.mode is not None and event.hours is not None:
        f.hours.setdefault(event.mode, []).append(event.hours)


_FOLD_IN: dict[str, Callable[[_Folding, Event], None]] = {
    "progress": _progress,
    "complete": _complete,
    "deadline": _move_deadline,
    "visit": _visit,
    "delivery": _delivery,
}
"""How each kind of event changes a measure's state (every event also counts as a report)."""


def fold(
    plan: Plan,
    events: Iterable[Event],
    on: dt.date,
    measured: Mapping[tuple[str, str], Decimal] | None = None,
) -> dict[str, MeasureState]:
    """Every measure's state on `on`; `measured` values (by measure and metric) count as of `on`."""
    folding = {mid: _Folding(m) for mid, m in plan.measures.items()}
    for event in events:
        if event.date <= on:
            f = folding[event.measure]
            f.reports += 1
            _FOLD_IN[event.kind](f, event)
    for (mid, metric), value in (measured or {}).items():
        if mid in folding:
            folding[mid].values[metric] = value
            folding[mid].reported_on[metric] = on
    return {mid: f.state(plan.measures[mid]) for mid, f in folding.items()}
