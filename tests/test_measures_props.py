"""Property tests of measure statuses (issue 8): overdue, monotone in good reports, order-free."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RULES, examples
from secondapproval.packs.measures import check_events, load_plan, statuses
from secondapproval.packs.measures.status import RANK

PLAN = load_plan(RULES / "measures" / "synthetic-demo.yaml")
START = dt.date(2021, 1, 1)
YEAR = [START + dt.timedelta(days=i) for i in range(400)]
FEW_DAYS = YEAR[::29]
"""Events fall on few days, so that several share a day."""


def _metric_values(measure: str) -> st.SearchStrategy[dict[str, int]]:
    targets = PLAN.measures[measure].targets
    return st.fixed_dictionaries(
        {}, optional={t.metric: st.integers(0, 2 * int(t.baseline)) for t in targets}
    ).filter(bool)


@st.composite
def event(draw: st.DrawFn, day: dt.date) -> dict[str, Any]:
    measure = draw(st.sampled_from(["S01", "S02", "S03", "S04"]))
    m = PLAN.measures[measure]
    kinds = ["complete", "deadline"] + (["progress"] if m.targets else [])
    kind = draw(st.sampled_from(kinds))
    e: dict[str, Any] = {"date": day.isoformat(), "kind": kind, "measure": measure}
    if kind == "progress":
        e["values"] = draw(_metric_values(measure))
    if m.tasks and draw(st.booleans()):
        e["task"] = draw(st.sampled_from([t.id for t in m.tasks]))
    if kind == "deadline":
        e["deadline"] = (day + dt.timedelta(days=draw(st.integers(0, 90)))).isoformat()
    return e


@st.composite
def events(draw: st.DrawFn, max_size: int = 12) -> list[dict[str, Any]]:
    days = sorted(draw(st.lists(st.sampled_from(FEW_DAYS), max_size=max_size)))
    return [draw(event(d)) for d in days]


def _statuses(raw: list[dict[str, Any]], on: dt.date) -> dict[str, str]:
    log = check_events(PLAN, list(enumerate(raw, 1)), "<test>")
    assert not log.problems, log.problems
    return {mid: s.status for mid, s in statuses(PLAN, log.events, on).items()}


@settings(max_examples=examples(60))
@given(
    values=st.lists(st.integers(1, 100), max_size=5),
    late=st.integers(1, 400),
)
def test_unmet_targets_and_no_events_after_deadline_is_overdue(
    values: list[int], late: int
) -> None:
    """With only unmet reports before the deadline, any date after it is overdue."""
    deadline = dt.date(2021, 4, 11)
    raw = [
        {
            "date": (START + dt.timedelta(days=i)).isoformat(),
            "kind": "progress",
            "measure": "S01",
            "values": {"days": v},
        }
        for i, v in enumerate(values)
    ]
    assert _statuses(raw, deadline + dt.timedelta(days=late))["S01"] == "overdue"


@settings(max_examples=examples(60))
@given(raw=events(), on=st.sampled_from(YEAR), at=st.integers(0, 399))
def test_a_report_meeting_every_target_never_makes_a_measure_worse(
    raw: list[dict[str, Any]], on: dt.date, at: int
) -> None:
    """Adding a report that meets every target never lowers any measure's status."""
    day = min(YEAR[at], on)
    before = _statuses(raw, on)
    for mid in ("S01", "S04"):
        good = {t.metric: int(t.target) for t in PLAN.measures[mid].targets}
        report = {"date": day.isoformat(), "kind": "progress", "measure": mid, "values": good}
        added = sorted([*raw, report], key=lambda e: e["date"])
        after = _statuses(added, on)
        assert RANK[after[mid]] >= RANK[before[mid]], (mid, before[mid], after[mid])


@settings(max_examples=examples(60))
@given(raw=events(), on=st.sampled_from(YEAR), data=st.data())
def test_same_day_events_in_any_order_give_the_same_statuses(
    raw: list[dict[str, Any]], on: dt.date, data: st.DataObject
) -> None:
    """Shuffling the events of each day does not change any status."""
    by_day: dict[str, list[dict[str, Any]]] = {}
    for e in raw:
        by_day.setdefault(e["date"], []).append(e)
    shuffled = [e for d in sorted(by_day) for e in data.draw(st.permutations(by_day[d]))]
    assert _statuses(shuffled, on) == _statuses(raw, on)
