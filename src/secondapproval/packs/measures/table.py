"""The status table: a first-match decision table turned into a matter the Engine decides.

Each row becomes a rule of an in-memory matter whose facts are the derived facts of a measure;
`check_matter` checks it (errors point at the table's own file and line) and an `Engine` decides
it, so a status carries the per-rule results and reasons of any approval decision.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...decision import Decision
from ...engine import Engine
from ...errors import RuleSetError
from ...registry import DataSource, Registry
from ...ruleset import Matter, check_matter
from ...status import PASSED
from ...text import Text
from ...trust import VOUCH_ALL
from ...yamlfile import Located, Path_, parse_yaml, problems_from_validation

StatusName = Literal["not_started", "on_track", "at_risk", "overdue", "achieved"]
MATTER_ID = "measure-status"
EVENTS_SOURCE = "measure-events"
_REGISTRY = Registry(
    [
        DataSource(
            id=EVENTS_SOURCE,
            office=Text(zh="计划与进展报告", en="the plan and its progress reports"),
            authoritative=True,
        )
    ]
)
_Model = ConfigDict(extra="forbid", frozen=True)


class Row(BaseModel):
    """One row: a condition over the derived facts and the status it gives."""

    model_config = _Model
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    status: StatusName
    when: Annotated[str, Field(min_length=1)]
    says: Text


class TableFile(BaseModel):
    """A status table as written (the pack's `statuses.yaml` or a plan's `statuses:`)."""

    model_config = _Model
    facts: dict[str, dict[str, Any]]
    rows: Annotated[list[Row], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class StatusTable:
    """A checked table: its rows and the Engine that decides them."""

    rows: tuple[Row, ...]
    matter: Matter
    engine: Engine

    def decide(self, facts: dict[str, Any], on: dt.date) -> tuple[Row | None, Decision]:
        """The first row whose rule passed (None if none did), and the whole decision."""
        decision = self.engine.decide(MATTER_ID, facts, on=on)
        for row, code in zip(self.rows, decision.statuses, strict=True):
            if code == PASSED:
                return row, decision
        return None, decision


def _as_matter(table: TableFile, origin: str) -> dict[str, Any]:
    facts = {
        path: spec if "derive" in spec else {**spec, "source": EVENTS_SOURCE}
        for path, spec in table.facts.items()
    }
    return {
        "matter": MATTER_ID,
        "title": {"zh": "措施状态表", "en": "measure status table"},
        "version": "1",
        "effective": {"from": "1900-01-01"},
        "note": f"built from {origin}",
        "facts": facts,
        "rules": [
            {
                "id": row.id,
                "when": row.when,
                "says": row.says.model_dump(),
                "refer": {
                    "code": row.id.upper().replace("-", "_"),
                    "zh": f"不适用：{row.says.zh}",
                    "en": f"does not apply: {row.says.en}",
                },
            }
            for row in table.rows
        ],
    }


def _moved(doc: Located, prefix: Path_) -> dict[Path_, tuple[int, int]]:
    """The table's marks re-keyed to the matter's paths (`rows` → `rules`)."""
    out: dict[Path_, tuple[int, int]] = {}
    n = len(prefix)
    for path, mark in doc.marks.items():
        if path[:n] != prefix:
            continue
        rest = path[n:]
        if rest[:1] == ("rows",):
            rest = ("rules", *rest[1:])
        out[rest] = mark
    return out


def check_table(doc: Located, prefix: Path_ = ()) -> StatusTable:
    """Check a status table found at `prefix` of a document; RuleSetError with located problems."""
    data: Any = doc.data
    for key in prefix:
        data = data[key]
    try:
        table = TableFile.model_validate(data)
    except ValidationError as exc:
        raise RuleSetError(problems_from_validation(exc, doc, prefix)) from None
    located = Located(_as_matter(table, doc.file), doc.file, _moved(doc, prefix))
    matter = check_matter(located, _REGISTRY)
    # The pack gives the table's facts itself, computed from the plan and its reports: it vouches.
    return StatusTable(tuple(table.rows), matter, Engine([matter], vouch=VOUCH_ALL))


@functools.cache
def default_table() -> StatusTable:
    """The pack's own table (`statuses.yaml`), checked once (an immutable value)."""
    text = resources.files(__package__).joinpath("statuses.yaml").read_text(encoding="utf-8")
    return check_table(parse_yaml(text, "secondapproval/packs/measures/statuses.yaml"))
