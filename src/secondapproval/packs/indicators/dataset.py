"""The published rows of a system's dataset: component values, published scores and ranks.

Reads the CSV named by the system's `dataset:` once per file version. Values become Decimals
(exactly as printed), declared special texts stay strings, empty cells are missing. Economies
measured in two cities are described by the two-city weights file (see `TwoCity`).
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from ...errors import Problem, RuleSetError
from .system import Dataset, System

Value = Decimal | str
"""A measured value: a number, or a text the system declares (e.g. `No Practice`)."""

_MISSING = frozenset({"", "..", "N/A"})


@dataclass(frozen=True, slots=True)
class Row:
    """One economy (or city) in one year, as published."""

    code: str
    year: int
    name: str
    values: dict[str, Value]
    published: dict[str, str]
    rank: int | None


@dataclass(frozen=True, slots=True)
class TwoCity:
    """A national row that is the weighted average of two city rows' scores."""

    nation: str
    first: str
    second: str
    weight: Decimal  # of the first city; the second city has 1 - weight


@dataclass(frozen=True, slots=True)
class Data:
    """All rows of a dataset, and the two-city economies."""

    rows: dict[tuple[int, str], Row]
    two_city: dict[str, TwoCity]
    ranked: tuple[str, ...]

    def row(self, year: int, code: str) -> Row:
        try:
            return self.rows[(year, code)]
        except KeyError:
            raise RuleSetError(
                [Problem(f"no row for year {year}, code {code!r} in the dataset")]
            ) from None

    def years(self) -> list[int]:
        return sorted({y for y, _ in self.rows})


def parse_value(text: str, specials: Collection[str]) -> Value | None:
    """A cell as a value; None when empty. Unknown texts are returned as they are."""
    text = text.strip()
    if text in _MISSING:
        return None
    if text in specials:
        return text
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


def load_data(system: System) -> Data:
    """The dataset of `system` (a RuleSetError if it has none or it cannot be read)."""
    if system.dataset is None:
        raise RuleSetError([Problem(f"system {system.id!r} declares no dataset", system.path)])
    ds = system.dataset
    stamp = _stamp(ds.file), _stamp(ds.two_city) if ds.two_city else None
    columns = tuple((c.id, c.column) for c in system.components.values() if c.column)
    return _load(
        ds, columns, tuple(system.columns.items()), frozenset(system.special_values), stamp
    )


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError as exc:
        raise RuleSetError([Problem(f"cannot read dataset: {exc}", str(path))]) from None
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=4)
def _load(
    ds: Dataset,
    columns: tuple[tuple[str, str], ...],
    scores: tuple[tuple[str, str], ...],
    specials: frozenset[str],
    stamp: object,  # noqa: ARG001 (the file versions: part of the cache key)
) -> Data:
    """Read the dataset; cached by its paths, the columns read and the files' versions."""
    rows: dict[tuple[int, str], Row] = {}
    ranked: list[tuple[int, str]] = []
    try:
        with ds.file.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            wanted = [c for _, c in columns] + [c for _, c in scores if c]
            wanted += [ds.code, ds.year, ds.name] + ([ds.rank] if ds.rank else [])
            absent = sorted({c for c in wanted if c not in header})
            if absent:
                raise RuleSetError(
                    [Problem(f"dataset has no column {c!r}", str(ds.file)) for c in absent]
                )
            for rec in reader:
                year = int(Decimal(rec[ds.year]))
                code = rec[ds.code]
                values = {}
                for cid, col in columns:
                    v = parse_value(rec[col], specials)
                    if v is not None:
                        values[cid] = v
                published = {
                    nid: rec[col].strip() for nid, col in scores if col and rec[col].strip()
                }
                rank_text = rec[ds.rank].strip() if ds.rank else ""
                rank = int(Decimal(rank_text)) if rank_text else None
                rows[(year, code)] = Row(code, year, rec[ds.name], values, published, rank)
                if rank is not None and year == ds.ranked_in:
                    ranked.append((rank, code))
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
        if isinstance(exc, RuleSetError):
            raise
        raise RuleSetError([Problem(f"cannot read dataset: {exc}", str(ds.file))]) from None
    two_city = _two_city(ds.two_city) if ds.two_city else {}
    return Data(rows, two_city, tuple(code for _, code in sorted(ranked)))


def _two_city(path: Path) -> dict[str, TwoCity]:
    out: dict[str, TwoCity] = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for i, rec in enumerate(csv.DictReader(fh), start=2):
                w = Decimal(rec["first_city_weight"])
                if not 0 < w < 1:
                    raise RuleSetError(
                        [Problem("a city weight lies strictly between 0 and 1", str(path), i)]
                    )
                out[rec["economy_code"]] = TwoCity(
                    rec["economy_code"], rec["first_city_code"], rec["second_city_code"], w
                )
    except (OSError, KeyError, InvalidOperation) as exc:
        raise RuleSetError([Problem(f"cannot read two-city weights: {exc!r}", str(path))]) from None
    return out


def derive_weight(
    system: System, nation: Row, first: Row, second: Row, gap: float = 1.0
) -> tuple[float, float]:
    """The first city's weight solved from published scores: national = w·first + (1−w)·second.

    Uses every published score where the cities differ by more than `gap` points; returns the
    median solution and the spread (max − min) of the solutions.
    """
    solutions = []
    for nid, text in nation.published.items():
        a, b = first.published.get(nid), second.published.get(nid)
        try:
            n, x, y = float(text), float(a or "nan"), float(b or "nan")
        except ValueError:
            continue
        if abs(x - y) > gap:
            solutions.append((n - y) / (x - y))
    if not solutions:
        raise RuleSetError(
            [Problem(f"no published score separates the cities of {nation.code}", system.path)]
        )
    return statistics.median(solutions), max(solutions) - min(solutions)
