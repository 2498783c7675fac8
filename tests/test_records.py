"""Lists of enums and of records: their declaration, strict validation of every item, `it.<field>`,
`present(it.<field>)` and `count` in the checker and every engine, against a plain Python reading
of the same conditions; the audit record and replay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from differential import disagreement, folder_engines
from reference import examples, plain_id, write_matter
from secondapproval import Engine, Outcome, RuleSetError
from secondapproval.audit import RuleIndex, open_log, replay_log
from secondapproval.facts import FactValidator
from secondapproval.generate.identifiers import cn_id
from secondapproval.lang import ir
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.limits import Limits
from secondapproval.messages import zh
from secondapproval.strategies import SCHEMA, applications, expressions, valid_applications

ON = dt.date(2025, 9, 1)


KEY = b"records-test-key-kept-far-away!!"

MATTER = """\
matter: family-sample
title: {zh: 家庭成员示例, en: Family members sample}
version: "1"
effective: {from: "2024-01-01"}
facts:
  family.members:
    type: list
    of: record
    source: applicant
    pii: true
    fields:
      relation: {type: enum, values: [spouse, child, parent]}
      id_number: {type: cn_id}
      income: {type: money, optional: true}
      studying: {type: bool, optional: true}
      since: {type: date, optional: true}
      nickname: {type: str, optional: true}
  family.needs:
    type: list
    of: enum
    values: [housing, care, schooling]
    source: applicant
  children:
    type: int
    output: true
    derive: "count(family.members, it.relation == \\"child\\")"
rules:
  - id: has-children
    when: >-
      count(family.members, it.relation == "child" and age_on(it.id_number, decision_date) < 18)
      >= 1
    says: {zh: 有未成年子女, en: A child under 18}
    refer: {code: NO_MINOR, zh: 无未成年子女, en: No child under 18}
  - id: low-income
    when: "all_of(family.members, absent(it.income) or it.income <= 2000)"
    says: {zh: 成员收入不超过2000元, en: No member earns more than 2000}
    refer: {code: INCOME, zh: 收入超标, en: Income too high}
  - id: adult-children-study
    when: >-
      all_of(family.members, it.relation != "child" or age_on(it.id_number, decision_date) < 18
      or it.studying)
    says: {zh: 成年子女在读, en: Adult children are in education}
    refer: {code: ADULT_CHILD, zh: 成年子女未在读, en: An adult child is not in education}
  - id: needs-care-or-housing
    when: >-
      any_of(family.needs, it in ["care", "housing"]) and "schooling" not in family.needs
    says: {zh: 需要照护或住房, en: Care or housing is needed}
    refer: {code: NEEDS, zh: 需求不符, en: Needs do not match}
  - id: joined-before
    when: "all_of(family.members, absent(it.since) or it.since <= decision_date)"
    says: {zh: 成员加入日期不晚于今日, en: No member joins in the future}
    refer: {code: SINCE, zh: 日期在未来, en: A date in the future}
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_matter(tmp_path_factory.mktemp("records"), MATTER)


@pytest.fixture(scope="module")
def engines(rules: Path) -> dict[str, Engine]:
    return folder_engines(rules)


@pytest.fixture(scope="module")
def matter(engines: dict[str, Engine]) -> Any:
    return engines["native"].snapshot.versions("family-sample")[0]


PARENT = cn_id("110105", dt.date(1980, 3, 4), 12)
CHILD = cn_id("440305", dt.date(2015, 6, 1), 34)
ADULT_CHILD = cn_id("110105", dt.date(2001, 2, 3), 56)


def family(*members: dict[str, Any], needs: tuple[str, ...] = ("care",)) -> dict[str, Any]:
    return {"family": {"members": list(members), "needs": list(needs)}}


GOOD = family(
    {"relation": "parent", "id_number": PARENT, "income": "1800.50"},
    {"relation": "child", "id_number": CHILD},
)


# ---- an independent reading of the rules, in plain Python --------------------------------------


def _age(number: str, on: dt.date) -> int:
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def conditions_hold(members: list[dict[str, Any]], needs: list[str], on: dt.date) -> bool:
    """Every rule of MATTER, read from the validated records without the engine."""
    minors = [m for m in members if m["relation"] == "child" and _age(m["id_number"], on) < 18]
    incomes = all(m.get("income") is None or m["income"] <= 2000 for m in members)
    adults_study = all(
        m["relation"] != "child" or _age(m["id_number"], on) < 18 or m.get("studying") is True
        for m in members
    )
    wanted = any(n in ("care", "housing") for n in needs) and "schooling" not in needs
    joined = all(m.get("since") is None or m["since"] <= on for m in members)
    return bool(minors) and incomes and adults_study and wanted and joined


# ---- decisions ---------------------------------------------------------------------------------


def test_a_family_that_meets_every_condition_is_approved(engines: dict[str, Engine]) -> None:
    for name, engine in engines.items():
        d = engine.decide("family-sample", GOOD, on=ON)
        assert d.outcome is Outcome.APPROVE, (name, d.codes)
        assert d.outputs == {"children": 1}


@pytest.mark.parametrize(
    ("facts", "codes"),
    [
        (family({"relation": "parent", "id_number": PARENT}), {"NO_MINOR"}),
        (family(), {"NO_MINOR"}),  # count over no item is 0; all_of holds; any_of does not
        (
            family(
                {"relation": "child", "id_number": CHILD},
                {"relation": "child", "id_number": ADULT_CHILD, "studying": False},
            ),
            {"ADULT_CHILD"},
        ),
        (
            family(
                {"relation": "child", "id_number": CHILD},
                {"relation": "parent", "id_number": PARENT, "income": 2000.01},
            ),
            {"INCOME"},
        ),
        (family({"relation": "child", "id_number": CHILD}, needs=()), {"NEEDS"}),
        (family({"relation": "child", "id_number": CHILD}, needs=("care", "schooling")), {"NEEDS"}),
    ],
    ids=plain_id,
)
def test_conditions_over_the_items(
    engines: dict[str, Engine], facts: dict[str, Any], codes: set[str]
) -> None:
    for name, engine in engines.items():
        d = engine.decide("family-sample", facts, on=ON)
        assert set(d.codes) == codes, (name, d.codes)


def test_an_adult_child_whose_studying_is_not_given_is_unknown_so_refer(
    engines: dict[str, Engine],
) -> None:
    """An optional field left out is unknown where a rule reads it: never approved on a guess."""
    facts = family(
        {"relation": "child", "id_number": CHILD}, {"relation": "child", "id_number": ADULT_CHILD}
    )
    for name, engine in engines.items():
        d = engine.decide("family-sample", facts, on=ON)
        assert d.outcome is Outcome.REFER, name
        status = {r.rule: r.status.value for r in d.results}
        assert status["adult-children-study"] == "unknown", name


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ({"relation": "cousin", "id_number": CHILD}, 'item: 1: field: "relation": one of the'),
        ({"relation": "child"}, 'item: 1: a required field is absent: "id_number"'),
        ({"relation": "child", "id_number": None}, "a required field is absent"),
        ({"relation": "child", "id_number": CHILD, "pet": "cat"}, "not a field of the list's"),
        ({"relation": "child", "id_number": CHILD[:-1] + "0"}, 'field: "id_number": the check'),
        ({"relation": "child", "id_number": CHILD, "income": "1.005"}, "two decimal places"),
        ({"relation": "child", "id_number": CHILD, "studying": 1}, "true or false is required"),
        ({"relation": "child", "id_number": CHILD, "since": "2024-02-30"}, "does not exist"),
        ("child", "item: 1: a JSON object is required"),
        (
            {"relation": "child", "id_number": cn_id("440305", dt.date(2025, 9, 2), 1)},
            "birth date in the ID number is after the decision date",
        ),
    ],
    ids=plain_id,
)
def test_one_doubtful_item_makes_the_whole_list_invalid(
    engines: dict[str, Engine], member: Any, why: str
) -> None:
    """Never approved on the other items: the list is invalid, and the message says which item
    and which field (in English and Chinese)."""
    facts = family({"relation": "child", "id_number": CHILD}, member)
    for name, engine in engines.items():
        d = engine.decide("family-sample", facts, on=ON)
        assert d.outcome is Outcome.REFER, name
        assert "INVALID:family.members" in d.codes, (name, d.codes)
        assert why in d.invalid["family.members"], d.invalid
        assert zh(d.invalid["family.members"]) != d.invalid["family.members"]


def test_a_list_of_enums_takes_only_its_values(engines: dict[str, Engine]) -> None:
    facts = family({"relation": "child", "id_number": CHILD}, needs=("care", "money"))
    d = engines["native"].decide("family-sample", facts, on=ON)
    assert d.codes == ("INVALID:family.needs",)
    assert d.invalid["family.needs"].startswith("item: 1: one of the allowed values is required")


def test_python_dates_in_records_are_their_iso_text(tmp_path: Path, rules: Path) -> None:
    """A `datetime.date` in a record's date field is taken as its ISO string at the edge, so the
    decision and the audit record are those of the JSON application."""
    as_json = family({"relation": "child", "id_number": CHILD, "since": "2024-05-06"})
    as_python = family({"relation": "child", "id_number": CHILD, "since": dt.date(2024, 5, 6)})
    records = []
    for facts in (as_json, as_python):
        log = tmp_path / f"{len(records)}.jsonl"
        with Engine(rules, audit=open_log(log), audit_key=KEY, vouch="all") as engine:
            d = engine.decide("family-sample", facts, on=ON)
        assert d.outcome is Outcome.APPROVE, d.codes
        record = orjson.loads(log.read_text().splitlines()[-1])
        records.append({k: record[k] for k in ("facts", "values", "results", "outcome")})
    assert records[0] == records[1]
    a_date_for_a_str = family(
        {
            "relation": "child",
            "id_number": CHILD,
            "since": dt.date(2024, 5, 6),
            "nickname": dt.date(2024, 5, 6),
        }
    )
    d = Engine(rules).decide("family-sample", a_date_for_a_str, on=ON)
    assert "INVALID:family.members" in d.codes  # only a date field takes a date
    a_datetime = family(
        {"relation": "child", "id_number": CHILD, "since": dt.datetime(2024, 5, 6, 1, 2)}
    )
    d = Engine(rules).decide("family-sample", a_datetime, on=ON)
    assert "INVALID:family.members" in d.codes


@pytest.mark.parametrize("pii", [True, False])
def test_decisions_with_records_replay_the_same(tmp_path: Path, pii: bool) -> None:
    """From the recorded values, or (a list of personal data being masked in the record) from
    the original applications."""
    rules = write_matter(tmp_path / "r", MATTER if pii else MATTER.replace("    pii: true\n", ""))
    log = tmp_path / "audit.jsonl"
    given: dict[str, Any] = {}
    with Engine(rules, audit=open_log(log), audit_key=KEY, vouch="all") as engine:
        for income in ("0", "1999.99", "2000", "2000.01", None):
            member = {"relation": "parent", "id_number": PARENT, "income": income}
            facts = family(member, GOOD["family"]["members"][1])
            given[engine.decide("family-sample", facts, on=ON).decision_id] = facts
    index = RuleIndex([tmp_path / "audit.jsonl.rules"])
    report, replayed = replay_log(log, index, key=KEY, applications=given if pii else None)
    assert report.ok
    assert replayed.counts == {"same": 5}


# ---- every engine, against the plain reading ---------------------------------------------------


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data())
def test_engines_agree_and_approve_only_what_the_plain_reading_approves(
    engines: dict[str, Engine], matter: Any, data: st.DataObject
) -> None:
    """On applications with spoiled records, nulls and wrong types: the three engines agree, and
    an approval means every condition holds, read from the validated items without the engine."""
    on = data.draw(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
    facts = data.draw(st.one_of(applications(matter, on=on), valid_applications(matter, on=on)))
    assert disagreement(engines, "family-sample", facts, on) == ""
    d = engines["native"].decide("family-sample", facts, on=on)
    if d.outcome is Outcome.APPROVE:
        valid = FactValidator(matter).validate(facts, on)
        members = valid.values["family.members"]
        assert conditions_hold(members, valid.values["family.needs"], on)
        assert d.outputs["children"] == sum(m["relation"] == "child" for m in members)


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data())
def test_the_fast_validation_path_agrees_on_records(matter: Any, data: st.DataObject) -> None:
    on = data.draw(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
    facts = data.draw(applications(matter, on=on))
    limits = data.draw(st.sampled_from([Limits(), Limits(max_keys=8), Limits(max_string=100)]))
    fast = FactValidator(matter, limits=limits).validate(facts, on)
    slow = FactValidator(matter, fast=False, limits=limits).validate(facts, on)
    assert fast == slow
    assert list(fast.values.items()) == list(slow.values.items())


def test_the_fast_path_counts_the_keys_of_records(matter: Any) -> None:
    """Keys inside records count toward `Limits.max_keys` in both validation paths."""
    members = [{"relation": "child", "id_number": CHILD, "studying": True}] * 3
    facts = family(*members)
    for fast in (True, False):
        small = FactValidator(matter, fast=fast, limits=Limits(max_keys=10)).validate(facts, ON)
        assert small.invalid == {"$": "beyond the engine's limits: keys more than: 10"}
        assert FactValidator(matter, fast=fast).validate(facts, ON).invalid == {}


def test_random_expressions_reach_records() -> None:
    """The differential tests' expressions do read record fields, presence and counts."""
    from hypothesis import find

    def reads(kind: type[ir.Node]) -> Any:
        return lambda e: any(isinstance(n, kind) for n in ir.walk(e))

    assert find(expressions(SCHEMA), reads(ir.ItField))
    assert find(
        expressions(SCHEMA),
        lambda e: any(isinstance(n, ir.Quantifier) and n.kind == "count" for n in ir.walk(e)),
    )
    assert find(
        expressions(SCHEMA),
        lambda e: any(
            isinstance(n, ir.Presence) and isinstance(n.fact, ir.ItField) for n in ir.walk(e)
        ),
    )


# ---- the checker -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("any_of(a.people, it.ag > 1)", "the items have no field 'ag' (did you mean 'age'?)"),
        ("any_of(a.scores, it.age > 1)", "'it' is a int: only a list of records has fields"),
        ("it.age > 1", "'it' outside any_of/all_of"),
        ("any_of(a.people, it == it)", "cannot compare record("),
        ("count(a.people, it.age > 1)", "expression is int, expected bool"),
        ("count(a.people, it.age) > 1", "'count' needs true/false conditions, not int"),
        ('any_of(a.people, it.rel == "uncle")', "'uncle' is not a value of this enum"),
        ('"w" in a.kinds', "'w' is not a value of this enum"),
        ('any_of(a.kinds, it == "w")', "'w' is not a value of this enum"),
        ("any_of(a.people, count(a.scores, it > 1) > 0)", "cannot be nested"),
        ("a.people == a.people", "cannot compare list[record("),
        ("count(a.n, it > 1) > 0", "count() needs a list, not int"),
        ("any_of(a.people, it.age.x > 1)", "a field of 'it' has no fields"),
    ],
    ids=plain_id,
)
def test_type_errors(text: str, message: str) -> None:
    node, problems = parse(text)
    if not problems:
        _, problems = check(node, SCHEMA, expect=SCHEMA["a.flag"])
    assert any(message in p.message for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        'count(a.people, it.rel == "child") >= 2',
        "all_of(a.people, present(it.income) and it.income < a.x)",
        "any_of(a.people, absent(it.born) or it.born < decision_date)",
        "any_of(a.people, age_on(it.id, decision_date) >= a.n)",
        '"x" in a.kinds and all_of(a.kinds, it in ["x", "y"])',
        "len(a.people) == count(a.people, it.works)",
    ],
    ids=plain_id,
)
def test_well_typed_record_expressions(text: str) -> None:
    node, problems = parse(text)
    assert not problems
    typed, problems = check(node, SCHEMA, expect=SCHEMA["a.flag"])
    assert problems == []
    assert ir.render(typed)  # renders back as source


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    of: record\n", "    of: str\n", "nothing else has them"),
        (
            "    of: enum\n    values: [housing, care, schooling]\n",
            "    of: record\n",
            "a list of records needs `fields`",
        ),
        ("    values: [housing, care, schooling]\n", "", "an enum needs values"),
        ("[housing, care, schooling]", "[care, care]", "enum values repeat"),
        (
            "      relation: {type: enum, values: [spouse, child, parent]}",
            "      relation: {type: enum}",
            "an enum needs values",
        ),
        (
            "      studying: {type: bool, optional: true}",
            "      Studying: {type: bool, optional: true}",
            "must be a lower-case name",
        ),
        (
            "      studying: {type: bool, optional: true}",
            '      studying: {type: bool, pattern: "x"}',
            "pattern is only for str facts",
        ),
        (
            "      studying: {type: bool, optional: true}",
            "      studying: {type: list}",
            "Input should be",
        ),
    ],
    ids=plain_id,
)
def test_declaration_problems_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in MATTER
    folder = write_matter(tmp_path / "r", MATTER.replace(old, new))
    with pytest.raises(RuleSetError) as exc:
        Engine(folder)
    problems = exc.value.problems
    assert any(message in p.message for p in problems), problems
    found = next(p for p in problems if message in p.message)
    assert found.line is not None
    assert found.file.endswith("m.yaml")
    assert (found.field or "").startswith("facts.family.")


def test_the_guide_names_the_fields_of_a_list_of_records() -> None:
    from reference import ROOT
    from secondapproval.guide.model import build_guide

    engine = Engine(ROOT / "docs" / "examples")
    matter = engine.snapshot.versions("food-licence-renewal-example")[0]
    zh_guide = build_guide(matter, engine.snapshot.registry, "zh", ON)
    en_guide = build_guide(matter, engine.snapshot.registry, "en", ON)
    zh_labels = [m.label for m in zh_guide.brings]
    assert "从业人员（身份证号码、岗位、健康证明有效期至（无则不填））" in zh_labels
    assert any(m.label.startswith("Food handlers (ID number, Role, ") for m in en_guide.brings)


def test_a_key_given_twice_in_a_record_makes_the_list_invalid(matter: Any) -> None:
    from secondapproval.jsonfile import loads

    text = (
        '{"family": {"needs": ["care"], "members": [{"relation": "parent", "relation": "child", '
        f'"id_number": "{CHILD}"}}]}}}}'
    )
    for fast in (True, False):
        valid = FactValidator(matter, fast=fast).validate(loads(text), ON)
        assert valid.invalid == {"family.members": "the key is given more than once"}
        assert "family.members" not in valid.values
