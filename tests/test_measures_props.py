"""Property tests of measure statuses (issues 8, 20): overdue, monotone in good reports,
order-free; trips only from visits, supervised first, no figure from a decision's latency."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import REFERENCE, RULES, examples
from secondapproval.loader import load_matters
from secondapproval.packs.measures import check_events, load_plan, statuses
from secondapproval.packs.measures.reductions import read_audit, reductions
from secondapproval.packs.measures.report import ranked, terminal
from secondapproval.packs.measures.status import RANK
from secondapproval.registry import load_registry

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


def _service(draw: st.DrawFn, e: dict[str, Any], day: dt.date) -> None:
    """Make `e` a visit or a delivery of a few SYNTHETIC applications."""
    e["application"] = draw(st.sampled_from(["A1", "A2", "A3"]))
    if e["kind"] == "delivery":
        offset = dt.timezone(dt.timedelta(hours=8))
        delivered = dt.datetime.combine(day, dt.time(draw(st.integers(0, 23))), offset)
        sent = delivered - dt.timedelta(minutes=draw(st.integers(0, 72 * 60)))
        e["mode"] = draw(st.sampled_from(["parcel", "express"]))
        e["sent"], e["delivered"] = sent.isoformat(), delivered.isoformat()


@st.composite
def event(draw: st.DrawFn, day: dt.date, visits: bool = True) -> dict[str, Any]:
    measure = draw(st.sampled_from(["S01", "S02", "S03", "S04", "S05"]))
    m = PLAN.measures[measure]
    kinds = ["complete", "deadline", "delivery"] + (["progress"] if m.targets else [])
    kind = draw(st.sampled_from(kinds + (["visit"] if visits else [])))
    e: dict[str, Any] = {"date": day.isoformat(), "kind": kind, "measure": measure}
    if kind == "progress":
        e["values"] = draw(_metric_values(measure))
    if kind in ("visit", "delivery"):
        _service(draw, e, day)
    if m.tasks and draw(st.booleans()):
        e["task"] = draw(st.sampled_from([t.id for t in m.tasks]))
    if kind == "deadline":
        e["deadline"] = (day + dt.timedelta(days=draw(st.integers(0, 90)))).isoformat()
    return e


@st.composite
def events(draw: st.DrawFn, max_size: int = 12, visits: bool = True) -> list[dict[str, Any]]:
    days = sorted(draw(st.lists(st.sampled_from(FEW_DAYS), max_size=max_size)))
    return [draw(event(d, visits)) for d in days]


def _result(raw: list[dict[str, Any]], on: dt.date):  # type: ignore[no-untyped-def]
    log = check_events(PLAN, list(enumerate(raw, 1)), "<test>")
    assert not log.problems, log.problems
    return statuses(PLAN, log.events, on)


def _statuses(raw: list[dict[str, Any]], on: dt.date) -> dict[str, str]:
    return {mid: s.status for mid, s in _result(raw, on).items()}


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


@settings(max_examples=examples(60))
@given(raw=events(visits=False), on=st.sampled_from(YEAR))
def test_without_visit_events_no_measure_has_measured_trips(
    raw: list[dict[str, Any]], on: dt.date
) -> None:
    """For every stream without a visit, trips are unknown: only a reported value can stand."""
    for mid, s in _result(raw, on).items():
        assert s.state.service.trips() is None
        reported = [
            e["values"]["trips"]
            for e in raw
            if e["measure"] == mid
            and e["kind"] == "progress"
            and "trips" in e["values"]
            and e["date"] <= on.isoformat()
        ]
        assert ("trips" in s.state.values) == bool(reported)


@settings(max_examples=examples(60))
@given(raw=events(), on=st.sampled_from(YEAR))
def test_measured_trips_are_visits_over_applications(
    raw: list[dict[str, Any]], on: dt.date
) -> None:
    """Where a measure has visits, its trips are its visits over the applications it names."""
    upto = [e for e in raw if e["date"] <= on.isoformat()]
    for mid, s in _result(raw, on).items():
        mine = [e for e in upto if e["measure"] == mid and e["kind"] in ("visit", "delivery")]
        visits = sum(1 for e in mine if e["kind"] == "visit")
        applications = {e["application"] for e in mine}
        trips = s.state.service.trips()
        assert trips == (visits / len(applications) if visits else None)


@settings(max_examples=examples(60))
@given(raw=events(), on=st.sampled_from(YEAR))
def test_supervised_measures_are_always_ranked_first(
    raw: list[dict[str, Any]], on: dt.date
) -> None:
    """In the ranking and the printed table no unsupervised measure precedes a supervised one."""
    result = _result(raw, on)
    flags = [s.state.measure.supervised is True for s in sorted(result.values(), key=ranked)]
    assert flags == sorted(flags, reverse=True)
    rows = [line.split()[0] for line in terminal(PLAN, result).splitlines() if line[:3] == "  S"]
    printed = [PLAN.measures[mid].supervised is True for mid in rows]
    assert printed == sorted(printed, reverse=True)


MATTERS = load_matters([REFERENCE])
REGISTRY = load_registry(REFERENCE / "sources.yaml")


def _reduction_lines(outcomes: list[bool], latencies: list[int]):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.jsonl"
        path.write_bytes(
            b"".join(
                orjson.dumps(
                    {
                        "matter": "talent-reference",
                        "outcome": "approve" if ok else "refer",
                        "latency_ns": ns,
                    }
                )
                + b"\n"
                for ok, ns in zip(outcomes, latencies, strict=False)
            )
        )
        audit = read_audit(path)
    return [r.lines() for r in reductions(MATTERS, REGISTRY, dt.date(2021, 6, 1), audit)]


@settings(max_examples=examples(40))
@given(
    outcomes=st.lists(st.booleans(), min_size=1, max_size=8),
    first=st.lists(st.integers(0, 10**15), min_size=8, max_size=8),
    second=st.lists(st.integers(0, 10**15), min_size=8, max_size=8),
)
def test_changing_latency_changes_no_figure(
    outcomes: list[bool], first: list[int], second: list[int]
) -> None:
    """A decision's latency is not a service time: no reduction figure, days included, moves."""
    assert _reduction_lines(outcomes, first) == _reduction_lines(outcomes, second)
