"""Values files for an economy measured in two cities (`cities:`), as Doing Business measured the
11 economies of more than 100 million people: the weights, the checks and the DB rule that every
score is the population-weighted mean of the cities' scores."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RULES, SCENARIOS, examples
from secondapproval.cli import main
from secondapproval.packs.indicators import (
    Scorecard,
    Scorer,
    ValuesError,
    load_data,
    load_system,
    load_values,
)
from secondapproval.packs.indicators.dataset import Value
from secondapproval.packs.indicators.report import build_report, render_html, render_text

INDICATORS = RULES / "indicators"
EXAMPLE = INDICATORS / "examples" / "china-2020-two-cities.json"
SYSTEM = load_system(INDICATORS / "db17-20.yaml")
DATA = load_data(SYSTEM)
SCORER = Scorer(SYSTEM)


def _json_value(v: Value) -> str:
    return json.dumps(v) if isinstance(v, str) else str(v)


def city_file(path: Path, cities: dict[str, tuple[str, dict[str, Value]]]) -> Path:
    """A values file with one `cities` entry per city (weight as text, values as printed)."""
    lines = ["{", '  "system": "db17-20",', '  "cities": {']
    for i, (name, (weight, values)) in enumerate(cities.items()):
        lines.append(f"    {json.dumps(name)}: {{")
        lines.append(f'      "weight": {weight},')
        lines.append('      "values": {')
        body = [f"        {json.dumps(k)}: {_json_value(v)}" for k, v in values.items()]
        lines.append(",\n".join(body))
        lines.append("      }")
        lines.append("    }" + ("," if i < len(cities) - 1 else ""))
    lines += ["  }", "}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def weights_csv() -> dict[str, dict[str, str]]:
    """The shipped two-city weights, read straight from the CSV."""
    with (INDICATORS / "data" / "city_weights.csv").open(encoding="utf-8", newline="") as f:
        return {r["economy_code"]: r for r in csv.DictReader(f)}


def score_file(path: Path) -> Scorecard:
    values = load_values(SYSTEM, path)
    return SCORER.score_cities(values.cities, values.name)


@pytest.mark.parametrize("year", [2019, 2020])
def test_the_two_cities_of_a_values_file_give_the_published_national_scores(
    tmp_path: Path, year: int
) -> None:
    """For all 11 two-city economies, a values file of the two city rows with the shipped
    weights meets every published national score (component, topic, overall) within its
    rounding bound, and equals scoring the published row."""
    weights = weights_csv()
    assert len(weights) == 11
    compared = 0
    for code, w in weights.items():
        first = DATA.row(year, w["first_city_code"])
        second = DATA.row(year, w["second_city_code"])
        rest = str(Decimal(1) - Decimal(w["first_city_weight"]))
        path = city_file(
            tmp_path / f"{code}.json",
            {
                w["first_city"]: (w["first_city_weight"], first.values),
                w["second_city"]: (rest, second.values),
            },
        )
        card = score_file(path)
        nation = DATA.row(year, code)
        for node, text in nation.published.items():
            scored = card.by_id[node]
            try:
                published = float(text)
            except ValueError:
                assert scored.status == "not_applicable", (code, node, text)
                continue
            assert scored.score is not None, (code, node)
            # the published scores carry 7 significant digits: 5e-5 covers their last digit
            assert abs(scored.score - published) <= scored.bound + 5e-5, (code, year, node)
            compared += 1
        row_card = SCORER.score_row(DATA, year, code)
        assert card.overall == pytest.approx(row_card.overall, abs=1e-9)
    assert compared > 11 * 50


def test_the_example_file_is_china_db2020_from_its_two_city_rows() -> None:
    """The shipped example holds the CHN and CHN_Beij rows and the CHIN weights unchanged, and
    scores China's published DB2020 overall score."""
    weights = weights_csv()["CHIN"]
    values = load_values(SYSTEM, EXAMPLE)
    shanghai, beijing = values.cities
    assert shanghai.weight == Decimal(weights["first_city_weight"])
    assert shanghai.weight + beijing.weight == 1
    assert dict(shanghai.values) == DATA.row(2020, weights["first_city_code"]).values
    assert dict(beijing.values) == DATA.row(2020, weights["second_city_code"]).values
    card = SCORER.score_cities(values.cities, values.name)
    published = float(DATA.row(2020, "CHIN").published["ease_of_doing_business"])
    assert card.overall == pytest.approx(published, abs=card.root.bound + 5e-5)


def test_the_report_prints_the_cities_and_weights(capsys: pytest.CaptureFixture[str]) -> None:
    """`score` on a cities file says which cities it combined, with which weights."""
    assert main(["score", "db17-20", str(EXAMPLE), "--rules", str(RULES)]) == 0
    out = capsys.readouterr().out
    assert "measured in 2 cities" in out
    assert re.search(r"Shanghai +0\.55 +77\.683", out)
    assert re.search(r"Beijing +0\.45 +78\.236", out)
    assert "overall 77.932" in out


def test_the_html_report_has_a_column_per_city() -> None:
    """The HTML report lists each city with its weight and its overall and topic scores."""
    card = score_file(EXAMPLE)
    page = render_html(build_report(card, DATA, "DB2020"))
    assert "Measured in 2 cities" in page
    assert "Shanghai × 0.55" in page
    assert "Beijing × 0.45" in page
    assert "<td>77.683</td>" in page


def test_a_one_city_report_says_nothing_of_cities() -> None:
    """A report of one set of values prints no city table."""
    card = SCORER.score_values(DATA.row(2020, "NZL").values, "New Zealand")
    assert "cities" not in render_text(build_report(card, DATA, "DB2020"))


def _problems(path: Path) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ValuesError) as err:
        load_values(SYSTEM, path)
    return [(p.line, p.field, p.message) for p in err.value.problems]


SHANGHAI = dict(DATA.row(2020, "CHN").values)
BEIJING = dict(DATA.row(2020, "CHN_Beij").values)


def test_weights_that_do_not_sum_to_one_are_refused(tmp_path: Path) -> None:
    """0.55 + 0.55 is refused, naming the file, the `cities` line and the field."""
    path = city_file(
        tmp_path / "c.json", {"Shanghai": ("0.55", SHANGHAI), "Beijing": ("0.55", BEIJING)}
    )
    with pytest.raises(ValuesError, match=r"c\.json:3 \[cities\]: the city weights sum to 1\.10"):
        load_values(SYSTEM, path)


@pytest.mark.parametrize(
    ("weight", "message"),
    [("0", "not strictly between 0 and 1"), ('"heavy"', "is not a number"), ("1.0", "between")],
)
def test_a_weight_out_of_range_is_refused_on_its_line(
    tmp_path: Path, weight: str, message: str
) -> None:
    """A weight of 0, 1 or a text is refused on the line of that city's weight."""
    path = city_file(
        tmp_path / "c.json", {"Shanghai": ("0.55", SHANGHAI), "Beijing": (weight, BEIJING)}
    )
    problems = _problems(path)
    text = path.read_text(encoding="utf-8").splitlines()
    beijing_weight = next(
        i for i, line in enumerate(text, start=1) if '"weight"' in line and i > 10
    )
    mine = [p for p in problems if p[1] == "cities.Beijing.weight"]
    assert len(mine) == 1
    assert mine[0][0] == beijing_weight
    assert message in mine[0][2]


def test_a_value_given_for_one_city_only_is_refused(tmp_path: Path) -> None:
    """A component given for Shanghai but not for Beijing is an error naming both cities and
    Shanghai's line; a component given for neither city is simply missing."""
    beijing = {k: v for k, v in BEIJING.items() if k not in ("cp_time", "ec_time")}
    shanghai = {k: v for k, v in SHANGHAI.items() if k != "ec_time"}
    path = city_file(
        tmp_path / "c.json", {"Shanghai": ("0.55", shanghai), "Beijing": ("0.45", beijing)}
    )
    problems = _problems(path)
    assert len(problems) == 1
    line, field, message = problems[0]
    assert field == "cities.Beijing.values.cp_time"
    assert "'cp_time' is given for Shanghai but not for Beijing" in message
    assert line is not None
    text = path.read_text(encoding="utf-8").splitlines()
    assert '"cp_time"' in text[line - 1]
    assert line > next(i for i, x in enumerate(text, start=1) if '"Shanghai"' in x)
    assert line < next(i for i, x in enumerate(text, start=1) if '"Beijing"' in x)
    neither = {k: v for k, v in shanghai.items() if k != "cp_time"}
    path = city_file(
        tmp_path / "d.json", {"Shanghai": ("0.55", neither), "Beijing": ("0.45", beijing)}
    )
    card = score_file(path)
    assert card.missing == ("cp_time", "ec_time")
    assert card.overall is None


def test_a_bad_value_in_a_city_names_the_city(tmp_path: Path) -> None:
    """An unknown component or an unusable value is reported under its city's field path."""
    path = city_file(
        tmp_path / "c.json",
        {"Shanghai": ("0.55", {"cp_time": 10}), "Beijing": ("0.45", {"cp_time": "soon"})},
    )
    problems = _problems(path)
    assert [p[1] for p in problems] == ["cities.Beijing.values.cp_time"]


def test_one_city_or_values_beside_cities_is_refused(tmp_path: Path) -> None:
    """`cities` needs two or more cities, and does not go with `values`."""
    path = city_file(tmp_path / "one.json", {"Shanghai": ("1", SHANGHAI)})
    assert "two or more city names" in _problems(path)[0][2]
    both = tmp_path / "both.json"
    both.write_text(
        json.dumps({"values": {}, "cities": {"A": {"weight": 0.5, "values": {}}}}),
        encoding="utf-8",
    )
    assert "not both" in _problems(both)[0][2]


def test_a_csv_with_a_column_per_city_reads_like_the_json(tmp_path: Path) -> None:
    """A CSV `component,Shanghai,Beijing` with a `weight` row scores as the example file."""
    rows = ["component,Shanghai,Beijing", "weight,0.55,0.45"]
    rows += [f"{k},{SHANGHAI[k]},{BEIJING[k]}" for k in SYSTEM.components]
    path = tmp_path / "china.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert score_file(path).overall == score_file(EXAMPLE).overall
    bad = tmp_path / "bad.csv"
    bad.write_text("component,Shanghai,Beijing\nweight,0.5,0.6\ncp_time,10,\n", encoding="utf-8")
    assert sorted(_problems(bad), key=str) == [
        (1, "cities", "the city weights sum to 1.1 (Shanghai 0.5 + Beijing 0.6), not 1"),
        (
            3,
            "cities.Beijing.values.cp_time",
            "'cp_time' is given for Shanghai but not for Beijing: give it for every city, or for"
            " none (then it is missing)",
        ),
    ]


def test_a_score_scenario_can_give_cities() -> None:
    """The score scenarios include a `cities:` case, and they all pass."""
    text = (SCENARIOS / "indicators" / "db2020-rows.yaml").read_text(encoding="utf-8")
    assert "cities:" in text
    assert main(["test", str(SCENARIOS / "indicators"), "--rules", str(RULES)]) == 0


# ---- properties ---------------------------------------------------------------------------

ROWS = sorted(k for k in DATA.rows if k[0] == 2020 and k[1] not in DATA.two_city)
weights = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2)


def scores(card: Scorecard) -> dict[str, float | None]:
    return {s.id: s.score for s in card.root.walk()}


@settings(max_examples=examples(40), deadline=None)
@given(st.sampled_from(ROWS), weights)
def test_equal_cities_score_as_one_city(row: tuple[int, str], w: Decimal) -> None:
    """With the same values in both cities, every node scores as the one-city file does."""
    values = DATA.rows[row].values
    one = SCORER.score_values(values)
    two = SCORER.score_cities((("A", w, values), ("B", 1 - w, values)))
    for node, score in scores(one).items():
        got = two.by_id[node].score
        if score is None:
            assert got is None
        else:
            assert got == pytest.approx(score, abs=1e-9)


@settings(max_examples=examples(40), deadline=None)
@given(st.sampled_from(ROWS), st.sampled_from(ROWS), weights)
def test_a_combined_score_lies_between_the_cities(
    a: tuple[int, str], b: tuple[int, str], w: Decimal
) -> None:
    """Every node of the economy scores between its two cities' scores, and the overall is
    w·first + (1−w)·second."""
    first = SCORER.score_values(DATA.rows[a].values)
    second = SCORER.score_values(DATA.rows[b].values)
    card = SCORER.score_cities((("A", w, DATA.rows[a].values), ("B", 1 - w, DATA.rows[b].values)))
    for node in card.root.walk():
        x, y = first.by_id[node.id].score, second.by_id[node.id].score
        if node.score is None or x is None or y is None:
            continue
        assert min(x, y) - 1e-9 <= node.score <= max(x, y) + 1e-9
    assert first.overall is not None
    assert second.overall is not None
    expected = float(w) * first.overall + float(1 - w) * second.overall
    assert card.overall == pytest.approx(expected, abs=1e-9)


@settings(max_examples=examples(30), deadline=None)
@given(st.sampled_from(ROWS), st.sampled_from(ROWS), weights)
def test_the_order_of_the_cities_does_not_matter(
    a: tuple[int, str], b: tuple[int, str], w: Decimal
) -> None:
    """Listing the cities the other way round (weights with them) changes no score."""
    va, vb = DATA.rows[a].values, DATA.rows[b].values
    ab = SCORER.score_cities((("A", w, va), ("B", 1 - w, vb)))
    ba = SCORER.score_cities((("B", 1 - w, vb), ("A", w, va)))
    assert ab.overall == pytest.approx(ba.overall, abs=1e-9)
