"""Strict fact validation (DESIGN §10): types must match; bad values and unknown keys refer."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from reference import FIXTURES
from secondapproval import Engine, Outcome

ON = dt.date(2021, 6, 1)
GOOD: dict[str, Any] = {
    "applicant": {
        "id_number": "440304199001010011",
        "married": True,
        "phone": "13800138000",
        "children": [3, 8],
    },
    "company": {"uscc": "91110000600037341L", "capital": "250000.50"},
    "income": {"ratio": 0.4},
    "hukou": {"kind": "local"},
    "moved_in_on": "2019-05-01",
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(FIXTURES / "rules", vouch="all")


def with_change(path: str, value: Any) -> dict[str, Any]:
    facts = copy.deepcopy(GOOD)
    *groups, leaf = path.split(".")
    node = facts
    for g in groups:
        node = node.setdefault(g, {})
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return facts


def test_good_application_is_approved(engine: Engine) -> None:
    """An application with every fact present and valid, meeting every rule, is approved."""
    d = engine.decide("test-allowance", GOOD, on=ON)
    assert d.outcome is Outcome.APPROVE, d.codes
    assert d.values["applicant.age"] == 31
    assert d.values["company.capital"] == Decimal("250000.50")
    assert d.values["moved_in_on"] == dt.date(2019, 5, 1)


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        ("applicant.married", 1, "INVALID:applicant.married"),
        ("applicant.married", "true", "INVALID:applicant.married"),
        ("applicant.children", [1, "2"], "INVALID:applicant.children"),
        ("applicant.children", [True], "INVALID:applicant.children"),
        ("applicant.phone", "12345", "INVALID:applicant.phone"),
        ("applicant.id_number", "440304199001010012", "INVALID:applicant.id_number"),
        ("applicant.id_number", "440304202201010011", "INVALID:applicant.id_number"),
        ("applicant.id_number", 440304199001010011, "INVALID:applicant.id_number"),
        ("company.uscc", "91110000600037341M", "INVALID:company.uscc"),
        ("company.capital", "12.345", "INVALID:company.capital"),
        ("company.capital", 12.345, "INVALID:company.capital"),
        ("company.capital", "1e5", "INVALID:company.capital"),
        ("income.ratio", "NaN", "INVALID:income.ratio"),
        ("income.ratio", True, "INVALID:income.ratio"),
        ("hukou.kind", "Local", "INVALID:hukou.kind"),
        ("moved_in_on", "2019-02-29", "INVALID:moved_in_on"),
        ("moved_in_on", "2019-5-01", "INVALID:moved_in_on"),
        ("moved_in_on", "20190501", "INVALID:moved_in_on"),
        ("applicant.nickname", "x", "INVALID:applicant.nickname"),
        ("extra", {"a": 1}, "INVALID:extra"),
        ("hukou", "local", "INVALID:hukou"),
        ("applicant.married", ..., "MISSING:applicant.married"),
        ("applicant.married", None, "MISSING:applicant.married"),
        ("company.capital", ..., "MISSING:company.capital"),
    ],
)
def test_bad_facts_refer_with_their_code(engine: Engine, path: str, value: Any, code: str) -> None:
    """A wrong type, a bad check digit, a non-date, an undeclared key or a gap refers, named."""
    d = engine.decide("test-allowance", with_change(path, value), on=ON)
    assert d.outcome is Outcome.REFER
    assert code in d.codes, d.codes


def test_optional_fact_missing_only_matters_where_read(engine: Engine) -> None:
    """A missing optional fact is unknown only where read; `married or …` still passes."""
    facts = with_change("applicant.phone", ...)
    facts = with_change("company.uscc", ...) | {"applicant": facts["applicant"]}
    d = engine.decide("test-allowance", facts, on=ON)
    assert d.outcome is Outcome.APPROVE, d.codes


def test_missing_optional_fact_named_when_it_decides(engine: Engine) -> None:
    """When the missing optional fact is what a rule needed, its MISSING code is the reason."""
    facts = with_change("applicant.phone", ...)
    facts["applicant"]["married"] = False
    d = engine.decide("test-allowance", facts, on=ON)
    assert d.codes == ("MISSING:applicant.phone",)


def test_invalid_id_makes_derived_age_unknown_with_root_cause(engine: Engine) -> None:
    """A rule reading a derived fact names the invalid input it was derived from."""
    d = engine.decide(
        "test-allowance", with_change("applicant.id_number", "440304199001010012"), on=ON
    )
    assert d.codes == ("INVALID:applicant.id_number",)
    assert {r.rule: str(r.status) for r in d.results}["adult"] == "unknown"


@pytest.mark.parametrize("facts", [None, [], "x", 3, [GOOD]])
def test_application_that_is_not_an_object(engine: Engine, facts: Any) -> None:
    """An application that is not a JSON object refers with INVALID:$."""
    d = engine.decide("test-allowance", facts, on=ON)
    assert d.outcome is Outcome.REFER
    assert "INVALID:$" in d.codes


def test_birth_after_decision_date_is_invalid(engine: Engine) -> None:
    """An ID number whose birth date is after the decision date is invalid."""
    facts = with_change("applicant.id_number", "440304201506010025")
    d = engine.decide("test-allowance", facts, on=dt.date(2015, 5, 31) + dt.timedelta(days=400))
    assert "INVALID:applicant.id_number" not in d.codes
    d = engine.decide("test-allowance", facts, on=dt.date(2021, 1, 1))
    assert "UNDERAGE" in d.codes


def test_input_is_not_mutated(engine: Engine) -> None:
    """decide() never changes the caller's facts."""
    facts = copy.deepcopy(GOOD)
    facts["applicant"]["married"] = 1
    before = copy.deepcopy(facts)
    engine.decide("test-allowance", facts, on=ON)
    assert facts == before


# ---- Python-native inputs ------------------------------------------------------------------


def _recorded(facts: dict[str, Any]) -> dict[str, Any]:
    """The audit record (less its decision id, time and chain) of one decision on `facts`."""
    import orjson

    from secondapproval.audit import MemorySink

    sink = MemorySink()
    clock = lambda: dt.datetime(2021, 6, 1, 8, 30, tzinfo=dt.UTC)  # noqa: E731
    engine = Engine(FIXTURES / "rules", vouch="all", audit=sink, audit_key=b"k" * 32, clock=clock)
    engine.decide("test-allowance", facts, on=ON)
    record = orjson.loads(sink.lines[0])
    for member in ("decision_id", "hash", "mac", "latency_ns"):
        record.pop(member, None)
    return dict(record)


def test_python_date_is_taken_as_its_iso_string() -> None:
    """A `datetime.date` for a date fact decides and is recorded as its ISO string would be."""
    as_object = with_change("moved_in_on", dt.date(2019, 5, 1))
    d = Engine(FIXTURES / "rules", vouch="all").decide("test-allowance", as_object, on=ON)
    assert d.outcome is Outcome.APPROVE, d.codes
    assert d.values["moved_in_on"] == dt.date(2019, 5, 1)
    assert as_object["moved_in_on"] == dt.date(2019, 5, 1)  # the caller's object is untouched
    assert _recorded(as_object) == _recorded(GOOD)


@pytest.mark.parametrize(
    "value",
    [dt.datetime(2019, 5, 1, 0, 0), dt.date(2019, 5, 1)],
    ids=["datetime", "date-for-a-str-fact"],
)
def test_python_date_elsewhere_stays_invalid(engine: Engine, value: Any) -> None:
    """Only an exact `date` for a date fact is converted: a datetime is no date, and a date given
    for a str fact is no string."""
    path = "moved_in_on" if value.__class__ is dt.datetime else "applicant.phone"
    d = engine.decide("test-allowance", with_change(path, value), on=ON)
    assert d.outcome is Outcome.REFER
    assert f"INVALID:{path}" in d.codes


def test_flat_dotted_keys_get_a_hint(engine: Engine) -> None:
    """Facts given flat, with dotted keys, are refused with a hint that facts are nested."""
    flat = {"applicant.married": True, "moved_in_on": "2019-05-01"}
    d = engine.decide("test-allowance", flat, on=ON)
    assert d.outcome is Outcome.REFER
    assert "INVALID:applicant.married" in d.codes
    assert "nested" in d.invalid["applicant.married"]
    assert '{"applicant":{"married":' in d.invalid["applicant.married"]
