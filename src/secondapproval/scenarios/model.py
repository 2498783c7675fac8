"""The scenario file model (DESIGN §7): what a file says, how it is validated, what a case gives.

A scenario file names a matter, a date and cases; each case gives facts (the FACTS.json format)
and the expected outcome and reasons. Packs validate their own scenario files (`system:`,
`plan:` …) through `validate_cases` and report through `CaseResult`, so this module imports
neither the engine, the loader nor the packs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ScenarioError
from ..lang.parser import parse_iso_date
from ..yamlfile import Located, problems_from_validation

_Model = ConfigDict(extra="forbid", frozen=True)


def as_date(value: Any) -> dt.date:
    """A scenario file's date: a date as YAML read it, or an ISO YYYY-MM-DD string."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("a date is an ISO YYYY-MM-DD string")
    return parse_iso_date(value)


class Expect(BaseModel):
    """What a case expects: the outcome and the exact set (or a subset) of reason codes."""

    model_config = _Model
    outcome: Literal["approve", "refer"]
    reasons: list[str] | None = None
    reasons_include: list[str] | None = None
    results: dict[str, Literal["passed", "failed", "unknown", "error"]] | None = None
    outputs: dict[str, Any] | None = None
    """An approval's outputs, each as JSON gives it (a number or its string, an ISO date)."""

    @model_validator(mode="after")
    def _consistent(self) -> Expect:
        if self.outcome == "approve" and (self.reasons or self.reasons_include):
            raise ValueError("an approval has no reasons")
        if self.outputs is not None and self.outcome != "approve":
            raise ValueError("only an approval carries outputs")
        if self.reasons is not None and self.reasons_include is not None:
            raise ValueError("give either reasons (the exact set) or reasons_include, not both")
        return self


class Case(BaseModel):
    model_config = _Model
    name: Annotated[str, Field(min_length=1)]
    facts: Any
    expect: Expect
    on: str | None = None
    note: str | None = None


class ScenarioFile(BaseModel):
    """A decision scenario file. Its cases give facts as a caller does, so it says which
    authoritative sources it vouches for (`vouch:` ids, or `all`) or gives a deployment file whose
    adapters (a `table` of records) answer for them (DESIGN, "Trust"); a case's fact of any other
    authoritative source is refused, as the Engine refuses it."""

    model_config = _Model
    matter: str
    on: str
    rules: str | None = None
    vouch: Literal["all"] | list[Annotated[str, Field(min_length=1)]] = []
    deployment: str | None = None
    description: str | None = None
    cases: Annotated[list[Case], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class Setting:
    """What a scenario file asks of the Engine that decides it: a rules folder (None: the
    runner's), the sources it vouches for, a deployment file (None: none). Engines are shared by
    setting."""

    rules: Path | None = None
    vouch: tuple[str, ...] | Literal["all"] = ()
    deployment: Path | None = None

    @classmethod
    def of(cls, scenario: ScenarioFile, file: str) -> Setting:
        here = Path(file).parent
        vouch = scenario.vouch if isinstance(scenario.vouch, str) else tuple(scenario.vouch)
        return cls(
            (here / scenario.rules) if scenario.rules else None,
            vouch,
            (here / scenario.deployment) if scenario.deployment else None,
        )


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The result of one case: passed, or a readable diff of expected and actual."""

    file: str
    name: str
    line: int | None
    passed: bool
    diff: str = ""
    kind: str = "decision"
    matter: str | None = None
    statuses: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


Cases = TypeVar("Cases", bound=BaseModel)


def validate_cases(doc: Located, model: type[Cases]) -> Cases:
    """A scenario document as `model` (whose `cases` have names); repeated case names refused.

    Packs load their own scenario files through this too, so every kind says the same.
    """
    try:
        scenario = model.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation(exc, doc)) from None
    names = [c.name for c in getattr(scenario, "cases", [])]
    dupes = [
        doc.problem(("cases", i, "name"), f"duplicate case name {n!r}")
        for i, n in enumerate(names)
        if names.index(n) != i
    ]
    if dupes:
        raise ScenarioError(dupes)
    return scenario


def load_scenario(doc: Located) -> ScenarioFile:
    """A decision scenario document, its file date and case dates checked."""
    scenario = validate_cases(doc, ScenarioFile)
    problems = []
    for path, text in [(("on",), scenario.on)] + [
        (("cases", i, "on"), c.on) for i, c in enumerate(scenario.cases) if c.on is not None
    ]:
        try:
            as_date(text)
        except ValueError as exc:
            problems.append(doc.problem(path, str(exc)))
    if problems:
        raise ScenarioError(problems)
    return scenario
