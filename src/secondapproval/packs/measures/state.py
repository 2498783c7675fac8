"""Events folded into each measure's state as of a date, and that state as facts for the table.

Only the as-of date and the events decide: events after the date are ignored, and events of one
day combine the same whatever their order (the best value of a day counts, the latest of several
new deadlines of a day counts, a completion is a completion).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .events import Event
from .plan import UNKNOWN, Measure, Plan, known


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


class _Acc:
    """A mutable accumulator, turned into a frozen MeasureState at the end."""

    __slots__ = ("completed", "deadline", "done", "reports", "task_deadlines", "values")

    def __init__(self, m: Measure) -> None:
        self.deadline: tuple[dt.date | None, dt.date] | None = None
        self.values: dict[str, tuple[dt.date, Decimal]] = {}
        self.completed = False
        self.done: set[str] = set()
        self.reports = 0
        self.task_deadlines: dict[str, tuple[dt.date | None, dt.date]] = {
            t.id: (None, t.deadline) for t in m.tasks if isinstance(t.deadline, dt.date)
        }


def _supersedes(old: tuple[dt.date | None, dt.date] | None, day: dt.date, new: dt.date) -> bool:
    """A deadline change wins over an older one; of one day's changes the latest deadline wins."""
    return old is None or old[0] is None or day > old[0] or (day == old[0] and new > old[1])


def fold(
    plan: Plan,
    events: Iterable[Event],
    on: dt.date,
    measured: Mapping[tuple[str, str], Decimal] | None = None,
) -> dict[str, MeasureState]:
    """Every measure's state on `on`; `measured` values (by measure and metric) count as of `on`."""
    accs = {mid: _Acc(m) for mid, m in plan.measures.items()}
    down = {
        (m.id, t.metric) for m in plan.spec.measures for t in m.targets if t.direction == "down"
    }
    for _, day, kind, mid, task, values, deadline, _ in events:
        if day > on:
            continue
        acc = accs[mid]
        acc.reports += 1
        if kind == "progress":
            latest = acc.values
            for metric, value in values:
                old = latest.get(metric)
                if (
                    old is None
                    or day > old[0]
                    or (
                        day == old[0]
                        and (value < old[1] if (mid, metric) in down else value > old[1])
                    )
                ):
                    latest[metric] = (day, value)
        elif kind == "complete":
            if task is None:
                acc.completed = True
            else:
                acc.done.add(task)
        elif deadline is not None:
            if task is None:
                if _supersedes(acc.deadline, day, deadline):
                    acc.deadline = (day, deadline)
            elif _supersedes(acc.task_deadlines.get(task), day, deadline):
                acc.task_deadlines[task] = (day, deadline)
    for (mid, metric), value in (measured or {}).items():
        if mid in accs:
            accs[mid].values[metric] = (on, value)
    return {
        mid: MeasureState(
            plan.measures[mid],
            acc.deadline[1] if acc.deadline else known(plan.measures[mid].deadline),
            {k: v for k, (_, v) in acc.values.items()},
            acc.completed,
            frozenset(acc.done),
            {k: d for k, (_, d) in acc.task_deadlines.items()},
            acc.reports,
        )
        for mid, acc in accs.items()
    }
