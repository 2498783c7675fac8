"""The data-source registry (`rules/sources.yaml`): where facts come from, and who is authoritative.

"Materials the applicant still brings" are the facts whose source is not authoritative; the
measures pack and the guides count them this way. `applicant` and `applicant-commitment`
(告知承诺) are built in and not authoritative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problem, RuleSetError
from .text import Text
from .yamlfile import load_yaml, problems_from_validation

REGISTRY_FILE = "sources.yaml"
ID_PATTERN = r"^[a-z][a-z0-9-]*$"


class DataSource(BaseModel):
    """One data source: the office that holds it and whether the system may rely on it alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    office: Text
    authoritative: bool
    note: str | None = None


class RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sources: list[DataSource]


BUILT_IN: tuple[DataSource, ...] = (
    DataSource(
        id="applicant",
        office=Text(zh="申请人", en="the applicant"),
        authoritative=False,
        note="declared by the applicant",
    ),
    DataSource(
        id="applicant-commitment",
        office=Text(
            zh="申请人（告知承诺）", en="the applicant, under a notify-and-commit pledge (告知承诺)"
        ),
        authoritative=False,
        note="declared under 告知承诺制 (国办发〔2020〕42号)",
    ),
)


class Registry(Mapping[str, DataSource]):
    """The data sources by id, built-ins included."""

    def __init__(self, sources: Iterable[DataSource] = (), text: str | None = None) -> None:
        self._by_id = {s.id: s for s in (*BUILT_IN, *sources)}
        self.text = text
        """The `sources.yaml` it was read from (None: built in Python, or the built-ins only),
        kept so an audit trail can store it beside its matters wherever they were loaded."""

    def __getitem__(self, key: str) -> DataSource:
        return self._by_id[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def authoritative(self, source_id: str) -> bool:
        src = self._by_id.get(source_id)
        return bool(src and src.authoritative)


def load_registry(path: str | Path) -> Registry:
    """Read a `sources.yaml`; a missing file gives the built-in sources only."""
    p = Path(path)
    if not p.exists():
        return Registry()
    doc = load_yaml(p)
    try:
        model = RegistryFile.model_validate(doc.data)
    except ValidationError as exc:
        raise RuleSetError(problems_from_validation(exc, doc)) from None
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, s in enumerate(model.sources):
        if s.id in seen or s.id in {b.id for b in BUILT_IN}:
            problems.append(doc.problem(("sources", i, "id"), f"duplicate data source {s.id!r}"))
        seen.add(s.id)
    if problems:
        raise RuleSetError(problems)
    return Registry(model.sources, text=doc.text)
