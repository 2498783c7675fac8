"""The measures pack: plan files, events, statuses by rules, reductions, report and CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from reference import REFERENCE, RULES, SCENARIOS
from secondapproval import Engine, RuleSetError
from secondapproval.cli import main
from secondapproval.packs import discover
from secondapproval.packs.measures import (
    MeasurePack,
    StatusChange,
    check_events,
    check_plan,
    load_plan,
    read_events,
    statuses,
    track,
)
from secondapproval.packs.measures.reductions import (
    AuditSummary,
    feed,
    read_audit,
    reductions,
)
from secondapproval.packs.measures.report import html, terminal
from secondapproval.packs.measures.synthetic import synthetic_events, synthetic_plan, write_events
from secondapproval.packs.measures.table import check_table, default_table
from secondapproval.registry import load_registry
from secondapproval.yamlfile import Located, parse_yaml

DEMO = RULES / "measures" / "synthetic-demo.yaml"
JINWAN = RULES / "measures" / "jinwan-2019.yaml"


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return load_plan(DEMO)


def _events(plan, *raw):  # type: ignore[no-untyped-def]
    return check_events(plan, list(enumerate(raw, 1)), "<test>")


# ---- plan files ----


def test_the_pack_is_discovered_through_its_entry_point() -> None:
    """The installed distribution registers the measures pack under file key `plan`."""
    packs = discover()
    assert isinstance(packs["measures"].pack, MeasurePack)
    assert packs["measures"].pack.file_key == "plan"


def test_jinwan_plan_keeps_unknown_fields_unknown() -> None:
    """The district plan says `unknown` where the report is silent, and only 2019/2020 deadlines."""
    plan = load_plan(JINWAN)
    assert not plan.spec.synthetic
    assert {m.unit for m in plan.spec.measures} == {"unknown"}
    assert {m.start for m in plan.spec.measures} == {"unknown"}
    deadlines = {str(m.deadline) for m in plan.spec.measures}
    assert deadlines == {"2019-12-31", "2020-12-31", "unknown"}
    toilets = plan.measures["ap-infrastructure-toilets"].targets
    assert [(t.metric, t.target) for t in toilets] == [("toilets_new", 16), ("toilets_rebuilt", 2)]


def test_plan_errors_are_listed_together_with_their_lines() -> None:
    """A bad plan raises one RuleSetError naming the line of every problem."""
    doc = parse_yaml(
        "plan: p\ntitle: {zh: 计划, en: plan}\nsynthetic: true\nmeasures:\n"
        "  - {id: A, title: {zh: a, en: a}, domain: d, unit: u, start: 2021-02-01,\n"
        "     deadline: 2021-01-01, supervised: false}\n"
        "  - {id: A, title: {zh: a, en: a}, domain: d, unit: u, start: unknown,\n"
        "     deadline: 2021-01-01, supervised: false,\n"
        "     targets: [{metric: fees, unit: CNY, baseline: 1, target: 0, direction: down,"
        " matters: [x]}, {metric: fees, unit: CNY, baseline: 1, target: 0, direction: down}]}\n",
        "p.yaml",
    )
    with pytest.raises(RuleSetError) as err:
        check_plan(doc)
    messages = [(p.line, p.message) for p in err.value.problems]
    assert (6, "deadline 2021-01-01 is before start 2021-02-01") in messages
    assert (7, "duplicate measure id 'A'") in messages
    assert any("repeats" in m for _, m in messages)


def test_a_bad_status_table_row_points_at_its_own_line() -> None:
    """A row whose condition names an unknown fact is a problem at the row's line."""
    doc = parse_yaml(
        "facts:\n  reports.count: {type: int}\nrows:\n"
        "  - {id: r, status: on_track, when: reports.cuont > 0, says: {zh: 有, en: some}}\n",
        "t.yaml",
    )
    with pytest.raises(RuleSetError) as err:
        check_table(doc)
    assert err.value.problems[0].line == 4
    assert err.value.problems[0].file == "t.yaml"


# ---- events ----


def test_bad_events_are_reported_with_their_line_and_good_ones_kept(demo) -> None:  # type: ignore[no-untyped-def]
    """Unknown measure, wrong unit and an out-of-order date are refused; the rest are kept."""
    log = _events(
        demo,
        {"date": "2021-01-10", "kind": "progress", "measure": "S01", "values": {"days": 50}},
        {"date": "2021-01-11", "kind": "progress", "measure": "nope", "values": {"days": 1}},
        {
            "date": "2021-01-12",
            "kind": "progress",
            "measure": "S01",
            "values": {"days": {"value": 1, "unit": "hour"}},
        },
        {"date": "2021-01-01", "kind": "complete", "measure": "S03"},
        {"date": "2021-01-13", "kind": "complete", "measure": "S03"},
        ["not", "an", "object"],
        {"kind": "complete", "measure": "S03"},
        {"date": "2021-01-14", "kind": "complete", "measure": "S03", "note": "x"},
    )
    assert [e.line for e in log.events] == [1, 5]
    assert [(p.line, p.field) for p in log.problems] == [
        (2, "measure"),
        (3, "values.days"),
        (4, "date"),
        (6, None),
        (7, "date"),
        (8, "note"),
    ]


def test_an_events_file_with_a_broken_line_keeps_the_rest(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A line that is not JSON is a located problem, not the end of the file."""
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"date": "2021-01-10", "kind": "complete", "measure": "S03"}\n{oops\n\n'
        '{"date": "2021-01-11", "kind": "complete", "measure": "S02", "task": "T1"}\n'
    )
    log = read_events(demo, path)
    assert [e.line for e in log.events] == [1, 4]
    assert [p.line for p in log.problems] == [2]


# ---- statuses ----


def test_a_status_carries_the_row_and_the_engine_trace(demo) -> None:  # type: ignore[no-untyped-def]
    """The status names the row that applied and every row's result, as a decision does."""
    log = _events(
        demo, {"date": "2021-01-10", "kind": "progress", "measure": "S01", "values": {"days": 66}}
    )
    st = statuses(demo, log.events, dt.date(2021, 3, 2))["S01"]
    assert (st.status, st.row) == ("at_risk", "behind-schedule")
    results = {r.rule: str(r.status) for r in st.decision.results}
    assert results["achieved"] == "failed"
    assert results["behind-schedule"] == "passed"
    assert "ACHIEVED" in st.decision.codes
    assert "progress.least=0.34" in st.why()


def test_statuses_ignore_events_after_the_as_of_date(demo) -> None:  # type: ignore[no-untyped-def]
    """An event dated after the as-of date does not count."""
    log = _events(
        demo, {"date": "2021-03-03", "kind": "progress", "measure": "S01", "values": {"days": 0}}
    )
    assert statuses(demo, log.events, dt.date(2021, 3, 2))["S01"].status == "at_risk"
    assert statuses(demo, log.events, dt.date(2021, 3, 3))["S01"].status == "achieved"


def test_every_status_change_goes_to_the_sink(demo) -> None:  # type: ignore[no-untyped-def]
    """Tracking over dates sends one change per move, with the decision that made it."""
    log = _events(
        demo, {"date": "2021-01-10", "kind": "progress", "measure": "S01", "values": {"days": 0}}
    )
    seen: list[StatusChange] = []
    track(
        demo,
        log.events,
        [dt.date(2021, 1, 5), dt.date(2021, 1, 6), dt.date(2021, 1, 10)],
        seen.append,
    )
    s01 = [(c.before, c.after.status) for c in seen if c.after.measure == "S01"]
    assert s01 == [(None, "not_started"), ("not_started", "achieved")]
    assert all(c.after.decision.matter == "measure-status" for c in seen)


def test_a_plan_may_bring_its_own_status_table() -> None:
    """A plan's `statuses:` replaces the default table."""
    doc = parse_yaml(
        "plan: p\ntitle: {zh: 计划, en: plan}\nsynthetic: true\nmeasures:\n"
        "  - {id: A, title: {zh: a, en: a}, domain: d, unit: u, start: unknown,\n"
        "     deadline: 2021-01-01, supervised: false}\n"
        "statuses:\n  facts:\n    reports.count: {type: int}\n  rows:\n"
        "    - {id: any, status: on_track, when: reports.count >= 0,\n"
        "       says: {zh: 总是, en: always}}\n",
        "p.yaml",
    )
    plan = check_plan(doc)
    assert plan.table is not default_table()
    assert statuses(plan, [], dt.date(2030, 1, 1))["A"].status == "on_track"


# ---- the four reductions ----


def _audit_log(path: Path, rows: list[tuple[str, str, int]]) -> Path:
    with path.open("wb") as out:
        out.write(b'{"head": true}\n')
        for matter, outcome, ns in rows:
            out.write(
                orjson.dumps({"matter": matter, "outcome": outcome, "latency_ns": ns, "seq": 1})
                + b"\n"
            )
    return path


def test_reductions_are_measured_from_the_matters_and_the_audit_log(
    tmp_path: Path, reference_engine: Engine
) -> None:
    """Applicant facts count non-authoritative sources; the audit log gives the automatic share."""
    matter = reference_engine.versions("talent-reference")[0]
    registry = load_registry(REFERENCE / "sources.yaml")
    log = _audit_log(
        tmp_path / "audit.jsonl",
        [
            ("talent-reference", "approve", 1000),
            ("talent-reference", "approve", 3000),
            ("talent-reference", "refer", 5),
            ("talent-reference", "approve", 2000),
        ],
    )
    audit = read_audit(log)
    assert len(audit.skipped) == 1
    brought = sum(1 for f in matter.inputs.values() if not registry.authoritative(f.source or ""))
    [r] = reductions([matter], registry, dt.date(2020, 1, 1), audit)
    assert r.after["applicant_facts"] == brought
    assert r.after["materials"] is None
    assert r.after["auto_share"] == 75
    assert r.decisions == 4
    assert r.after["trips"] is None


def test_measured_values_feed_the_targets_that_name_matters(
    tmp_path: Path, reference_engine: Engine
) -> None:
    """A target with `matters: all` takes the mean measured value and moves the status."""
    doc = synthetic_plan(1)
    doc["measures"][0]["targets"] = [
        {
            "metric": "auto_share",
            "unit": "percent",
            "baseline": 0,
            "target": 50,
            "direction": "up",
            "matters": "all",
        }
    ]
    doc["measures"][0]["tasks"] = []
    plan = check_plan(Located(doc, "<synthetic>", {}))
    registry = load_registry(REFERENCE / "sources.yaml")
    audit = read_audit(_audit_log(tmp_path / "a.jsonl", [("talent-reference", "approve", 1)]))
    measured = feed(
        plan,
        reductions(
            reference_engine.versions("talent-reference"), registry, dt.date(2021, 6, 1), audit
        ),
    )
    assert measured == {("S00001", "auto_share"): 100}
    st = statuses(plan, [], dt.date(2021, 6, 1), measured=measured)["S00001"]
    assert st.status == "achieved"
    assert statuses(plan, [], dt.date(2021, 6, 1))["S00001"].status != "achieved"
    assert reductions([], registry, dt.date(2021, 6, 1), AuditSummary({})) == ()


# ---- report and CLI ----


def test_html_report_puts_overdue_first_and_draws_a_chart(demo) -> None:  # type: ignore[no-untyped-def]
    """The HTML report lists overdue measures first and has one inline SVG per measure."""
    import html5lib

    log = _events(
        demo, {"date": "2021-02-01", "kind": "progress", "measure": "S01", "values": {"days": 50}}
    )
    on = dt.date(2021, 4, 12)
    result = statuses(demo, log.events, on)
    page = html(demo, result, log.events, on)
    html5lib.HTMLParser(strict=False).parse(page)
    assert page.count("<svg") == len(demo.measures)
    assert page.index("<b>S01</b>") < page.index("<b>S03</b>")
    assert "SYNTHETIC" in page
    assert "<polyline" in page
    text = terminal(demo, result)
    assert "S01" in text
    assert "overdue" in text


def test_cli_status_prints_the_table_and_writes_html(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`measures status` prints statuses, writes HTML and exits 1 when events were refused."""
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"date": "2021-02-01", "kind": "progress", "measure": "S01", "values": {"days": 50}}\n'
        '{"date": "2021-02-02", "kind": "progress", "measure": "S77", "values": {"days": 50}}\n'
    )
    out = tmp_path / "r.html"
    code = main(
        [
            "measures",
            "status",
            str(DEMO),
            str(events),
            "--on",
            "2021-03-02",
            "--html",
            str(out),
            "--rules",
            str(RULES),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "S01" in captured.out
    assert "on_track" in captured.out
    assert "e.jsonl:2" in captured.err
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_synthetic_events_are_all_good_for_their_plan(tmp_path: Path) -> None:
    """The generator's events pass the checks of the generated plan."""
    doc = synthetic_plan(50, seed=3)
    plan = check_plan(Located(doc, "<synthetic>", {}))
    path = tmp_path / "e.jsonl"
    assert write_events(path, synthetic_events(doc, 2000, seed=3)) == 2000
    log = read_events(plan, path)
    assert (len(log.events), log.problems) == (2000, ())


def test_status_changes_can_go_to_the_audit_trail(demo) -> None:  # type: ignore[no-untyped-def]
    """Each status change becomes an ordinary audit record of the status table's decision."""
    from secondapproval.audit import MemorySink, verify_lines
    from secondapproval.packs.measures.trail import AuditTrail

    sink = MemorySink()
    trail = AuditTrail(sink, demo.table, key=b"k" * 32)
    log = _events(
        demo, {"date": "2021-01-10", "kind": "progress", "measure": "S01", "values": {"days": 0}}
    )
    track(demo, log.events, [dt.date(2021, 1, 5), dt.date(2021, 1, 10)], trail)
    trail.close()
    records = [orjson.loads(line) for line in sink.lines]
    s01 = [r for r in records if r["facts"]["measure"]["id"] == "S01"]
    assert [r["on"] for r in s01] == ["2021-01-05", "2021-01-10"]
    assert {r["matter"] for r in records} == {"measure-status"}
    assert verify_lines(enumerate(sink.lines, 1), key=b"k" * 32).ok


def test_boundary_scenarios_see_every_row_pass_and_fail() -> None:
    """Across the boundary scenario file every row of the status table both passes and fails."""
    from secondapproval.packs.measures.scenarios import iter_cases

    doc = parse_yaml(
        (SCENARIOS / "measures" / "boundaries.yaml").read_text(encoding="utf-8"),
        str(SCENARIOS / "measures" / "boundaries.yaml"),
    )
    seen: dict[str, set[str]] = {}
    for _, _, run in iter_cases(doc, RULES):
        result = run()
        assert result.passed, result.diff
        for row, status in result.statuses.items():
            seen.setdefault(row, set()).add(status)
    rows = [r.id for r in default_table().rows]
    assert {row: {"passed", "failed"} <= seen.get(row, set()) for row in rows} == dict.fromkeys(
        rows, True
    )
