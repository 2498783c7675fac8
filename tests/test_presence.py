"""`present(x)` / `absent(x)`: what an optional fact's absence means, in every engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from differential import disagreement, folder_engines
from reference import examples, write_matter
from secondapproval import Engine, Outcome, RuleSetError

ON = dt.date(2025, 6, 1)
MATTER = """matter: presence-sample
title: {zh: 可选信息样例, en: Optional facts sample}
version: "1"
effective: {from: "2000-01-01"}
sources: [{id: T, status: third-party}]
facts:
  income: {type: int, source: applicant}
  household: {type: int, source: applicant, optional: true}
  per_head: {type: decimal, derive: "income / household"}
  phone: {type: str, source: applicant, optional: true, pattern: "1[0-9]{10}"}
rules:
  - id: phone-if-given
    when: "absent(phone) or phone != '10000000000'"
    says: {zh: 如填写电话则不得为测试号码, en: A phone given is no test number}
    refer: {code: PHONE, zh: 电话无效, en: Test phone number}
  - id: per-head-when-household-given
    when: "absent(per_head) or per_head < 1000"
    says: {zh: 如有家庭人口则人均收入低于 1000, en: Per-head income under 1000 if given}
    refer: {code: PER_HEAD, zh: 人均收入过高, en: Per-head income too high}
  - id: income
    when: "income < 5000 or present(household)"
    says: {zh: 收入低于 5000 或提供家庭人口, en: Income under 5000 or a household given}
    refer: {code: INCOME, zh: 收入过高, en: Income too high}
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_matter(tmp_path_factory.mktemp("presence"), MATTER)


@pytest.fixture(scope="module")
def engines(rules: Path) -> dict[str, Engine]:
    return folder_engines(rules)


CASES: list[tuple[dict[str, Any], str, tuple[str, ...]]] = [
    ({"income": 4000}, "approve", ()),
    ({"income": 4000, "phone": "13800138000"}, "approve", ()),
    ({"income": 4000, "phone": "10000000000"}, "refer", ("PHONE",)),
    ({"income": 6000}, "refer", ("INCOME",)),
    ({"income": 6000, "household": 3}, "refer", ("PER_HEAD",)),
    ({"income": 6000, "household": 8}, "approve", ()),
    # a household of 0: per_head fails to compute (an error, never taken as absent)
    ({"income": 6000, "household": 0}, "refer", ("ERROR:per-head-when-household-given",)),
    # an invalid optional fact is absent to the rules, and refers by itself
    ({"income": 4000, "phone": "12"}, "refer", ("INVALID:phone",)),
]


@pytest.mark.parametrize(("facts", "outcome", "codes"), CASES)
def test_presence_decides_alike_everywhere(
    engines: dict[str, Engine], facts: dict[str, Any], outcome: str, codes: tuple[str, ...]
) -> None:
    """Each engine gives the expected outcome and reasons; the three agree rule by rule."""
    for name, engine in engines.items():
        d = engine.decide("presence-sample", facts, on=ON)
        assert (str(d.outcome), d.codes) == (outcome, codes), name
    assert disagreement(engines, "presence-sample", facts, ON) == ""


@settings(max_examples=examples(200), deadline=None)
@given(
    income=st.one_of(st.none(), st.integers(0, 9000)),
    household=st.one_of(st.none(), st.integers(0, 9), st.just("3")),
    phone=st.one_of(st.none(), st.sampled_from(["13800138000", "10000000000", "12", 5])),
)
def test_presence_backends_agree(
    engines: dict[str, Engine], income: Any, household: Any, phone: Any
) -> None:
    """Over generated values (missing, invalid, erroring), native, durable and the interpreter
    decide alike, and an approval has every rule passed on valid facts."""
    facts = {
        k: v
        for k, v in {"income": income, "household": household, "phone": phone}.items()
        if v is not None
    }
    assert disagreement(engines, "presence-sample", facts, ON) == ""
    d = engines["native"].decide("presence-sample", facts, on=ON)
    if d.outcome is Outcome.APPROVE:
        assert not d.invalid
        assert not d.missing
        assert all(r.to_dict()["status"] == "passed" for r in d.results)


def test_presence_is_rendered_as_written(engines: dict[str, Engine]) -> None:
    """The rule text recorded reads `absent(…)` / `present(…)` as the author wrote it."""
    from secondapproval.lang import ir

    matter = engines["native"].snapshot.spans["presence-sample"][0].compiled.matter
    assert ir.render(matter.rules[2].expr) == "((income < 5000)) or (present(household))"


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("present(income)", "'income' is required, so present() is true whenever"),
        ("present(income > 3)", "present() takes one fact"),
        ("absent(nosuch)", "unknown fact 'nosuch'"),
        ("present(phone, income)", "present() takes one fact"),
    ],
)
def test_presence_is_checked_at_load(tmp_path: Path, when: str, message: str) -> None:
    """present()/absent() take one declared fact, and an optional (or derived) one."""
    text = MATTER.replace('"income < 5000 or present(household)"', repr(when))
    with pytest.raises(RuleSetError) as err:
        Engine(write_matter(tmp_path, text), vouch="all")
    assert message in str(err.value)
    assert "m.yaml" in str(err.value)
