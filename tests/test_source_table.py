"""The `table` adapter over CSV, JSON Lines and Parquet: typed cells, keys, errors with lines."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from secondapproval.sources.contract import Adapter, Answer, NotFound, Unavailable
from secondapproval.sources.table import Table, TableSettings

CSV = """\
id_number,name,born,credits,honours,fee,extra,certificate
110101199003074514,Li Lei,1990-03-07,120,true,1250.50,"{""level"": 2}",C-1
110101199204085521,Han Meimei,1992-04-08,98,false,,,C-2
"""
LI_LEI = {
    "id_number": "110101199003074514",
    "name": "Li Lei",
    "born": "1990-03-07",
    "credits": 120,
    "honours": True,
    "fee": "1250.50",
    "extra": {"level": 2},
    "certificate": "C-1",
}
TYPES = {"born": "date", "credits": "int", "honours": "bool", "fee": "decimal", "extra": "json"}


def table(path: Path, **options: Any) -> Table:
    """A table adapter over `path`, its settings validated as the deployment loader does."""
    options = {"path": str(path), "key": ["id_number"], **options}
    settings = TableSettings.model_validate(options, context={"folder": path.parent})
    return Table("certificates", settings, timeout=1.0)


def lookup(adapter: Table, **key: Any) -> Answer:
    return asyncio.run(adapter.lookup(key))


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_row_is_found_with_its_cells_typed(tmp_path: Path) -> None:
    """A typed CSV row comes back as JSON values: int, bool, decimal and date as text, json read."""
    adapter = table(write_csv(tmp_path / "c.csv", CSV), columns=TYPES, reference="certificate")
    answer = lookup(adapter, id_number="110101199003074514")
    assert dict(answer.record) == LI_LEI
    assert answer.reference == "C-1"


def test_an_empty_cell_is_absent_from_the_record(tmp_path: Path) -> None:
    """Han Meimei's fee and extra cells are empty: the record has no such fields."""
    adapter = table(write_csv(tmp_path / "c.csv", CSV), columns=TYPES)
    record = lookup(adapter, id_number="110101199204085521").record
    assert "fee" not in record
    assert "extra" not in record
    assert record["honours"] is False


def test_a_column_not_typed_stays_text(tmp_path: Path) -> None:
    """Without `columns`, every cell is a string, numbers and booleans included."""
    record = lookup(table(write_csv(tmp_path / "c.csv", CSV)), id_number="110101199003074514")
    assert record.record["credits"] == "120"
    assert record.record["honours"] == "true"


def test_a_key_given_as_int_or_str_finds_the_same_row(tmp_path: Path) -> None:
    """The key is compared as its str(): 110101199003074514 and "110101199003074514" are one."""
    adapter = table(write_csv(tmp_path / "c.csv", CSV))
    assert lookup(adapter, id_number=110101199003074514) == lookup(
        adapter, id_number="110101199003074514"
    )


def test_an_absent_key_is_not_found(tmp_path: Path) -> None:
    """A key no row has: NotFound, as for a key of a type no row can have (a boolean)."""
    adapter = table(write_csv(tmp_path / "c.csv", CSV))
    with pytest.raises(NotFound):
        lookup(adapter, id_number="000000000000000000")
    with pytest.raises(NotFound):
        lookup(adapter, id_number=True)


def test_a_key_without_a_key_column_is_unavailable(tmp_path: Path) -> None:
    """A lookup that does not give the key column is a deployment mistake, never NotFound."""
    with pytest.raises(Unavailable, match="id_number"):
        lookup(table(write_csv(tmp_path / "c.csv", CSV)), person="x")


def test_a_key_of_two_columns(tmp_path: Path) -> None:
    """`key: [school, student]` finds a row by both values."""
    path = write_csv(tmp_path / "c.csv", "school,student,grade\nA,1,x\nA,2,y\nB,1,z\n")
    adapter = table(path, key=["school", "student"])
    assert lookup(adapter, school="B", student=1).record["grade"] == "z"
    with pytest.raises(NotFound):
        lookup(adapter, school="B", student=2)


def test_the_digest_is_the_sha256_of_the_rows_canonical_json(tmp_path: Path) -> None:
    """The digest: SHA-256 of the row as JSON with sorted keys, the same on every lookup and for
    a second adapter over the same file."""
    path = write_csv(tmp_path / "c.csv", CSV)
    answer = lookup(table(path, columns=TYPES), id_number="110101199003074514")
    canonical = json.dumps(LI_LEI, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert answer.digest == hashlib.sha256(canonical.encode()).hexdigest()
    again = lookup(table(path, columns=TYPES), id_number="110101199003074514")
    assert again.digest == answer.digest


def test_a_record_is_a_copy(tmp_path: Path) -> None:
    """Changing an answer's record (even a nested value) never changes the next answer."""
    adapter = table(write_csv(tmp_path / "c.csv", CSV), columns=TYPES)
    first = lookup(adapter, id_number="110101199003074514").record
    assert isinstance(first, dict)
    first["name"] = "changed"
    first["extra"]["level"] = 99
    assert dict(lookup(adapter, id_number="110101199003074514").record) == LI_LEI


@pytest.mark.parametrize(
    ("column", "kind", "cell"),
    [
        ("credits", "int", "12a"),
        ("credits", "int", "1.0"),
        ("credits", "int", " 12"),
        ("honours", "bool", "True"),
        ("honours", "bool", "1"),
        ("fee", "decimal", "1e5"),
        ("fee", "decimal", "NaN"),
        ("fee", "decimal", "12."),
        ("born", "date", "1990-3-7"),
        ("born", "date", "19900307"),
        ("born", "date", "1990-02-30"),
        ("extra", "json", "{level: 2}"),
        ("extra", "json", "123456789012345678901234567890"),
    ],
)
def test_a_bad_cell_is_refused_with_its_line(
    tmp_path: Path, column: str, kind: str, cell: str
) -> None:
    """A cell that is not of its column's type stops the table at construction, naming the file,
    the line and the column."""
    path = write_csv(tmp_path / "c.csv", f"id_number,{column}\n1,{_good(kind)}\n2,{cell}\n")
    with pytest.raises(ValueError, match=rf"c\.csv, line 3: {column}\b"):
        table(path, columns={column: kind})


def _good(kind: str) -> str:
    return {"int": "1", "bool": "true", "decimal": "1.5", "date": "2000-01-01", "json": "1"}[kind]


def test_a_duplicate_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    """Two rows with one key: the second is refused, and the first's line is named."""
    path = write_csv(tmp_path / "c.csv", "id_number,name\n1,a\n2,b\n1,c\n")
    with pytest.raises(ValueError, match=r"c\.csv, line 4: the key \('1'\) is also at .*line 2"):
        table(path)


def test_lines_count_from_where_a_record_starts(tmp_path: Path) -> None:
    """A quoted cell over two lines: the next record's line is its own first line."""
    path = write_csv(tmp_path / "c.csv", 'id_number,note\n1,"two\nlines"\n1,again\n')
    with pytest.raises(ValueError, match=r"line 4: the key"):
        table(path)


@pytest.mark.parametrize(
    ("text", "options", "error"),
    [
        ("name\nx\n", {}, r"line 1: the header has no key column 'id_number'"),
        ("id_number\n1\n", {"columns": {"age": "int"}}, r"no typed column 'age'"),
        ("id_number\n1\n", {"reference": "cert"}, r"no reference column 'cert'"),
        ("id_number,a,a\n1,2,3\n", {}, r"line 1: the column 'a' is in the header twice"),
        ("id_number,a\n1,2,3\n", {}, r"line 2: 3 cells, the header has 2"),
        ("id_number,a\n1\n", {}, r"line 2: 1 cells, the header has 2"),
        ("id_number,a\n,2\n", {}, r"line 2: no value for the key column 'id_number'"),
        ("", {}, r"line 1: no header row"),
    ],
)
def test_a_bad_csv_file_is_refused(
    tmp_path: Path, text: str, options: dict[str, Any], error: str
) -> None:
    """A missing key column, a header naming a column twice, a row of the wrong length, an empty
    key cell: refused at construction with the line."""
    with pytest.raises(ValueError, match=error):
        table(write_csv(tmp_path / "c.csv", text), **options)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    """A file that is not there is a ValueError naming it, at construction."""
    with pytest.raises(ValueError, match=r"nothing\.csv: cannot read the table"):
        table(tmp_path / "nothing.csv")


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    """Blank lines in a CSV or a JSON Lines file hold no record."""
    csv_table = table(write_csv(tmp_path / "c.csv", "id_number,a\n\n1,x\n\n"))
    jsonl_table = table(write_csv(tmp_path / "j.jsonl", '\n{"id_number": "1", "a": "x"}\n\n'))
    assert len(csv_table) == len(jsonl_table) == 1
    assert lookup(csv_table, id_number="1").record == lookup(jsonl_table, id_number="1").record


def test_a_jsonl_row_is_found_as_written(tmp_path: Path) -> None:
    """JSON Lines: each line an object, its values as written (null kept), an int key found by
    its str()."""
    lines = ['{"id_number": 7, "name": "Li", "spouse": null, "tags": ["a"]}', '{"id_number": 8}']
    adapter = table(write_csv(tmp_path / "p.jsonl", "\n".join(lines)), reference="name")
    answer = lookup(adapter, id_number="7")
    assert dict(answer.record) == {"id_number": 7, "name": "Li", "spouse": None, "tags": ["a"]}
    assert answer.reference == "Li"
    assert lookup(adapter, id_number=8).reference is None


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('["id_number", 1]', r"line 2: a list, not a JSON object"),
        ("42", r"line 2: a int, not a JSON object"),
        ('{"id_number": 1', r"line 2: not JSON"),
        ('{"id_number": 1.5}', r"line 2: the key column 'id_number' holds 1.5"),
        ('{"id_number": true}', r"line 2: the key column 'id_number' holds True"),
        ('{"name": "x"}', r"line 2: no value for the key column 'id_number'"),
        (
            '{"id_number": "2", "n": 123456789012345678901}',
            r"line 2: an integer longer than 64 bits",
        ),
        ('{"id_number": "0"}', r"line 2: the key \('0'\) is also at .*line 1"),
    ],
)
def test_a_bad_jsonl_line_is_refused(tmp_path: Path, line: str, error: str) -> None:
    """A line that is not an object, not JSON, without a usable key, with a number orjson would
    read as a float, or with a key already seen: refused with its line number."""
    path = write_csv(tmp_path / "p.jsonl", '{"id_number": "0"}\n' + line + "\n")
    with pytest.raises(ValueError, match=error):
        table(path)


def write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_parquet_dates_and_decimals_become_json_values(tmp_path: Path) -> None:
    """Parquet: a date and a timestamp as ISO text, a decimal as its text, a null absent."""
    schema = pa.schema(
        [
            ("id_number", pa.string()),
            ("born", pa.date32()),
            ("seen", pa.timestamp("s")),
            ("fee", pa.decimal128(10, 2)),
            ("credits", pa.int64()),
            ("score", pa.float64()),
            ("note", pa.string()),
        ]
    )
    row = {
        "id_number": "1",
        "born": dt.date(1990, 3, 7),
        "seen": dt.datetime(2021, 6, 1, 9, 30),
        "fee": Decimal("1250.50"),
        "credits": 120,
        "score": 0.5,
        "note": None,
    }
    adapter = table(write_parquet(tmp_path / "t.parquet", [row], schema), reference="credits")
    answer = lookup(adapter, id_number="1")
    assert dict(answer.record) == {
        "id_number": "1",
        "born": "1990-03-07",
        "seen": "2021-06-01T09:30:00",
        "fee": "1250.50",
        "credits": 120,
        "score": 0.5,
    }
    assert answer.reference == "120"


def test_the_same_row_in_every_format_gives_the_same_answer(tmp_path: Path) -> None:
    """One row as CSV (typed), JSON Lines and Parquet: one record, one digest."""
    csv_path = write_csv(tmp_path / "c.csv", CSV)
    jsonl_path = write_csv(tmp_path / "j.jsonl", orjson.dumps(LI_LEI).decode() + "\n")
    schema = pa.schema(
        [
            ("id_number", pa.string()),
            ("name", pa.string()),
            ("born", pa.date32()),
            ("credits", pa.int32()),
            ("honours", pa.bool_()),
            ("fee", pa.decimal128(8, 2)),
            ("extra", pa.struct([("level", pa.int64())])),
            ("certificate", pa.string()),
        ]
    )
    typed = {**LI_LEI, "born": dt.date(1990, 3, 7), "fee": Decimal("1250.50")}
    parquet_path = write_parquet(tmp_path / "p.parquet", [typed], schema)
    answers = [
        lookup(table(csv_path, columns=TYPES), id_number="110101199003074514"),
        lookup(table(jsonl_path), id_number="110101199003074514"),
        lookup(table(parquet_path), id_number="110101199003074514"),
    ]
    assert [dict(a.record) for a in answers] == [LI_LEI] * 3
    assert len({a.digest for a in answers}) == 1


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([{"id_number": "1"}, {"id_number": "1"}], r"row 2: the key \('1'\) is also at .*row 1"),
        ([{"id_number": "1", "photo": b"\x89PNG"}], r"row 1: photo: a bytes is not a JSON value"),
        ([{"id_number": "1", "score": float("nan")}], r"row 1: score: nan is not a JSON number"),
        ([{"id_number": None}], r"row 1: no value for the key column 'id_number'"),
        ([{"person": "1"}], r"no column 'id_number'"),
    ],
)
def test_a_bad_parquet_file_is_refused(
    tmp_path: Path, rows: list[dict[str, Any]], error: str
) -> None:
    """A duplicate key, a binary value, a NaN, a null key, a missing key column: refused with the
    row (the first row is 1)."""
    with pytest.raises(ValueError, match=error):
        table(write_parquet(tmp_path / "t.parquet", rows))


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    """A .parquet file holding CSV text: a ValueError, not pyarrow's own exception."""
    with pytest.raises(ValueError, match=r"not a Parquet file"):
        table(write_csv(tmp_path / "t.parquet", CSV))


def test_a_relative_path_is_taken_from_the_deployment_folder(tmp_path: Path) -> None:
    """`path: exports/c.csv` in a deployment file in tmp_path names tmp_path/exports/c.csv."""
    (tmp_path / "exports").mkdir()
    write_csv(tmp_path / "exports" / "c.csv", CSV)
    options = {"path": "exports/c.csv", "key": ["id_number"]}
    settings = TableSettings.model_validate(options, context={"folder": tmp_path})
    assert settings.path == tmp_path / "exports" / "c.csv"
    assert settings.file_format == "csv"
    assert Table("s", settings, timeout=1.0).describe() == "table c.csv"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"path": "t.txt", "key": ["id"]}, r"give format"),
        ({"path": "t.jsonl", "key": ["id"], "columns": {"a": "int"}}, r"columns types CSV"),
        ({"path": "t.csv", "key": []}, r"at least 1"),
        ({"path": "t.csv", "key": ["id", "id"]}, r"twice"),
        ({"path": "t.csv", "key": ["id"], "columns": {"a": "float"}}, r"columns\.a"),
        ({"path": "t.csv", "key": ["id"], "sheet": 1}, r"Extra inputs"),
        ({"path": "t.csv", "key": ["id"], "format": "xlsx"}, r"format"),
    ],
)
def test_bad_settings_are_refused_when_the_file_is_loaded(
    options: dict[str, Any], error: str
) -> None:
    """An unknown suffix without `format`, column types for a typed format, an empty or doubled
    key, an unknown type or option: pydantic refuses them before any file is read."""
    with pytest.raises(ValidationError, match=error):
        TableSettings.model_validate(options)


def test_the_format_option_wins_over_the_suffix(tmp_path: Path) -> None:
    """A JSON Lines export named .txt is read with `format: jsonl`."""
    path = write_csv(tmp_path / "export.txt", '{"id_number": "1"}\n')
    assert len(table(path, format="jsonl")) == 1


def test_a_table_is_an_adapter(tmp_path: Path) -> None:
    """It satisfies the contract's Adapter protocol, and aclose() is harmless."""
    adapter = table(write_csv(tmp_path / "c.csv", CSV))
    assert isinstance(adapter, Adapter)
    asyncio.run(adapter.aclose())
    assert lookup(adapter, id_number="110101199003074514").record["name"] == "Li Lei"


keys = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20)


@given(st.lists(keys, min_size=1, max_size=8, unique=True))
def test_any_text_key_round_trips_through_a_csv_file(values: list[str]) -> None:
    """Keys of any text (commas, quotes, newlines, non-ASCII) written by csv.writer are each found,
    with the row they were written with."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "k.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["id_number", "n"])
            writer.writerows([value, str(n)] for n, value in enumerate(values))
        adapter = table(path)
        for n, value in enumerate(values):
            assert lookup(adapter, id_number=value).record == {"id_number": value, "n": str(n)}
