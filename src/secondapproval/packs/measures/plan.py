"""Plan files (`plan:` under `rules/measures/`): measures, their targets and tasks.

A field the source does not give is written `unknown` and stays unknown: it is never guessed.
`load_plan(path)` returns a checked, immutable `Plan` or raises one `RuleSetError` listing every
problem with its file and line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...errors import Problem, RuleSetError
from ...text import Text
from ...yamlfile import Located, load_yaml, problems_from_validation
from .table import StatusTable, check_table, default_table

UNKNOWN = "unknown"
Unknown = Literal["unknown"]
ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

REDUCTIONS = ("materials", "steps", "days", "fees", "trips")
"""The four reductions and trips: metric kinds that match a matter file's `baseline`."""
MEASURED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "materials": frozenset({"material", "document"}),
        "applicant_facts": frozenset({"fact"}),
        "steps": frozenset({"step"}),
        "days": frozenset({"day"}),
        "fees": frozenset({"CNY"}),
        "auto_share": frozenset({"percent"}),
    }
)
"""Metric kinds a target can measure from matters (`matters:`), each with the units it may use.

Trips are not among them: they are measured from visit events, never from an outcome."""
FROM_EVENTS: Mapping[str, str] = MappingProxyType(
    {"trips": "trip", "parcel_hours": "hour", "express_hours": "hour"}
)
"""Metrics measured from visit and delivery events, each in its one unit."""

_Model = ConfigDict(extra="forbid", frozen=True)


class Target(BaseModel):
    """A number a measure aims at: a metric moved from a baseline to a target, up or down."""

    model_config = _Model
    metric: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    unit: Annotated[str, Field(min_length=1)]
    baseline: Decimal | Unknown
    target: Decimal | Unknown
    direction: Literal["down", "up"]
    matters: list[str] | Literal["all"] | None = None
    """Measured, not reported: the metric is computed from these matters under `rules/`."""
    quote: str | None = None

    def met(self, value: Decimal) -> bool | None:
        """Whether a value reaches the target (None when the target is unknown)."""
        target = self.target
        if not isinstance(target, Decimal):
            return None
        return value <= target if self.direction == "down" else value >= target

    def progress(self, value: Decimal) -> Decimal | None:
        """How far from baseline to target a value is, in [0, 1] (None when either is unknown)."""
        baseline, target = self.baseline, self.target
        if not isinstance(baseline, Decimal) or not isinstance(target, Decimal):
            return None
        span = target - baseline
        if span == 0:
            return Decimal(1) if self.met(value) else Decimal(0)
        return min(Decimal(1), max(Decimal(0), (value - baseline) / span))


class Task(BaseModel):
    """A piece of a measure with its own responsible unit and dates."""

    model_config = _Model
    id: Annotated[str, Field(pattern=ID)]
    title: Text
    unit: str | Unknown
    start: dt.date | Unknown = "unknown"
    deadline: dt.date | Unknown = "unknown"
    quote: str | None = None


class Measure(BaseModel):
    """A numbered (or named) measure of a plan."""

    model_config = _Model
    id: Annotated[str, Field(pattern=ID)]
    title: Text
    domain: str
    unit: str | Unknown
    start: dt.date | Unknown
    deadline: dt.date | Unknown
    supervised: bool | Unknown
    targets: list[Target] = []
    tasks: list[Task] = []
    quote: str | None = None
    note: str | None = None


class Supervised(BaseModel):
    """A plan-level count of measures under key supervision (重点督办), as the source states it.

    A source may give the count without naming the measures: then every `supervised` stays
    unknown and the dashboard prints the count with its quote.
    """

    model_config = _Model
    count: Annotated[int, Field(ge=0)]
    quote: Annotated[str, Field(min_length=1)]
    note: str | None = None


class SourceDoc(BaseModel):
    """Where a plan was taken from."""

    model_config = _Model
    title: Annotated[str, Field(min_length=1)]
    url: str | None = None
    note: str | None = None


class PlanFile(BaseModel):
    """A plan file as written."""

    model_config = _Model
    plan: Annotated[str, Field(pattern=ID)]
    title: Text
    synthetic: bool
    sources: list[SourceDoc] = []
    domains: dict[str, Text] = {}
    note: str | None = None
    supervised: Supervised | None = None
    measures: Annotated[list[Measure], Field(min_length=1)]
    statuses: dict[str, Any] | None = None
    """The plan's own status table; the pack's `statuses.yaml` when absent."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked plan: its file, its status table, its measures by id and its tasks."""

    spec: PlanFile
    file: str
    table: StatusTable
    measures: Mapping[str, Measure]
    task_of: Mapping[tuple[str, str], Task]

    @classmethod
    def of(cls, spec: PlanFile, file: str, table: StatusTable) -> Plan:
        return cls(
            spec,
            file,
            table,
            MappingProxyType({m.id: m for m in spec.measures}),
            MappingProxyType({(m.id, t.id): t for m in spec.measures for t in m.tasks}),
        )

    @property
    def id(self) -> str:
        return self.spec.plan

    def supervised(self) -> tuple[Measure, ...]:
        """The measures the plan names as under key supervision (重点督办), in plan order."""
        return tuple(m for m in self.spec.measures if m.supervised is True)

    def unnamed_supervised(self) -> int:
        """How many supervised measures the plan counts but does not name (0 without a count)."""
        count = self.spec.supervised.count if self.spec.supervised else 0
        return max(count - len(self.supervised()), 0)


def known(day: dt.date | str) -> dt.date | None:
    """A date, or None where the plan says `unknown`."""
    return day if isinstance(day, dt.date) else None


def _dates_in_order(
    doc: Located, at: tuple[str | int, ...], start: object, deadline: object
) -> list[Problem]:
    if isinstance(start, dt.date) and isinstance(deadline, dt.date) and deadline < start:
        return [doc.problem((*at, "deadline"), f"deadline {deadline} is before start {start}")]
    return []


def _target_units(doc: Located, at: tuple[str | int, ...], t: Target) -> list[Problem]:
    """A measured target is in a unit its measurement gives: like is compared with like."""
    if t.matters is not None:
        units = MEASURED.get(t.metric)
        if units is None:
            why = f"only {', '.join(MEASURED)} can be measured from matters"
            return [doc.problem((*at, "matters"), why)]
        if t.unit not in units:
            why = f"{t.metric} measured from matters is in {' or '.join(sorted(units))}"
            return [doc.problem((*at, "unit"), why)]
    unit = FROM_EVENTS.get(t.metric)
    if unit is not None and t.unit != unit:
        return [doc.problem((*at, "unit"), f"{t.metric} is measured from events in {unit}")]
    return []


def _supervised_count(doc: Located, spec: PlanFile) -> list[Problem]:
    """The plan-level count agrees with the measures marked `supervised`."""
    if spec.supervised is None:
        return []
    named = sum(1 for m in spec.measures if m.supervised is True)
    unknown = any(m.supervised == UNKNOWN for m in spec.measures)
    count = spec.supervised.count
    if named > count or (not unknown and named != count):
        why = f"the plan counts {count} supervised measures but marks {named} supervised"
        return [doc.problem(("supervised", "count"), why)]
    return []


def check_plan(doc: Located) -> Plan:
    """Validate a loaded plan document; raise RuleSetError with every problem."""
    try:
        spec = PlanFile.model_validate(doc.data)
    except ValidationError as exc:
        raise RuleSetError(problems_from_validation(exc, doc)) from None
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, m in enumerate(spec.measures):
        at: tuple[str | int, ...] = ("measures", i)
        if m.id in seen:
            problems.append(doc.problem((*at, "id"), f"duplicate measure id {m.id!r}"))
        seen.add(m.id)
        if spec.domains and m.domain not in spec.domains and m.domain != UNKNOWN:
            problems.append(doc.problem((*at, "domain"), f"unknown domain {m.domain!r}"))
        problems += _dates_in_order(doc, at, m.start, m.deadline)
        metrics: set[str] = set()
        for j, t in enumerate(m.targets):
            if t.metric in metrics:
                problems.append(
                    doc.problem((*at, "targets", j, "metric"), f"metric {t.metric!r} repeats")
                )
            metrics.add(t.metric)
            problems += _target_units(doc, (*at, "targets", j), t)
        tasks: set[str] = set()
        for j, task in enumerate(m.tasks):
            if task.id in tasks:
                problems.append(
                    doc.problem((*at, "tasks", j, "id"), f"duplicate task id {task.id!r}")
                )
            tasks.add(task.id)
            problems += _dates_in_order(doc, (*at, "tasks", j), task.start, task.deadline)
    problems += _supervised_count(doc, spec)
    table = default_table()
    if spec.statuses is not None:
        try:
            table = check_table(doc, ("statuses",))
        except RuleSetError as exc:
            problems += exc.problems
    if problems:
        raise RuleSetError(problems)
    return Plan.of(spec, doc.file, table)


def load_plan(path: str | Path) -> Plan:
    """Load and check one plan file."""
    return check_plan(load_yaml(path))
