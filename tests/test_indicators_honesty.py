"""What the indicator reports print about their tables: which table a rank is in, the mean of the
190 economies beside the median, and that a 10+2 mean is placed in a table of 10-topic means."""

from __future__ import annotations

import csv
import dataclasses
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RULES, examples
from secondapproval.packs.indicators import Scorer, load_data, load_system
from secondapproval.packs.indicators.dataset import Data
from secondapproval.packs.indicators.report import Report, build_report, render_text
from secondapproval.packs.indicators.system import System

INDICATORS = RULES / "indicators"


@pytest.fixture(scope="module")
def db() -> System:
    return load_system(INDICATORS / "db17-20.yaml")


@pytest.fixture(scope="module")
def ten_plus_two() -> System:
    return load_system(INDICATORS / "example-10plus2.yaml")


@pytest.fixture(scope="module")
def data(db: System) -> Data:
    return load_data(db)


@pytest.fixture(scope="module")
def china_2019(db: System, data: Data) -> Report:
    card = Scorer(db).score_row(data, 2019, "CHN")
    return build_report(card, data, "DB2019", exclude="CHN")


def csv_mean(column: str, year: int) -> float:
    """The mean of a published score column over the economies ranked in DB Year 2020, read
    straight from the CSV (not through the pack's dataset)."""
    path = INDICATORS / "data" / "db2020_historical_all_data.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    ranked = {
        r["code"]
        for r in rows
        if r["Year"] == "2020" and r["Ease of doing business rank"].strip() not in ("", "..")
    }
    values = [
        float(r[column])
        for r in rows
        if r["Year"] == str(year) and r["code"] in ranked and _number(r[column])
    ]
    return statistics.fmean(values)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_rank_line_says_db2019_is_the_revised_table(china_2019: Report) -> None:
    """DB2019's rank is in DB Year 2019 as revised in the DB2020 release, and says so."""
    text = render_text(china_2019)
    (table,) = [line for line in text.splitlines() if line.strip().startswith("table:")]
    assert "as revised in the DB2020 release" in table
    assert "not the table printed in DB2019" in table
    assert china_2019.unlike is None  # the DB system's own total: like with like


def test_each_topic_mean_is_the_190_economies_mean_read_from_the_csv(
    db: System, china_2019: Report
) -> None:
    """The mean printed beside the median is the arithmetic mean of the published topic scores of
    the ranked economies, computed here from the CSV itself."""
    for line in china_2019.topics:
        column = db.columns[line.scored.node.id]
        assert line.mean == pytest.approx(csv_mean(column, 2019), abs=1e-9), column
        assert line.placement is not None
        assert line.placement.of == 190


def test_below_the_mean_names_exactly_the_topics_not_above_it(china_2019: Report) -> None:
    text = render_text(china_2019)
    below = [t.scored.node.title.en for t in china_2019.below_mean]
    expected = [
        t.scored.node.title.en
        for t in china_2019.topics
        if t.scored.score is not None and t.mean is not None and t.scored.score <= t.mean
    ]
    assert below == expected
    (verdict,) = [line for line in text.splitlines() if line.startswith("every topic above")]
    assert verdict.endswith("yes") if not below else verdict.endswith(", ".join(below))


@settings(max_examples=examples(50), deadline=None)
@given(shift=st.lists(st.integers(-120, 120).map(lambda q: q / 4), min_size=10, max_size=10))
def test_the_mean_verdict_follows_the_scores(china_2019: Report, shift: list[float]) -> None:
    """Move each topic's mean about its score: the topics named below the mean are exactly those
    at or under it."""
    topics = tuple(
        dataclasses.replace(t, mean=(t.scored.score or 0) - d)
        for t, d in zip(china_2019.topics, shift, strict=True)
    )
    report = dataclasses.replace(china_2019, topics=topics)
    assert [t.scored.node.id for t in report.below_mean] == [
        t.scored.node.id for t, d in zip(topics, shift, strict=True) if d <= 0
    ]


def test_a_ten_plus_two_mean_is_said_to_be_placed_in_a_ten_topic_table(
    ten_plus_two: System, data: Data
) -> None:
    """The example 10+2 system's overall (12 topics) ranked in the DB overall table says so."""
    values = dict.fromkeys(ten_plus_two.components, 50)
    card = Scorer(ten_plus_two).score_values(values, "a district")
    report = build_report(card, data, "DB2020")
    assert report.unlike is not None
    assert "a mean of 12 topics placed in a table of 10-topic means" in report.unlike
    assert f"note: {report.unlike}" in render_text(report)
    assert report.table is not None
    assert "DB Year 2020" in report.table
