"""secondapproval.generate: the values every generator draws from are what they claim."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secondapproval.facts import FactValidator
from secondapproval.generate.identifiers import (
    REGION_CODES,
    USCC_HEADS,
    cn_id,
    org_code,
    regions_in,
    uscc,
)
from secondapproval.generate.literals import compared_literals, constants, preferred_bools
from secondapproval.generate.values import (
    WRONG_TYPES,
    boundary_values,
    dates_before,
    moved,
    near,
    refused,
)
from secondapproval.idcodes import check_cn_id, check_uscc
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.lang.types import BOOL
from secondapproval.paths import get, remove
from secondapproval.ruleset import FactSpec, fact_type
from secondapproval.strategies import synthetic_matter

ON = dt.date(2020, 7, 1)
GOOD_ID = cn_id("110101", dt.date(1990, 3, 7), 123)
GOOD_USCC = uscc("91", "440304", org_code("12345678"))
GOOD: dict[str, Any] = {
    "bool": True,
    "int": 3,
    "decimal": "2.5",
    "money": "10.00",
    "str": "x",
    "date": "2020-01-01",
    "enum": "low",
    "list": ["a"],
    "cn_id": GOOD_ID,
    "uscc": GOOD_USCC,
}
FACTS = {
    f"a.{kind}": FactSpec(
        type=kind,  # type: ignore[arg-type]
        source="applicant",
        values=["low", "high"] if kind == "enum" else None,
        of="str" if kind == "list" else None,
    )
    for kind in GOOD
}


def _expr(text: str) -> Any:
    types = {p: fact_type(f) for p, f in FACTS.items()}
    tree, syntax = parse(text)
    typed, problems = check(tree, types, BOOL)
    assert not syntax
    assert not problems, problems
    return typed


MATTER = synthetic_matter(FACTS, [_expr("a.bool")])


def test_the_good_values_are_valid() -> None:
    """The application every refused value is put into is itself valid."""
    validated = FactValidator(MATTER).validate({"a": GOOD}, ON)
    assert validated.invalid == {}
    assert validated.missing == ()


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_every_refused_value_is_refused(kind: str) -> None:
    """Each value `refused` gives for a type is INVALID at its path, whatever is wrong with it."""
    found = refused(kind, GOOD[kind], "str" if kind == "list" else None)
    assert found["type"] == WRONG_TYPES[kind]
    for value in (v for values in found.values() for v in values):
        validated = FactValidator(MATTER).validate({"a": {**GOOD, kind: value}}, ON)
        assert set(validated.invalid) == {f"a.{kind}"}, value


def test_identifiers_are_spoiled_in_each_way() -> None:
    """An ID number and a credit code are spoiled by check, date, case, length and form."""
    assert set(refused("cn_id", GOOD_ID)) == {
        "check",
        "date",
        "lower",
        "short",
        "old",
        "space",
        "type",
    }
    assert set(refused("uscc", GOOD_USCC)) == {"check", "letter", "short", "lower", "type"}
    assert len(refused("cn_id", GOOD_ID)["check"]) == 10


@given(st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31)), st.integers(0, 999))
def test_built_id_numbers_are_valid_in_every_region_of_their_year(born: dt.date, n: int) -> None:
    """An ID number built in a region assigned in its birth year passes the strict check."""
    for region in regions_in(born.year):
        assert check_cn_id(cn_id(region, born, n)) == cn_id(region, born, n)


def test_regions_follow_the_gbt_2260_table() -> None:
    """A Shenzhen district code created in 1983 is not offered for a birth in 1970."""
    assert set(regions_in(1970)) == {"110101", "310101"}
    assert regions_in(2000) == REGION_CODES


@given(
    st.sampled_from(USCC_HEADS),
    st.sampled_from(REGION_CODES),
    st.text("0123456789", min_size=8, max_size=8),
)
def test_built_credit_codes_are_valid(head: str, region: str, digits: str) -> None:
    """A credit code built around a GB 11714 organisation code passes the strict check."""
    code = uscc(head, region, org_code(digits))
    assert check_uscc(code) == code


def test_near_gives_each_literal_and_its_neighbours_in_json_form() -> None:
    """Ints step by one, decimals and money by a fen (as text), dates by a day (ISO)."""
    assert near(35, "int") == (34, 35, 36)
    assert near(Decimal("2.5"), "decimal") == ("2.49", "2.5", "2.51")
    assert near(0, "money") == ("-0.01", "0.00", "0.01")
    assert near(dt.date(2020, 3, 1), "date") == ("2020-02-29", "2020-03-01", "2020-03-02")
    assert near("ab", "str") == ("ab", "abx", "a")
    assert near(True, "bool") == (True, False)
    assert near(dt.date.max, "date") == ()
    assert near(35, "date") == ()


def test_dates_before_hold_the_anniversaries_and_a_day_either_side() -> None:
    """Two years, two months and two days before the date, each ±1 day, and the date itself."""
    days = dates_before(ON, [2])
    for back in (dt.date(2018, 7, 1), dt.date(2020, 5, 1), dt.date(2020, 6, 29)):
        assert {back - dt.timedelta(days=1), back, back + dt.timedelta(days=1)} <= set(days)
    assert ON in days
    assert list(days) == sorted(days)


def test_boundary_values_of_an_enum_are_its_members() -> None:
    """Near values of an enum literal that are not members are left out; every member is in."""
    assert boundary_values(FACTS["a.enum"], ["low"]) == ("low", "low", "high")


def test_literals_compared_with_a_fact_and_constants_by_type() -> None:
    """A comparison, a membership and a lookup key each give a fact its literals."""
    matter = synthetic_matter(
        FACTS,
        [
            _expr('a.int <= 35 and a.date >= date("2019-01-01")'),
            _expr('a.enum in ["low"] and {"low": 12, "high": 4.5}[a.enum] > a.int'),
            _expr("not a.bool"),
        ],
    )
    literals = compared_literals(matter)
    assert literals["a.int"] == (35,)
    assert literals["a.date"] == (dt.date(2019, 1, 1),)
    assert set(literals["a.enum"]) == {"low", "high"}
    found = constants(matter)
    assert found.ints == (0, 1, 12, 35)
    assert found.decimals == (Decimal(0), Decimal("4.5"))
    assert found.strs == ("high", "low")
    assert found.counts == (0, 1, 12, 35)
    assert preferred_bools(matter) == {"a.bool": False}


def test_moved_values_keep_their_type() -> None:
    """Moved ints stay ints, dates stay ISO dates, identifiers keep their length."""
    assert moved(FACTS["a.int"], 10) == (5, 9, 11, 15, 30)
    assert moved(FACTS["a.bool"], True) == (False,)
    assert moved(FACTS["a.date"], "2020-01-01")[0] == "2018-11-27"
    assert all(len(v) == 18 and v != GOOD_ID for v in moved(FACTS["a.cn_id"], GOOD_ID))
    assert moved(FACTS["a.int"], None) == ()


def test_paths_get_and_remove() -> None:
    """A dotted path reads a nested value or None, and removes it without touching its group."""
    tree: dict[str, Any] = {"a": {"b": 1, "c": 2}, "d": 3}
    assert get(tree, "a.b") == 1
    assert get(tree, "a.x") is None
    assert get(tree, "d.e") is None
    remove(tree, "a.b")
    remove(tree, "x.y")
    remove(tree, "d.e")
    assert tree == {"a": {"c": 2}, "d": 3}
