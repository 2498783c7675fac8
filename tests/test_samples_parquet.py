"""`secondapproval samples`: N applications of one matter at a stated mix, streamed to Parquet.

The file's columns and settings, the same bytes from the same seed, the realised shares near the
stated rates, each row's category confirmed by deciding it again, and the command's errors.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from reference import RULES, SCENARIOS  # noqa: E402
from secondapproval import Engine  # noqa: E402
from secondapproval.cli import main  # noqa: E402
from secondapproval.errors import SamplesError  # noqa: E402
from secondapproval.samples import (  # noqa: E402
    FAILING,
    INVALID,
    METADATA_KEY,
    MISSING,
    VALID,
    SampleReport,
    Seed,
    category_of,
    failable_rules,
    seeds_from_scenarios,
    stated_rates,
    write_samples,
)

MATTER = "longevity-allowance-guangzhou"
RULE_IDS = ("guangzhou-hukou", "aged-70-or-over", "information-confirmed")
COLUMNS = ["matter", "on", "id", "facts", "category"]


@pytest.fixture(scope="module")
def seeds(bundled_engine: Engine) -> list[Seed]:
    return [s for s in seeds_from_scenarios([SCENARIOS], bundled_engine) if s.matter == MATTER]


def write(
    engine: Engine, seeds: list[Seed], out: Path, n: int = 5_000, **kw: object
) -> SampleReport:
    options: dict[str, object] = {"pool": 600, "row_group": 2_048, **kw}
    return write_samples(engine, MATTER, n, out, seeds=seeds, **options)  # type: ignore[arg-type]


def test_the_file_has_the_columns_the_rows_and_the_settings(
    bundled_engine: Engine, seeds: list[Seed], tmp_path: Path
) -> None:
    out = tmp_path / "s.parquet"
    report = write(bundled_engine, seeds, out, n=5_000)
    file = pq.ParquetFile(out)
    schema = file.schema_arrow
    assert schema.names == COLUMNS
    assert [str(t) for t in schema.types] == ["string", "date32[day]", "string", "string", "string"]
    assert file.metadata.num_rows == report.rows == 5_000
    assert file.metadata.num_row_groups == 3  # 2,048 rows at most in each
    meta = json.loads(schema.metadata[METADATA_KEY.encode()])
    assert meta["seed"] == 2019
    assert meta["counts"] == report.counts
    assert sum(meta["counts"].values()) == 5_000
    assert sum(meta["pool"].values()) == sum(report.pool.values()) >= 590
    assert set(meta["requested"]) == {VALID, MISSING, INVALID, *(FAILING + r for r in RULE_IDS)}
    table = file.read()
    assert set(table.column("matter").to_pylist()) == {MATTER}
    assert all(isinstance(d, dt.date) for d in table.column("on").to_pylist()[:50])


def test_the_same_seed_writes_the_same_bytes_and_another_seed_others(
    bundled_engine: Engine, seeds: list[Seed], tmp_path: Path
) -> None:
    one, two, other = tmp_path / "1.parquet", tmp_path / "2.parquet", tmp_path / "3.parquet"
    write(bundled_engine, seeds, one, seed=7)
    write(bundled_engine, seeds, two, seed=7)
    write(bundled_engine, seeds, other, seed=8)
    assert one.read_bytes() == two.read_bytes()
    assert one.read_bytes() != other.read_bytes()


def test_json_lines_are_the_same_rows_as_the_parquet_file(
    bundled_engine: Engine, seeds: list[Seed], tmp_path: Path
) -> None:
    parquet, lines = tmp_path / "s.parquet", tmp_path / "s.jsonl"
    write(bundled_engine, seeds, parquet, n=3_000)
    write(bundled_engine, seeds, lines, n=3_000)
    rows = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    table = pq.read_table(parquet).to_pylist()
    assert len(rows) == len(table) == 3_000
    for row, expected in zip(rows[:300], table, strict=False):
        assert list(row) == ["facts", "id", "matter", "on"]
        assert row["id"] == expected["id"]
        assert row["on"] == expected["on"].isoformat()
        assert row["facts"] == orjson.loads(expected["facts"])
    write(bundled_engine, seeds, tmp_path / "again.jsonl", n=3_000)
    assert (tmp_path / "again.jsonl").read_bytes() == lines.read_bytes()


def test_realised_shares_are_near_the_stated_rates_and_rows_decide_as_stated(
    bundled_engine: Engine, seeds: list[Seed], tmp_path: Path
) -> None:
    out = tmp_path / "s.parquet"
    rates = stated_rates(RULE_IDS, valid=0.5, missing=0.2, invalid=0.1)
    report = write(bundled_engine, seeds, out, n=20_000, rates=rates, pool=1_500)
    assert report.unfilled == ()
    table = pq.read_table(out)
    categories = table.column("category").to_pylist()
    for category, rate in rates.items():
        share = categories.count(category) / len(categories)
        assert abs(share - rate) < 0.015, (category, share, rate)
        assert abs(report.shares[category] - share) < 1e-12
    for row in table.slice(0, 1_500).to_pylist():
        decision = bundled_engine.decide(MATTER, orjson.loads(row["facts"]), on=row["on"])
        assert category_of(decision) == row["category"]
        if row["category"] == VALID:
            assert decision.approved
        elif row["category"] == MISSING:
            assert decision.codes
            assert all(code.startswith("MISSING:") for code in decision.codes)
        elif row["category"].startswith(FAILING):
            failed = [r.rule for r in decision.results if r.status == "failed"]
            assert failed == [row["category"].removeprefix(FAILING)]


def test_ids_are_distinct_and_facts_keep_json_null(
    bundled_engine: Engine, seeds: list[Seed], tmp_path: Path
) -> None:
    out = tmp_path / "s.parquet"
    write(bundled_engine, seeds, out, n=10_000)
    table = pq.read_table(out)
    ids = table.column("id").to_pylist()
    assert len(set(ids)) == len(ids)
    assert ids[0] == f"{MATTER}-2019-0000000000"
    texts = set(table.column("facts").to_pylist())
    nulls = [t for t in texts if "null" in t]
    assert nulls, "a missing fact of the pool is absent or a JSON null"
    facts = orjson.loads(nulls[0])
    assert None in facts["elder"].values()  # the key is there, its value null
    assert all(orjson.loads(t) is not None for t in texts)


def test_a_seed_with_a_null_keeps_it_and_absent_keys_stay_absent(
    bundled_engine: Engine, seeds: list[Seed], tmp_path: Path
) -> None:
    """A case's null fact survives into the rows: null, not dropped and not the text "None"."""
    base = seeds[0]
    nulled = Seed(MATTER, base.on, {"elder": {**base.facts["elder"], "nickname": None}})
    out = tmp_path / "s.parquet"
    rates = {VALID: 0.0, MISSING: 0.0, INVALID: 1.0}
    write(bundled_engine, [nulled], out, n=500, rates=rates, pool=50)
    texts = pq.read_table(out).column("facts").to_pylist()
    assert any('"nickname":null' in t for t in texts)


@given(
    valid=st.floats(0, 1), missing=st.floats(0, 1), invalid=st.floats(0, 1), fail=st.floats(0, 1)
)
def test_rates_over_one_are_refused_naming_the_options(
    valid: float, missing: float, invalid: float, fail: float
) -> None:
    total = valid + missing + invalid + fail
    kw = {"valid": valid, "missing": missing, "invalid": invalid, "fail": {RULE_IDS[0]: fail}}
    if total > 1 + 1e-9:
        with pytest.raises(SamplesError, match="more than 1: --valid"):
            stated_rates(RULE_IDS, **kw)  # type: ignore[arg-type]
    else:
        rates = stated_rates(RULE_IDS, **kw)  # type: ignore[arg-type]
        assert rates[FAILING + RULE_IDS[0]] == fail
        assert sum(rates.values()) == pytest.approx(1.0 if len(RULE_IDS) > 1 else total)


def test_default_rates_split_the_rest_across_the_rules(
    bundled_engine: Engine, seeds: list[Seed]
) -> None:
    rules = failable_rules(bundled_engine, seeds)
    assert rules == RULE_IDS
    rates = stated_rates(rules)
    assert rates[VALID] == 0.6
    assert all(rates[FAILING + r] == pytest.approx(0.2 / 3) for r in rules)
    with pytest.raises(SamplesError, match="--fail: no rule 'no-such-rule'"):
        stated_rates(rules, fail={"no-such-rule": 0.1})


def test_an_unfillable_category_is_reported_and_the_rest_renormalised(
    bundled_engine: Engine, seeds: list[Seed], tmp_path: Path
) -> None:
    """Facts that no move can make fail a rule: its category stays empty, and says so."""
    rates = {VALID: 0.5, "failing:no-such-rule": 0.5}
    report = write(bundled_engine, seeds, tmp_path / "s.parquet", n=1_000, rates=rates, pool=40)
    assert report.unfilled == ("failing:no-such-rule",)
    assert report.rates == {VALID: 1.0}
    assert report.counts == {VALID: 1_000}
    assert any("unfilled: failing:no-such-rule" in line for line in report.lines())


def test_the_command_writes_the_file_and_prints_the_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.parquet"
    args = ["samples", MATTER, "--n", "3000", "--pool", "300", "--out", str(out)]
    args += ["--rules", str(RULES), "--scenarios", str(SCENARIOS), "--fail", "aged-70-or-over=0.1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "wrote 3,000 applications" in printed
    assert "rows/s" in printed
    assert "failing:aged-70-or-over" in printed
    assert pq.ParquetFile(out).metadata.num_rows == 3_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-matter"], "unknown matter 'no-such-matter'"),
        ([MATTER, "--valid", "0.9", "--missing", "0.2"], "more than 1: --valid 0.9, --missing 0.2"),
        ([MATTER, "--fail", "guangzhou-hukou"], "--fail 'guangzhou-hukou': give RULE=RATE"),
        ([MATTER, "--fail", "nope=0.1"], "--fail: no rule 'nope'"),
    ],
)
def test_the_command_refuses_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "s.parquet"
    argv = ["samples", *args, "--n", "10", "--out", str(out), "--rules", str(RULES)]
    assert main([*argv, "--scenarios", str(SCENARIOS)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message in err
    assert err.count("\n") == 1
    assert not out.exists()
