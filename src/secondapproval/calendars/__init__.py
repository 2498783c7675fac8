"""Working-day calendars: dated data that `add_working_days` and `working_days_between` count on.

A calendar file (`calendar:` and `years:` at the top level) lists, year by year, the public
holidays and the adjusted working weekends of the notice that fixed them, with the day the notice
was published. Saturdays and Sundays are rest days unless listed as working weekends; a holiday is
a rest day whatever the weekday. `cn-mainland` (the State Council's annual 节假日 notices) is built
in; a rule set may hold its own calendar files, which take precedence over a built-in one of the
same id. A matter names its calendar (`calendar: cn-mainland`); the calendar is part of the
rule-set snapshot and a decision names it by id and digest.

The arithmetic is exact or an error, never a guess: a date outside the years the calendar covers
— or in a year whose notice was not yet published on the decision date — raises `ValueError`,
which the language turns into an ERROR (so the decision refers).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError

from ..errors import Problem, RuleSetError
from ..text import Text
from ..yamlfile import Located, parse_yaml, problems_from_validation

_Model = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
ID = r"^[a-z0-9][a-z0-9-]*$"
_SATURDAY = 5


class Notice(BaseModel):
    """The published notice a year's holidays come from."""

    model_config = _Model
    title: Annotated[str, Field(min_length=1)]
    number: str | None = None
    """Its document number (文号), e.g. 国办发明电〔2023〕7号."""
    published: dt.date
    url: AnyHttpUrl | None = None


class Holiday(BaseModel):
    """Consecutive rest days (`from` to `to`, inclusive) that a notice grants."""

    model_config = _Model
    name: Annotated[str, Field(min_length=1)]
    from_: dt.date = Field(alias="from")
    to: dt.date


class Year(BaseModel):
    model_config = _Model
    year: Annotated[int, Field(ge=1900, le=9999)]
    notice: Notice
    holidays: list[Holiday] = []
    working_weekends: list[dt.date] = []
    """Saturdays and Sundays that are working days (调休上班)."""


class CalendarFile(BaseModel):
    """A calendar file, as written."""

    model_config = _Model
    calendar: Annotated[str, Field(pattern=ID)]
    title: Text
    note: str | None = None
    years: Annotated[list[Year], Field(min_length=1)]


def is_calendar_document(data: Any) -> bool:
    """Whether a parsed YAML document is a calendar file."""
    return isinstance(data, dict) and "calendar" in data and "years" in data


@dataclass(frozen=True, slots=True, eq=False)
class Calendar:
    """A checked calendar: which days are working days, from 1 January of its first year to
    31 December of its last, and from when each year is known.

    Equal (and hashed) by id and digest: the same data read twice is the same calendar.
    """

    id: str
    digest: str
    """SHA-256 of the file's text."""
    file: str
    text: str
    """The file's exact text (kept with the matter texts of an audit log)."""
    start: dt.date
    published: tuple[tuple[dt.date, dt.date], ...]
    """(publication day of a year's notice, 31 December of that year), year by year."""
    counts: tuple[int, ...]
    """`counts[i]`: the working days from `start` to `start + i` days, inclusive."""

    @property
    def name(self) -> str:
        """How decisions and records name it: `id@sha256:<digest>`."""
        return f"{self.id}@sha256:{self.digest}"

    def __repr__(self) -> str:
        return f"Calendar({self.name})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Calendar) and (self.id, self.digest) == (other.id, other.digest)

    def __hash__(self) -> int:
        return hash((self.id, self.digest))

    def known_until(self, on: dt.date) -> dt.date | None:
        """The last day whose working status was published on or before `on` (None: none)."""
        last = None
        for published, until in self.published:
            if published > on:
                break
            last = until
        return last

    def is_working_day(self, day: dt.date, on: dt.date) -> bool:
        i = self._index(day, on)
        return self.counts[i] > (self.counts[i - 1] if i else 0)

    def working_days_between(self, start: dt.date, end: dt.date, on: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when `end` is
        earlier: minus those after `end` up to and including `start`)."""
        return self.counts[self._index(end, on)] - self.counts[self._index(start, on)]

    def add_working_days(self, day: dt.date, n: int, on: dt.date) -> dt.date:
        """The `n`-th working day after `day` (before it when `n` is negative; `day` for 0)."""
        i = self._index(day, on)
        if n == 0:
            return day
        if n > 0:
            last = (self.known_until(on) - self.start).days  # type: ignore[operator]
            j = bisect.bisect_left(self.counts, self.counts[i] + n, 0, last + 1)
            found = j <= last
        else:
            # the |n|-th working day before `day` is the one the count reaches this value on
            target = (self.counts[i - 1] if i else 0) + n + 1
            j = bisect.bisect_left(self.counts, target, 0, i)
            found = target >= 1
        if not found:
            raise ValueError(f"{abs(n)} working days from {day} leave the calendar {self.id}")
        return self.start + dt.timedelta(days=j)

    def _index(self, day: dt.date, on: dt.date) -> int:
        until = self.known_until(on)
        if until is None or not self.start <= day <= until:
            covered = f"{self.start} to {until}" if until else "nothing yet"
            raise ValueError(
                f"{day} is outside the calendar {self.id} (on {on} it covers {covered})"
            )
        return (day - self.start).days


def calendar_from(doc: Located) -> Calendar:
    """Check a parsed calendar file; RuleSetError names the file, line and field of each
    problem."""
    try:
        spec = CalendarFile.model_validate(doc.data)
    except ValidationError as exc:
        raise RuleSetError(problems_from_validation(exc, doc)) from None
    problems = list(_problems(spec, doc))
    if problems:
        raise RuleSetError(problems)
    return _build(spec, doc)


def _problems(spec: CalendarFile, doc: Located) -> Iterator[Problem]:
    for (i, a), (_, b) in itertools.pairwise(enumerate(spec.years)):
        if b.year != a.year + 1:
            yield doc.problem(
                ("years", i + 1, "year"), f"year {b.year} does not follow {a.year} (no gaps)"
            )
        elif b.notice.published < a.notice.published:
            yield doc.problem(
                ("years", i + 1, "notice", "published"),
                f"the notice for {b.year} is published before the one for {a.year}",
            )
    for i, y in enumerate(spec.years):
        for j, h in enumerate(y.holidays):
            if h.to < h.from_:
                yield doc.problem(("years", i, "holidays", j, "to"), "`to` is before `from`")
            elif not (h.from_.year <= y.year <= h.to.year):
                yield doc.problem(
                    ("years", i, "holidays", j), f"the holiday {h.name} is not in {y.year}"
                )
        for j, day in enumerate(y.working_weekends):
            if day.year != y.year:
                yield doc.problem(("years", i, "working_weekends", j), f"{day} is not in {y.year}")
            elif day.weekday() < _SATURDAY:
                yield doc.problem(
                    ("years", i, "working_weekends", j),
                    f"{day} is a {day:%A}: only a Saturday or Sunday can be a working weekend",
                )


def _build(spec: CalendarFile, doc: Located) -> Calendar:
    start = dt.date(spec.years[0].year, 1, 1)
    end = dt.date(spec.years[-1].year, 12, 31)
    rest = {
        h.from_ + dt.timedelta(days=k)
        for y in spec.years
        for h in y.holidays
        for k in range((h.to - h.from_).days + 1)
    }
    working = {d for y in spec.years for d in y.working_weekends}
    counts, n = [], 0
    for k in range((end - start).days + 1):
        day = start + dt.timedelta(days=k)
        n += day not in rest and (day.weekday() < _SATURDAY or day in working)
        counts.append(n)
    published = tuple((y.notice.published, dt.date(y.year, 12, 31)) for y in spec.years)
    digest = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    return Calendar(spec.calendar, digest, doc.file, doc.text, start, published, tuple(counts))


def load_calendar(path: str | Path) -> Calendar:
    p = Path(path)
    return calendar_from(parse_yaml(p.read_text(encoding="utf-8"), str(p)))


@functools.cache
def built_in_calendars() -> Mapping[str, Calendar]:
    """The calendars shipped with the library, by id (read once per process)."""
    found: dict[str, Calendar] = {}
    for entry in resources.files(__package__).iterdir():
        if entry.name.endswith((".yaml", ".yml")):
            text = entry.read_text(encoding="utf-8")
            cal = calendar_from(parse_yaml(text, f"<built-in>/calendars/{entry.name}"))
            found[cal.id] = cal
    return MappingProxyType(found)
