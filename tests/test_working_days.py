"""Working days: the calendar data, its arithmetic against a day-by-day count, and the language
functions in every engine, in the snapshot, the audit record and replay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from differential import disagreement, folder_engines
from reference import examples, write_matter
from secondapproval import Engine, Outcome, RuleSetError
from secondapproval.audit import MemorySink, RuleIndex, open_log, replay_log, verify_lines
from secondapproval.calendars import built_in_calendars, calendar_from
from secondapproval.yamlfile import parse_yaml

DATA = Path(__file__).parents[1] / "src" / "secondapproval" / "calendars" / "cn-mainland.yaml"
CN = built_in_calendars()["cn-mainland"]
NOW = dt.date(2026, 12, 1)
"""A decision date by which every year of the built-in calendar is published."""
KEY = b"working-days-test-key-kept-away!"


# ---- an independent count: the notices' data walked one day at a time ------------------------


def _rest_and_work() -> tuple[set[dt.date], set[dt.date], dict[int, dt.date]]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    rest: set[dt.date] = set()
    work: set[dt.date] = set()
    published = {}
    for y in data["years"]:
        published[y["year"]] = dt.date.fromisoformat(str(y["notice"]["published"]))
        for h in y["holidays"]:
            day = dt.date.fromisoformat(str(h["from"]))
            while day <= dt.date.fromisoformat(str(h["to"])):
                rest.add(day)
                day += dt.timedelta(days=1)
        work |= {dt.date.fromisoformat(str(d)) for d in y["working_weekends"]}
    return rest, work, published


REST, WORK, PUBLISHED = _rest_and_work()
FIRST, LAST = dt.date(min(PUBLISHED), 1, 1), dt.date(max(PUBLISHED), 12, 31)


def working(day: dt.date) -> bool:
    return day not in REST and (day.weekday() < 5 or day in WORK)


def known(day: dt.date, on: dt.date) -> bool:
    return FIRST <= day <= LAST and all(PUBLISHED[y] <= on for y in range(FIRST.year, day.year + 1))


def naive_between(a: dt.date, b: dt.date) -> int:
    sign, (lo, hi) = (1, (a, b)) if a <= b else (-1, (b, a))
    n, day = 0, lo
    while day < hi:
        day += dt.timedelta(days=1)
        n += working(day)
    return sign * n


def naive_add(day: dt.date, n: int) -> dt.date:
    step = dt.timedelta(days=1 if n > 0 else -1)
    left = abs(n)
    while left:
        day += step
        left -= working(day)
    return day


days = st.dates(dt.date(2022, 10, 1), dt.date(2027, 3, 31))
covered = st.dates(FIRST, LAST)


@settings(max_examples=examples(400))
@given(a=days, b=days, on=days)
def test_working_days_between_counts_as_a_day_by_day_walk(
    a: dt.date, b: dt.date, on: dt.date
) -> None:
    if known(a, on) and known(b, on):
        assert CN.working_days_between(a, b, on) == naive_between(a, b)
    else:
        with pytest.raises(ValueError, match="outside the calendar cn-mainland"):
            CN.working_days_between(a, b, on)


@settings(max_examples=examples(400))
@given(day=days, n=st.integers(-400, 400), on=days)
def test_add_working_days_steps_as_a_day_by_day_walk(day: dt.date, n: int, on: dt.date) -> None:
    if not known(day, on):
        with pytest.raises(ValueError):
            CN.add_working_days(day, n, on)
        return
    expected = naive_add(day, n)
    if known(expected, on):
        got = CN.add_working_days(day, n, on)
        assert got == expected
        assert n == 0 or working(got)
        if n > 0:
            assert CN.working_days_between(day, got, on) == n
    else:
        with pytest.raises(ValueError):
            CN.add_working_days(day, n, on)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-09-30", 1, "2026-10-08"),  # the National Day week is rest
        ("2026-09-18", 1, "2026-09-20"),  # Sunday 20 September 2026 is worked (调休)
        ("2025-01-24", 1, "2025-01-26"),  # Sunday 26 January 2025 is worked
        ("2025-01-27", 1, "2025-02-05"),  # the Spring Festival holiday
        ("2024-10-08", -1, "2024-09-30"),
        ("2023-12-29", 0, "2023-12-29"),
        ("2023-01-28", 0, "2023-01-28"),
    ],
)
def test_known_days(start: str, n: int, expected: str) -> None:
    day = dt.date.fromisoformat(start)
    assert CN.add_working_days(day, n, NOW) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(("year", "total"), [(2024, 251), (2025, 248), (2026, 248)])
def test_working_days_of_a_year(year: int, total: int) -> None:
    """The yearly totals the notices give (2024: 251, 2025: 248, 2026: 248)."""
    assert CN.working_days_between(dt.date(year - 1, 12, 31), dt.date(year, 12, 31), NOW) == total


def test_a_year_counts_only_once_its_notice_is_published() -> None:
    """The 2026 notice was published on 4 November 2025: the day before, 2026 is unknown."""
    start, end = dt.date(2025, 12, 1), dt.date(2026, 1, 12)
    with pytest.raises(ValueError, match="covers 2023-01-01 to 2025-12-31"):
        CN.working_days_between(start, end, dt.date(2025, 11, 3))
    assert CN.working_days_between(start, end, dt.date(2025, 11, 4)) == naive_between(start, end)
    with pytest.raises(ValueError, match="leave the calendar"):
        CN.add_working_days(dt.date(2025, 12, 1), 30, dt.date(2025, 11, 3))


# ---- calendar files -------------------------------------------------------------------------


def calendar_text(**changes: Any) -> str:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    for y in data["years"]:
        y["notice"]["published"] = str(y["notice"]["published"])
        y["holidays"] = [{**h, "from": str(h["from"]), "to": str(h["to"])} for h in y["holidays"]]
        y["working_weekends"] = [str(d) for d in y["working_weekends"]]
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def problems_of(text: str) -> list[str]:
    with pytest.raises(RuleSetError) as exc:
        calendar_from(parse_yaml(text, "cal.yaml"))
    return [f"{p.line}:{p.message}" for p in exc.value.problems]


def test_a_weekday_cannot_be_a_working_weekend() -> None:
    text = calendar_text().replace("2026-10-10", "2026-10-09")
    (problem,) = problems_of(text)
    assert "2026-10-09 is a Friday" in problem
    assert int(problem.split(":")[0]) > 1  # the line of the date


def test_years_have_no_gaps_and_are_published_in_order() -> None:
    data = yaml.safe_load(calendar_text())
    years = data["years"]
    gap = calendar_text(years=years[:1] + years[2:])
    assert any("does not follow" in p for p in problems_of(gap))
    years[1]["notice"]["published"] = "2022-01-01"
    assert any("published before" in p for p in problems_of(calendar_text(years=years)))


def test_a_malformed_calendar_names_its_field() -> None:
    text = calendar_text().replace("published: '2023-10-25'", "published: 'soon'")
    problems = problems_of(text)
    assert problems
    assert all("published" in p or "date" in p for p in problems)


# ---- the language ---------------------------------------------------------------------------

MATTER = """matter: deadline-sample
title: {zh: 工作日样例, en: Working days sample}
version: "1"
effective: {from: "2000-01-01"}
calendar: cn-mainland
sources: [{id: T, status: third-party}]
facts:
  accepted_on: {type: date, source: applicant}
  expires_on: {type: date, source: applicant}
  days: {type: int, source: applicant}
  reply_by: {type: date, output: true, derive: "add_working_days(accepted_on, days)"}
rules:
  - id: window
    when: "15 <= working_days_between(decision_date, expires_on) <= 90"
    says: {zh: 届满前90至15个工作日, en: Between 90 and 15 working days before expiry}
    refer: {code: WINDOW, zh: 不在期限内, en: Outside the window}
  - id: reply-in-time
    when: "reply_by <= add_working_days(decision_date, 20)"
    says: {zh: 20个工作日内答复, en: A reply within 20 working days}
    refer: {code: LATE, zh: 超期, en: Late}
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_matter(tmp_path_factory.mktemp("workdays"), MATTER)


@pytest.fixture(scope="module")
def engines(rules: Path) -> dict[str, Engine]:
    return folder_engines(rules)


def facts(accepted: dt.date, expires: dt.date, n: int) -> dict[str, Any]:
    return {"accepted_on": accepted.isoformat(), "expires_on": expires.isoformat(), "days": n}


def test_every_engine_decides_with_the_calendar(engines: dict[str, Engine]) -> None:
    on = dt.date(2026, 9, 1)
    application = facts(on, dt.date(2026, 11, 2), 5)
    for name, engine in engines.items():
        d = engine.decide("deadline-sample", application, on=on)
        assert d.outcome is Outcome.APPROVE, (name, d.codes)
        assert d.outputs == {"reply_by": dt.date(2026, 9, 8)}
        assert d.calendar == CN.name
        assert d.to_dict()["calendar"] == CN.name


def test_beyond_the_calendar_is_an_error_never_a_guess(engines: dict[str, Engine]) -> None:
    on = dt.date(2026, 12, 15)
    for name, engine in engines.items():
        d = engine.decide("deadline-sample", facts(on, dt.date(2027, 2, 1), 1), on=on)
        assert d.outcome is Outcome.REFER, name
        assert "ERROR:window" in d.codes, (name, d.codes)
        assert "ERROR:reply-in-time" in d.codes, (name, d.codes)  # 20 working days reach 2027


@settings(max_examples=examples(150), deadline=None)
@given(accepted=days, expires=days, n=st.integers(-300, 300), on=days)
def test_engines_agree_on_working_days(
    engines: dict[str, Engine], accepted: dt.date, expires: dt.date, n: int, on: dt.date
) -> None:
    application = facts(accepted, expires, n)
    assert not disagreement(engines, "deadline-sample", application, on)
    d = engines["native"].decide("deadline-sample", application, on=on)
    if d.outcome is Outcome.APPROVE:  # approve ⇒ the window held, counted day by day
        assert 15 <= naive_between(on, expires) <= 90
        assert d.outputs["reply_by"] == naive_add(accepted, n)


def test_rule_texts_read_as_written(engines: dict[str, Engine]) -> None:
    """The calendar the checker binds to the calls is not part of the rule's text."""
    matter = engines["native"].snapshot.versions("deadline-sample")[0]
    (derived,) = matter.derived
    from secondapproval.lang.ir import render

    assert render(derived.expr) == "add_working_days(accepted_on, days)"
    assert "calendar" not in render(matter.rules[0].expr).lower()


def test_the_calendar_is_part_of_the_digests(tmp_path: Path, rules: Path) -> None:
    """A rule set's own calendar file replaces the built-in one: the matter's digest and the
    snapshot's change, and the snapshot lists the calendar it counts on."""
    engine = Engine(rules, vouch="all")
    assert ("<calendar cn-mainland>", CN.digest) in engine.snapshot.files
    own = write_matter(tmp_path / "own", MATTER)
    (own / "calendar.yaml").write_text(calendar_text(note="a copy"), encoding="utf-8")
    other = Engine(own, vouch="all")
    assert other.snapshot.versions("deadline-sample")[0].digest != (
        engine.snapshot.versions("deadline-sample")[0].digest
    )
    assert other.snapshot.digest != engine.snapshot.digest
    assert other.decide("deadline-sample", facts(NOW, NOW, 1), on=NOW).calendar != CN.name


def test_two_calendar_files_of_one_id_are_a_problem(tmp_path: Path) -> None:
    folder = write_matter(tmp_path / "r", MATTER)
    (folder / "a.yaml").write_text(calendar_text(), encoding="utf-8")
    (folder / "b.yaml").write_text(calendar_text(), encoding="utf-8")
    with pytest.raises(RuleSetError, match="is also in"):
        Engine(folder)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("calendar: cn-mainland\n", "", "the matter names no `calendar:`"),
        ("calendar: cn-mainland\n", "calendar: mars\n", "unknown calendar 'mars'"),
        ("(decision_date, expires_on)", "(decision_date)", "takes 2 arguments"),
    ],
)
def test_load_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    folder = write_matter(tmp_path / "r", MATTER.replace(old, new))
    with pytest.raises(RuleSetError) as exc:
        Engine(folder)
    problems = exc.value.problems
    assert any(message in p.message for p in problems), problems
    assert all(p.line is not None and p.file.endswith(".yaml") for p in problems)


def test_the_record_names_the_calendar_and_replays(tmp_path: Path, rules: Path) -> None:
    sink = MemorySink()
    engine = Engine(rules, vouch="all", audit=sink, audit_key=KEY)
    engine.decide("deadline-sample", facts(NOW, NOW, 1), on=NOW)
    record = orjson.loads(sink.lines[-1])
    assert record["calendar"] == CN.name
    assert verify_lines(enumerate(sink.lines, 1), heads=[(sink.head, "head")], key=KEY).ok

    log = tmp_path / "audit.jsonl"
    with Engine(rules, audit=open_log(log), audit_key=KEY, vouch="all") as logged:
        for n in range(-5, 25):
            logged.decide("deadline-sample", facts(NOW, dt.date(2026, 8, 1), n), on=NOW)
    kept = tmp_path / "audit.jsonl.rules"
    assert list(kept.glob("*/calendar.yaml"))  # the calendar's text is kept with the matter's
    report, replayed = replay_log(log, RuleIndex([kept]), key=KEY)
    assert report.ok
    assert replayed.ok
    assert replayed.counts == {"same": 30}
