"""Values files: one economy's or district's measured component values (any subset).

JSON: `{"name": "...", "values": {"<component id>": 12.5, ...}}` (or the `values` object alone).
CSV: a header `component,value` and one row per component. A value is a number (JSON numbers
and numeric text are read exactly, as decimals) or a text the system declares (`No Practice`).
Unknown component ids and unusable values are reported all at once with their line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ...errors import Problem, RuleSetError
from .dataset import Value, parse_value
from .system import System


class ValuesError(RuleSetError):
    """A values file cannot be read or names unknown components or unusable values."""

    def _render(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in values file"
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)


@dataclass(frozen=True, slots=True)
class Values:
    """Checked values of one economy or district."""

    name: str
    values: Mapping[str, Value]


def _line_of(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    return None


def check_values(
    system: System, raw: Mapping[str, Any], file: str, lines: Mapping[str, int | None]
) -> dict[str, Value]:
    """Values keyed by component id; every problem is a `ValuesError`."""
    problems: list[Problem] = []
    out: dict[str, Value] = {}
    for key, v in raw.items():
        line = lines.get(key)
        if key not in system.components:
            problems.append(
                Problem(f"no component {key!r} in system {system.id!r}", file, line, None, key)
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
                    key,
                )
            )
            continue
        out[key] = value
    if problems:
        raise ValuesError(problems)
    return out


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
    raw = data.get("values", data) if isinstance(data.get("values"), dict) else data
    raw = {k: v for k, v in raw.items() if k not in ("name", "system", "note")}
    lines = {k: _line_of(text, k) for k in raw}
    return Values(str(name), check_values(system, raw, str(p), lines))


def _csv(system: System, text: str, file: str) -> Values:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"component", "value"} <= set(reader.fieldnames):
        raise ValuesError([Problem("a values CSV has the header `component,value`", file, 1)])
    raw: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    for i, rec in enumerate(reader, start=2):
        raw[rec["component"].strip()] = rec["value"]
        lines[rec["component"].strip()] = i
    return Values(Path(file).stem, check_values(system, raw, file, lines))
