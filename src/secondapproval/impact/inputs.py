"""What an impact run reads: application files in partitions, and verified audit records.

Application files are split into partitions the workers read themselves, so no input passes
through the process that plans the run and memory is bounded by a partition, not by the input:

- Parquet (pyarrow): consecutive row groups of about `rows` rows; columns `matter` (string),
  `on` (date, or its ISO text), `facts` (the application's canonical JSON text) and, optionally,
  `id` (string); any other column is left unread;
- JSON Lines: runs of `rows` lines found by one pass that counts them; each line an object
  `{"matter", "on", "facts", "id"?}` read by the strict parser (`jsonfile`).

An application without an id is named by its place: `FILE:ROW` (row or line from 1).
Audit logs are verified as `audit verify` does, in one pass by the planning process, and the
records it accepts are cut into partitions of records (`verified_records`): a record no key
vouched for never reaches a worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from .. import jsonfile
from ..audit.canonical import split_sealed
from ..audit.files import LogTarget, log_name
from ..audit.postgres import is_postgres
from ..audit.schema import is_decision
from ..audit.sqlite import is_sqlite
from ..audit.verify import VerifyReport, verify_log
from ..errors import AuditError, FactError, ImpactError
from ..lang.parser import parse_iso_date

FileKind = Literal["parquet", "jsonl"]
PARQUET_COLUMNS = ("matter", "on", "facts")
"""The columns an application Parquet file must have (`id` is optional)."""
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True, slots=True)
class Application:
    """One application of a file: its name, place, matter, date and facts."""

    id: str
    row: int
    """Its row (Parquet) or line (JSON Lines) in the file, from 1."""
    matter: str
    on: dt.date
    facts: Any


@dataclasses.dataclass(frozen=True, slots=True)
class FilePart:
    """A run of an application file: row groups `start…start+count` of a Parquet file, or
    lines `start+1…start+count` of a JSON Lines file beginning at byte `offset`."""

    index: int
    kind: FileKind
    path: str
    start: int
    count: int
    offset: int = 0
    rows: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class RecordPart:
    """Verified audit records of one log, as their JSON texts (the hashed part of each line)."""

    index: int
    log: str
    lines: tuple[int, ...]
    records: tuple[bytes, ...]

    @property
    def rows(self) -> int:
        return len(self.records)


Part = FilePart | RecordPart


def is_log(path: str) -> bool:
    """Whether an input is an audit log: a PostgreSQL URL, a SQLite log, or a JSON Lines file
    whose first line is a sealed record (an application file's lines are not)."""
    if is_postgres(path) or is_sqlite(path):
        return True
    if Path(path).suffix == ".parquet":
        return False
    try:
        with open(path, "rb") as f:
            first = f.readline()
    except OSError as exc:
        raise ImpactError(f"{path}: cannot read: {exc.strerror}") from None
    return split_sealed(first) is not None


def file_parts(path: str, rows: int, first_index: int = 0) -> list[FilePart]:
    """The partitions of an application file (about `rows` applications each)."""
    if Path(path).suffix == ".parquet":
        return _parquet_parts(path, rows, first_index)
    return _jsonl_parts(path, rows, first_index)


def _parquet_parts(path: str, rows: int, first_index: int) -> list[FilePart]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ImpactError(f"{path}: not a Parquet file: {exc}") from None
    names = set(meta.schema.names)
    lacking = [c for c in PARQUET_COLUMNS if c not in names]
    if lacking:
        raise ImpactError(
            f"{path}: no column {', '.join(map(repr, lacking))} (an application file has "
            "matter, on, facts and optionally id)"
        )
    parts: list[FilePart] = []
    start, count, held, at = 0, 0, 0, 0
    for group in range(meta.num_row_groups):
        n = meta.row_group(group).num_rows
        count, held = count + 1, held + n
        if held >= rows or group == meta.num_row_groups - 1:
            parts.append(
                FilePart(first_index + len(parts), "parquet", path, start, count, at, held)
            )
            start, count, at, held = group + 1, 0, at + held, 0
    return parts


def _jsonl_parts(path: str, rows: int, first_index: int) -> list[FilePart]:
    parts: list[FilePart] = []
    line = begun_line = offset = begun_at = 0
    last = b"\n"
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                at = 0
                while (nl := chunk.find(b"\n", at)) >= 0:
                    line, at = line + 1, nl + 1
                    if line - begun_line == rows:
                        index = first_index + len(parts)
                        parts.append(_lines(index, path, begun_line, line, begun_at))
                        begun_line, begun_at = line, offset + at
                offset += len(chunk)
                last = chunk[-1:]
    except OSError as exc:
        raise ImpactError(f"{path}: cannot read: {exc.strerror}") from None
    if offset > begun_at:  # the lines after the last full partition (the last may lack \n)
        end = line + (0 if last == b"\n" else 1)
        parts.append(_lines(first_index + len(parts), path, begun_line, end, begun_at))
    return parts


def _lines(index: int, path: str, first: int, end: int, offset: int) -> FilePart:
    return FilePart(index, "jsonl", path, first, end - first, offset, end - first)


def read_part(part: FilePart) -> list[Application]:
    """The applications of one partition of a file, in file order."""
    if part.kind == "parquet":
        return _read_parquet(part)
    return _read_jsonl(part)


def _read_parquet(part: FilePart) -> list[Application]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(part.path)
    columns = [c for c in ("matter", "on", "facts", "id") if c in pf.schema_arrow.names]
    table = pf.read_row_groups(range(part.start, part.start + part.count), columns=columns)
    facts = table.column("facts")
    if not (pa.types.is_string(facts.type) or pa.types.is_large_string(facts.type)):
        raise ImpactError(f"{part.path}: column 'facts' is {facts.type}, not the JSON text")
    matters = table.column("matter").to_pylist()
    days = _dates(table.column("on").to_pylist(), part)
    ids = table.column("id").to_pylist() if "id" in columns else [None] * len(matters)
    out = []
    for i, (matter, day, text, given) in enumerate(
        zip(matters, days, facts.to_pylist(), ids, strict=True)
    ):
        row = part.offset + i + 1
        if not isinstance(matter, str) or text is None:
            what = "matter" if not isinstance(matter, str) else "facts"
            raise ImpactError(f"{part.path}: row {row}: no {what}")
        raw = text.encode("utf-8")
        name = given if isinstance(given, str) else f"{part.path}:{row}"
        out.append(Application(name, row, matter, day, _facts(raw, part.path, row)))
    return out


def _facts(raw: bytes, path: str, row: int) -> Any:
    try:
        return jsonfile.loads_canonical(raw, name=f"{path}: row {row} [facts]")
    except FactError as exc:
        raise ImpactError(str(exc)) from None


def _dates(values: Sequence[Any], part: FilePart) -> list[dt.date]:
    out = []
    for i, value in enumerate(values):
        if value.__class__ is dt.date:
            out.append(value)
            continue
        try:
            out.append(parse_iso_date(value))
        except (TypeError, ValueError):
            raise ImpactError(
                f"{part.path}: row {part.offset + i + 1} [on]: {value!r} is not a date"
            ) from None
    return out


def _read_jsonl(part: FilePart) -> list[Application]:
    out = []
    with open(part.path, "rb") as f:
        f.seek(part.offset)
        for i in range(part.count):
            line = f.readline()
            number = part.start + i + 1
            if not line.strip():
                continue
            out.append(_application_line(line, part.path, number))
    return out


def _application_line(line: bytes, path: str, number: int) -> Application:
    where = f"{path}:{number}"
    try:
        row = jsonfile.loads(line, name=where)
    except FactError as exc:
        raise ImpactError(str(exc)) from None
    if not isinstance(row, dict):
        raise ImpactError(f"{where}: not a JSON object {{matter, on, facts}}")
    matter, on, given = row.get("matter"), row.get("on"), row.get("id")
    if not isinstance(matter, str):
        raise ImpactError(f"{where} [matter]: no matter id")
    if "facts" not in row:
        raise ImpactError(f"{where} [facts]: no facts")
    try:
        day = parse_iso_date(on) if isinstance(on, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ImpactError(f"{where} [on]: {on!r} is not a date YYYY-MM-DD")
    name = given if isinstance(given, str) else where
    return Application(name, number, matter, day, row["facts"])


# ---- audit logs ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Verification:
    """The report of a log's verification, once its records have all been read."""

    report: VerifyReport | None = None


def verified_records(
    log: LogTarget,
    rows: int,
    first_index: Callable[[], int],
    *,
    key: bytes | None,
    no_head: bool,
    chain_only: bool = False,
    outcome: Verification,
) -> Iterator[RecordPart]:
    """Partitions of the decision records of a log, as `verify_log` accepts them, streamed
    (at most a few partitions are held); `outcome.report` is the verification's when done."""
    name = log_name(log)
    held: queue.Queue[RecordPart | BaseException | None] = queue.Queue(maxsize=4)
    lines: list[int] = []
    records: list[bytes] = []

    def flush() -> None:
        held.put(RecordPart(first_index(), name, tuple(lines), tuple(records)))
        lines.clear()
        records.clear()

    def on_record(line: int, doc: dict[str, Any]) -> None:
        if is_decision(doc):
            lines.append(line)
            records.append(orjson.dumps(doc))
            if len(records) >= rows:
                flush()

    def verify() -> None:
        try:
            outcome.report = verify_log(
                log, key=key, no_head=no_head, chain_only=chain_only, on_record=on_record
            )
            if records:
                flush()
            held.put(None)
        except BaseException as exc:  # handed to the reading side, raised there
            held.put(exc)

    threading.Thread(target=verify, name=f"verify {name}", daemon=True).start()
    while (item := held.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
    if outcome.report is None:  # pragma: no cover - the thread always reports
        raise AuditError(f"{name}: the log was not verified")
