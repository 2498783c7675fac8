"""Each measure's status on a date, decided by the status table, and the changes between dates.

`statuses(plan, events, on)` folds the events, derives each measure's facts and lets the table
decide; a `StatusSink` (any callable) receives every status that differs from the one before it,
with the Decision that gave it, e.g. to write it to the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ...decision import Decision, RuleResult
from ...text import Text
from .events import Event
from .plan import Plan
from .state import MeasureState, fold

NO_ROW = "undetermined"
"""The status when no row of the table passed (a table with no catch-all row)."""
RANK = {"overdue": 0, "at_risk": 1, "not_started": 2, "on_track": 3, "achieved": 4}
"""Worse to better: a report that meets every target never moves a measure down this order."""


@dataclass(frozen=True, slots=True)
class MeasureStatus:
    """A measure's status on a date, the row that gave it and the decision behind it."""

    measure: str
    on: dt.date
    status: str
    row: str | None
    says: Text | None
    state: MeasureState
    decision: Decision

    @property
    def because(self) -> RuleResult | None:
        """The row's rule result: what it checked and the fact values it read."""
        return next((r for r in self.decision.results if r.rule == self.row), None)

    def why(self) -> str:
        """One line: the row that applied and the facts it read."""
        if self.says is None or self.because is None:
            return "no row of the status table applied"
        read = ", ".join(f"{k}={_shown(v)}" for k, v in self.because.facts_read.items())
        return f"{self.says.en} ({read})" if read else self.says.en


def _shown(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, Decimal) else str(value)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A measure moved from one status to another (from None the first time it is seen)."""

    before: str | None
    after: MeasureStatus


StatusSink = Callable[[StatusChange], None]
"""Where status changes go: any callable (the audit trail, a log, a list in a test)."""


def statuses(
    plan: Plan,
    events: Iterable[Event],
    on: dt.date,
    *,
    measured: Mapping[tuple[str, str], Decimal] | None = None,
) -> dict[str, MeasureStatus]:
    """Every measure's status on `on`, decided by the plan's status table."""
    states = fold(plan, events, on, measured)
    table = plan.table
    out: dict[str, MeasureStatus] = {}
    for mid, state in states.items():
        row, decision = table.decide(state.facts(on), on)
        out[mid] = MeasureStatus(
            mid,
            on,
            row.status if row else NO_ROW,
            row.id if row else None,
            row.says if row else None,
            state,
            decision,
        )
    return out


def track(
    plan: Plan,
    events: Iterable[Event],
    dates: Iterable[dt.date],
    sink: StatusSink,
    *,
    before: Mapping[str, str] | None = None,
) -> dict[str, MeasureStatus]:
    """Statuses on each date in turn; every change goes to `sink`. Returns the last statuses."""
    kept = tuple(events)
    last: dict[str, str | None] = dict(before or {})
    current: dict[str, MeasureStatus] = {}
    for day in sorted(dates):
        current = statuses(plan, kept, day)
        for mid, st in current.items():
            if last.get(mid) != st.status:
                sink(StatusChange(last.get(mid), st))
                last[mid] = st.status
    return current
