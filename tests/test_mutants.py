"""Tests that kill hand mutations the suite used to let live (issue 13, class 9; docs/mutation.md).

Each test names the mutation it kills: a derived fact's ERROR_VALUE recorded as unknown, NaN (or an
infinity) accepted for a decimal, a retired region code accepted in an ID number.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from differential import InterpreterBackend
from reference import plain_id, write_matter
from secondapproval import Engine, Outcome
from secondapproval.facts import FactValidator
from secondapproval.idcodes import check_cn_id, check_uscc, cn_id_check_character, regions
from secondapproval.lang import ir
from secondapproval.ruleset import FactSpec
from secondapproval.strategies import synthetic_matter

ON = dt.date(2021, 1, 1)
BACKENDS: list[Any] = ["native", "durable", InterpreterBackend()]
BACKEND_IDS = ["native", "durable", "interpreter"]

MATTER = """\
matter: derived-error
title: {zh: 派生事实错误, en: Derived fact error}
version: "1"
effective: {from: "2000-01-01"}
facts:
  level: {type: enum, values: [low, mid, high], source: applicant}
  x: {type: decimal, source: applicant}
  note: {type: str, source: applicant, optional: true}
  limit: {type: int, derive: '{"low": 1, "mid": 2}[level]'}
  ratio: {type: decimal, derive: 'x / (limit - 1)'}
rules:
  - id: within-limit
    when: limit >= 1
    says: {zh: 限额内, en: Within the limit}
    refer: {code: OVER, zh: 超限, en: Over}
  - id: limit-or-unknown
    when: limit >= 1 or note == "x"
    says: {zh: 限额或备注, en: Limit or note}
    refer: {code: EITHER, zh: 不符合, en: Not met}
  - id: limit-and-false
    when: limit >= 1 and x < 0
    says: {zh: 限额且负数, en: Limit and negative}
    refer: {code: BOTH, zh: 不符合, en: Not met}
  - id: ratio-small
    when: ratio <= 100
    says: {zh: 比例, en: Ratio}
    refer: {code: RATIO, zh: 比例过大, en: Ratio too large}
"""


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKEND_IDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    rules = write_matter(tmp_path_factory.mktemp("rules"), MATTER, "derived-error.yaml")
    return Engine(rules, backend=request.param)


def _one_rule(tmp_path: Path, fact: str, when: str) -> list[Engine]:
    """Engines on every backend for a matter with one fact `v` (YAML flow text) and one rule."""
    text = (
        "matter: one\ntitle: {zh: 一, en: One}\nversion: '1'\neffective: {from: '2000-01-01'}\n"
        f"facts:\n  v: {fact}\nrules:\n  - id: r\n    when: '{when}'\n"
        "    says: {zh: 规则, en: Rule}\n    refer: {code: R, zh: 不符合, en: Not met}\n"
    )
    rules = write_matter(tmp_path, text, "one.yaml")
    return [Engine(rules, backend=b) for b in BACKENDS]


def _statuses(engine: Engine, facts: dict[str, Any]) -> tuple[Outcome, set[str], list[str]]:
    d = engine.decide("derived-error", facts, on=ON)
    return d.outcome, set(d.codes), [r.to_dict()["status"] for r in d.results]


def test_a_derived_facts_error_is_an_error_not_unknown(engine: Engine) -> None:
    """Mutation killed: a derived fact's error recorded as unknown (MISSING codes, 'unknown')."""
    outcome, codes, statuses = _statuses(engine, {"level": "high", "x": 1})
    assert outcome is Outcome.REFER
    # `limit` errs ({"low", "mid"} has no "high"): each rule reading it is an error, never unknown;
    # `ratio` reads `limit`, so it errs too (error propagates through derived facts).
    assert statuses == ["error", "error", "failed", "error"]
    assert codes == {"ERROR:within-limit", "ERROR:limit-or-unknown", "BOTH", "ERROR:ratio-small"}
    assert not any(c.startswith(("MISSING:", "INVALID:")) for c in codes)


def test_error_ranks_above_unknown_through_a_derived_fact(engine: Engine) -> None:
    """`error or unknown` is an error, `error and false` is false, the error from a derived fact."""
    outcome, codes, statuses = _statuses(engine, {"level": "high", "x": 1})
    assert statuses[1] == "error"  # note is absent (optional): unknown; error ranks above it
    assert statuses[2] == "failed"  # x < 0 is false: false wins over error in `and`
    assert outcome is Outcome.REFER
    assert "EITHER" not in codes


def test_a_division_by_zero_in_a_derived_fact_is_an_error(engine: Engine) -> None:
    """`x / (limit - 1)` with limit 1 divides by zero: ERROR_VALUE of the rule reading it."""
    outcome, codes, statuses = _statuses(engine, {"level": "low", "x": -1})
    assert statuses == ["passed", "passed", "passed", "error"]
    assert codes == {"ERROR:ratio-small"}
    assert outcome is Outcome.REFER


def test_the_derived_matter_approves_when_nothing_errs(engine: Engine) -> None:
    """The control: with valid facts and no error the same matter approves."""
    outcome, codes, statuses = _statuses(engine, {"level": "mid", "x": Decimal("-1.5")})
    assert (outcome, codes, statuses) == (Outcome.APPROVE, set(), ["passed"] * 4)


NOT_FINITE: list[Any] = [
    float("nan"),
    float("inf"),
    float("-inf"),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("-NaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e400",
    "Inf",
]
DECIMAL_FACTS = {
    "decimal": FactSpec(type="decimal", source="applicant"),
    "money": FactSpec(type="money", source="applicant"),
    "list": FactSpec(type="list", of="decimal", source="applicant"),
}


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "adapter"])
@pytest.mark.parametrize("kind", sorted(DECIMAL_FACTS))
@pytest.mark.parametrize("value", NOT_FINITE, ids=plain_id)
def test_nan_and_infinities_are_invalid_for_a_decimal(value: Any, kind: str, fast: bool) -> None:
    """Mutation killed: NaN (or an infinity) accepted for a decimal, money or list of decimals."""
    validator = FactValidator(
        synthetic_matter({"v": DECIMAL_FACTS[kind]}, [ir.Const(True)]), fast=fast
    )
    given = [Decimal(1), value] if kind == "list" else value
    result = validator.validate({"v": given}, ON)
    assert "v" not in result.values
    assert set(result.invalid) == {"v"}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "nan"])
def test_nan_never_passes_a_comparison_rule(value: str, tmp_path: Path) -> None:
    """A NaN that reached a rule would make `not (v > 0)` true: it must refer INVALID first."""
    # NaN > 0 is false in Python, so `not` would pass it.
    for engine in _one_rule(tmp_path, "{type: decimal, source: applicant}", "not (v > 0)"):
        d = engine.decide("one", {"v": value}, on=ON)
        assert d.outcome is Outcome.REFER
        assert d.codes == ("INVALID:v",)


def _id_number(region: str, born: dt.date, serial: str = "001") -> str:
    first17 = f"{region}{born:%Y%m%d}{serial}"
    return first17 + cn_id_check_character(first17)


def _retired() -> list[tuple[str, int, int]]:
    """Region codes assigned for one span of years only, with a birth year past its end."""
    out = []
    for code, spans in sorted(regions().items()):
        if len(spans) == 1 and 1900 < spans[0][1] < 2020:
            out.append((code, spans[0][0], spans[0][1]))
    return out


RETIRED = _retired()


def test_known_retired_region_codes_exist() -> None:
    """The table has retired codes to test with (110103: Beijing Chongwen, merged in 2010)."""
    assert ("110103", 0, 2010) in RETIRED
    assert len(RETIRED) > 1000


@pytest.mark.parametrize(
    ("code", "start", "end"), [RETIRED[0], RETIRED[len(RETIRED) // 2], RETIRED[-1]]
)
def test_a_retired_region_code_is_refused_after_its_last_year(
    code: str, start: int, end: int
) -> None:
    """Mutation killed: a retired region code accepted in an ID number born after it was retired."""
    assert check_cn_id(_id_number(code, dt.date(end, 12, 31)))  # the last year: still assigned
    with pytest.raises(ValueError, match="retired before the birth year"):
        check_cn_id(_id_number(code, dt.date(end + 1, 1, 1)))


def test_a_region_code_made_after_the_birth_is_valid() -> None:
    """110112 (Tongzhou district) exists from 1997: a person born there in 1950 was issued a
    number under it, so the code may be younger than its holder (an elderly applicant's ID)."""
    assert regions()["110112"] == ((1997, 9999),)
    for year in (1930, 1996, 1997):
        assert check_cn_id(_id_number("110112", dt.date(year, 1, 1)))


def test_a_code_reassigned_across_two_spans_is_valid_in_both() -> None:
    """130204 has two spans (1983–1994, 1995–): valid in each, and for a birth before the first."""
    assert regions()["130204"] == ((1983, 1994), (1995, 9999))
    for year in (1940, 1983, 1994, 1995, 2010):
        assert check_cn_id(_id_number("130204", dt.date(year, 6, 1)))


def test_a_retired_region_code_refers_in_a_decision(tmp_path: Path) -> None:
    """An application whose ID number has a retired region code refers INVALID, on every backend."""
    for engine in _one_rule(tmp_path, "{type: cn_id, source: applicant}", "len(v) == 18"):
        good = engine.decide("one", {"v": _id_number("110103", dt.date(2010, 5, 1))}, on=ON)
        assert good.outcome is Outcome.APPROVE
        bad = engine.decide("one", {"v": _id_number("110103", dt.date(2011, 5, 1))}, on=ON)
        assert bad.outcome is Outcome.REFER
        assert bad.codes == ("INVALID:v",)


# ---- idcodes: what an invalid identifier is told, and the region table's spans -------------------
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (110105194912310020, "a citizen ID number must be a string"),
        ("110105194912310", "old 15-digit ID number (GB 11643-1989) has no check digit"),
        ("11010519491231002x", "an ID number is 17 digits and a digit or upper-case X"),
        ("110105194912310021", "the check character does not match (GB 11643 MOD 11-2)"),
        (_id_number("999999", dt.date(1990, 1, 1)), "unknown region code (GB/T 2260)"),
        (_id_number("110103", dt.date(2011, 1, 1)), "region code retired before the birth year"),
        (None, "a citizen ID number must be a string"),
    ],
)
def test_cn_id_messages_say_what_is_wrong(value: Any, message: str) -> None:
    """The reason text of an invalid ID number names exactly what is wrong (reasons show it)."""
    with pytest.raises(ValueError) as caught:
        check_cn_id(value)
    assert str(caught.value) == message


def test_cn_id_with_an_impossible_birth_date_says_so() -> None:
    """31 February with a right check digit: the birth date does not exist."""
    first17 = "11010519490231002"
    with pytest.raises(ValueError) as caught:
        check_cn_id(first17 + cn_id_check_character(first17))
    assert str(caught.value) == "the birth date in the ID number does not exist"


USCC_FORM = "a credit code is 18 characters of 0-9 and A-Y without I, O, S, V, Z"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (91110000600037341, "a unified social credit code must be a string"),
        (
            "91110000600037341l",
            "a credit code is 18 characters of 0-9 and A-Y without I, O, S, V, Z",
        ),
        (
            "91110000600037341",
            "a credit code is 18 characters of 0-9 and A-Y without I, O, S, V, Z",
        ),
        ("91110000600037341M", "the check character does not match (GB 32100 MOD 31-3)"),
    ],
)
def test_uscc_messages_say_what_is_wrong(value: Any, message: str) -> None:
    """The reason text of an invalid credit code names exactly what is wrong."""
    with pytest.raises(ValueError) as caught:
        check_uscc(value)
    assert str(caught.value) == message


@pytest.mark.parametrize("first17", ["1101051949123100", "110105194912310021", "1101051949123100X"])
def test_check_character_needs_seventeen_digits(first17: str) -> None:
    """The check-character helper refuses anything but exactly 17 digits, saying so."""
    with pytest.raises(ValueError) as caught:
        cn_id_check_character(first17)
    assert str(caught.value) == "the first 17 characters of an ID number are digits"


@pytest.mark.parametrize(
    ("spec", "spans"),
    [
        (None, ((0, 9999),)),
        ("", ((0, 9999),)),
        ("Beijing", ((0, 9999),)),
        ("[1983-1994]", ((1983, 1994),)),
        ("[-2010]", ((0, 2010),)),
        ("[1997-]", ((1997, 9999),)),
        ("[1983-1994],[1995-]", ((1983, 1994), (1995, 9999))),
    ],
)
def test_region_spans_are_read_from_the_table_notation(spec: str | None, spans: Any) -> None:
    """stdnum's `[start-end]` notation: open ends are 0 and 9999, no notation is always valid."""
    from secondapproval.idcodes import _spans

    assert _spans(spec) == spans


# ---- kleene: the two non-values -----------------------------------------------------------------
def test_sentinels_name_themselves_and_refuse_a_truth_value() -> None:
    """The sentinels print as their names, survive pickling as themselves, and have no bool."""
    import pickle

    from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE, _Sentinel

    assert (repr(UNKNOWN_VALUE), repr(ERROR_VALUE)) == ("UNKNOWN", "ERROR")
    assert repr(_Sentinel("MAYBE")) == "MAYBE"
    for sentinel in (UNKNOWN_VALUE, ERROR_VALUE):
        assert pickle.loads(pickle.dumps(sentinel)) is sentinel
        with pytest.raises(TypeError) as caught:
            bool(sentinel)
        assert str(caught.value) == f"{sentinel!r} has no truth value"


# ---- fastfacts: the fast path answers valid applications itself ---------------------------------
FAST_FACTS = {
    "flag": FactSpec(type="bool", source="applicant"),
    "n": FactSpec(type="int", source="applicant"),
    "name": FactSpec(type="str", source="applicant"),
    "level": FactSpec(type="enum", values=["low", "high"], source="applicant"),
    "x": FactSpec(type="decimal", source="applicant"),
    "day": FactSpec(type="date", source="applicant"),
    "flags": FactSpec(type="list", of="bool", source="applicant"),
    "ns": FactSpec(type="list", of="int", source="applicant"),
    "names": FactSpec(type="list", of="str", source="applicant"),
    "xs": FactSpec(type="list", of="decimal", source="applicant"),
    "days": FactSpec(type="list", of="date", source="applicant"),
}
FAST_GOOD = {
    "flag": True,
    "n": 3,
    "name": "a",
    "level": "high",
    "x": "-0.5",
    "day": "2024-02-29",
    "flags": [True, False],
    "ns": [0, -1, 2],
    "names": ["", "中"],
    "xs": ["0.5", 1],
    "days": ["2020-02-29"],
}


def _counting_validator(monkeypatch: pytest.MonkeyPatch) -> tuple[FactValidator, list[Any]]:
    """A validator whose slow (adapter) path records each application it is handed."""
    handed: list[Any] = []
    full = FactValidator._full

    def counting_full(self: FactValidator, partial: Any) -> Any:
        check = full(self, partial)

        def counted(facts: Any, on: dt.date) -> Any:
            handed.append(facts)
            return check(facts, on)

        return counted

    monkeypatch.setattr(FactValidator, "_full", counting_full)
    return FactValidator(synthetic_matter(FAST_FACTS, [ir.Const(True)])), handed


def test_the_fast_path_answers_a_valid_application_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind of fact and list, all valid: the slow path is never asked."""
    validator, handed = _counting_validator(monkeypatch)
    result = validator.validate(FAST_GOOD, ON)
    assert result.invalid == {}
    assert result.missing == ()
    assert set(result.values) == set(FAST_FACTS)
    assert handed == []


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("flags", [1]),
        ("ns", [True]),
        ("ns", [1.0]),
        ("names", [1]),
        ("xs", ["NaN"]),
        ("days", ["2021-02-29"]),
        ("n", True),
        ("flag", 0),
        ("level", "mid"),
        ("x", "1e400"),
        ("day", "2024-02-30"),
    ],
)
def test_the_fast_path_defers_a_wrong_item_to_the_slow_path(
    monkeypatch: pytest.MonkeyPatch, path: str, bad: Any
) -> None:
    """A wrong item is a doubt: the slow path decides, and says INVALID:<path>."""
    validator, handed = _counting_validator(monkeypatch)
    result = validator.validate({**FAST_GOOD, path: bad}, ON)
    assert handed, "the fast path must not decide a doubtful application itself"
    assert set(result.invalid) == {path}


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "adapter"])
def test_an_id_number_in_a_list_born_after_the_decision_date_is_invalid(fast: bool) -> None:
    """A list of cn_id is dated too: one born after the decision date makes the list invalid."""
    spec = FactSpec(type="list", of="cn_id", source="applicant")
    validator = FactValidator(synthetic_matter({"ids": spec}, [ir.Const(True)]), fast=fast)
    born_before, born_after = _id_number("110105", ON), _id_number("110105", ON + dt.timedelta(1))
    assert "ids" in validator.validate({"ids": [born_before]}, ON).values
    result = validator.validate({"ids": [born_before, born_after]}, ON)
    assert "ids" not in result.values
    assert set(result.invalid) == {"ids"}
