"""Measure scenario files: a plan, events and the statuses expected as of a date (DESIGN §10).

```yaml
plan: ../../rules/measures/synthetic-demo.yaml   # a path from this file, or a plan id under rules/
on: 2021-03-02
events: events.jsonl                              # a JSON Lines path, or an inline list
cases:
  - name: one day after the deadline the measure is overdue
    on: 2021-04-12                                # optional: the case's own date
    events: [{date: 2021-01-05, kind: progress, measure: S01, values: {days: 90}}]
    expect: {S01: overdue}
    bad_events: 0                                 # how many events must be refused (default 0)
```
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ...errors import Problem, RuleSetError, ScenarioError
from ...scenarios.model import CaseResult, validate_cases
from ...yamlfile import Located, Path_, load_yaml
from .. import ScenarioCase
from .events import EventLog, check_events, read_events
from .plan import Plan, check_plan, load_plan
from .status import MeasureStatus, statuses
from .table import MATTER_ID, StatusName

_Model = ConfigDict(extra="forbid", frozen=True)
Events = list[Any] | str | None


class MeasureCase(BaseModel):
    model_config = _Model
    name: Annotated[str, Field(min_length=1)]
    on: dt.date | None = None
    events: Events = None
    expect: Annotated[dict[str, StatusName], Field(min_length=1)]
    bad_events: Annotated[int, Field(ge=0)] = 0
    note: str | None = None


class MeasureScenario(BaseModel):
    """A measure scenario file."""

    model_config = _Model
    plan: Annotated[str, Field(min_length=1)]
    on: dt.date
    events: Events = None
    description: str | None = None
    cases: Annotated[list[MeasureCase], Field(min_length=1)]


def find_plan(ref: str, scenario_file: str, rules_dir: Path) -> Plan:
    """A plan named by path (from the scenario file's folder) or by id (under `rules_dir`)."""
    if ref.endswith((".yaml", ".yml")):
        return load_plan(Path(scenario_file).parent / ref)
    for f in sorted(rules_dir.rglob("*.y*ml")):
        doc = load_yaml(f)
        if isinstance(doc.data, dict) and doc.data.get("plan") == ref:
            return check_plan(doc)
    raise ScenarioError([Problem(f"no plan {ref!r} under {rules_dir}", scenario_file, 1)])


def _log(plan: Plan, doc: Located, at: Path_, events: Events) -> EventLog:
    if events is None:
        return EventLog(doc.file, (), ())
    if isinstance(events, str):
        return read_events(plan, Path(doc.file).parent / events)
    raw = [(doc.where((*at, k))[0] or 0, item) for k, item in enumerate(events)]
    return check_events(plan, raw, doc.file)


def _diff(expect: Mapping[str, str], got: dict[str, MeasureStatus], bad: int, log: EventLog) -> str:
    lines = []
    for mid, want in sorted(expect.items()):
        st = got.get(mid)
        if st is None:
            lines.append(f"  {mid}: no such measure in the plan")
        elif st.status != want:
            lines.append(f"  {mid}: expected {want}, got {st.status} — {st.why()}")
    if len(log.problems) != bad:
        lines.append(f"  expected {bad} bad events, got {len(log.problems)}:")
        lines += [f"    {p}" for p in log.problems]
    return "\n".join(lines)


def iter_cases(doc: Located, rules_dir: Path) -> Iterator[ScenarioCase]:
    """(name, line, run) for each case of a measure scenario file."""
    scenario = validate_cases(doc, MeasureScenario)
    plans: dict[str, Plan] = {}

    def plan() -> Plan:
        if "plan" not in plans:
            plans["plan"] = find_plan(scenario.plan, doc.file, rules_dir)
        return plans["plan"]

    for i, case in enumerate(scenario.cases):
        line, _ = doc.where(("cases", i))

        def run(case: MeasureCase = case, i: int = i, line: int | None = line) -> CaseResult:
            t0 = time.perf_counter()
            try:
                p = plan()
                if case.events is not None:
                    log = _log(p, doc, ("cases", i, "events"), case.events)
                else:
                    log = _log(p, doc, ("events",), scenario.events)
            except RuleSetError as exc:
                return CaseResult(doc.file, case.name, line, False, str(exc), "measure")
            got = statuses(p, log.events, case.on or scenario.on)
            diff = _diff(case.expect, got, case.bad_events, log)
            first = got.get(next(iter(case.expect)))
            trace = {r.rule: str(r.status) for r in first.decision.results} if first else {}
            return CaseResult(
                doc.file,
                case.name,
                line,
                not diff,
                diff,
                "measure",
                MATTER_ID,
                trace,
                time.perf_counter() - t0,
            )

        yield case.name, line, run
