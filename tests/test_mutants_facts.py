"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: facts.py, factchecks.py, fastfacts.py and idcodes.py.

Every validator is built inside the test that uses it: mutmut runs, for a mutant, only the tests
that called the mutated function, and a validator built when the module is imported is called
by none of them.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter

from reference import plain_id
from secondapproval.facts import DECIMAL_DIGITS, FactValidator, Validated
from secondapproval.fastfacts import Check, Checked, FastValidator, fast_path
from secondapproval.idcodes import (
    check_cn_id,
    cn_id_birth_date,
    cn_id_check_character,
    uscc_check_character,
)
from secondapproval.lang import ir
from secondapproval.limits import DEFAULT, LIMIT, Limits
from secondapproval.marks import Duplicated
from secondapproval.ruleset import FactSpec
from secondapproval.strategies import synthetic_matter

ON = dt.date(2021, 1, 1)
LONG = DEFAULT.max_string
"""The longest string within the default limits."""


def _spec(kind: str, **more: Any) -> FactSpec:
    return FactSpec(type=kind, source="applicant", **more)


def _validator(
    facts: Mapping[str, FactSpec], *, fast: bool = True, limits: Limits = DEFAULT
) -> FactValidator:
    return FactValidator(synthetic_matter(facts, [ir.Const(True)]), fast=fast, limits=limits)


def _validate(facts: Mapping[str, FactSpec], app: Any, *, fast: bool = True) -> Validated:
    return _validator(facts, fast=fast).validate(app, ON)


BOTH = pytest.mark.parametrize("fast", [True, False], ids=["fast", "adapter"])
"""A test run with the fast path in front of the adapter, and with the adapter alone."""


# ---- factchecks.to_decimal and _bounded: the bound of a decimal input ----------------------------
X = {"x": _spec("decimal")}
TOO_MANY_DIGITS = "the number has more significant digits than allowed"
TOO_LARGE = "the number is too large or too small"
NOT_A_NUMBER = "a number (or a decimal string) is required"
NOT_FINITE = "number is not finite"
DIGITS = "1234567890" * 3


@BOTH
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (DIGITS[:DECIMAL_DIGITS], Decimal(DIGITS[:DECIMAL_DIGITS])),
        ("0." + DIGITS[:DECIMAL_DIGITS], Decimal("0." + DIGITS[:DECIMAL_DIGITS])),
        ("-0.5", Decimal("-0.5")),
        ("0", Decimal(0)),
        (Decimal("0E-100"), Decimal("0E-100")),  # zero is within whatever its exponent
        (Decimal("-0E+100"), Decimal("-0E+100")),
        (10**DECIMAL_DIGITS - 1, Decimal(10**DECIMAL_DIGITS - 1)),
        (-(10**DECIMAL_DIGITS) + 1, Decimal(-(10**DECIMAL_DIGITS) + 1)),
        (5_000_000_000, Decimal(5_000_000_000)),
        (2**64, Decimal(2**64)),
        (0.1, Decimal("0.1")),
        (1e-05, Decimal("0.00001")),
        (Decimal("1E+27"), Decimal("1E+27")),
    ],
    ids=plain_id,
)
def test_a_decimal_within_the_bound_is_valid(fast: bool, value: Any, expected: Decimal) -> None:
    """28 significant digits, 28 decimal places, below 10**28: valid, read exactly."""
    result = _validate(X, {"x": value}, fast=fast)
    assert result == Validated({"x": expected}, {}, ())
    assert str(result.values["x"]) == str(expected)


@BOTH
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (DIGITS[: DECIMAL_DIGITS + 1], TOO_MANY_DIGITS),
        ("0." + DIGITS[: DECIMAL_DIGITS + 1], TOO_MANY_DIGITS),
        ("0." + "0" * DECIMAL_DIGITS + "1", TOO_LARGE),  # 29 places, one significant digit
        (Decimal("1E+28"), TOO_LARGE),
        (10**DECIMAL_DIGITS, TOO_MANY_DIGITS),
        (2**111, TOO_MANY_DIGITS),  # 112 bits: read, then refused for its 34 digits
        (2**112, TOO_LARGE),  # 113 bits: refused before it is read
        (2**113, TOO_LARGE),
        (-(2**200), TOO_LARGE),
        (1e300, TOO_LARGE),
        ("1" * (2 * DECIMAL_DIGITS + 3), TOO_MANY_DIGITS),  # the longest string read as a number
        ("1" * (2 * DECIMAL_DIGITS + 4), NOT_A_NUMBER),  # longer: refused without reading it
        (Decimal("NaN"), NOT_FINITE),
        (Decimal("-Infinity"), NOT_FINITE),
        (float("nan"), NOT_FINITE),
        (float("inf"), NOT_FINITE),
        (True, "a number is required, not a boolean"),
        (False, "a number is required, not a boolean"),
        ("1e5", NOT_A_NUMBER),
        ("０", NOT_A_NUMBER),
        ([1], NOT_A_NUMBER),
    ],
    ids=plain_id,
)
def test_a_decimal_beyond_the_bound_says_why(fast: bool, value: Any, message: str) -> None:
    """Each way out of the bound has its own message (the reasons show it)."""
    assert _validate(X, {"x": value}, fast=fast) == Validated({}, {"x": message}, ())


# ---- factchecks.to_date ------------------------------------------------------------------------
DAY = {"day": _spec("date")}


@BOTH
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2021-02-29", "the date does not exist"),
        ("2021-13-01", "the date does not exist"),
        ("2021-1-01", "a date is an ISO YYYY-MM-DD string"),
        ("2021-01-01T00:00", "a date is an ISO YYYY-MM-DD string"),
        ("２０２１-01-01", "a date is an ISO YYYY-MM-DD string"),
        (20210101, "a date is an ISO YYYY-MM-DD string"),
        (dt.datetime(2021, 1, 1), "not a JSON value: a datetime.datetime"),  # a date is taken
    ],
    ids=plain_id,
)
def test_a_bad_date_says_why(fast: bool, value: Any, message: str) -> None:
    """A date is an ASCII `YYYY-MM-DD` string naming a day that exists."""
    assert _validate(DAY, {"day": value}, fast=fast) == Validated({}, {"day": message}, ())


@BOTH
def test_a_date_is_read_as_a_date(fast: bool) -> None:
    """`2024-02-29` is the leap day."""
    result = _validate(DAY, {"day": "2024-02-29"}, fast=fast)
    assert result == Validated({"day": dt.date(2024, 2, 29)}, {}, ())


# ---- factchecks.matching: a declared pattern ---------------------------------------------------
CODE = {"code": _spec("str", pattern=r"\d{3}")}


@BOTH
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12", r'does not match the pattern: "\\d{3}"'),
        ("١٢٣", r'does not match the pattern: "\\d{3}"'),  # Arabic-Indic digits are not \d
        ("1234", r'does not match the pattern: "\\d{3}"'),
        (123, "a string is required"),
        (None, None),
    ],
)
def test_a_value_that_misses_the_pattern_says_so(fast: bool, value: Any, message: str) -> None:
    """The message names the pattern (as JSON); a non-string is told a string is required."""
    result = _validate(CODE, {"code": value}, fast=fast)
    if message is None:
        assert result == Validated({}, {}, ("code",))
    else:
        assert result == Validated({}, {"code": message}, ())


@BOTH
def test_a_value_that_matches_the_pattern_is_kept(fast: bool) -> None:
    """A whole-string ASCII match is valid and kept as given."""
    assert _validate(CODE, {"code": "007"}, fast=fast) == Validated({"code": "007"}, {}, ())


# ---- factchecks.to_money -----------------------------------------------------------------------
FEE = {"fee": _spec("money")}


@BOTH
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.234", "an amount in CNY has at most two decimal places (fen)"),
        ("1.230", "an amount in CNY has at most two decimal places (fen)"),
        ("0.001", "an amount in CNY has at most two decimal places (fen)"),
        ("1e2", "a number (or a decimal string) is required"),
        (True, "a number is required, not a boolean"),
    ],
)
def test_an_amount_with_fractions_of_a_fen_is_invalid(fast: bool, value: Any, message: str) -> None:
    """CNY amounts have at most two decimal places; the message says so."""
    assert _validate(FEE, {"fee": value}, fast=fast) == Validated({}, {"fee": message}, ())


# ---- FactValidator: keys given twice -----------------------------------------------------------
@BOTH
def test_a_list_fact_given_twice_is_invalid_even_when_both_values_are_items(fast: bool) -> None:
    """`{"names": "a", "names": "b"}` reads as a list of strings, but it is a key given twice."""
    facts = {"names": _spec("list", of="str"), "n": _spec("int")}
    result = _validate(facts, {"names": Duplicated(["a", "b"]), "n": 1}, fast=fast)
    assert result == Validated({"n": 1}, {"names": "the key is given more than once"}, ())


# ---- FactValidator: messages of the adapter's errors, groups, missing facts ---------------------
NESTED = {
    "a.n": _spec("int"),
    "a.s": _spec("str"),
    "a.flag": _spec("bool"),
    "a.level": _spec("enum", values=["low", "high"]),
    "a.ns": _spec("list", of="int"),
    "a.b.day": _spec("date"),
    "a.b.note": _spec("str", optional=True),
    "top": _spec("int"),
}
NESTED_GOOD: dict[str, Any] = {
    "a": {
        "n": 1,
        "s": "s",
        "flag": False,
        "level": "low",
        "ns": [1, 2],
        "b": {"day": "2020-01-01", "note": "n"},
    },
    "top": 7,
}
NESTED_VALUES = {
    "a.n": 1,
    "a.s": "s",
    "a.flag": False,
    "a.level": "low",
    "a.ns": [1, 2],
    "a.b.day": dt.date(2020, 1, 1),
    "a.b.note": "n",
    "top": 7,
}
ALL_REQUIRED = ("a.n", "a.s", "a.flag", "a.level", "a.ns", "a.b.day", "top")


@BOTH
def test_a_nested_application_gives_its_values_by_path_in_declared_order(fast: bool) -> None:
    """Values come out flat, by dotted path, in the order the facts are declared."""
    result = _validate(NESTED, NESTED_GOOD, fast=fast)
    assert result == Validated(NESTED_VALUES, {}, ())
    assert list(result.values) == list(NESTED_VALUES)


@BOTH
@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("a.n", "1", "an integer is required"),
        ("a.n", 1.0, "an integer is required"),
        ("a.n", True, "an integer is required"),
        ("a.s", 1, "a string is required"),
        ("a.flag", 0, "true or false is required"),
        ("a.flag", "true", "true or false is required"),
        ("a.level", "mid", 'one of the allowed values is required: ["low", "high"]'),
        ("a.level", 1, 'one of the allowed values is required: ["low", "high"]'),
        ("a.ns", "1", "a JSON list is required"),
        ("a.ns", (1,), "a JSON list is required"),
        ("a.ns", [1, "2"], "item: 1: an integer is required"),
        ("a.ns", [True], "item: 0: an integer is required"),
        ("a.b.day", "2020-02-30", "the date does not exist"),
        ("a.b", [], "a JSON object is required"),
        ("a.b", "x", "a JSON object is required"),
        ("a", 5, "a JSON object is required"),
        ("a.zz", 1, "not a declared fact of this matter"),
        ("a.zz", None, "not a declared fact of this matter"),
        ("a.b.zz", None, "not a declared fact of this matter"),
        ("zz", None, "not a declared fact of this matter"),
    ],
    ids=plain_id,
)
def test_each_kind_of_wrong_value_has_its_message(
    fast: bool, path: str, value: Any, message: str
) -> None:
    """The adapter's error becomes our message, at the path of the fact or group it is in."""
    app: Any = {"a": {**NESTED_GOOD["a"], "b": dict(NESTED_GOOD["a"]["b"])}, "top": 7}
    *groups, leaf = path.split(".")
    node = app
    for g in groups:
        node = node[g]
    node[leaf] = value
    result = _validate(NESTED, app, fast=fast)
    assert result.invalid == {path: message}
    assert result.missing == ()
    below = [p for p in NESTED_VALUES if p == path or p.startswith(path + ".")]
    assert result.values == {p: v for p, v in NESTED_VALUES.items() if p not in below}


@BOTH
def test_a_fact_given_null_is_missing_not_invalid(fast: bool) -> None:
    """A JSON null under a declared key is an absent fact, nested or not."""
    app = {"a": {**NESTED_GOOD["a"], "n": None, "b": {"day": None}}, "top": None}
    result = _validate(NESTED, app, fast=fast)
    assert result.invalid == {}
    assert result.missing == ("a.n", "a.b.day", "top")
    assert list(result.values) == ["a.s", "a.flag", "a.level", "a.ns"]


@BOTH
@pytest.mark.parametrize("app", [{}, {"a": None}, {"a": {"b": None}, "top": None}], ids=plain_id)
def test_absent_facts_are_missing_in_declared_order(fast: bool, app: Any) -> None:
    """Every required fact absent is missing, in declared order; an optional one never is."""
    assert _validate(NESTED, app, fast=fast) == Validated({}, {}, ALL_REQUIRED)


@BOTH
def test_a_fact_of_an_invalid_group_is_not_also_missing(fast: bool) -> None:
    """A group that is not an object accounts for every fact in it."""
    result = _validate(NESTED, {"a": {"b": 3}, "top": 1}, fast=fast)
    assert result.invalid == {"a.b": "a JSON object is required"}
    assert result.missing == ("a.n", "a.s", "a.flag", "a.level", "a.ns")
    assert result.values == {"top": 1}


@BOTH
def test_an_invalid_fact_is_not_also_missing(fast: bool) -> None:
    """Invalid and missing never name the same fact."""
    result = _validate(NESTED, {"a": {"n": "x"}, "top": "y"}, fast=fast)
    assert result.invalid == {"a.n": "an integer is required", "top": "an integer is required"}
    assert result.missing == ("a.s", "a.flag", "a.level", "a.ns", "a.b.day")


@BOTH
def test_the_only_fact_absent_is_missing(fast: bool) -> None:
    """A flat matter: one required fact absent, the optional one given."""
    facts = {"n": _spec("int"), "m": _spec("int", optional=True)}
    assert _validate(facts, {"m": 2}, fast=fast) == Validated({"m": 2}, {}, ("n",))
    assert _validate(facts, {"n": 1}, fast=fast) == Validated({"n": 1}, {}, ())


@BOTH
def test_a_matter_with_every_fact_in_a_group_gives_values_by_path(fast: bool) -> None:
    """No fact at the top level: the values are still flat, by dotted path."""
    facts = {"a.n": _spec("int"), "b.c.s": _spec("str")}
    result = _validate(facts, {"b": {"c": {"s": "x"}}, "a": {"n": 1}}, fast=fast)
    assert result == Validated({"a.n": 1, "b.c.s": "x"}, {}, ())
    assert list(result.values) == ["a.n", "b.c.s"]
    result = _validate(facts, {"a": {"n": "1"}}, fast=fast)
    assert result == Validated({}, {"a.n": "an integer is required"}, ("b.c.s",))


@BOTH
@pytest.mark.parametrize("app", [[], "x", 3, None, [NESTED_GOOD]], ids=plain_id)
def test_an_application_that_is_not_an_object_is_invalid_at_the_root(fast: bool, app: Any) -> None:
    """Nothing else is said: no fact is missing."""
    result = _validate(NESTED, app, fast=fast)
    assert result == Validated({}, {"$": "the application is not a JSON object"}, ())


@BOTH
def test_a_key_that_is_not_a_string_is_invalid_by_its_text(fast: bool) -> None:
    """A key that is not a str is INVALID under its text and dropped by the key itself (so the
    rest is still validated); a str key of the same text is then invalid under that name too."""
    result = _validate({"n": _spec("int")}, {1: 2}, fast=fast)
    assert result == Validated({}, {"1": "not a JSON value: a builtins.int"}, ("n",))
    result = _validate({"n": _spec("int")}, {1: 2, "n": 5}, fast=fast)
    assert result == Validated({"n": 5}, {"1": "not a JSON value: a builtins.int"}, ())
    result = _validate({"n": _spec("int")}, {1: 2, "1": 3}, fast=fast)
    assert result == Validated({}, {"1": "not a JSON value: a builtins.int"}, ("n",))


@BOTH
def test_an_undeclared_empty_key_accounts_for_no_fact(fast: bool) -> None:
    """`{"": 1}`: the empty key is invalid, and every required fact is still missing."""
    result = _validate({"n": _spec("int"), "a.m": _spec("int")}, {"": 1}, fast=fast)
    assert result == Validated({}, {"": "not a declared fact of this matter"}, ("n", "a.m"))


@BOTH
def test_the_application_is_not_changed(fast: bool) -> None:
    """Validation works on a copy: the caller's application is left as given."""
    app = {"a": {"n": "x", "zz": 1, "b": {"day": Duplicated(["2020-01-01"] * 2)}}, "top": 1}
    before = repr(app)
    _validate(NESTED, app, fast=fast)
    assert repr(app) == before
    assert app["a"]["b"]["day"].__class__ is Duplicated
    app = {"a": {"n": "x", "zz": 1, "b": {"day": "x", "yy": None}}, "top": 1}
    before = repr(app)
    _validate(NESTED, app, fast=fast)
    assert repr(app) == before


@BOTH
@pytest.mark.parametrize(
    ("app", "invalid"),
    [
        ({"a": {"b": {"day": Duplicated(["2020-01-01"] * 2)}}}, ("a.b.day",)),
        ({"a": {"b": Duplicated([{}, {}])}}, ("a.b",)),
        ({"a": Duplicated([{}, {}])}, ("a",)),
        ({"a": {"ns": [{"k": Duplicated([1, 1])}]}}, ("a.ns",)),  # inside a list: the list
        ({"top": Duplicated([1, 1]), "a": {"n": Duplicated([1, 2])}}, ("top", "a.n")),
    ],
    ids=plain_id,
)
def test_a_key_given_twice_is_invalid_at_its_fact_or_group(
    fast: bool, app: Any, invalid: tuple[str, ...]
) -> None:
    """The message says the key is given more than once, whatever the values."""
    result = _validate(NESTED, app, fast=fast)
    assert result.invalid == dict.fromkeys(invalid, "the key is given more than once")
    assert not set(result.values) & set(invalid)
    assert not set(result.missing) & set(invalid)


@BOTH
def test_an_id_number_born_after_the_decision_date_is_invalid(fast: bool) -> None:
    """A single ID number, and one in a list, born the day after the decision date."""
    facts = {"id": _spec("cn_id"), "ids": _spec("list", of="cn_id"), "n": _spec("int")}
    before, after = _id_number(ON), _id_number(ON + dt.timedelta(days=1))
    born = "birth date in the ID number is after the decision date"
    assert _validate(facts, {"id": before, "ids": [before], "n": 1}, fast=fast) == Validated(
        {"id": before, "ids": [before], "n": 1}, {}, ()
    )
    result = _validate(facts, {"id": after, "ids": [before, after], "n": 1}, fast=fast)
    assert result == Validated({"n": 1}, {"id": born, "ids": born}, ())
    result = _validate(facts, {"id": after, "ids": [after]}, fast=fast)
    assert result == Validated({}, {"id": born, "ids": born}, ("n",))


def _id_number(born: dt.date, region: str = "110105", serial: str = "001") -> str:
    first17 = f"{region}{born:%Y%m%d}{serial}"
    return first17 + cn_id_check_character(first17)


@BOTH
@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("bool", True),
        ("int", -3),
        ("str", ""),
        ("decimal", "2.5"),
        ("money", "2.50"),
        ("date", "2000-01-01"),
        ("uscc", "91110000600037341" + uscc_check_character("91110000600037341")),
    ],
)
def test_a_list_of_each_item_type_is_valid(fast: bool, kind: str, value: Any) -> None:
    """A list fact validates each item as its declared `of` type."""
    facts = {"xs": _spec("list", of=kind)}
    single = _validate({"x": _spec(kind)}, {"x": value}, fast=fast).values["x"]
    assert _validate(facts, {"xs": [value, value]}, fast=fast) == Validated(
        {"xs": [single, single]}, {}, ()
    )
    assert _validate(facts, {"xs": []}, fast=fast) == Validated({"xs": []}, {}, ())


# ---- facts._within: a fast path only where the matter's shape is within the limits -----------
def _adapter_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records every application the pydantic adapter is asked to validate."""
    calls: list[Any] = []
    validate = TypeAdapter.validate_python

    def counting(self: TypeAdapter[Any], value: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(value)
        return validate(self, value, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "validate_python", counting)
    return calls


SHAPE = {"a.p": _spec("int"), "a.q": _spec("int"), "x": _spec("int"), "y": _spec("int")}
SHAPE_APP = {"a": {"p": 1, "q": 2}, "x": 3, "y": 4}  # 5 keys, depth 2
LISTED = {"a.xs": _spec("list", of="int"), "n": _spec("int")}  # depth 2, a list in it: 3
ENUM = {"e": _spec("enum", values=["v" * 100, "w"])}
ID = {"id": _spec("cn_id")}


@pytest.mark.parametrize(
    ("facts", "app", "limits"),
    [
        (SHAPE, SHAPE_APP, Limits(max_keys=5)),
        (SHAPE, SHAPE_APP, Limits(max_depth=2)),
        (LISTED, {"a": {"xs": [1]}, "n": 1}, Limits(max_depth=3)),
        (ENUM, {"e": "v" * 100}, Limits(max_string=100)),
        (ID, {"id": _id_number(ON)}, Limits(max_string=100)),
    ],
    ids=["keys", "depth", "depth-with-a-list", "enum-value", "max-string-100"],
)
def test_a_matter_within_the_limits_gets_a_fast_path(
    monkeypatch: pytest.MonkeyPatch, facts: Any, app: Any, limits: Limits
) -> None:
    """At every bound the shape allows a fast path: a valid application never reaches pydantic."""
    calls = _adapter_calls(monkeypatch)
    result = _validator(facts, limits=limits).validate(app, ON)
    assert result.invalid == {}
    assert result.missing == ()
    assert calls == []


@BOTH
@pytest.mark.parametrize(
    ("facts", "app", "limits", "why"),
    [
        (SHAPE, SHAPE_APP, Limits(max_keys=4), "keys more than: 4"),
        (SHAPE, SHAPE_APP, Limits(max_depth=1), "nesting deeper than: 1"),
        (LISTED, {"a": {"xs": [1]}, "n": 1}, Limits(max_depth=2), "nesting deeper than: 2"),
        (ENUM, {"e": "v" * 100}, Limits(max_string=99), "a string longer than: 99"),
        (ID, {"id": _id_number(ON)}, Limits(max_string=17), "a string longer than: 17"),
    ],
    ids=["keys", "depth", "depth-with-a-list", "enum-value", "id-number"],
)
def test_a_matter_beyond_the_limits_refers_its_valid_applications(
    fast: bool, facts: Any, app: Any, limits: Limits, why: str
) -> None:
    """A shape beyond a limit gets no fast path: the walk refers the application `INVALID:$`."""
    result = _validator(facts, fast=fast, limits=limits).validate(app, ON)
    assert result == Validated({}, {"$": LIMIT + why}, ())


@pytest.mark.parametrize(
    "limits", [Limits(max_keys=4), Limits(max_depth=1), Limits(max_string=99)], ids=plain_id
)
def test_a_matter_beyond_the_limits_validates_with_the_adapter(
    monkeypatch: pytest.MonkeyPatch, limits: Limits
) -> None:
    """No fast path: even an application within the limits is validated by pydantic."""
    calls = _adapter_calls(monkeypatch)
    app = {"x": 3, "y": 4}
    result = _validator(SHAPE, limits=limits).validate(app, ON)
    assert result == Validated(app, {}, ("a.p", "a.q"))
    assert calls == [app]


def test_a_validator_has_a_fast_path_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """`FactValidator(matter)`: a valid application is answered without pydantic."""
    calls = _adapter_calls(monkeypatch)
    validator = FactValidator(synthetic_matter(NESTED, [ir.Const(True)]))
    assert validator.validate(NESTED_GOOD, ON) == Validated(NESTED_VALUES, {}, ())
    assert calls == []


@pytest.mark.parametrize("absent", ["a.b.note", "top", "a.b"])
def test_an_application_with_absent_facts_is_read_without_the_adapter(
    monkeypatch: pytest.MonkeyPatch, absent: str
) -> None:
    """Absent facts (optional or not) but nothing wrong: the generated `partial` reads it."""
    calls = _adapter_calls(monkeypatch)
    app = copy.deepcopy(NESTED_GOOD)
    *groups, leaf = absent.split(".")
    node = app
    for g in groups:
        node = node[g]
    del node[leaf]
    result = _validator(NESTED).validate(app, ON)
    gone = [p for p in NESTED_VALUES if p == absent or p.startswith(absent + ".")]
    assert result.values == {p: v for p, v in NESTED_VALUES.items() if p not in gone}
    assert result.missing == tuple(p for p in gone if p != "a.b.note")
    assert calls == []


def test_fast_false_validates_with_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    """`fast=False` is the adapter alone, the reference the fast path is tested against."""
    calls = _adapter_calls(monkeypatch)
    result = _validator(NESTED, fast=False).validate(NESTED_GOOD, ON)
    assert result == Validated(NESTED_VALUES, {}, ())
    assert len(calls) == 1


# ---- fastfacts: the limits on a string, at the bound and one beyond ----------------------------
SLOW: Checked = ({}, {"$": "the slow path"}, ())


class _Recorder:
    """A slow path for the generated `check` that records each application handed to it."""

    def __init__(self) -> None:
        self.handed: list[Any] = []
        self.partial: FastValidator | None = None

    def __call__(self, partial: FastValidator) -> Check:
        self.partial = partial

        def slow(facts: Any, _on: Any) -> Checked:
            self.handed.append(facts)
            return SLOW

        return slow


def _fast(facts: Mapping[str, FactSpec], limits: Limits = DEFAULT) -> tuple[Check, _Recorder]:
    """The generated check of these facts and the recorder of what it hands to the slow path."""
    slow = _Recorder()
    path = fast_path(dict(facts), limits, "<test fast path>")
    check = path.checker(slow(path.partial))
    return check, slow


def _partial(slow: _Recorder) -> FastValidator:
    assert slow.partial is not None
    return slow.partial


STRINGS = {
    "name": _spec("str"),
    "code": _spec("str", pattern="a*"),
    "names": _spec("list", of="str"),
}


@pytest.mark.parametrize("where", ["name", "code", "names"])
def test_a_string_of_exactly_max_string_characters_is_answered_by_the_fast_path(where: str) -> None:
    """`max_string` characters are within the limits: valid, and no doubt for the slow path."""
    check, slow = _fast(STRINGS)
    app: dict[str, Any] = {"name": "n", "code": "", "names": []}
    app[where] = ["a" * LONG] if where == "names" else "a" * LONG
    assert check(app, ON) == (app, {}, ())
    assert _partial(slow)(app) == app
    assert slow.handed == []


@pytest.mark.parametrize("where", ["name", "code", "names"])
def test_a_string_one_beyond_max_string_goes_to_the_slow_path(where: str) -> None:
    """`max_string` + 1 characters are beyond the limits: the fast path doubts, both functions."""
    check, slow = _fast(STRINGS)
    app: dict[str, Any] = {"name": "n", "code": "", "names": []}
    app[where] = ["a" * (LONG + 1)] if where == "names" else "a" * (LONG + 1)
    assert check(app, ON) == SLOW
    assert slow.handed == [app]
    assert _partial(slow)(app) is None


# ---- fastfacts.fast_path: what the fast path answers itself, and what it hands on -------------
KINDS = {
    "flag": _spec("bool"),
    "n": _spec("int"),
    "name": _spec("str"),
    "level": _spec("enum", values=["low", "high"]),
    "x": _spec("decimal"),
    "fee": _spec("money"),
    "day": _spec("date"),
    "g.id": _spec("cn_id"),
    "g.h.ids": _spec("list", of="cn_id"),
    "g.ns": _spec("list", of="int"),
    "g.names": _spec("list", of="str"),
    "g.flags": _spec("list", of="bool"),
}
KINDS_APP: dict[str, Any] = {
    "flag": True,
    "n": 0,
    "name": "",
    "level": "high",
    "x": "-1.5",
    "fee": 3,
    "day": "2020-02-29",
    "g": {
        "id": _id_number(ON),
        "h": {"ids": [_id_number(dt.date(2000, 1, 1))]},
        "ns": [1],
        "names": ["a", "b"],
        "flags": [],
    },
}
KINDS_VALUES = {
    "flag": True,
    "n": 0,
    "name": "",
    "level": "high",
    "x": Decimal("-1.5"),
    "fee": Decimal(3),
    "day": dt.date(2020, 2, 29),
    "g.id": _id_number(ON),
    "g.h.ids": [_id_number(dt.date(2000, 1, 1))],
    "g.ns": [1],
    "g.names": ["a", "b"],
    "g.flags": [],
}


class _Drop:
    """Stands for a key removed from the application (a stable name in test ids)."""

    def __repr__(self) -> str:
        return "<removed>"


_DROP = _Drop()


def _with(app: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of the application with the value at the dotted path set (`_DROP`: removed)."""
    copied = copy.deepcopy(app)
    *groups, leaf = path.split(".")
    node = copied
    for g in groups:
        node = node[g]
    if value is _DROP:
        del node[leaf]
    else:
        node[leaf] = value
    return copied


def test_the_fast_path_answers_a_complete_valid_application_itself() -> None:
    """Every kind of fact, nested two levels deep: values by path, in order, no slow path."""
    check, slow = _fast(KINDS)
    values, invalid, missing = check(KINDS_APP, ON)
    assert (values, invalid, missing) == (KINDS_VALUES, {}, ())
    assert list(values) == list(KINDS_VALUES)
    assert slow.handed == []
    assert _partial(slow)(KINDS_APP) == KINDS_VALUES


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("flag", 1),
        ("flag", None),
        ("n", True),
        ("n", 1.0),
        ("name", 1),
        ("level", "mid"),
        ("level", 1),
        ("x", "1e5"),
        ("x", True),
        ("fee", "0.001"),
        ("day", "2021-02-29"),
        ("g.id", "110105194912310020"),  # its check character is X
        ("g.id", _id_number(ON + dt.timedelta(days=1))),
        ("g.h.ids", [_id_number(ON + dt.timedelta(days=1))]),
        ("g.h.ids", ["x"]),
        ("g.h.ids", (_id_number(ON),)),
        ("g.ns", [True]),
        ("g.ns", "1"),
        ("g.names", [1]),
        ("g.flags", [0]),
        ("g.h", []),
        ("g", None),
        ("g.zz", 1),
        ("zz", 1),
        ("n", _DROP),
        ("g.h.ids", _DROP),
    ],
    ids=plain_id,
)
def test_the_fast_path_hands_a_doubtful_application_to_the_slow_path(path: str, value: Any) -> None:
    """A wrong type or value, a late birth date, an odd or absent key: the slow path decides."""
    check, slow = _fast(KINDS)
    app = _with(KINDS_APP, path, value)
    assert check(app, ON) == SLOW
    assert slow.handed == [app]


def test_a_key_swapped_for_an_undeclared_one_is_a_doubt() -> None:
    """As many keys as declared, but one of them undeclared: the slow path decides."""
    check, slow = _fast(KINDS)
    app = _with(KINDS_APP, "n", _DROP)
    app["m"] = 0
    assert check(app, ON) == SLOW
    assert _partial(slow)(app) is None


@pytest.mark.parametrize("app", [None, [], [KINDS_APP], "x", Duplicated([KINDS_APP])], ids=plain_id)
def test_an_application_that_is_not_a_dict_goes_to_the_slow_path(app: Any) -> None:
    """Only a plain dict is read by the fast path."""
    check, slow = _fast(KINDS)
    assert check(app, ON) == SLOW
    assert slow.handed == [app]
    assert _partial(slow)(app) is None


def test_partial_reads_an_application_with_absent_facts() -> None:
    """Absent facts and groups are left out; the values given are checked all the same."""
    _, slow = _fast(KINDS)
    partial = _partial(slow)
    assert partial({}) == {}
    assert partial({"g": {}}) == {}
    assert partial({"n": 2, "g": {"h": {}, "ns": [3]}}) == {"n": 2, "g.ns": [3]}
    later = _id_number(ON + dt.timedelta(days=1))
    assert partial({"g": {"id": later, "h": {"ids": [later]}}}) == {
        "g.id": later,
        "g.h.ids": [later],
    }  # not dated: the full path dates ID numbers itself


@pytest.mark.parametrize(
    "app",
    [
        {"zz": 1},
        {"n": 1, "zz": None},
        {"g": {"zz": 1}},
        {"g": {"h": {"zz": 1}}},
        {"g": []},
        {"g": {"h": None}},
        {"n": True},
        {"level": "mid"},
        {"x": "1e5"},
        {"g": {"id": "x"}},
        {"g": {"ns": [1.5]}},
        {"g": {"names": "a"}},
        {"name": None},
    ],
    ids=plain_id,
)
def test_partial_doubts_an_undeclared_key_or_a_wrong_value(app: Any) -> None:
    """At its first doubt `partial` gives None (the adapter then says what is wrong)."""
    _, slow = _fast(KINDS)
    assert _partial(slow)(app) is None


LISTS = {"a.xs": _spec("list", of="int"), "ys": _spec("list", of="str"), "n": _spec("int")}
SMALL = Limits(max_items=4, max_string=100)


@pytest.mark.parametrize(
    ("xs", "ys", "within"),
    [
        ([1] * 4, [], True),
        ([], ["y"] * 4, True),
        ([1] * 2, ["y"] * 2, True),
        ([1] * 5, [], False),
        ([], ["y"] * 5, False),
        ([1] * 3, ["y"] * 2, False),
    ],
)
def test_list_items_count_toward_max_items_in_total(
    xs: list[int], ys: list[str], within: bool
) -> None:
    """`max_items` items in all lists together are answered; one more goes to the slow path."""
    check, slow = _fast(LISTS, SMALL)
    app = {"a": {"xs": xs}, "ys": ys, "n": 1}
    values = {"a.xs": xs, "ys": ys, "n": 1}
    assert check(app, ON) == ((values, {}, ()) if within else SLOW)
    assert slow.handed == ([] if within else [app])
    partial = _partial(slow)
    assert partial(app) == (values if within else None)
    assert partial({"a": {"xs": xs}, "ys": ys}) == ({"a.xs": xs, "ys": ys} if within else None)


def test_partial_counts_items_when_every_fact_is_a_list() -> None:
    """Lists only: `partial` still refuses more than `max_items` items in all of them."""
    facts = {"xs": _spec("list", of="int"), "ys": _spec("list", of="int", optional=True)}
    _, slow = _fast(facts, SMALL)
    assert _partial(slow)({"xs": [1] * 4}) == {"xs": [1] * 4}
    assert _partial(slow)({"xs": [1] * 2, "ys": [2] * 2}) == {"xs": [1] * 2, "ys": [2] * 2}
    assert _partial(slow)({"xs": [1] * 3, "ys": [2] * 2}) is None


def test_a_matter_without_lists_has_no_item_count() -> None:
    """Facts without lists: the application is answered whatever `max_items` is."""
    check, slow = _fast({"n": _spec("int")}, Limits(max_items=1))
    assert check({"n": 1}, ON) == ({"n": 1}, {}, ())
    assert _partial(slow)({"n": 1}) == {"n": 1}


@pytest.mark.parametrize("kind", ["decimal", "money"])
def test_a_long_number_string_is_a_doubt_before_it_is_read(kind: str) -> None:
    """A decimal or money string beyond `max_string` goes to the slow path (it says `$`)."""
    check, slow = _fast({"x": _spec(kind)}, Limits(max_string=3))
    assert check({"x": "1.5"}, ON) == ({"x": Decimal("1.5")}, {}, ())
    assert check({"x": "12.5"}, ON) == SLOW
    assert _partial(slow)({"x": "12.5"}) is None
    assert _partial(slow)({"x": "1.5"}) == {"x": Decimal("1.5")}


def test_a_list_fact_without_an_item_type_is_a_list_of_strings() -> None:
    """Without `of` (a matter file always has it) the items are strings, as `fact_type` reads."""
    facts = {"xs": _spec("list")}
    check, slow = _fast(facts)
    assert check({"xs": ["a"]}, ON) == ({"xs": ["a"]}, {}, ())
    assert check({"xs": [1]}, ON) == SLOW
    assert _partial(slow)({"xs": ["a"]}) == {"xs": ["a"]}
    for fast in (True, False):
        assert _validate(facts, {"xs": ["a"]}, fast=fast) == Validated({"xs": ["a"]}, {}, ())
        assert _validate(facts, {"xs": [1]}, fast=fast).invalid == {
            "xs": "item: 0: a string is required"
        }


# ---- idcodes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "born"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31)),
        ("440304199001010011", dt.date(1990, 1, 1)),
        ("440304201506010025", dt.date(2015, 6, 1)),
    ],
)
def test_the_birth_date_is_read_from_the_id_number(number: str, born: dt.date) -> None:
    """Characters 7-14 are the birth date, YYYYMMDD."""
    assert check_cn_id(number) == number
    assert cn_id_birth_date(number) == born


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("110105491231002", "old 15-digit ID number (GB 11643-1989) has no check digit"),
        ("１１０１０５４９１２３１００２", "an ID number is 17 digits and a digit or upper-case X"),
        ("11010549123100X", "an ID number is 17 digits and a digit or upper-case X"),
        ("1101054912310021", "an ID number is 17 digits and a digit or upper-case X"),
        ("11010549123100", "an ID number is 17 digits and a digit or upper-case X"),
    ],
)
def test_an_id_number_of_the_wrong_length_says_why(value: str, message: str) -> None:
    """Only 15 ASCII digits are the old format; any other wrong length is just wrong."""
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        check_cn_id(value)


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44030419900101001", "1"), ("44030420150601002", "5")],
)
def test_the_check_character_of_seventeen_digits(first17: str, check: str) -> None:
    """GB 11643 MOD 11-2 over the 17 digits; 10 is written X."""
    assert cn_id_check_character(first17) == check
