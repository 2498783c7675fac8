"""The measures pack as the report describes the plan (issue 20): supervision, trips, units."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from reference import REFERENCE, RULES
from secondapproval import RuleSetError
from secondapproval.cli import main
from secondapproval.loader import load_matters
from secondapproval.packs.measures import check_events, check_plan, load_plan, statuses
from secondapproval.packs.measures.reductions import read_audit, reductions
from secondapproval.packs.measures.report import SUPERVISED, html, reductions_text, terminal
from secondapproval.registry import load_registry
from secondapproval.yamlfile import parse_yaml

DEMO = load_plan(RULES / "measures" / "synthetic-demo.yaml")
JINWAN = load_plan(RULES / "measures" / "jinwan-2019.yaml")
ON = dt.date(2021, 6, 1)


def _log(*raw: dict[str, Any]):  # type: ignore[no-untyped-def]
    return check_events(DEMO, list(enumerate(raw, 1)), "<test>")


def _visit(day: str, application: str, measure: str = "S04") -> dict[str, Any]:
    return {"date": day, "kind": "visit", "measure": measure, "application": application}


def _delivery(application: str, mode: str, sent: str, delivered: str) -> dict[str, Any]:
    return {
        "date": delivered[:10],
        "kind": "delivery",
        "measure": "S05",
        "application": application,
        "mode": mode,
        "sent": sent,
        "delivered": delivered,
    }


# ---- visit and delivery events ----


def test_bad_visits_and_deliveries_are_refused_with_line_and_field() -> None:
    """A missing application, a bad mode, a naive or out-of-order timestamp are located."""
    good = _delivery("A1", "parcel", "2021-05-01T09:00:00+08:00", "2021-05-02T09:00:00+08:00")
    log = _log(
        {"date": "2021-05-01", "kind": "visit", "measure": "S04"},
        {**good, "mode": "post"},
        {**good, "sent": "2021-05-01T09:00:00"},
        {**good, "sent": "2021-05-03T09:00:00+08:00"},
        {**good, "date": "2021-05-01"},
        {**good, "hours": 24},
        good,
    )
    assert [(p.line, p.field) for p in log.problems] == [
        (1, "application"),
        (2, "mode"),
        (3, "sent"),
        (4, "delivered"),
        (5, "delivered"),
        (6, "hours"),
    ]
    [event] = log.events
    assert (event.line, event.mode, event.hours) == (7, "parcel", 24)


def test_trips_are_visits_over_the_applications_named() -> None:
    """Two visits for A1 and one for A2, A3 served by post: three trips over three applications."""
    log = _log(
        _visit("2021-05-01", "A1"),
        _visit("2021-05-02", "A1"),
        _visit("2021-05-02", "A2"),
        {
            **_delivery("A3", "parcel", "2021-05-02T09:00:00+08:00", "2021-05-03T09:00:00+08:00"),
            "measure": "S04",
        },
    )
    state = statuses(DEMO, log.events, ON)["S04"].state
    assert state.service.visits == 3
    assert state.service.applications == {"A1", "A2", "A3"}
    assert state.service.trips() == 1
    assert state.values["trips"] == 1


def test_without_a_visit_trips_are_unknown_never_zero_or_the_baseline() -> None:
    """Deliveries alone measure no trips: the state holds no trips value and prints unknown."""
    log = _log(
        {
            **_delivery("A1", "parcel", "2021-05-01T09:00:00+08:00", "2021-05-02T08:00:00+08:00"),
            "measure": "S04",
        },
    )
    result = statuses(DEMO, log.events, ON)
    assert result["S04"].state.service.trips() is None
    assert "trips" not in result["S04"].state.values
    assert "trips: unknown trip per application (0 visits, 1 applications)" in terminal(
        DEMO, result
    )


def test_delivery_hours_give_the_median_and_the_share_within_target() -> None:
    """Parcels of 10, 20 and 30 hours: median 20 h, two of three within the 24 h target."""
    log = _log(
        _delivery("A1", "parcel", "2021-05-01T00:00:00+08:00", "2021-05-01T10:00:00+08:00"),
        _delivery("A2", "parcel", "2021-05-01T00:00:00+08:00", "2021-05-01T20:00:00+08:00"),
        _delivery("A3", "parcel", "2021-05-01T00:00:00+08:00", "2021-05-02T06:00:00+08:00"),
        _delivery("A4", "express", "2021-05-02T00:00:00+08:00", "2021-05-02T00:30:00+00:00"),
    )
    st = statuses(DEMO, log.events, ON)["S05"]
    parcel = st.state.service.deliveries["parcel"]
    assert parcel.hours == (10, 20, 30)
    assert (parcel.median(), parcel.target, parcel.within()) == (20, 24, 2)
    assert parcel.share() == Decimal(2) / 3
    express = st.state.service.deliveries["express"]
    assert express.hours == (Decimal("8.5"),)
    assert st.state.values == {"parcel_hours": 20, "express_hours": Decimal("8.5")}
    assert "parcel: median 20 h over 3 deliveries, target 24 h, within target 2/3 (67%)" in (
        terminal(DEMO, {"S05": st})
    )


def test_jinwan_postal_targets_are_measured_in_hours() -> None:
    """m21-postal-zero-trips takes its 24 h and 12 h targets to the deliveries of its events."""
    raw = {
        "date": "2020-03-02",
        "kind": "delivery",
        "measure": "m21-postal-zero-trips",
        "application": "synthetic-1",
        "mode": "express",
        "sent": "2020-03-02T08:00:00+08:00",
        "delivered": "2020-03-02T21:00:00+08:00",
    }
    log = check_events(JINWAN, [(1, raw)], "<test>")
    st = statuses(JINWAN, log.events, dt.date(2020, 3, 3))["m21-postal-zero-trips"]
    express = st.state.service.deliveries["express"]
    assert (express.median(), express.target, express.within()) == (13, 12, 0)


# ---- supervision ----


def test_supervised_measures_come_first_with_their_tasks() -> None:
    """S01 and S02 (重点督办) precede every other measure; S02's tasks list unit and deadline."""
    log = _log(
        {
            "date": "2021-02-20",
            "kind": "deadline",
            "measure": "S02",
            "task": "T1",
            "deadline": "2021-03-15",
        },
    )
    result = statuses(DEMO, log.events, dt.date(2021, 3, 2))
    text = terminal(DEMO, result)
    rows = [line.split()[0] for line in text.splitlines() if line.startswith("  S")]
    supervised = [m.id for m in DEMO.supervised()]
    assert set(rows[: len(supervised)]) == set(supervised) == {"S01", "S02"}
    assert "task T1: unit-c, deadline 2021-03-15, open — 示例任务一" in text
    assert "task T2: unit-b, deadline 2021-06-30, open — 示例任务二" in text
    page = html(DEMO, result, log.events, dt.date(2021, 3, 2))
    ids = [page.index(f"<b>{mid}</b>") for mid in ("S01", "S02", "S03", "S04", "S05")]
    assert max(ids[:2]) < min(ids[2:])
    assert page.count(f'<span class="supervised">{SUPERVISED}</span>') == 2


def test_jinwan_prints_the_count_it_cannot_name() -> None:
    """Jinwan counts 5 supervised projects and names none: the count and quote, no mark."""
    result = statuses(JINWAN, [], dt.date(2019, 12, 31))
    text = terminal(JINWAN, result)
    assert JINWAN.supervised() == ()
    assert JINWAN.spec.supervised is not None
    assert JINWAN.spec.supervised.count == 5
    assert JINWAN.spec.supervised.quote in text
    assert "counts 5 measures under key supervision and names 0" in text
    assert f"{SUPERVISED} (under key supervision)" not in text
    page = html(JINWAN, result, [], dt.date(2019, 12, 31))
    assert JINWAN.spec.supervised.quote in page
    assert 'class="supervised"' not in page


_PLAN = (
    "plan: p\ntitle: {zh: 计划, en: plan}\nsynthetic: true\nsupervised: {count: %s, quote: q}\n"
    "measures:\n"
    "  - {id: A, title: {zh: a, en: a}, domain: d, unit: u, start: unknown,\n"
    "     deadline: 2021-01-01, supervised: %s}\n"
    "  - {id: B, title: {zh: b, en: b}, domain: d, unit: u, start: unknown,\n"
    "     deadline: 2021-01-01, supervised: %s}\n"
)


@pytest.mark.parametrize(
    ("count", "a", "b", "ok"),
    [
        (1, "true", "false", True),
        (2, "true", "unknown", True),
        (0, "true", "unknown", False),
        (2, "true", "false", False),
        (-1, "false", "false", False),
    ],
)
def test_the_supervised_count_agrees_with_the_measures(
    count: int, a: str, b: str, ok: bool
) -> None:
    """A count below the measures marked, or unequal to them when none is unknown, is a problem."""
    doc = parse_yaml(_PLAN % (count, a, b), "p.yaml")
    if ok:
        assert check_plan(doc).spec.supervised is not None
        return
    with pytest.raises(RuleSetError) as err:
        check_plan(doc)
    [problem] = err.value.problems
    assert (problem.file, problem.line) == ("p.yaml", 4)


def test_measured_targets_must_be_in_their_measurement_unit() -> None:
    """Hours in days, trips from matters or facts as materials are refused at their line."""
    doc = parse_yaml(
        "plan: p\ntitle: {zh: 计划, en: plan}\nsynthetic: true\nmeasures:\n"
        "  - id: A\n    title: {zh: a, en: a}\n    domain: d\n    unit: u\n    start: unknown\n"
        "    deadline: 2021-01-01\n    supervised: false\n    targets:\n"
        "      - {metric: parcel_hours, unit: day, baseline: 3, target: 1, direction: down}\n"
        "      - {metric: trips, unit: trip, baseline: 2, target: 0, direction: down,"
        " matters: all}\n"
        "      - {metric: materials, unit: fact, baseline: 2, target: 0, direction: down,"
        " matters: all}\n",
        "p.yaml",
    )
    with pytest.raises(RuleSetError) as err:
        check_plan(doc)
    assert [(p.line, p.field) for p in err.value.problems] == [
        (13, "measures.0.targets.0.unit"),
        (14, "measures.0.targets.1.matters"),
        (15, "measures.0.targets.2.unit"),
    ]


# ---- reductions: like with like ----


def _matter_dir(tmp_path: Path, automatic: str) -> Path:
    tmp_path.mkdir(exist_ok=True)
    shutil.copy(REFERENCE / "sources.yaml", tmp_path / "sources.yaml")
    text = (REFERENCE / "talent-reference.yaml").read_text(encoding="utf-8")
    extra = "baseline: {materials: 6, steps: 4, days: 5, fees: 10, trips: 2}\n" + automatic
    (tmp_path / "talent-reference.yaml").write_text(
        text.replace("\nfacts:", f"\n{extra}facts:", 1), encoding="utf-8"
    )
    return tmp_path


def _audit(path: Path, latencies: list[int]) -> Path:
    with path.open("wb") as out:
        for i, ns in enumerate(latencies):
            outcome = "refer" if i % 3 == 2 else "approve"
            out.write(
                orjson.dumps({"matter": "talent-reference", "outcome": outcome, "latency_ns": ns})
                + b"\n"
            )
    return path


def test_fees_and_days_are_the_declared_automatic_ones(tmp_path: Path) -> None:
    """After-fees and after-days are `automatic.fees` and `automatic.days`, not the baseline's."""
    folder = _matter_dir(tmp_path, "automatic: {fees: 0, days: 1}\n")
    registry = load_registry(folder / "sources.yaml")
    [r] = reductions(load_matters([folder]), registry, dt.date(2021, 6, 1))
    assert (r.baseline["fees"], r.after["fees"]) == (10, 0)
    assert (r.baseline["days"], r.after["days"]) == (5, 1)
    assert r.after["steps"] == 1
    text = reductions_text([r])
    assert "fees: 10 CNY → 0 CNY" in text
    assert "days: 5 service day → 1 service day" in text


def test_undeclared_fees_and_days_stay_unknown_whatever_the_audit_log(tmp_path: Path) -> None:
    """Without `automatic.fees`/`days` both are unknown, even with decisions in the log."""
    folder = _matter_dir(tmp_path / "m", "automatic: {form: check}\n")
    registry = load_registry(folder / "sources.yaml")
    audit = read_audit(_audit(tmp_path / "a.jsonl", [5, 10**9, 3 * 10**12]))
    [r] = reductions(load_matters([folder]), registry, dt.date(2021, 6, 1), audit)
    assert (r.after["fees"], r.after["days"], r.after["steps"], r.after["trips"]) == (
        None,
        None,
        None,
        None,
    )
    assert r.after["auto_share"] == Decimal(200) / 3
    assert "days: 5 service day → unknown service day" in reductions_text([r])


def test_documents_and_facts_are_never_compared_under_one_name(tmp_path: Path) -> None:
    """The baseline's documents and the facts still supplied are two lines, each with its unit."""
    folder = _matter_dir(tmp_path, "")
    registry = load_registry(folder / "sources.yaml")
    [matter] = load_matters([folder])
    [r] = reductions([matter], registry, dt.date(2021, 6, 1))
    supplied = sum(
        1
        for f in matter.inputs.values()
        if f.source is None or not registry.authoritative(f.source)
    )
    text = reductions_text([r])
    assert "materials: 6 document → unknown document" in text
    assert f"applicant_facts: unknown fact → {supplied} fact" in text


def test_every_reduction_line_has_a_unit_on_both_sides(tmp_path: Path) -> None:
    """Each `kind: a U → b U` line names its kind's unit before and after the arrow."""
    folder = _matter_dir(tmp_path, "automatic: {fees: 0, days: 1}\n")
    [r] = reductions(
        load_matters([folder]), load_registry(folder / "sources.yaml"), dt.date(2021, 6, 1)
    )
    printed = reductions_text([r]).splitlines()[1:]
    assert len(printed) == len(r.lines())
    for line, (kind, _, unit_before, _, unit_after) in zip(printed, r.lines(), strict=True):
        before, after = line.strip().removeprefix(f"{kind}: ").split(" → ")
        assert before.split(" ", 1)[1] == unit_before
        assert after.split(" ", 1)[1] == unit_after


def test_cli_prints_the_supervised_count_and_units(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`measures status` on Jinwan prints the count of 5 and reduction lines with units."""
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"date": "2020-03-02", "kind": "visit", "measure": "m21-miaopi", "application": "x"}\n'
    )
    code = main(
        [
            "measures",
            "status",
            str(RULES / "measures" / "jinwan-2019.yaml"),
            str(events),
            "--rules",
            str(RULES),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "counts 5 measures under key supervision" in out
    assert "trips: 1 trip per application (1 visits, 1 applications)" in out
    assert "e-10" not in out
    assert " service day → " in out
