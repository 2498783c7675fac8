"""Fact validation accepts canonical values only, the same way on the fast and the slow path.

Issue 13, class 3: non-ASCII digits and trailing newlines in numbers, dates and patterns; an
undeclared key with a null value; an ID number in a list born after the decision date; keys given
twice in an application's JSON; decimals beyond the documented bound. Class 7 (half): every
message of an invalid fact is ours, in English and Chinese, values written as JSON.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import GOOD_REF, ON, REFERENCE, RULES, engine_over, versions
from secondapproval import Engine, Outcome
from secondapproval.cli import main
from secondapproval.facts import DECIMAL_DIGITS, FactValidator
from secondapproval.idcodes import cn_id_check_character, uscc_check_character
from secondapproval.jsonfile import loads
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.marks import Duplicated
from secondapproval.messages import ZH, zh
from secondapproval.ruleset import FactSpec, Matter, fact_type
from secondapproval.strategies import synthetic_matter


def _id(born: str, region: str = "110101", serial: str = "123") -> str:
    first = region + born + serial
    return first + cn_id_check_character(first)


ID = _id("19900101")
ORG = "91110000600037341" + uscc_check_character("91110000600037341")
LATER_ID = _id("20300101")
FACTS: dict[str, FactSpec] = {
    "a.n": FactSpec(type="int", source="applicant"),
    "a.x": FactSpec(type="decimal", source="applicant"),
    "a.fee": FactSpec(type="money", source="applicant"),
    "a.day": FactSpec(type="date", source="applicant"),
    "a.code": FactSpec(type="str", pattern=r"\d{6}", source="applicant"),
    "a.level": FactSpec(type="enum", values=["low", "high"], source="applicant"),
    "a.id": FactSpec(type="cn_id", source="applicant"),
    "a.ids": FactSpec(type="list", of="cn_id", source="applicant"),
    "a.xs": FactSpec(type="list", of="decimal", source="applicant"),
    "a.flag": FactSpec(type="bool", source="applicant"),
    "a.org": FactSpec(type="uscc", source="applicant"),
}
GOOD: dict[str, Any] = {
    "a": {
        "n": 1,
        "x": "1.5",
        "fee": "100.50",
        "day": "2020-02-29",
        "code": "123456",
        "level": "low",
        "id": ID,
        "ids": [ID],
        "xs": ["1", 2],
        "flag": True,
        "org": ORG,
    }
}


def _synthetic() -> Matter:
    node, _ = parse("a.flag")
    typed, problems = check(node, {p: fact_type(f) for p, f in FACTS.items()})
    assert not problems
    return synthetic_matter(FACTS, [typed])


MATTER = _synthetic()
FAST, SLOW = FactValidator(MATTER), FactValidator(MATTER, fast=False)


def _both(app: Any, on: dt.date = ON) -> tuple[dict[str, Any], dict[str, str], tuple[str, ...]]:
    """The validation of an application, asserting that both paths agree exactly."""
    fast, slow = FAST.validate(app, on), SLOW.validate(app, on)
    assert fast == slow
    assert list(fast.values.items()) == list(slow.values.items())
    return fast.values, fast.invalid, fast.missing


def _with(path: str, value: Any) -> dict[str, Any]:
    app = json.loads(json.dumps(GOOD))
    app["a"][path] = value
    return app


def test_the_base_application_is_valid() -> None:
    """The application the table below damages is valid in every fact."""
    values, invalid, missing = _both(GOOD)
    assert (invalid, missing) == ({}, ())
    assert values["a.x"] == Decimal("1.5")


UNICODE_DIGITS = sorted(
    {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Nd"} - set("0123456789")
)


def _foreign(text: str, digit: str) -> str:
    """`text` with its first ASCII digit replaced by a digit of another script of the same value."""
    at = next(i for i, c in enumerate(text) if c.isdigit())
    same = next(
        (d for d in UNICODE_DIGITS if unicodedata.digit(d) == int(text[at]) and d == digit),
        digit,
    )
    return text[:at] + same + text[at + 1 :]


NON_CANONICAL = [
    *(s + "\n" for s in ("100", "1.5")),
    "\n100",
    " 100",
    "100 ",
    "+100",
    "0100",
    "1.",
    ".5",
    "1e5",
    "1E5",
    "NaN",
    "Infinity",
    "-",
    "",
    "1_000",
    "１００",
    "١٠٠",
    "−100",  # U+2212 minus
]


@pytest.mark.parametrize("path", ["x", "fee", "xs"])
@pytest.mark.parametrize("text", NON_CANONICAL)
def test_non_canonical_number_strings_are_invalid(path: str, text: str) -> None:
    """A decimal or money string that is not ASCII JSON-number syntax is INVALID on both paths."""
    _, invalid, _ = _both(_with(path, [text] if path == "xs" else text))
    assert f"a.{path}" in invalid


@given(st.sampled_from(UNICODE_DIGITS), st.sampled_from(["x", "fee", "day", "code", "id", "org"]))
def test_a_digit_of_any_other_script_is_invalid(digit: str, path: str) -> None:
    """Every Unicode decimal digit other than 0-9, anywhere a fact holds digits, is INVALID."""
    text = _foreign(str(GOOD["a"][path]), digit)
    _, invalid, _ = _both(_with(path, text))
    assert f"a.{path}" in invalid


@pytest.mark.parametrize("path", ["x", "fee", "day", "code", "id", "org", "level"])
@pytest.mark.parametrize("edge", ["\n", "\r\n", " ", "\t", "\x00"])
def test_whitespace_around_any_string_fact_is_invalid(path: str, edge: str) -> None:
    """A canonical value with whitespace (a newline included) before or after it is INVALID."""
    for text in (GOOD["a"][path] + edge, edge + GOOD["a"][path]):
        _, invalid, _ = _both(_with(path, text))
        assert f"a.{path}" in invalid


_CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?", re.ASCII)


def _oracle_decimal(text: str) -> bool:
    """A decimal string is valid: ASCII JSON-number syntax without exponent, within the bound."""
    if not (text.isascii() and _CANONICAL.fullmatch(text)):
        return False
    value = Decimal(text)
    if not value:
        return True
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    places = len(text.partition(".")[2])
    return (
        len(digits) <= DECIMAL_DIGITS
        and places <= DECIMAL_DIGITS
        and abs(value) < Decimal(10) ** DECIMAL_DIGITS
    )


NUMBERISH = st.text(alphabet=st.sampled_from("0123456789-.e+ \n１٠"), max_size=8) | st.from_regex(
    r"-?[0-9]{1,35}(\.[0-9]{1,35})?", fullmatch=True
)


@given(NUMBERISH)
def test_decimal_strings_are_valid_exactly_when_canonical(text: str) -> None:
    """Over number-like strings, the validator accepts exactly the canonical, bounded ones."""
    _, invalid, _ = _both(_with("x", text))
    assert ("a.x" not in invalid) == _oracle_decimal(text)


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        -float("inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("1" * (DECIMAL_DIGITS + 1)),
        Decimal(10) ** DECIMAL_DIGITS,
        Decimal("1e-29"),
        1e300,
        1e-300,
        10**40,
        True,
    ],
    ids=repr,
)
def test_decimals_beyond_the_bound_are_invalid(value: Any) -> None:
    """NaN, infinities and decimals beyond the documented bound are never valid."""
    _, invalid, _ = _both(_with("x", value))
    assert "a.x" in invalid


@pytest.mark.parametrize(
    "value", [Decimal("9" * DECIMAL_DIGITS), Decimal("1e-28"), "0." + "0" * 27 + "1", 0.1, -0.0]
)
def test_decimals_at_the_bound_are_valid(value: Any) -> None:
    """Decimals at the edge of the bound are still valid."""
    values, invalid, _ = _both(_with("x", value))
    assert "a.x" not in invalid
    assert values["a.x"] == Decimal(str(value))


@pytest.mark.parametrize(
    ("app", "path"),
    [
        ({**GOOD, "x": None}, "x"),
        ({**GOOD, "A": None}, "A"),
        ({"a": {**GOOD["a"], "y": None}}, "a.y"),
        ({"a": {**GOOD["a"], "N": None}}, "a.N"),
    ],
)
def test_an_undeclared_key_with_null_is_invalid(app: dict[str, Any], path: str) -> None:
    """An undeclared key is INVALID whatever its value, null included; a declared null is absent."""
    _, invalid, _ = _both(app)
    assert path in invalid
    _, invalid, missing = _both(_with("n", None))
    assert invalid == {}
    assert missing == ("a.n",)


KEYS_NOT_TEXT = {
    "top-level": ({**GOOD, "\ud800": 1}, "\ud800"),
    "top-level-null": ({**GOOD, "x\udfff": None}, "x\udfff"),
    "in-a-group": ({"a": {**GOOD["a"], "n\ud800": 1}}, "a.n\ud800"),
    "group-name": ({**GOOD, "\ud800": {"n": 1}}, "\ud800"),
}


@pytest.mark.parametrize(("app", "path"), KEYS_NOT_TEXT.values(), ids=KEYS_NOT_TEXT.keys())
def test_a_key_holding_a_lone_surrogate_is_invalid_by_its_path(
    app: dict[str, Any], path: str
) -> None:
    """A key that is no text (a lone surrogate: pydantic cannot say where it is) is INVALID at
    its own path, the rest of the application validated; never the whole application."""
    values, invalid, missing = _both(app)
    assert invalid == {path: "not a declared fact of this matter"}
    assert missing == ()
    assert values == _both(GOOD)[0]


def test_an_id_number_in_a_list_born_after_the_decision_date_is_invalid() -> None:
    """An ID number in a list fact is checked against the decision date, like a single one."""
    for ids in ([LATER_ID], [ID, LATER_ID]):
        values, invalid, _ = _both(_with("ids", ids))
        assert "a.ids" in invalid
        assert "a.ids" not in values
        assert zh(invalid["a.ids"]) == "身份号码中的出生日期晚于决定日期"
    _, invalid, _ = _both(_with("ids", [LATER_ID]), on=dt.date(2031, 1, 1))
    assert invalid == {}


# ---- keys given twice ---------------------------------------------------------------------------


def test_duplicate_keys_keep_every_value() -> None:
    """The strict parser keeps every value of a key given twice, in order, as Duplicated."""
    data = loads('{"a": 1, "b": {"c": 2, "c": 3, "c": 4}, "a": 5}')
    assert data["a"].__class__ is Duplicated
    assert data["a"] == [1, 5]
    assert data["b"]["c"] == [2, 3, 4]


def test_json_numbers_with_a_fraction_are_read_from_their_text() -> None:
    """`0.30000000000000001` is that decimal, never the float 0.3; NaN and Infinity are refused."""
    assert loads("[0.30000000000000001, 1e400, 2]") == [
        Decimal("0.30000000000000001"),
        Decimal("1e400"),
        2,
    ]
    from secondapproval.errors import FactError

    for text in ("NaN", "[Infinity]", '{"a": -Infinity}', "1" * 5000):
        with pytest.raises(FactError):
            loads(text)


KEYS = sorted(GOOD_REF)


@given(st.sampled_from(KEYS), st.sampled_from([None, 0, 30, "x", True, [], {}]), st.booleans())
def test_a_key_given_twice_refers_invalid(key: str, other: Any, first: bool) -> None:
    """A key given twice in the JSON refers with INVALID:<key>, whichever value comes first."""
    engine = engine_over(REFERENCE)
    good = json.dumps(GOOD_REF)
    one, two = (json.dumps(other), json.dumps(GOOD_REF[key]))[:: 1 if first else -1]
    text = good[:-1] + f", {json.dumps(key)}: {one}, {json.dumps(key)}: {two}}}"
    text = text.replace(f"{json.dumps(key)}: {json.dumps(GOOD_REF[key])}, ", "", 1)
    d = engine.decide("talent-reference", loads(text), on=ON)
    assert d.outcome is Outcome.REFER
    assert f"INVALID:{key}" in d.codes
    assert engine.decide("talent-reference", loads(good), on=ON).outcome is Outcome.APPROVE


def test_a_group_or_fact_given_twice_refers_invalid() -> None:
    """Duplicates inside groups, and of whole groups, are INVALID at the declared path."""
    text = json.dumps(GOOD)
    inner = text.replace('"n": 1', '"n": 1, "n": 1', 1)
    _, invalid, _ = _both(loads(inner))
    assert set(invalid) == {"a.n"}
    whole = text[:-1] + ", " + text[1:]
    _, invalid, missing = _both(loads(whole))
    assert set(invalid) == {"a"}
    assert missing == ()
    undeclared = text[:-1] + ', "zz": {"q": 1, "q": 2}}'
    _, invalid, _ = _both(loads(undeclared))
    assert set(invalid) == {"zz"}


def test_the_cli_refers_a_facts_file_with_a_key_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`decide FACTS.json` with a key given twice refers it (the issue's example, exit 0)."""
    facts = tmp_path / "facts.json"
    text = json.dumps(GOOD_REF)[:-1] + ', "social_insurance_months": -5}'
    facts.write_text(text, encoding="utf-8")
    args = ["decide", "talent-reference", str(facts), "--rules", str(REFERENCE), "--vouch", "all"]
    assert main([*args, "--on", "2021-06-01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "refer"
    assert [r["code"] for r in out["reasons"]] == ["INVALID:social_insurance_months"]
    facts.write_text('{"age": NaN}', encoding="utf-8")
    assert main(args) == 2


# ---- messages ------------------------------------------------------------------------------------


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _translated(message: str) -> bool:
    """Every fixed part of a message is in the catalogue; the other parts are JSON details."""
    parts = message.split(": ")
    return parts[0] in ZH and all(p in ZH or _is_json(p) for p in parts[1:])


_TERMS = {"ISO", "YYYY", "MOD", "CNY", "JSON", "true", "false"}


def _chinese(text: str) -> bool:
    """No English words but terms and JSON details."""
    return all(
        _is_json(part) or set(re.findall(r"[A-Za-z]{3,}", part)) <= _TERMS
        for part in text.split("：")
    )


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text(max_size=20)
    | st.sampled_from([ID, LATER_ID, "2020-02-30", "123456", "1.005", "x"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=5,
)


@given(st.sampled_from(sorted(k.split(".")[1] for k in FACTS)), JSONISH)
def test_every_message_is_ours_in_both_languages(path: str, value: Any) -> None:
    """Any value of any fact is valid or has a catalogued message: no pydantic English, no repr."""
    _, invalid, _ = _both(_with(path, value))
    for why in invalid.values():
        assert _translated(why), why
        assert _chinese(zh(why)), zh(why)
        assert "Input should" not in why
        assert "datetime." not in why


def test_the_chinese_reason_has_no_english() -> None:
    """The reason of a wrong type reads in Chinese only (issue 13, class 7)."""
    d = engine_over(REFERENCE).decide("talent-reference", {**GOOD_REF, "age": "35"}, on=ON)
    (reason,) = d.reasons
    assert reason.zh == "信息无效：age（应为整数）"
    assert reason.en == "invalid: age (an integer is required)"
    d = engine_over(REFERENCE).decide("talent-reference", {**GOOD_REF, "degree": "phd"}, on=ON)
    (reason,) = d.reasons
    assert reason.en.endswith(
        '(one of the allowed values is required: ["associate", "bachelor", "master", "doctor"])'
    )


BUNDLED = versions(engine_over(REFERENCE)) + versions(engine_over(RULES))
BUNDLED_VALIDATORS = {id(m): (FactValidator(m), FactValidator(m, fast=False)) for m in BUNDLED}


@given(st.sampled_from(BUNDLED), st.data())
def test_a_duplicated_fact_or_group_of_any_bundled_matter_is_invalid(
    matter: Matter, data: st.DataObject
) -> None:
    """In any bundled matter, a fact or group whose key was given twice is INVALID at its path."""
    from secondapproval.benchgen import applications

    on = max(matter.spec.effective.from_, dt.date(2020, 1, 1))
    app = next(applications(matter, on=on, seed=data.draw(st.integers(0, 1000))))
    path = data.draw(st.sampled_from(sorted(matter.inputs)))
    parts = path.split(".")
    cut = data.draw(st.integers(1, len(parts)))  # the fact itself or one of its groups
    node = app
    for key in parts[: cut - 1]:
        node = node.setdefault(key, {})
    key = parts[cut - 1]
    node[key] = Duplicated([node.get(key), node.get(key)])
    fast_v, slow_v = BUNDLED_VALIDATORS[id(matter)]
    fast, slow = fast_v.validate(app, on), slow_v.validate(app, on)
    assert fast == slow
    where = ".".join(parts[:cut])
    assert zh(fast.invalid[where]) == "同一键名出现了多次"
    assert not any(p == where or p.startswith(where + ".") for p in fast.values)
    assert not any(p == where or p.startswith(where + ".") for p in fast.missing)


def test_the_terminal_rendering_shows_values_as_json() -> None:
    """`decide` prints the values a rule read as JSON (`true`, `"2020-02-29"`), not Python reprs."""
    from secondapproval.commands.decide import render

    node, _ = parse("a.flag and a.day <= decision_date and len(a.ids) == 1")
    typed, problems = check(node, {p: fact_type(f) for p, f in FACTS.items()})
    assert not problems
    engine = Engine([synthetic_matter(FACTS, [typed])])
    text = render(engine.decide("synthetic", GOOD, on=ON))
    assert "a.flag=true" in text
    assert 'a.day="2020-02-29"' in text
    assert f'a.ids=["{ID}"]' in text
    assert "datetime" not in text
    assert "True" not in text


# ---- values of other classes: subclasses, Enum members, keys that are not str ----------------


class _Text(str):
    """A str subclass that claims to equal everything (what a rule would then see)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0


class _Level(enum.IntEnum):
    THIRTY = 30


class _Group(dict):  # type: ignore[type-arg]
    pass


FOREIGN = [
    ({**GOOD_REF, "age": _Level.THIRTY}, "INVALID:age", "_Level"),
    ({**GOOD_REF, "degree": _Text("master")}, "INVALID:degree", "_Text"),
    ({**GOOD_REF, "degree": _Text("anything")}, "INVALID:degree", "_Text"),
    ({**GOOD_REF, "x": [_Text("a")]}, "INVALID:x", "_Text"),
    ({**GOOD_REF, 1: 2}, "INVALID:1", "builtins.int"),
    (_Group(GOOD_REF), "INVALID:$", "_Group"),
]


@pytest.mark.parametrize(("facts", "code", "named"), FOREIGN)
def test_a_value_of_another_class_is_invalid_never_approved(
    facts: dict[Any, Any], code: str, named: str
) -> None:
    """An Enum member, a str or dict subclass (whose equality could say anything), a key that is
    not a str: each is INVALID with a message naming its class — equal-looking values included."""
    decision = Engine(REFERENCE, vouch="all").decide("talent-reference", facts, on=ON)
    assert decision.outcome is Outcome.REFER
    assert decision.codes == (code,)
    (message,) = decision.parts()[5].values()
    assert message.startswith("not a JSON value: a ")
    assert named in message


@given(
    key=st.sampled_from(sorted(GOOD_REF)),
    wrap=st.sampled_from([_Text, _Group, lambda v: [_Text(str(v))], lambda v: {"k": _Text("v")}]),
)
def test_no_subclass_anywhere_is_approved(key: str, wrap: Any) -> None:
    """Whatever fact holds a value of another class (or a container holding one), no approval."""
    facts = {**GOOD_REF, key: wrap(GOOD_REF[key]) if wrap is not _Group else _Group()}
    decision = Engine(REFERENCE, vouch="all").decide("talent-reference", facts, on=ON)
    assert decision.outcome is Outcome.REFER
    assert decision.codes == (f"INVALID:{key}",)
