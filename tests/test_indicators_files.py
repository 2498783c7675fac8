"""Indicator-system files, values files, score scenarios and the `score` command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import html5lib
import pytest

from reference import RULES, SCENARIOS
from secondapproval.cli import main
from secondapproval.errors import RuleSetError, ScenarioError
from secondapproval.packs.indicators import (
    IndicatorPack,
    Scorer,
    ValuesError,
    load_data,
    load_system,
    load_values,
)
from secondapproval.packs.indicators.cases import iter_cases
from secondapproval.yamlfile import parse_yaml

DB = RULES / "indicators" / "db17-20.yaml"

MINI = """\
system: mini
title: {en: Mini}
transforms:
  linear: "100 * clip((worst - value) / (worst - best), 0, 1)"
special_values:
  "No Practice": {score: 0}
  "None here": {not_applicable: true}
overall: {id: total, title: {en: Total}, aggregate: weighted_mean, weights: {a: 3, b: 1}}
topics:
  - id: a
    title: {en: A}
    parts:
      - {id: a1, title: {en: A1}, unit: days, best: 0, worst: 10}
      - {id: a2, title: {en: A2}, unit: index, best: 5, worst: 0, rounding: exact}
  - id: b
    title: {en: B}
    aggregate: index_sum
    parts:
      - {id: b1, title: {en: B1}, unit: index, best: 4, worst: 0}
      - {id: b2, title: {en: B2}, unit: index, best: 6, worst: 0}
"""


def mini(text: str = MINI, name: str = "mini.yaml", tmp: Path | None = None):  # type: ignore[no-untyped-def]
    from secondapproval.packs.indicators.system import build_system

    return build_system(parse_yaml(text, name))


def test_a_small_system_aggregates_as_declared() -> None:
    """Mean, index_sum and weighted_mean combine scores exactly as the file says."""
    system = mini()
    card = Scorer(system).score_values({"a1": 5, "a2": 5, "b1": 2, "b2": 6})
    assert card.by_id["a"].score == pytest.approx(75.0)
    assert card.by_id["b"].score == pytest.approx(100 * 8 / 10)
    assert card.overall == pytest.approx((3 * 75 + 80) / 4)
    assert card.shares["b1"] == pytest.approx(0.25 * 4 / 10)
    assert sum(card.contribution(c) for c in system.components) == pytest.approx(card.overall)


def test_special_values_score_or_leave_the_mean() -> None:
    """`No Practice` scores 0; a not-applicable value leaves its group's mean."""
    system = mini()
    card = Scorer(system).score_values({"a1": "No Practice", "a2": "None here", "b1": 4, "b2": 6})
    assert card.by_id["a1"].score == 0
    assert card.by_id["a2"].status == "not_applicable"
    assert card.by_id["a"].score == 0
    assert card.shares["a2"] == 0


def test_missing_components_are_reported_never_scored() -> None:
    """A missing component leaves its topic and the overall without a score, and is listed."""
    card = Scorer(mini()).score_values({"a1": 5, "b1": 2, "b2": 6})
    assert card.missing == ("a2",)
    assert card.by_id["a"].score is None
    assert card.overall is None
    assert card.by_id["b"].score == pytest.approx(80.0)


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        ("best: 0, worst: 10}", "best: 0, worst: 10, transform: cubic}", "unknown transform", 13),
        ("id: a2,", "id: a1,", "duplicate id 'a1'", 14),
        ('"100 * clip(', '"__import__(', "", 4),
        ("weights: {a: 3, b: 1}", "weights: {a: 3}", "no weight for part 'b'", 8),
        ("best: 5, worst: 0, rounding", "best: 5, worst: 5, rounding", "must differ", 14),
        ("aggregate: index_sum\n", "aggregate: index_sum\n    column: x\n    nope: 1\n", "", 19),
    ],
)
def test_system_file_problems_are_located(old: str, new: str, message: str, line: int) -> None:
    """Each mistake in a system file is a RuleSetError naming the file and line."""
    text = MINI.replace(old, new)
    assert text != MINI
    with pytest.raises(RuleSetError) as err:
        mini(text)
    problems = err.value.problems
    assert any(p.file == "mini.yaml" and p.line == line for p in problems), problems
    assert message in str(err.value)


def test_several_problems_are_reported_at_once() -> None:
    """Two independent mistakes are both reported."""
    text = MINI.replace("best: 0, worst: 10}", "best: 0, worst: 10, transform: cubic}")
    text = text.replace("id: b2,", "id: b1,")
    with pytest.raises(RuleSetError) as err:
        mini(text)
    assert len(err.value.problems) == 2


def test_pack_checks_every_shipped_system_file() -> None:
    """The shipped system files (DB17-20 and the 10+2 example) load without problems."""
    pack = IndicatorPack()
    from secondapproval.yamlfile import load_yaml

    for f in sorted((RULES / "indicators").glob("*.yaml")):
        pack.check_file(load_yaml(f))
    example = load_system(RULES / "indicators" / "example-10plus2.yaml")
    assert example.example
    assert len(example.topics) == 12
    assert example.rank_node == "ease_of_doing_business"


def test_extends_an_unknown_system_is_located(tmp_path: Path) -> None:
    """`extends:` naming no system in the folder is reported on its line."""
    f = tmp_path / "x.yaml"
    f.write_text(MINI.replace("title: {en: Mini}", "title: {en: Mini}\nextends: nothing"), "utf-8")
    with pytest.raises(RuleSetError, match="cannot load 'nothing'") as err:
        load_system(f)
    assert err.value.problems[0].line == 3


def test_values_files_json_and_csv_agree(tmp_path: Path) -> None:
    """The same values as JSON and as CSV give the same scores."""
    system = load_system(DB)
    row = load_data(system).row(2020, "NZL")
    j = tmp_path / "nzl.json"
    j.write_text(json.dumps({"name": "NZ", "values": {k: str(v) for k, v in row.values.items()}}))
    c = tmp_path / "nzl.csv"
    c.write_text("component,value\n" + "".join(f"{k},{v}\n" for k, v in row.values.items()))
    scorer = Scorer(system)
    a = scorer.score_values(load_values(system, j).values)
    b = scorer.score_values(load_values(system, c).values)
    assert a.overall == b.overall == scorer.score_values(row.values).overall


def test_values_file_problems_name_line_and_component(tmp_path: Path) -> None:
    """Unknown components and unusable values are all reported with their line."""
    system = load_system(DB)
    f = tmp_path / "v.json"
    f.write_text('{\n  "values": {\n    "sb_time_men": "soon",\n    "no_such": 1\n  }\n}\n')
    with pytest.raises(ValuesError) as err:
        load_values(system, f)
    got = {(p.field, p.line) for p in err.value.problems}
    assert got == {("sb_time_men", 3), ("no_such", 4)}
    assert "values file" in str(err.value)


def test_scenario_file_needs_exactly_one_input() -> None:
    """A case with both a row and a score is a located ScenarioError."""
    doc = parse_yaml(
        "system: db17-20\ncases:\n  - name: x\n    score: 70\n    row: {year: 2020, code: NZL}\n"
        "    expect: {rank: {edition: DB2020, value: 1}}\n",
        "s.yaml",
    )
    with pytest.raises(ScenarioError, match="exactly one input") as err:
        list(iter_cases(doc, RULES))
    assert err.value.problems[0].line == 3


def test_failed_score_case_shows_the_difference() -> None:
    """A wrong expectation fails with expected and computed values side by side."""
    doc = parse_yaml(
        "system: db17-20\ncases:\n  - name: off\n    row: {year: 2020, code: NZL}\n"
        "    expect: {overall: {value: 80, tolerance: 0.5}, rank: {edition: DB2020, value: 9}}\n",
        "s.yaml",
    )
    [(_, _, run)] = list(iter_cases(doc, RULES))
    result = run()
    assert not result.passed
    assert "expected 80 ± 0.5, got 86.7" in result.diff
    assert "expected 9, got 1" in result.diff


def test_score_command_writes_a_readable_html_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`secondapproval score` prints the scores and writes HTML with an inline SVG chart."""
    out = tmp_path / "r.html"
    assert main(["score", str(DB), "--row", "2020:CHIN", "--html", str(out)]) == 0
    text = capsys.readouterr().out
    assert "overall 77.93" in text
    assert "31/190" in text
    page = out.read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    for part in ("<svg", "median economy", "frontier = 100"):
        assert part in page


def test_score_command_rank_of_a_bare_score(capsys: pytest.CaptureFixture[str]) -> None:
    """`--score 77.565 --edition DB2019` prints its rank and neighbours."""
    assert (
        main(
            ["score", "db17-20", "--score", "77.565", "--edition", "DB2019", "--rules", str(RULES)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ranks 30 of 190 in DB2019" in out
    assert "above: Spain" in out


def test_score_command_reports_missing_components(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scoring a subset prints which components are missing and no overall score."""
    f = tmp_path / "some.json"
    f.write_text('{"sb_procedures_men": 4, "sb_procedures_women": 4}')
    assert main(["score", str(DB), str(f)]) == 0
    out = capsys.readouterr().out
    assert "overall —" in out
    assert "missing components (45)" in out


def test_score_command_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown edition is a clear error with exit status 2."""
    assert main(["score", str(DB), "--score", "70", "--edition", "DB2042"]) == 2
    assert "unknown edition 'DB2042'" in capsys.readouterr().err


def test_system_with_moved_data_reports_the_missing_dataset(tmp_path: Path) -> None:
    """A system whose dataset file is absent fails with the path named."""
    shutil.copy(DB, tmp_path / "db17-20.yaml")
    system = load_system(tmp_path / "db17-20.yaml")
    with pytest.raises(RuleSetError, match="cannot read dataset"):
        load_data(system)


def test_values_for_another_system_are_refused() -> None:
    """A values file that names another system is refused on its `system` line."""
    example = RULES / "indicators" / "examples" / "local-topics-only.json"
    with pytest.raises(ValuesError, match="for system 'example-10plus2', not 'db17-20'") as err:
        load_values(load_system(DB), example)
    assert err.value.problems[0].line == 3


def test_example_system_scores_its_local_topics(capsys: pytest.CaptureFixture[str]) -> None:
    """The 10+2 example scores the two local topics and lists the 47 DB components as missing."""
    example = RULES / "indicators" / "examples" / "local-topics-only.json"
    assert main(["score", "example-10plus2", str(example), "--rules", str(RULES)]) == 0
    out = capsys.readouterr().out
    assert "example system" in out
    assert "missing components (47)" in out
    assert "Labour market                          67.43" in out


def test_a_system_id_declared_twice_is_an_error(tmp_path: Path) -> None:
    """Two files declaring the same system id make the id ambiguous."""
    from secondapproval.packs.indicators.system import find_system

    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(MINI, encoding="utf-8")
    with pytest.raises(RuleSetError, match="declared twice"):
        find_system(tmp_path, "mini")


def test_secondapproval_test_runs_score_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    """`secondapproval test` runs the score scenario files through the indicator pack."""
    code = main(["test", str(SCENARIOS / "indicators"), "--rules", str(RULES)])
    out = capsys.readouterr().out
    assert code == 0
    assert "77.565 in DB2019" in out
    assert "0 failed" in out
