"""Working days over a matter's calendar as SMT terms: `add_working_days` and
`working_days_between` exactly as `calendars.Calendar` computes them, errors included.

Days are day numbers (`date.toordinal()`; day 1 is a Monday). The count of working days up to a
day is a closed form — Monday to Friday by integer arithmetic, corrected by one for each day
whose status the calendar changes (a holiday on a weekday, a working weekend) — so a symbolic
day needs no table. The exceptions are read from the calendar's own cumulative counts, not from
its file, so the encoding counts what `Calendar` counts (a working weekend that is also a
holiday stays a rest day there, and here).

A date the calendar does not cover on the decision date — before its first year, or after the
last year whose notice was published by then (`Calendar.known_until`) — is an error, as
`Calendar._index` raises `ValueError` for it; so is a result the calendar cannot reach.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import z3

from ..calendars import Calendar

_WEEK = 7
_WORKDAYS_A_WEEK = 5


def weekdays_through(day: Any) -> Any:
    """Mondays to Fridays among day numbers 1..`day` (for `day` < 1, minus those in `day`+1..0):
    day 1 is a Monday, so each run of seven from day 1 holds five, and a partial run its first
    five (z3's `/` and `%` by 7 are floor division and its remainder, below 1 too; a Python
    int is made a z3 one first, or `/` would be float division)."""
    day = z3.IntVal(day) if isinstance(day, int) else day
    return _WORKDAYS_A_WEEK * (day / _WEEK) + z3.If(
        day % _WEEK < _WORKDAYS_A_WEEK, day % _WEEK, _WORKDAYS_A_WEEK
    )


@functools.cache
def exceptions(calendar: Calendar) -> tuple[tuple[int, int], ...]:
    """(day number, +1 or -1) for each covered day whose status is not Monday-to-Friday's: +1 a
    working weekend, -1 a rest day on a weekday. Read from `counts`, what the calendar counts."""
    out = []
    for i, count in enumerate(calendar.counts):
        day = calendar.start + dt.timedelta(days=i)
        working = count > (calendar.counts[i - 1] if i else 0)
        if working != (day.weekday() < _WORKDAYS_A_WEEK):
            out.append((day.toordinal(), 1 if working else -1))
    return tuple(out)


def working_days_through(calendar: Calendar, day: Any) -> Any:
    """Working days up to and including `day`, counted from the beginning of time: only
    differences are meaningful, and on covered days they are the calendar's."""
    corrections = [z3.If(e <= day, delta, 0) for e, delta in exceptions(calendar)]
    return z3.Sum(weekdays_through(day), *corrections)


def is_working_day(calendar: Calendar, day: Any) -> Any:
    return working_days_through(calendar, day) - working_days_through(calendar, day - 1) == 1


def known_until(calendar: Calendar, on: Any) -> Any:
    """The last day whose status is published on day `on` (`Calendar.known_until`): 31 December
    of the last year in the longest run of years, from the first, published by `on`; the day
    before the calendar's start when none is."""
    ends = [until.toordinal() for _, until in calendar.published]
    before_start = calendar.start.toordinal() - 1
    last = ends[-1]
    for k in reversed(range(len(ends))):
        published = calendar.published[k][0].toordinal()
        last = z3.If(on >= published, last, ends[k - 1] if k else before_start)
    return last


def covered(calendar: Calendar, day: Any, on: Any) -> Any:
    """Whether the calendar knows `day` on day `on` (else `Calendar._index` raises)."""
    return z3.And(calendar.start.toordinal() <= day, day <= known_until(calendar, on))


def working_days_between(calendar: Calendar, start: Any, end: Any, on: Any) -> tuple[Any, Any]:
    """(the working days after `start` up to and including `end` — negative when `end` is
    earlier —, whether that fails)."""
    value = working_days_through(calendar, end) - working_days_through(calendar, start)
    fails = z3.Not(z3.And(covered(calendar, start, on), covered(calendar, end, on)))
    return value, fails


def add_working_days(calendar: Calendar, day: Any, n: Any, on: Any, result: Any) -> tuple[Any, Any]:
    """(a constraint that makes `result` the `n`-th working day after `day` — before it when `n`
    is negative, `day` itself for 0 —, whether that fails).

    The constraint has exactly one solution for every `day` and `n`, covered or not (the count
    grows by at most one a day and without bound both ways), so it may be asserted outright:
    it restricts nothing else. The call fails when `day` or the result is not covered, which is
    when `Calendar.add_working_days` raises: the result is reached within the covered days
    exactly when the calendar's search finds it."""
    counted = functools.partial(working_days_through, calendar)
    after = z3.And(
        result > day,
        is_working_day(calendar, result),
        counted(result) - counted(day) == n,
    )
    before = z3.And(  # `-n` working days from `result` up to the day before `day`
        result < day,
        is_working_day(calendar, result),
        counted(day - 1) - counted(result - 1) == -n,
    )
    pin = z3.If(n > 0, after, z3.If(n < 0, before, result == day))
    fails = z3.Not(z3.And(covered(calendar, day, on), covered(calendar, result, on)))
    return pin, fails


def monotone(calendar: Calendar, day: Any, others: list[Any]) -> list[Any]:
    """Facts of the count between `day` and each of `others`: it never decreases and grows by at
    most one a day. They follow from the closed form, so they change no answer; they are stated
    because the solver does not find them itself (through the integer division and the
    corrections), and a proof over working days needs them (e.g. that no working day after `a`
    up to `b` and the next working day after `a` not after `b` contradict each other)."""
    w = functools.partial(working_days_through, calendar)
    return [
        z3.Implies(x <= y, z3.And(w(x) <= w(y), w(y) - w(x) <= y - x))
        for other in others
        for x, y in ((day, other), (other, day))
    ]
