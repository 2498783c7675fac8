"""The pydantic model of an indicator-system file (top-level key `system:`).

A system declares its component formulas (`transforms`, in the expression language), the text
values that stand for a score (`special_values`), its topics as trees of groups and components
with best and worst frontiers, the overall aggregation, and optionally a dataset of published
rows and the rank-table editions built from it. `extends:` adds topics to another system.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

_Model = ConfigDict(extra="forbid", frozen=True)
ID = r"^[a-z][a-z0-9_]*$"
SYSTEM_ID = r"^[a-z0-9][a-z0-9_.-]*$"

Aggregate = Literal["mean", "weighted_mean", "index_sum"]


class Title(BaseModel):
    """A name in English and, optionally, Chinese."""

    model_config = _Model
    en: Annotated[str, Field(min_length=1)]
    zh: str | None = None


class SpecialValueDef(BaseModel):
    """A text published instead of a number: it either scores a fixed value or is not applicable."""

    model_config = _Model
    score: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    not_applicable: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _one_meaning(self) -> SpecialValueDef:
        if (self.score is None) == (not self.not_applicable):
            raise ValueError("give either `score` or `not_applicable: true`")
        return self


class ComponentDef(BaseModel):
    """One measured indicator and how it becomes a 0-100 score."""

    model_config = _Model
    id: Annotated[str, Field(pattern=ID)]
    title: Title
    unit: Annotated[str, Field(min_length=1)]
    best: Decimal
    worst: Decimal
    direction: Literal["lower_is_better", "higher_is_better"] | None = None
    transform: str = "linear"
    rounding: Literal["exact", "last_digit"] = "last_digit"
    column: str | None = None
    score_column: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _frontiers(self) -> ComponentDef:
        if self.best == self.worst:
            raise ValueError("best and worst must differ")
        derived = "lower_is_better" if self.best < self.worst else "higher_is_better"
        if self.direction is not None and self.direction != derived:
            raise ValueError(f"direction {self.direction} contradicts best and worst ({derived})")
        return self


def _part_kind(data: Any) -> str:
    if isinstance(data, dict):
        return "group" if "parts" in data else "component"
    return "group" if hasattr(data, "parts") else "component"


class GroupDef(BaseModel):
    """A topic or sub-index: an aggregation of components and groups."""

    model_config = _Model
    id: Annotated[str, Field(pattern=ID)]
    title: Title
    aggregate: Aggregate = "mean"
    weights: dict[str, Annotated[Decimal, Field(gt=0)]] | None = None
    column: str | None = None
    note: str | None = None
    parts: Annotated[
        list[
            Annotated[
                Annotated[GroupDef, Tag("group")] | Annotated[ComponentDef, Tag("component")],
                Discriminator(_part_kind),
            ]
        ],
        Field(min_length=1),
    ]


class OverallDef(BaseModel):
    """How topic scores aggregate into the overall score (all topics unless `topics` names some)."""

    model_config = _Model
    id: Annotated[str, Field(pattern=ID)]
    title: Title
    aggregate: Literal["mean", "weighted_mean"] = "mean"
    weights: dict[str, Annotated[Decimal, Field(gt=0)]] | None = None
    topics: list[str] | None = None
    column: str | None = None
    ranked_as: str | None = (
        None  # place this overall in the table of another node (e.g. the DB score)
    )


class DatasetDef(BaseModel):
    """A CSV of published rows (paths relative to the system file)."""

    model_config = _Model
    file: str
    code: str
    year: str
    name: str
    rank: str | None = None
    ranked_in: int | None = None
    two_city: str | None = None


class EditionDef(BaseModel):
    """A rank table: the dataset's rows of one year for the ranked economies."""

    model_config = _Model
    year: int
    note: str | None = None


class SystemFile(BaseModel):
    """An indicator-system file."""

    model_config = _Model
    system: Annotated[str, Field(pattern=SYSTEM_ID)]
    title: Title
    source: str | None = None
    example: bool = False
    note: str | None = None
    extends: str | None = None
    transforms: dict[str, str] = Field(default_factory=dict)
    special_values: dict[str, SpecialValueDef] = Field(default_factory=dict)
    dataset: DatasetDef | None = None
    editions: dict[str, EditionDef] = Field(default_factory=dict)
    overall: OverallDef
    topics: list[GroupDef] = Field(default_factory=list)
