"""Values files: one economy's or district's measured component values (any subset).

JSON: `{"name": "...", "values": {"<component id>": 12.5, ...}}` (or the `values` object alone).
CSV: a header `component,value` and one row per component. A value is a number (JSON numbers
and numeric text are read exactly, as decimals) or a text the system declares (`No Practice`).
Unknown component ids and unusable values are reported all at once with their line.

An economy measured in two (or more) cities, as Doing Business measures the 11 economies of
more than 100 million people, gives `cities` instead of `values`: JSON
`{"cities": {"<city>": {"weight": 0.55, "values": {...}}, ...}}`; CSV a header
`component,<city>,<city>` with a row `weight`. Weights lie strictly between 0 and 1 and sum to 1;
a component is given for every city or for none (a value of one city cannot stand for the
economy; a component given for no city is missing, as in a one-city file).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from ...errors import Problem, RuleSetError
from .dataset import Value, parse_value
from .system import System


class ValuesError(RuleSetError):
    """A values file cannot be read or names unknown components or unusable values."""

    def _render(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in values file"
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)


class City(NamedTuple):
    """One city of an economy measured in several cities: its weight and its checked values."""

    name: str
    weight: Decimal
    values: Mapping[str, Value]


@dataclass(frozen=True, slots=True)
class Values:
    """Checked values of one economy or district, or of each of its cities (then `values` is
    empty and `cities` holds two or more)."""

    name: str
    values: Mapping[str, Value]
    cities: tuple[City, ...] = ()


Locate = Callable[[tuple[str, ...]], int | None]
"""The line of a path under `cities` (`(city,)`, `(city, "weight")`, `(city, "values", id)`)."""

WEIGHT_SUM_TOLERANCE = Decimal("1e-9")
"""How far from 1 the city weights may sum (three thirds written as decimals do not sum to 1)."""


def _line_of(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    return None


def check_values(
    system: System,
    raw: Mapping[str, Any],
    file: str,
    lines: Mapping[str, int | None],
    prefix: str = "",
) -> dict[str, Value]:
    """Values keyed by component id; every problem is a `ValuesError` (its field is
    `prefix` + the component id)."""
    problems: list[Problem] = []
    out: dict[str, Value] = {}
    for key, v in raw.items():
        line = lines.get(key)
        if key not in system.components:
            problems.append(
                Problem(
                    f"no component {key!r} in system {system.id!r}", file, line, None, prefix + key
                )
            )
            continue
        value: Value | None
        if isinstance(v, bool) or v is None:
            value = None
        elif isinstance(v, int | Decimal):
            value = Decimal(v)
        elif isinstance(v, float):
            value = Decimal(repr(v))
        elif isinstance(v, str):
            value = parse_value(v, system.special_values.keys())
        else:
            value = None
        if value is None or (isinstance(value, str) and value not in system.special_values):
            declared = ", ".join(sorted(system.special_values)) or "none"
            problems.append(
                Problem(
                    f"value {v!r} is neither a number nor a declared text ({declared})",
                    file,
                    line,
                    None,
                    prefix + key,
                )
            )
            continue
        out[key] = value
    if problems:
        raise ValuesError(problems)
    return out


def _weight(v: Any) -> Decimal | None:
    """A city weight as a decimal; None unless a finite number (or numeric text)."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | Decimal):
        w = Decimal(v)
    elif isinstance(v, float):
        w = Decimal(repr(v))
    elif isinstance(v, str):
        try:
            w = Decimal(v.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return w if w.is_finite() else None


def _city(
    system: System, name: str, body: Any, file: str, locate: Locate, problems: list[Problem]
) -> City | None:
    """One city's weight and values, or None (its problems appended)."""
    field = f"cities.{name}"
    if not isinstance(body, dict):
        problems.append(
            Problem(
                "a city is an object with `weight` and `values`", file, locate((name,)), None, field
            )
        )
        return None
    for key in sorted(set(body) - {"weight", "values", "note"}):
        problems.append(
            Problem(
                f"unknown key {key!r} (a city has `weight`, `values` and optionally `note`)",
                file,
                locate((name, key)),
                None,
                f"{field}.{key}",
            )
        )
    w = _weight(body.get("weight"))
    where = locate((name, "weight"))
    if w is None:
        got = "no weight" if "weight" not in body else f"weight {body['weight']!r} is not a number"
        problems.append(
            Problem(
                f"{got}: each city has a population weight", file, where, None, f"{field}.weight"
            )
        )
    elif not 0 < w < 1:
        problems.append(
            Problem(
                f"weight {w} is not strictly between 0 and 1", file, where, None, f"{field}.weight"
            )
        )
    raw = body.get("values")
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                "`values` is an object of component values",
                file,
                locate((name, "values")),
                None,
                f"{field}.values",
            )
        )
        return None
    lines = {k: locate((name, "values", k)) for k in raw}
    try:
        values = check_values(system, raw, file, lines, f"{field}.values.")
    except ValuesError as exc:
        problems.extend(exc.problems)
        return None
    return None if w is None or not 0 < w < 1 else City(name, w, values)


def check_cities(system: System, raw: Any, file: str, locate: Locate) -> tuple[City, ...]:
    """The cities of an economy measured in several cities; every problem is a `ValuesError`.

    Each city has a weight strictly between 0 and 1, the weights sum to 1, and every component
    is given for every city or for none.
    """
    top = locate(())
    if not isinstance(raw, dict) or len(raw) < 2:
        raise ValuesError(
            [
                Problem(
                    "`cities` maps two or more city names to their `weight` and `values`"
                    " (for one city give `values` alone)",
                    file,
                    top,
                    None,
                    "cities",
                )
            ]
        )
    problems: list[Problem] = []
    cities = [_city(system, str(name), body, file, locate, problems) for name, body in raw.items()]
    weights = [_weight(b.get("weight")) if isinstance(b, dict) else None for b in raw.values()]
    if all(w is not None for w in weights):
        total = sum((w for w in weights if w is not None), Decimal(0))
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            listed = " + ".join(f"{n} {w}" for n, w in zip(raw, weights, strict=True))
            problems.append(
                Problem(
                    f"the city weights sum to {total} ({listed}), not 1", file, top, None, "cities"
                )
            )
    good = [c for c in cities if c is not None]
    if len(good) == len(cities):
        for cid in system.components:
            present = [c.name for c in good if cid in c.values]
            absent = [c.name for c in good if cid not in c.values]
            if present and absent:
                problems.append(
                    Problem(
                        f"{cid!r} is given for {', '.join(present)} but not for"
                        f" {', '.join(absent)}: give it for every city, or for none (then it is"
                        " missing)",
                        file,
                        locate((present[0], "values", cid)),
                        None,
                        f"cities.{absent[0]}.values.{cid}",
                    )
                )
    if problems:
        raise ValuesError(problems)
    return tuple(good)


def _json_locator(text: str) -> Locate:
    """Lines under `cities` in a JSON text: each key is looked for from its parent's line on
    (the parent's line when it is not found)."""
    lines = text.splitlines()

    def find(key: str, start: int) -> int | None:
        needle = json.dumps(key)
        for i in range(start, len(lines)):
            if needle in lines[i]:
                return i + 1
        return None

    def locate(path: tuple[str, ...]) -> int | None:
        line = find("cities", 0)
        if line is None:
            return None
        for key in path:
            found = find(key, line - 1)
            if found is None:
                return line
            line = found
        return line

    return locate


def load_values(system: System, path: str | Path) -> Values:
    """Read a JSON or CSV values file and check it against `system`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValuesError([Problem(f"cannot read: {exc}", str(p))]) from None
    if p.suffix.lower() == ".csv":
        return _csv(system, text, str(p))
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValuesError(
            [Problem(f"not JSON: {exc.msg}", str(p), exc.lineno, exc.colno)]
        ) from None
    if not isinstance(data, dict):
        raise ValuesError([Problem("a values file is a JSON object", str(p), 1)])
    declared = data.get("system")
    if declared is not None and declared != system.id:
        raise ValuesError(
            [
                Problem(
                    f"values are for system {declared!r}, not {system.id!r}",
                    str(p),
                    _line_of(text, "system"),
                    None,
                    "system",
                )
            ]
        )
    name = data.get("name", p.stem)
    if "cities" in data:
        locate = _json_locator(text)
        if "values" in data:
            raise ValuesError(
                [
                    Problem(
                        "give `values` (one city) or `cities`, not both",
                        str(p),
                        _line_of(text, "values"),
                        None,
                        "values",
                    )
                ]
            )
        return Values(str(name), {}, check_cities(system, data["cities"], str(p), locate))
    raw = data.get("values", data) if isinstance(data.get("values"), dict) else data
    raw = {k: v for k, v in raw.items() if k not in ("name", "system", "note")}
    lines = {k: _line_of(text, k) for k in raw}
    return Values(str(name), check_values(system, raw, str(p), lines))


def _csv(system: System, text: str, file: str) -> Values:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    names = [h.strip() for h in header if h.strip() != "component"]
    if "component" in header and "value" not in header and len(names) >= 2:
        return _csv_cities(system, reader, names, file)
    if not {"component", "value"} <= set(header):
        raise ValuesError(
            [
                Problem(
                    "a values CSV has the header `component,value`"
                    " (or `component,<city>,<city>` with a `weight` row)",
                    file,
                    1,
                )
            ]
        )
    raw: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    for i, rec in enumerate(reader, start=2):
        raw[rec["component"].strip()] = rec["value"]
        lines[rec["component"].strip()] = i
    return Values(Path(file).stem, check_values(system, raw, file, lines))


def _csv_cities(system: System, reader: csv.DictReader[str], names: list[str], file: str) -> Values:
    """A CSV with one column per city and a `weight` row; an empty cell is not given."""
    if len(set(names)) != len(names) or "" in names:
        raise ValuesError([Problem("each city column needs its own name", file, 1, None, "cities")])
    columns = [h for h in reader.fieldnames or [] if h.strip() != "component"]
    cities: dict[str, dict[str, Any]] = {n: {"values": {}} for n in names}
    at: dict[tuple[str, ...], int] = {(n,): 1 for n in names}
    for i, rec in enumerate(reader, start=2):
        key = (rec.get("component") or "").strip()
        for col, name in zip(columns, names, strict=True):
            cell = (rec.get(col) or "").strip()
            if key == "weight":
                cities[name]["weight"] = cell or None
                at[(name, "weight")] = i
            elif cell:
                cities[name]["values"][key] = cell
                at[(name, "values", key)] = i
    for name in names:
        if cities[name].get("weight") is None:
            cities[name].pop("weight", None)
    checked = check_cities(system, cities, file, lambda path: at.get(path, 1))
    return Values(Path(file).stem, {}, checked)
