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
MEASURED = (*REDUCTIONS, "auto_share")
"""Metric kinds the library can measure from the matters and the audit log."""

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


def known(day: dt.date | str) -> dt.date | None:
    """A date, or None where the plan says `unknown`."""
    return day if isinstance(day, dt.date) else None


def _dates_in_order(
    doc: Located, at: tuple[str | int, ...], start: object, deadline: object
) -> list[Problem]:
    if isinstance(start, dt.date) and isinstance(deadline, dt.date) and deadline < start:
        return [doc.problem((*at, "deadline"), f"deadline {deadline} is before start {start}")]
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
            if t.matters is not None and t.metric not in MEASURED:
                problems.append(
                    doc.problem(
                        (*at, "targets", j, "matters"),
                        f"only {', '.join(MEASURED)} can be measured from matters",
                    )
                )
        tasks: set[str] = set()
        for j, task in enumerate(m.tasks):
            if task.id in tasks:
                problems.append(
                    doc.problem((*at, "tasks", j, "id"), f"duplicate task id {task.id!r}")
                )
            tasks.add(task.id)
            problems += _dates_in_order(doc, (*at, "tasks", j), task.start, task.deadline)
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
