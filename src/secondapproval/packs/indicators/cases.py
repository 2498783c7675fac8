"""Score scenario files (DESIGN §10): `system:` and cases expecting scores and ranks.

A case's input is a published row (`row: {year, code}`), a values mapping (`values:`), the
cities of an economy measured in several cities (`cities: {<city>: {weight, values}}`, as in a
values file) or a bare score (`score:`, for rank equivalence alone). It expects `overall`
and/or `topics` scores within a tolerance, and/or a `rank` in an edition's table (published
scores by default). A row is ranked among the other economies of the table, never against its
own published entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...errors import SecondApprovalError
from ...scenarios.model import CaseResult, validate_cases
from ...yamlfile import Located
from .dataset import Data, load_data
from .inputs import check_cities, check_values
from .rank import rank_table
from .scoring import Scorecard, Scorer
from .system import System, find_system, load_system

_Model = ConfigDict(extra="forbid", frozen=True)


class Approx(BaseModel):
    """An expected score and how far the computed one may be from it."""

    model_config = _Model
    value: Decimal
    tolerance: Annotated[Decimal, Field(ge=0)] = Decimal(0)


class RankExpect(BaseModel):
    """An expected rank in an edition's table."""

    model_config = _Model
    edition: str
    value: Annotated[int, Field(ge=1)]
    table: Literal["published", "computed"] = "published"


class Expect(BaseModel):
    model_config = _Model
    overall: Approx | None = None
    topics: dict[str, Approx] | None = None
    rank: RankExpect | None = None
    missing: list[str] | None = None

    @model_validator(mode="after")
    def _something(self) -> Expect:
        if self.overall is None and not self.topics and self.rank is None and self.missing is None:
            raise ValueError("expect at least one of overall, topics, rank, missing")
        return self


class RowRef(BaseModel):
    model_config = _Model
    year: int
    code: Annotated[str, Field(min_length=1)]


class ScoreCase(BaseModel):
    model_config = _Model
    name: Annotated[str, Field(min_length=1)]
    row: RowRef | None = None
    values: dict[str, Any] | None = None
    cities: dict[str, Any] | None = None
    score: Decimal | None = None
    expect: Expect
    note: str | None = None

    @model_validator(mode="after")
    def _one_input(self) -> ScoreCase:
        given = [k for k in ("row", "values", "cities", "score") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one input: row, values, cities or score")
        if self.score is not None and (self.expect.topics or self.expect.missing is not None):
            raise ValueError("a bare score can only expect a rank (and its overall)")
        return self


class ScoreScenarioFile(BaseModel):
    model_config = _Model
    system: str
    description: str | None = None
    cases: Annotated[list[ScoreCase], Field(min_length=1)]


def load_cases(doc: Located) -> ScoreScenarioFile:
    return validate_cases(doc, ScoreScenarioFile)


class _Context:
    """The system, its data and a scorer, loaded on first use and shared by a file's cases."""

    def __init__(self, rules_dir: Path, system_id: str) -> None:
        self.rules_dir = rules_dir
        self.system_id = system_id
        self._system: System | None = None
        self._scorer: Scorer | None = None

    @property
    def system(self) -> System:
        if self._system is None:
            self._system = load_system(find_system(self.rules_dir, self.system_id))
        return self._system

    @property
    def data(self) -> Data:
        return load_data(self.system)

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = Scorer(self.system)
        return self._scorer


def _close(label: str, expected: Approx, actual: float | None, missing: tuple[str, ...]) -> str:
    if actual is None:
        absent = ", ".join(missing) or "-"
        return f"{label}: expected {expected.value}, got no score (missing: {absent})"
    if abs(Decimal(repr(actual)) - expected.value) > expected.tolerance:
        return f"{label}: expected {expected.value} ± {expected.tolerance}, got {actual:.6f}"
    return ""


def run_case(ctx: _Context, case: ScoreCase, doc: Located, index: int) -> list[str]:
    """The differences between a case's expectation and what the pack computes."""
    system = ctx.system
    card: Scorecard | None = None
    exclude = None
    if case.row is not None:
        card = ctx.scorer.score_row(ctx.data, case.row.year, case.row.code)
        exclude = case.row.code
    elif case.values is not None:
        lines = {k: doc.where(("cases", index, "values", k))[0] for k in case.values}
        card = ctx.scorer.score_values(
            check_values(system, case.values, doc.file, lines), case.name
        )
    elif case.cities is not None:

        def locate(path: tuple[str, ...]) -> int | None:
            return doc.where(("cases", index, "cities", *path))[0]

        cities = check_cities(system, case.cities, doc.file, locate)
        card = ctx.scorer.score_cities(cities, case.name)
    overall = card.overall if card is not None else float(case.score or 0)
    missing = card.missing if card is not None else ()
    diffs = []
    e = case.expect
    if e.overall is not None:
        diffs.append(_close("overall", e.overall, overall, missing))
    for topic, want in (e.topics or {}).items():
        if card is None or topic not in card.by_id:
            diffs.append(f"topic {topic!r}: no such topic in system {system.id!r}")
            continue
        diffs.append(_close(f"topic {topic}", want, card.by_id[topic].score, missing))
    if e.missing is not None and sorted(e.missing) != sorted(missing):
        diffs.append(f"missing: expected {sorted(e.missing)}, got {sorted(missing)}")
    if e.rank is not None:
        if overall is None:
            diffs.append("rank: no overall score to rank")
        else:
            table = rank_table(
                system, ctx.data, e.rank.edition, system.rank_node, e.rank.table, ctx.scorer
            )
            place = table.place(overall, exclude)
            if place.rank != e.rank.value:
                near = ", ".join(f"{x.name} {x.score:.5f}" for x in (*place.above, *place.below))
                diffs.append(
                    f"rank in {e.rank.edition} ({e.rank.table}): expected {e.rank.value}, got "
                    f"{place.rank} for {overall:.5f} (neighbours: {near})"
                )
    return [d for d in diffs if d]


def iter_cases(
    doc: Located, rules_dir: Path
) -> Iterator[tuple[str, int | None, Callable[[], CaseResult]]]:
    """The cases of one score scenario file, each run lazily."""
    scenario = load_cases(doc)
    ctx = _Context(Path(rules_dir).resolve(), scenario.system)
    for i, case in enumerate(scenario.cases):
        line = doc.where(("cases", i))[0]

        def run(case: ScoreCase = case, i: int = i, line: int | None = line) -> CaseResult:
            started = time.perf_counter()
            try:
                diffs = run_case(ctx, case, doc, i)
            except SecondApprovalError as exc:
                diffs = [str(exc)]
            return CaseResult(
                doc.file,
                case.name,
                line,
                not diffs,
                "\n".join(diffs),
                "score",
                seconds=time.perf_counter() - started,
            )

        yield case.name, line, run
