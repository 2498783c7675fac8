"""Working days in the static analysis (secondapproval.analysis.workdays): the encoding counts,
adds and fails exactly as the calendar does, and a matter over working days is analysed exactly,
its witnesses decided by the engine and a contradiction between working days proved."""

from __future__ import annotations

import datetime as dt
import time

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import FIXTURES, examples
from secondapproval import Engine
from secondapproval.analysis import analyze, workdays
from secondapproval.calendars import built_in_calendars

CALENDAR = built_in_calendars()["cn-mainland"]
START, END = CALENDAR.start, CALENDAR.published[-1][1]
PUBLISHED = [p for p, _ in CALENDAR.published]


def _near(*days: dt.date, spread: int = 3) -> st.SearchStrategy[dt.date]:
    return st.sampled_from(days).flatmap(
        lambda d: st.integers(-spread, spread).map(lambda k: d + dt.timedelta(days=k))
    )


DAYS = st.one_of(
    st.dates(START - dt.timedelta(days=400), END + dt.timedelta(days=400)),
    _near(START, END, *(dt.date(y, 12, 31) for y in range(START.year, END.year + 1))),
)
"""Around the covered years, outside them, and at their edges."""
ON = st.one_of(
    st.dates(PUBLISHED[0] - dt.timedelta(days=60), END + dt.timedelta(days=60)),
    _near(*PUBLISHED, spread=1),
)
"""Decision dates before the first notice, across each notice's publication, and after."""
N = st.one_of(st.integers(-5, 5), st.integers(-800, 800), st.sampled_from([-2000, 2000]))


def _solve(goal: list[z3.BoolRef], term: z3.ArithRef) -> int:
    """The one value of `term` under `goal` (checked unique)."""
    solver = z3.Solver()
    solver.set("timeout", 10_000)
    solver.add(*goal)
    assert solver.check() == z3.sat
    value = solver.model().eval(term, model_completion=True)
    solver.add(term != value)
    assert solver.check() == z3.unsat, "the encoding leaves the result open"
    return int(value.as_long())


def _fails(fails: z3.BoolRef) -> bool:
    verdict = z3.simplify(fails)
    assert z3.is_true(verdict) or z3.is_false(verdict), verdict
    return z3.is_true(verdict)


def test_the_count_is_the_calendars_on_every_covered_day() -> None:
    """The closed form (Monday to Friday, corrected on the calendar's exceptions) differs from
    the calendar's cumulative count by one constant over all its days."""
    x = z3.Int("x")
    w = workdays.working_days_through(CALENDAR, x)

    def at(ordinal: int) -> int:
        return int(z3.simplify(z3.substitute(w, (x, z3.IntVal(ordinal)))).as_long())

    before = at(START.toordinal() - 1)
    for i, count in enumerate(CALENDAR.counts):
        assert at(START.toordinal() + i) - before == count, START + dt.timedelta(days=i)


@settings(max_examples=examples(100), deadline=None)
@given(a=DAYS, b=DAYS, on=ON)
def test_working_days_between_is_the_calendars(a: dt.date, b: dt.date, on: dt.date) -> None:
    value, fails = workdays.working_days_between(
        CALENDAR, z3.IntVal(a.toordinal()), z3.IntVal(b.toordinal()), z3.IntVal(on.toordinal())
    )
    try:
        expected = CALENDAR.working_days_between(a, b, on)
    except ValueError:
        assert _fails(fails)
        return
    assert not _fails(fails)
    assert z3.simplify(value).as_long() == expected


@settings(max_examples=examples(100), deadline=None)
@given(day=DAYS, n=N, on=ON)
def test_add_working_days_is_the_calendars(day: dt.date, n: int, on: dt.date) -> None:
    """The pinned result is unique, and it is the calendar's, or the call fails as the calendar
    raises (the day, or the result, outside what is published on `on`)."""
    result = z3.Int("result")
    pin, fails = workdays.add_working_days(
        CALENDAR, z3.IntVal(day.toordinal()), z3.IntVal(n), z3.IntVal(on.toordinal()), result
    )
    r = _solve([pin], result)
    failed = _fails(z3.substitute(fails, (result, z3.IntVal(r))))
    try:
        expected = CALENDAR.add_working_days(day, n, on)
    except ValueError:
        assert failed
        return
    assert not failed
    assert dt.date.fromordinal(r) == expected


def test_the_published_limit_follows_the_symbolic_decision_date() -> None:
    """With the decision date open, a day of the last covered year is counted only on decision
    dates on or after its notice's publication."""
    on = z3.Int("on")
    day = z3.IntVal(END.toordinal())
    _, fails = workdays.working_days_between(CALENDAR, day, day, on)
    solver = z3.Solver()
    solver.add(z3.Not(fails))
    solver.add(on < PUBLISHED[-1].toordinal())
    assert solver.check() == z3.unsat
    solver = z3.Solver()
    solver.add(z3.Not(fails), on == PUBLISHED[-1].toordinal())
    assert solver.check() == z3.sat


# ---- matters over working days -----------------------------------------------------------------


def test_a_matter_over_working_days_is_analysed_exactly() -> None:
    """Approvable, every rule can pass, fail and be unknown, each witness decided by the engine
    inside `analyze` (it raises otherwise); the derived deadline can run off the calendar (a
    true warning, confirmed by the interpreter)."""
    engine = Engine(FIXTURES / "analysis-workdays", vouch="all")
    matter = engine.versions("workdays-deadlines")[0]
    began = time.perf_counter()
    report = analyze(matter, engine)
    print(f"workdays-deadlines analysed in {time.perf_counter() - began:.2f}s")
    assert report.approximate == ()
    assert report.approvable.answer == "yes"
    w = report.approvable.witness
    assert w is not None
    assert engine.decide(matter.id, w.facts, on=w.on).outcome.value == "approve"
    for rule, claims in report.rules.items():
        assert {k: c.answer for k, c in claims.items()} == dict.fromkeys(
            ("passed", "failed", "unknown"), "yes"
        ), rule
    assert [f.kind for f in report.findings] == ["derivation-fails"]


def test_a_contradiction_between_working_days_is_proved() -> None:
    """No working day after `start` up to `end`, and the next working day after `start` not
    after `end`: unapprovable, proved (each rule alone can pass)."""
    engine = Engine(FIXTURES / "analysis", vouch="all")
    report = analyze(engine.versions("broken-workdays")[0], engine)
    assert report.approximate == ()
    assert report.approvable.answer == "no"
    assert [f.kind for f in report.findings] == ["unapprovable"]
    assert all(claims["passed"].answer == "yes" for claims in report.rules.values())
