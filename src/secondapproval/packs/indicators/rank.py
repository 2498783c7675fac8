"""Rank equivalence: where a score would stand in an edition's table, and its neighbours.

An edition (e.g. `DB2020`) is the dataset's rows of one year for the economies ranked in the
dataset's ranking year. A table holds their scores of one node (the overall score or a topic),
either as published or as computed by the pack. A score's rank is one more than the number of
economies with a strictly higher score.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from ...errors import Problem, RuleSetError
from .dataset import Data
from .scoring import Scorer
from .system import System

Source = Literal["published", "computed"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One economy in a rank table."""

    code: str
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class Placement:
    """A score's rank in a table, with the economies just above and just below it."""

    score: float
    rank: int
    of: int
    above: tuple[Entry, ...]
    below: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class RankTable:
    """The scores of one node for the economies of one edition, best first."""

    edition: str
    year: int
    node: str
    source: Source
    entries: tuple[Entry, ...]

    @property
    def median(self) -> float:
        return statistics.median(e.score for e in self.entries)

    @property
    def mean(self) -> float:
        """The arithmetic mean of the table's economies (the "190-economy average")."""
        return statistics.fmean(e.score for e in self.entries)

    def place(self, score: float, exclude: str | None = None, neighbours: int = 2) -> Placement:
        """Where `score` stands; `exclude` leaves one economy's own entry out of the table."""
        others = [e for e in self.entries if e.code != exclude]
        higher = sum(1 for e in others if e.score > score)
        return Placement(
            score,
            higher + 1,
            len(self.entries),
            tuple(others[max(0, higher - neighbours) : higher]),
            tuple(others[higher : higher + neighbours]),
        )


def edition_year(system: System, edition: str) -> int:
    try:
        return system.editions[edition]
    except KeyError:
        known = ", ".join(sorted(system.editions)) or "none"
        raise RuleSetError(
            [
                Problem(
                    f"unknown edition {edition!r} (known: {known})", system.path, field="editions"
                )
            ]
        ) from None


def rank_table(
    system: System,
    data: Data,
    edition: str,
    node: str | None = None,
    source: Source = "published",
    scorer: Scorer | None = None,
) -> RankTable:
    """The table of `node` (default the overall score) for an edition's ranked economies."""
    year = edition_year(system, edition)
    node_id = node or system.overall.id
    entries = []
    scorer = scorer or Scorer(system)
    for code in data.ranked:
        row = data.rows.get((year, code))
        if row is None:
            continue
        score: float | None
        if source == "published":
            text = row.published.get(node_id)
            try:
                score = float(text) if text is not None else None
            except ValueError:
                score = None
        else:
            score = scorer.score_row(data, year, code).by_id[node_id].score
        if score is not None:
            entries.append(Entry(code, row.name, score))
    entries.sort(key=lambda e: (-e.score, e.code))
    return RankTable(edition, year, node_id, source, tuple(entries))
