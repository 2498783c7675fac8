"""Events (JSON Lines): progress reports, completions and deadline changes of measures and tasks.

```
{"date": "2019-11-01", "kind": "progress", "measure": "M07", "values": {"trips": 1}}
{"date": "2019-11-02", "kind": "progress", "measure": "M07", "values": {"days": {"value": 3,…
{"date": "2019-12-20", "kind": "complete", "measure": "M07", "task": "T1", "evidence": "r1"}
{"date": "2019-12-21", "kind": "deadline", "measure": "M07", "deadline": "2020-06-30"}
{"date": "2019-12-22", "kind": "visit", "measure": "M07", "application": "A-1"}
{"date": "2019-12-23", "kind": "delivery", "measure": "M07", "application": "A-1", "mode": "parcel",
 "sent": "2019-12-22T09:00:00+08:00", "delivered": "2019-12-23T08:30:00+08:00"}
```
(the second line goes on: `"unit": "day"}}}` — a value may name its unit, which must be the
target's; the last event is one line).
A `visit` is one trip: the applicant came to a counter about an application. A `delivery` is a
postal parcel (`parcel`) or express (`express`) item sent and delivered for an application, with
ISO 8601 timestamps that carry their UTC offset; it is delivered no earlier than sent and not
after the event's date. Trips and delivery hours are measured from these (`service.py`).
`task` and `evidence` are optional everywhere, `by` (the reporting unit) too. A bad event — an
unknown measure, task or metric, a wrong unit, a date earlier than the line before it, a new
deadline before the start, a delivery timestamp without an offset — is reported with its line
and left out; the good ones are kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

import orjson

from ...errors import Problem, RuleSetError
from .plan import UNKNOWN, Measure, Plan, Task

Kind = Literal["progress", "complete", "deadline", "visit", "delivery"]
Mode = Literal["parcel", "express"]
MODES: tuple[Mode, ...] = ("parcel", "express")
_KEYS = {
    "progress": frozenset({"date", "kind", "measure", "task", "values", "evidence", "by"}),
    "complete": frozenset({"date", "kind", "measure", "task", "evidence", "by"}),
    "deadline": frozenset({"date", "kind", "measure", "task", "deadline", "evidence", "by"}),
    "visit": frozenset({"date", "kind", "measure", "task", "application", "evidence", "by"}),
    "delivery": frozenset(
        {"date", "kind", "measure", "task", "application", "mode", "sent", "delivered"}
        | {"evidence", "by"}
    ),
}
_REQUIRED = {
    "visit": ("application",),
    "delivery": ("application", "mode", "sent", "delivered"),
}
US_PER_HOUR = Decimal(3_600 * 10**6)


class EventError(RuleSetError):
    """An events file cannot be read at all (as opposed to single bad events, which are kept)."""


class Event(NamedTuple):
    """One good event (a named tuple: immutable, and cheap to build a million of)."""

    line: int
    date: dt.date
    kind: Kind
    measure: str
    task: str | None = None
    values: tuple[tuple[str, Decimal], ...] = ()
    deadline: dt.date | None = None
    evidence: str | None = None
    application: str | None = None
    """The application a visit or a delivery is about."""
    mode: Mode | None = None
    """A delivery's service: postal parcel or express."""
    hours: Decimal | None = None
    """A delivery's hours from sent to delivered (exact)."""


_new = tuple.__new__


@dataclass(frozen=True, slots=True)
class EventLog:
    """The good events in file order, and a located problem for every bad one."""

    file: str
    events: tuple[Event, ...]
    problems: tuple[Problem, ...]


class _BadEventError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _iso(value: Any, field: str) -> dt.date:
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-":
        raise _BadEventError("a date is an ISO YYYY-MM-DD string", field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _BadEventError(str(exc), field) from None


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadEventError("a value is a number", field)
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _instant(value: Any, field: str) -> dt.datetime:
    """An ISO 8601 timestamp with its UTC offset (a local time alone cannot be measured)."""
    if not isinstance(value, str):
        raise _BadEventError("a timestamp is an ISO 8601 string with its UTC offset", field)
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise _BadEventError(str(exc), field) from None
    if instant.tzinfo is None:
        raise _BadEventError("a timestamp needs its UTC offset, e.g. +08:00", field)
    return instant


def delivery_hours(raw: Any, day: dt.date) -> tuple[Mode, Decimal]:
    """A delivery's mode and its hours from sent to delivered, checked against the event's date."""
    mode = raw["mode"]
    if mode not in MODES:
        raise _BadEventError("mode is parcel or express", "mode")
    sent, delivered = _instant(raw["sent"], "sent"), _instant(raw["delivered"], "delivered")
    if delivered < sent:
        raise _BadEventError(f"delivered {delivered} is before sent {sent}", "delivered")
    if delivered.date() > day:
        raise _BadEventError(f"delivered {delivered} is after the event's date {day}", "delivered")
    micros = (delivered - sent) // dt.timedelta(microseconds=1)
    return mode, Decimal(micros) / US_PER_HOUR


def _check_reporter(by: Any, reported: Measure | Task) -> None:
    """An event reported `by` a unit comes from the unit responsible (when that is known)."""
    if reported.unit not in (UNKNOWN, by):
        raise _BadEventError(
            f"reported by {by!r}, but the responsible unit is {reported.unit!r}", "by"
        )


class _Reader:
    """Checks raw events against a plan, remembering the date of the last good one."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.last: dt.date | None = None
        self.units: dict[str, dict[str, str]] = {
            m.id: {t.metric: t.unit for t in m.targets} for m in plan.spec.measures
        }
        self.measures = dict(plan.measures)
        self.task_of = dict(plan.task_of)
        self.dates: dict[str, dt.date] = {}
        self.numbers: dict[int, Decimal] = {}

    def date(self, value: Any, field: str) -> dt.date:
        """An ISO date, remembered: an events file repeats few dates many times."""
        day = self.dates.get(value) if isinstance(value, str) else None
        if day is None:
            day = self.dates[value] = _iso(value, field)
        return day

    def event(self, raw: Any, line: int) -> Event:
        try:
            kind, text, measure_id = raw["kind"], raw["date"], raw["measure"]
        except KeyError as exc:
            raise _BadEventError(f"{exc.args[0]} is required", exc.args[0]) from None
        except TypeError:
            raise _BadEventError("an event is a JSON object") from None
        keys = _KEYS.get(kind) if type(kind) is str else None
        if keys is None:
            raise _BadEventError("kind is progress, complete, deadline, visit or delivery", "kind")
        if not raw.keys() <= keys:
            extra = sorted(raw.keys() - keys)[0]
            raise _BadEventError(f"unexpected field {extra!r}", extra)
        day = self.dates.get(text) if type(text) is str else None
        if day is None:
            day = self.date(text, "date")
        measure = self.measures.get(measure_id) if type(measure_id) is str else None
        if measure is None:
            raise _BadEventError(f"unknown measure {measure_id!r}", "measure")
        mid: str = measure_id
        task_id = raw.get("task")
        task = None if task_id is None else self.task(mid, task_id)
        if "by" in raw:
            _check_reporter(raw["by"], task if task is not None else measure)
        evidence = raw.get("evidence")
        if evidence is not None and type(evidence) is not str:
            raise _BadEventError("evidence is a reference string", "evidence")
        if self.last is not None and day < self.last:
            raise _BadEventError(
                f"date {day} is earlier than the event before it ({self.last})", "date"
            )
        values: tuple[tuple[str, Decimal], ...] = ()
        deadline = None
        if kind == "progress":
            values = self._values(mid, raw.get("values"))
        elif kind == "deadline":
            deadline = self.new_deadline(raw.get("deadline"), task if task is not None else measure)
        elif kind in _REQUIRED:
            return self._service(raw, line, day, kind, mid, task_id, evidence)
        self.last = day
        # tuple.__new__ skips the named tuple's Python-level __new__: a third of the cost
        return _new(
            Event, (line, day, kind, mid, task_id, values, deadline, evidence, None, None, None)
        )

    def _service(
        self,
        raw: Any,
        line: int,
        day: dt.date,
        kind: Kind,
        measure: str,
        task: str | None,
        evidence: str | None,
    ) -> Event:
        """A visit or a delivery: the application it is about and, for a delivery, its hours."""
        for key in _REQUIRED[kind]:
            if key not in raw:
                raise _BadEventError(f"{key} is required", key)
        application = raw["application"]
        if type(application) is not str or not application:
            raise _BadEventError("application is a reference string", "application")
        mode: Mode | None = None
        hours = None
        if kind == "delivery":
            mode, hours = delivery_hours(raw, day)
        self.last = day
        return Event(line, day, kind, measure, task, (), None, evidence, application, mode, hours)

    def task(self, measure: str, task_id: Any) -> Task:
        """The measure's task called `task_id`."""
        task = self.task_of.get((measure, task_id)) if type(task_id) is str else None
        if task is None:
            raise _BadEventError(f"measure {measure} has no task {task_id!r}", "task")
        return task

    def new_deadline(self, value: Any, moved: Measure | Task) -> dt.date:
        """The new deadline of a measure or task: a date, not before the start."""
        deadline = self.date(value, "deadline")
        if isinstance(moved.start, dt.date) and deadline < moved.start:
            raise _BadEventError(
                f"new deadline {deadline} is before the start {moved.start}", "deadline"
            )
        return deadline

    def _values(self, measure: str, raw: Any) -> tuple[tuple[str, Decimal], ...]:
        if type(raw) is not dict or not raw:
            raise _BadEventError("values is an object of metric values", "values")
        units = self.units[measure]
        numbers = self.numbers
        out = []
        for metric, given in raw.items():
            unit = units.get(metric)
            if unit is None:
                why = f"measure {measure} has no target on {metric!r}"
                raise _BadEventError(why, f"values.{metric}")
            number = numbers.get(given) if type(given) is int else None
            if number is None:
                number = self._value(given, unit, f"values.{metric}")
            out.append((metric, number))
        return (out[0],) if len(out) == 1 else tuple(sorted(out))

    def _value(self, given: Any, unit: str, field: str) -> Decimal:
        """A value given with its unit (which must be the target's), or a plain number."""
        if isinstance(given, dict):
            if given.keys() != {"value", "unit"}:
                raise _BadEventError("a value with a unit is {value, unit}", field)
            if given["unit"] != unit:
                raise _BadEventError(
                    f"wrong unit {given['unit']!r}: the target is in {unit!r}", field
                )
            given = given["value"]
        return self.number(given, field)

    def number(self, value: Any, field: str) -> Decimal:
        """A JSON number as a Decimal (small whole numbers remembered)."""
        if type(value) is int:
            known = self.numbers.get(value)
            if known is None:
                known = self.numbers[value] = Decimal(value)
            return known
        return _number(value, field)


def check_events(plan: Plan, raw: Iterable[tuple[int, Any]], file: str) -> EventLog:
    """Check raw events (each with its line) against a plan: good ones kept, bad ones located."""
    reader = _Reader(plan)
    good: list[Event] = []
    problems: list[Problem] = []
    for line, item in raw:
        try:
            good.append(reader.event(item, line))
        except _BadEventError as exc:
            problems.append(Problem(str(exc), file, line, None, exc.field))
    return EventLog(file, tuple(good), tuple(problems))


def iter_events(plan: Plan, path: str | Path, problems: list[Problem]) -> Iterator[Event]:
    """The good events of a JSON Lines file as they are read; each bad one goes to `problems`.

    Streaming keeps memory flat for large files: nothing but the fold's state is kept.
    """
    p = Path(path)
    event = _Reader(plan).event
    loads = orjson.loads
    try:
        handle = p.open("rb")
    except OSError as exc:
        raise EventError([Problem(f"cannot read events: {exc}", str(p))]) from None
    with handle:
        for line, text in enumerate(handle, 1):
            try:
                yield event(loads(text), line)
            except _BadEventError as exc:
                problems.append(Problem(str(exc), str(p), line, None, exc.field))
            except orjson.JSONDecodeError as exc:
                if text.strip():
                    problems.append(Problem(f"not JSON: {exc}", str(p), line))


def read_events(plan: Plan, path: str | Path) -> EventLog:
    """Read and check a JSON Lines events file; an unparsable line is a bad event too."""
    problems: list[Problem] = []
    good = tuple(iter_events(plan, path, problems))
    return EventLog(str(path), good, tuple(problems))
