"""The `table` adapter: an office's records given as a keyed file (CSV, JSON Lines or Parquet).

An office that cannot be reached online often hands over an export: one row per person or
certificate. The deployment file names it, its key columns and, for CSV, the types of its cells:

    certificates:
      adapter: table
      path: exports/degrees.csv        # relative to the deployment file's folder
      key: [id_number]
      columns: {graduated: date, credits: int, honours: bool}
      reference: certificate_no

The file is read once, when the adapter is built, into a dict keyed by the key columns' values;
a lookup is a dict access and never touches the disk. Every problem of the file — a missing key
column, a key given on two rows, a cell that is not of its column's type — is a `ValueError`
naming the file and the line (CSV, JSON Lines: the line the record starts on) or the row
(Parquet: the first row is 1), raised at construction, so a deployment with a bad export never
starts deciding.

Records hold JSON values whatever the format, so every format answers alike:

- CSV cells are text. A column listed in `columns` is read strictly: `int` is `-?[0-9]+`, `bool`
  is exactly `true` or `false`, `decimal` is `-?[0-9]+(.[0-9]+)?` kept as its text (a JSON string,
  never a float), `date` is ISO `YYYY-MM-DD` kept as its text, `json` is parsed as JSON. A column
  not listed stays a string. An empty cell is absent from the record.
- JSON Lines: one object per line (blank lines skipped), read with orjson as written; a `null`
  stays `null`. orjson reads a number with a fraction as a float and keeps the last of a name
  given twice in an object, so an export writes decimals as strings; an integer of more than
  64 bits (which orjson would read as a float) is refused.
- Parquet (pyarrow, imported when a Parquet file is read): a date or a timestamp becomes its ISO
  text, a decimal its text; a null is absent from the record, as an empty CSV cell; a binary
  value or a float that is not finite is refused.

A key value is text or an integer (a boolean, a float, a list is refused in the file); it is
compared as its `str()`, so an application that gives `20210601` or `"20210601"` finds the same
row. A lookup whose value is neither text nor an integer finds nothing (`NotFound`).

The answer is a fresh copy of the row, its digest the SHA-256 of the row's canonical JSON (orjson,
keys sorted), the same on every lookup and for the same row in any of the three formats.

The helpers at the end (`in_folder`, `json_value`, `canonical`, `reference_of`) are shared with
the `sql` adapter, so both read paths and driver values the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from .contract import Answer, NotFound, Unavailable, raw_digest

Format = Literal["csv", "jsonl", "parquet"]
ColumnType = Literal["str", "int", "bool", "decimal", "date", "json"]

SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""The format a file's suffix says, when `format` is not given."""


def in_folder(path: str | Path, info: ValidationInfo) -> Path:
    """A path of the deployment file, made absolute: a relative one is taken from the deployment
    file's folder (`info.context["folder"]`, when the loader gives it), else from the current
    folder at the time the settings are read."""
    base = Path((info.context or {}).get("folder", "."))
    return (base / Path(path).expanduser()).absolute()


Located = Annotated[Path, AfterValidator(in_folder)]
"""A file named in the deployment file (see `in_folder`)."""


class TableSettings(BaseModel):
    """The options of a `table` source in the deployment file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Located
    """The file, absolute once validated (a relative path is from the deployment file's folder)."""
    format: Format | None = None
    """`csv`, `jsonl` or `parquet`; by default the one the suffix says (`SUFFIXES`)."""
    key: list[str] = Field(min_length=1)
    """The key columns: a lookup's key maps each of these names to a value."""
    columns: dict[str, ColumnType] = {}
    """CSV only: the type of a column's cells (a column not listed is text)."""
    reference: str | None = None
    """A column whose value is the answer's reference (a certificate number, a row id)."""

    @property
    def parameters(self) -> frozenset[str]:
        """The key columns: what a lookup's key must give."""
        return frozenset(self.key)

    @property
    def file_format(self) -> Format:
        """The format given, else the one the file's suffix says."""
        if self.format is not None:
            return self.format
        found = SUFFIXES.get(self.path.suffix.lower())
        if found is None:
            known = ", ".join(SUFFIXES)
            raise ValueError(f"{self.path.name}: give format (the suffixes known are {known})")
        return found

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.key)) != len(self.key):
            raise ValueError(f"key names a column twice: {self.key}")
        kind = self.file_format
        if self.columns and kind != "csv":
            raise ValueError(f"columns types CSV cells; a {kind} file has its own types")
        return self


class Table:
    """A keyed file of offline records, read once at construction (see the module's text)."""

    Settings: ClassVar[type[TableSettings]] = TableSettings

    def __init__(self, source: str, settings: TableSettings, *, timeout: float) -> None:
        del timeout  # the file is read here, once: a lookup does no I/O to bound
        self.source = source
        self.settings = settings
        self._rows: dict[tuple[str, ...], tuple[bytes, str | None, str]] = {}
        where_seen: dict[tuple[str, ...], str] = {}
        for where, record in _records(settings):
            key = _row_key(where, record, settings.key)
            if key in where_seen:
                raise ValueError(f"{where}: the key {_shown(key)} is also at {where_seen[key]}")
            where_seen[key] = where
            self._rows[key] = _stored(where, record, settings.reference)

    async def lookup(self, key: Mapping[str, Any]) -> Answer:
        """The row of the key; `NotFound` when the file holds none. The why never repeats the
        key's values (an id number is personal data)."""
        values = []
        for name in self.settings.key:
            if name not in key:
                raise Unavailable(f"the key gives no {name}")
            value = key[name]
            if not _is_key_value(value):
                raise NotFound(f"no row has a {type(value).__name__} for its {name}")
            values.append(str(value))
        found = self._rows.get(tuple(values))
        if found is None:
            raise NotFound("no row for the key")
        raw, reference, digest = found
        return Answer(orjson.loads(raw), reference, digest)

    async def aclose(self) -> None:
        """Nothing to release: the file was closed once read."""

    def describe(self) -> str:
        """`table <file name>`."""
        return f"table {self.settings.path.name}"

    def __len__(self) -> int:
        """The number of rows."""
        return len(self._rows)


def _records(settings: TableSettings) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each record of the file with where it is (`FILE, line N` or `FILE, row N`)."""
    path = settings.path
    try:
        match settings.file_format:
            case "csv":
                yield from _csv(path, settings)
            case "jsonl":
                yield from _jsonl(path)
            case "parquet":
                yield from _parquet(path, settings)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the table: {exc.strerror or exc}") from None


def _csv(path: Path, settings: TableSettings) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path}, line 1: no header row")
            _check_header(f"{path}, line 1", header, settings)
            kinds = [settings.columns.get(name, "str") for name in header]
            start = reader.line_num + 1
            for cells in reader:
                where, start = f"{path}, line {start}", reader.line_num + 1
                if not cells:
                    continue
                if len(cells) != len(header):
                    raise ValueError(f"{where}: {len(cells)} cells, the header has {len(header)}")
                yield (
                    where,
                    {
                        name: _cell(where, name, kind, cell)
                        for name, kind, cell in zip(header, kinds, cells, strict=True)
                        if cell != ""
                    },
                )
        except csv.Error as exc:
            raise ValueError(f"{path}, line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not UTF-8 text") from None


def _check_header(where: str, header: list[str], settings: TableSettings) -> None:
    seen = set()
    for name in header:
        if name in seen:
            raise ValueError(f"{where}: the column {name!r} is in the header twice")
        seen.add(name)
    wanted = {"key column": settings.key, "typed column": list(settings.columns)}
    wanted["reference column"] = [settings.reference] if settings.reference else []
    for what, names in wanted.items():
        for name in names:
            if name not in seen:
                raise ValueError(f"{where}: the header has no {what} {name!r}")


_INT = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _cell(where: str, name: str, kind: ColumnType, cell: str) -> Any:
    """A CSV cell as the JSON value its column's type says."""
    match kind:
        case "str":
            return cell
        case "int" if _INT.fullmatch(cell):
            try:
                return int(cell)
            except ValueError:  # longer than Python reads
                pass
        case "bool" if cell in ("true", "false"):
            return cell == "true"
        case "decimal" if _DECIMAL.fullmatch(cell):
            return cell
        case "date" if _DATE.fullmatch(cell):
            try:
                dt.date.fromisoformat(cell)
            except ValueError:
                pass
            else:
                return cell
        case "json":
            try:
                value = orjson.loads(cell)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{where}: {name} is not JSON ({exc})") from None
            _exact(f"{where}: {name}", value)
            return value
    shown = cell if len(cell) <= 40 else cell[:40] + "…"
    raise ValueError(f"{where}: {name} is {shown!r}, not {_KIND_TEXT[kind]}")


_KIND_TEXT: dict[str, str] = {
    "int": "an integer",
    "bool": "true or false",
    "decimal": "a decimal number (-12.50)",
    "date": "a date YYYY-MM-DD",
}


def _exact(where: str, value: Any) -> None:
    """Refuses an integer that orjson read as a float (it reads one of more than 64 bits so,
    silently): such a number is written as a string in the file."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= _INT64:
        raise ValueError(f"{where}: an integer longer than 64 bits (write it as a string)")
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            _exact(where, item)


_INT64 = 2**63


def _jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            where = f"{path}, line {number}"
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{where}: not JSON ({exc})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{where}: a {type(record).__name__}, not a JSON object")
            _exact(where, record)
            yield where, record


def _parquet(path: Path, settings: TableSettings) -> Iterator[tuple[str, dict[str, Any]]]:
    import pyarrow as pa  # type: ignore[import-untyped]  # (no py.typed in pyarrow)
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        table = pq.read_table(path)
    except OSError:
        raise
    except pa.ArrowException as exc:  # ArrowInvalid: not a Parquet file
        raise ValueError(f"{path}: not a Parquet file ({exc})") from None
    names = set(table.column_names)
    for name in [*settings.key, *([settings.reference] if settings.reference else [])]:
        if name not in names:
            raise ValueError(f"{path}: no column {name!r} (the columns: {sorted(names)})")
    for number, row in enumerate(table.to_pylist(), start=1):
        where = f"{path}, row {number}"
        yield where, {k: _parquet_value(where, k, v) for k, v in row.items() if v is not None}


def _parquet_value(where: str, name: str, value: Any) -> Any:
    try:
        return json_value(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {name}: {exc}") from None


def json_value(value: Any) -> Any:
    """A value a driver gave (pyarrow, sqlite3, psycopg) as JSON: a date, a time or a timestamp
    as ISO text, a decimal or a UUID as its text, lists and mappings item by item. A ValueError
    for what JSON cannot hold as it is: bytes, a float or a decimal that is not finite, any
    other type. Shared with the sql adapter, so every source's records are alike."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
        return value
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    raise ValueError(f"a {type(value).__name__} is not a JSON value")


def canonical(record: Mapping[str, Any]) -> bytes:
    """A record's canonical JSON (orjson, keys sorted): what its digest is taken of. A ValueError
    for an integer of more than 64 bits."""
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise ValueError(str(exc)) from None


def reference_of(record: Mapping[str, Any], column: str | None) -> str | None:
    """The answer's reference: the column's value as text (JSON for what is not a string), or
    None without the option or the value."""
    value = record.get(column) if column else None
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _is_key_value(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _row_key(where: str, record: Mapping[str, Any], names: list[str]) -> tuple[str, ...]:
    values = []
    for name in names:
        if name not in record:
            raise ValueError(f"{where}: no value for the key column {name!r}")
        value = record[name]
        if not _is_key_value(value):
            raise ValueError(f"{where}: the key column {name!r} holds {value!r}, not text or int")
        values.append(str(value))
    return tuple(values)


def _stored(
    where: str, record: dict[str, Any], reference: str | None
) -> tuple[bytes, str | None, str]:
    """A row as kept: its canonical JSON, its reference and its digest."""
    try:
        raw = canonical(record)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return raw, reference_of(record, reference), raw_digest(raw)


def _shown(key: tuple[str, ...]) -> str:
    return "(" + ", ".join(repr(v) for v in key) + ")"
