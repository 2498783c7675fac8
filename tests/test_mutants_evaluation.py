"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: lang/numbers.py, lang/functions.py and lang/interpret.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from secondapproval.lang import ir, numbers
from secondapproval.lang.functions import LIBRARY
from secondapproval.lang.interpret import evaluate
from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from secondapproval.lang.numbers import NumberTooLargeError
from secondapproval.lang.parser import parse
from secondapproval.lang.types import CN_ID, DATE, DECIMAL, INT, STR, USCC, Type, list_of

ENUM = Type("str", values=frozenset({"a", "b"}))
MONEY = Type("decimal", domain="money")

# ---- lang/functions.py: signatures (the type checker shows their messages as load problems) ----

SIGNATURES: list[tuple[str, Sequence[Type], Type | str]] = [
    ("age_on", [DATE, DATE], INT),
    ("age_on", [CN_ID, DATE], INT),
    ("age_on", [DATE], "takes 2 arguments, got 1"),
    ("age_on", [DATE, DATE, DATE], "takes 2 arguments, got 3"),
    ("age_on", [STR, DATE], "argument 1 must be date or cn_id, not str"),
    ("age_on", [USCC, DATE], "argument 1 must be date or cn_id, not uscc"),
    ("age_on", [DATE, CN_ID], "argument 2 must be date, not cn_id"),
    ("years_between", [DATE, DATE], INT),
    ("years_between", [DATE, INT], "argument 2 must be date, not int"),
    ("add_days", [DATE, INT], DATE),
    ("add_days", [DATE, DECIMAL], "argument 2 must be int, not decimal"),
    ("add_days", [INT, INT], "argument 1 must be date, not int"),
    ("birth_date", [CN_ID], DATE),
    ("birth_date", [], "takes 1 argument, got 0"),
    ("birth_date", [STR], "argument 1 must be cn_id, not str"),
    ("sex_of", [CN_ID], STR),
    ("sex_of", [CN_ID, CN_ID], "takes 1 argument, got 2"),
    ("min", [list_of(INT)], INT),
    ("min", [list_of(MONEY)], DECIMAL),
    ("min", [list_of(DATE)], DATE),
    ("min", [list_of(STR)], "takes a list of numbers or dates, or two or more values"),
    ("min", [Type("list")], "takes a list of numbers or dates, or two or more values"),
    ("min", [DATE], "takes a list of numbers or dates, or two or more values"),
    ("min", [], "takes a list, or two or more values"),
    ("max", [INT, INT, INT], INT),
    ("max", [MONEY, MONEY], DECIMAL),
    ("max", [INT, MONEY], DECIMAL),
    ("max", [DATE, DATE], DATE),
    ("max", [INT, DATE], "arguments must all be numbers, or all dates"),
    ("max", [INT, DECIMAL, DATE], "arguments must all be numbers, or all dates"),
    ("max", [DATE, INT, INT], "arguments must all be numbers, or all dates"),
    ("max", [ENUM, ENUM], "arguments must all be numbers, or all dates"),
    ("len", [STR], INT),
    ("len", [ENUM], INT),
    ("len", [list_of(DATE)], INT),
    ("len", [INT], "takes one list or string"),
    ("len", [STR, STR], "takes one list or string"),
    ("len", [], "takes one list or string"),
    ("abs", [INT], INT),
    ("abs", [MONEY], DECIMAL),
    ("abs", [INT, INT], "takes one number"),
    ("abs", [STR], "argument 1 must be a number, not str"),
    ("round", [MONEY], INT),
    ("round", [INT, INT], INT),
    ("round", [MONEY, INT], DECIMAL),
    ("round", [DECIMAL, DECIMAL], "the number of digits must be a whole number"),
    ("round", [], "takes a number and an optional whole number of digits"),
    ("round", [STR], "takes a number and an optional whole number of digits"),
    ("round", [INT, INT, INT], "takes a number and an optional whole number of digits"),
    ("clip", [INT, INT, INT], INT),
    ("clip", [INT, MONEY, INT], DECIMAL),
    ("clip", [INT, INT], "takes three numbers: clip(x, lo, hi)"),
    ("clip", [INT, INT, INT, INT], "takes three numbers: clip(x, lo, hi)"),
    ("clip", [INT, INT, DATE], "argument 3 must be a number, not date"),
    ("clip", [STR, INT, INT], "argument 1 must be a number, not str"),
    ("sum", [list_of(INT)], INT),
    ("sum", [list_of(MONEY)], DECIMAL),
    ("sum", [list_of(STR)], "takes one list of numbers"),
    ("sum", [Type("list")], "takes one list of numbers"),
    ("sum", [INT], "takes one list of numbers"),
    ("sum", [list_of(INT), list_of(INT)], "takes one list of numbers"),
    ("sum", [], "takes one list of numbers"),
]


@pytest.mark.parametrize(("name", "args", "expected"), SIGNATURES)
def test_a_signature_gives_the_result_type_or_says_what_is_wrong(
    name: str, args: Sequence[Type], expected: Type | str
) -> None:
    """Each library function's signature: its result type, or the exact problem."""
    assert LIBRARY[name].signature(args) == expected


def _impl(name: str) -> Any:
    return LIBRARY[name].impl


def _raises(kind: type[BaseException], message: str) -> Any:
    """`pytest.raises` for exactly this message."""
    return pytest.raises(kind, match=f"^{re.escape(message)}$")


# ---- lang/functions.py: implementations --------------------------------------------------------


@pytest.mark.parametrize(
    ("id_number", "sex"),
    [
        ("110105194912310003", "female"),
        ("110105194912310011", "male"),
        ("11010519491231002X", "female"),
        ("110105194912310038", "male"),
    ],
)
def test_sex_of_reads_the_parity_of_the_17th_character(id_number: str, sex: str) -> None:
    """sex_of: odd 17th character is male, even is female; the check character is not read."""
    assert _impl("sex_of")(id_number) == sex


def test_birth_date_reads_a_two_digit_month() -> None:
    """birth_date reads year, month and day from characters 7-14 (a December birth)."""
    assert _impl("birth_date")("11010519491231002X") == dt.date(1949, 12, 31)


@pytest.mark.parametrize(
    ("x", "lo", "hi", "expected"),
    [
        (Decimal("1.0"), 1, 5, "Decimal('1.0')"),
        (Decimal("5.0"), 1, 5, "Decimal('5.0')"),
        (0, 1, 5, "1"),
        (9, 1, 5, "5"),
        (3, 3, 3, "3"),
    ],
)
def test_clip_keeps_x_itself_when_it_equals_a_bound(
    x: Any, lo: Any, hi: Any, expected: str
) -> None:
    """clip returns x (its own type and exponent) unless x is strictly outside [lo, hi]."""
    assert repr(_impl("clip")(x, lo, hi)) == expected


def test_clip_with_lo_above_hi_is_an_error() -> None:
    with _raises(ValueError, "clip: lower bound above upper bound"):
        _impl("clip")(2, 3, 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((7, -9999), "0"),
        ((7, 9999), "7"),
        ((7, 0), "7"),
        ((10**1000, 0), repr(10**1000)),
        ((10**1000, 3), repr(10**1000)),
        ((Fraction(12345, 7), -1), "Decimal('1.76E+3')"),
        ((Fraction(12345, 7), -2), "Decimal('1.8E+3')"),
    ],
)
def test_round_digits_range_and_whole_numbers(args: tuple[Any, int], expected: str) -> None:
    """round() takes digits in ±9999; a whole number with digits ≥ 0 is returned as it is."""
    assert repr(_impl("round")(*args)) == expected


@pytest.mark.parametrize("digits", [10000, -10000])
def test_round_with_too_many_digits_is_an_error(digits: int) -> None:
    with _raises(ValueError, "round: too many digits"):
        _impl("round")(Decimal("1.5"), digits)


def test_round_beyond_the_precision_is_an_error() -> None:
    """round(1.5, 9999) would need 10,000 digits: beyond the bound."""
    with _raises(NumberTooLargeError, "rounding beyond the bounds of a number"):
        _impl("round")(Decimal("1.5"), 9999)


# ---- lang/numbers.py ----------------------------------------------------------------------------

THIRD = Fraction(1, 3)


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        # a Fraction whose value terminates becomes a Decimal (its type is asserted too)
        (numbers.add, THIRD, Fraction(1, 6), Decimal("0.5")),
        (numbers.add, THIRD, Fraction(-2, 15), Decimal("0.2")),
        (numbers.add, THIRD, Decimal("0.5"), Fraction(5, 6)),
        (numbers.add, THIRD, 1, Fraction(4, 3)),
        (numbers.sub, THIRD, Fraction(1, 6), Fraction(1, 6)),
        (numbers.sub, THIRD, 1, Fraction(-2, 3)),
        (numbers.sub, 1, THIRD, Fraction(2, 3)),
        (numbers.sub, Decimal("1.000000000000000000000000000000001"), 1, Decimal("1E-33")),
        (
            numbers.sub,
            Decimal("0.1000000000000000000000000000001"),
            1,
            Decimal("-0.8999999999999999999999999999999"),
        ),
        (numbers.mul, THIRD, Decimal("3E-500"), Decimal("1E-500")),
        (numbers.mul, THIRD, 3, Decimal("1")),
        (numbers.divide, THIRD, 2, Fraction(1, 6)),
        (numbers.divide, 1, THIRD, Decimal("3")),
        (numbers.divide, Decimal("0.1"), 4, Decimal("0.025")),
    ],
)
def test_arithmetic_is_exact_and_normalized(op: Any, a: Any, b: Any, expected: Any) -> None:
    got = op(a, b)
    assert got == expected
    assert type(got) is type(expected)
    assert str(got) == str(expected)


@pytest.mark.parametrize(
    ("a", "expected"),
    [
        (THIRD, Fraction(-1, 3)),
        (Fraction(-2, 3), Fraction(2, 3)),
        (5, -5),
        (Decimal("-1.50"), Decimal("1.50")),
    ],
)
def test_neg_of_a_fraction_an_int_and_a_decimal(a: Any, expected: Any) -> None:
    got = numbers.neg(a)
    assert (got, type(got)) == (expected, type(expected))


@pytest.mark.parametrize(
    ("a", "expected"),
    [(THIRD, THIRD), (Fraction(-1, 3), THIRD), (5, 5), (-5, 5), (0, 0)],
)
def test_absolute_of_ints_and_fractions(a: Any, expected: Any) -> None:
    got = numbers.absolute(a)
    assert (got, type(got)) == (expected, type(expected))


@pytest.mark.parametrize(("a", "b"), [(-(10**500), 10**500), (10**500, 10**500)])
def test_an_int_result_of_1001_digits_is_too_large(a: int, b: int) -> None:
    with _raises(NumberTooLargeError, "a result of more than 1000 digits"):
        numbers.mul(a, b)


def test_an_int_result_of_1000_digits_is_exact() -> None:
    assert numbers.mul(-(10**500) + 1, 10**500) == -(10**1000) + 10**500


def test_a_decimal_result_beyond_the_exponent_bound_is_too_large() -> None:
    with _raises(NumberTooLargeError, "a result beyond 1000 digits or 1e±9999"):
        numbers.mul(Decimal("1E+5000"), Decimal("1E+5000"))


def test_a_decimal_operand_beyond_1000_digits_is_too_large() -> None:
    with _raises(NumberTooLargeError, "a result beyond 1000 digits or 1e±9999"):
        numbers.add(Decimal("1" * 1001), 0)


def test_division_by_zero_says_so() -> None:
    with _raises(ZeroDivisionError, "division by zero"):
        numbers.divide(THIRD, 0)


def test_settled_refuses_a_fraction_naming_it() -> None:
    with _raises(ArithmeticError, "1/3 has no exact decimal value"):
        numbers.settled(THIRD)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1_000", Decimal(1000)), ("0.000_1", Decimal("0.0001")), ("1e400", Decimal("1E+400"))],
)
def test_a_literal_is_read_from_its_text(text: str, expected: Decimal) -> None:
    got = numbers.literal(text)
    assert (got, str(got)) == (expected, str(expected))


def test_a_literal_beyond_the_bounds_is_a_load_problem_that_says_so() -> None:
    _, problems = parse("a.x < 1e99999")
    assert [p.message for p in problems] == [
        "the number 1e99999 is beyond 1000 digits or exponent ±9999"
    ]


def test_a_literal_that_is_not_finite_is_refused() -> None:
    with _raises(ValueError, "Infinity is not a finite number"):
        numbers.literal("Infinity")


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        (Fraction(12345, 7), -1, "1.76E+3"),
        (Fraction(-12345, 7), -2, "-1.8E+3"),
        (Fraction(5, 2), 0, "3"),
        (Fraction(-5, 2), 0, "-3"),
        (Fraction(0), 2, "0.00"),
        (THIRD, 2, "0.33"),
    ],
)
def test_round_fraction_is_half_away_from_zero(x: Fraction, digits: int, expected: str) -> None:
    assert str(numbers.round_fraction(x, digits)) == expected


# `power`: (base, exponent, repr of the result)
POWERS: list[tuple[Any, Any, str]] = [
    (0, 2, "0"),
    (0, 0, "1"),
    (Decimal(0), 2, "Decimal('0')"),
    (Decimal(0), 0, "Decimal('1')"),
    (1, 2, "1"),
    (-1, 1000, "1"),
    (2, 3, "8"),
    (5, 0, "1"),
    (Decimal("-1.5"), 2, "Decimal('2.25')"),
    (Decimal("-1.5"), Decimal(2), "Decimal('2.25')"),
    (Decimal("-1.5"), -2, "Decimal('0.4444444444444444444444444444')"),
    (Decimal("0.25"), Decimal("0.5"), "Decimal('0.5000000000000000000000000000')"),
    (Decimal(8), Fraction(1, 3), "Decimal('2.000000000000000000000000000')"),
    (THIRD, Decimal(2), "Fraction(1, 9)"),
    (THIRD, 0, "Decimal('1')"),
    (THIRD, Decimal("0.5"), "Decimal('0.5773502691896257645091487805')"),
    (Fraction(0), Decimal("0.5"), "Decimal('0')"),
    (THIRD, -1000, "Decimal('" + str(3**1000) + "')"),
    (THIRD, 1000, f"Fraction(1, {3**1000})"),
    (Fraction(2**1660 + 1, 3), 2, f"Fraction({(2**1660 + 1) ** 2}, 9)"),
    (Fraction(1, 2**1660 + 1), 2, f"Fraction(1, {(2**1660 + 1) ** 2})"),
]


@pytest.mark.parametrize(("base", "exponent", "expected"), POWERS)
def test_power_values_and_types(base: Any, exponent: Any, expected: str) -> None:
    assert repr(numbers.power(base, exponent)) == expected


# `power` refused: (base, exponent, error, message); which bound is crossed shows in the message
POWER_ERRORS: list[tuple[Any, Any, type[BaseException], str]] = [
    (2, 1001, NumberTooLargeError, "an exponent beyond ±1000"),
    (THIRD, 1001, NumberTooLargeError, "an exponent beyond ±1000"),
    (THIRD, -1001, NumberTooLargeError, "an exponent beyond ±1000"),
    (0, -1, ZeroDivisionError, "zero to a negative power"),
    (Decimal(0), Decimal("-0.5"), ZeroDivisionError, "zero to a negative power"),
    (Decimal(-2), Decimal("0.5"), ArithmeticError, "a negative number to a fractional power"),
    (Fraction(-1, 3), Decimal("0.5"), ArithmeticError, "a negative number to a fractional power"),
    # the size estimate: |exponent| × digits of the base beyond 2 × (9999 + 1000)
    (10**21, 1000, NumberTooLargeError, "power beyond the bounds of a number"),
    (10**33, 648, NumberTooLargeError, "power beyond the bounds of a number"),
    (Decimal("1E+21"), 1000, NumberTooLargeError, "power beyond the bounds of a number"),
    (10**20, 1000, NumberTooLargeError, "a result of more than 1000 digits"),
    (10**33, 647, NumberTooLargeError, "a result of more than 1000 digits"),
    (2**22, 1000, NumberTooLargeError, "a result of more than 1000 digits"),
    (Fraction(2**100, 3), 100, NumberTooLargeError, "a result of more than 1000 digits"),
    (Fraction(2**1661 + 3, 3), 2, NumberTooLargeError, "a result of more than 1000 digits"),
]


@pytest.mark.parametrize(("base", "exponent", "error", "message"), POWER_ERRORS)
def test_power_beyond_its_domain_says_why(
    base: Any, exponent: Any, error: type[BaseException], message: str
) -> None:
    with _raises(error, message):
        numbers.power(base, exponent)


# ---- lang/interpret.py --------------------------------------------------------------------------

ON = dt.date(2020, 7, 1)

# (expression, values, facts in error, the three-valued result)
EVALUATIONS: list[tuple[str, dict[str, Any], tuple[str, ...], Any]] = [
    ("a.x", {}, (), UNKNOWN_VALUE),
    ("a.x", {"a.x": 1}, (), 1),
    ("a.x", {"a.x": 1}, ("a.x",), ERROR_VALUE),
    ("not a.x", {"a.x": True}, (), False),
    ("not a.x", {}, (), UNKNOWN_VALUE),
    ("not a.x", {"a.x": True}, ("a.x",), ERROR_VALUE),
    ("a.x and a.y", {"a.x": False}, ("a.y",), False),
    ("a.x and a.y", {"a.x": True, "a.y": True}, (), True),
    ("a.x and a.y", {"a.y": True}, (), UNKNOWN_VALUE),
    ("a.x and a.y", {}, ("a.y",), ERROR_VALUE),
    ("a.x or a.y", {"a.x": True}, ("a.y",), True),
    ("a.x or a.y", {"a.x": False, "a.y": False}, (), False),
    ("a.x or a.y", {"a.y": False}, (), UNKNOWN_VALUE),
    ("a.x or a.y", {}, ("a.y",), ERROR_VALUE),
    ("a.x < a.y", {"a.x": 1, "a.y": 2}, (), True),
    ("a.x >= a.y", {"a.x": 1, "a.y": 2}, (), False),
    ("a.x == [1, 2]", {"a.x": [1, 2]}, (), True),
    ("a.x != a.y", {"a.x": 1}, ("a.y",), ERROR_VALUE),
    ("a.x in [1, 2]", {"a.x": 2}, (), True),
    ("a.x not in [1, 2]", {"a.x": 2}, (), False),
    ("a.x in [1, 2]", {}, (), UNKNOWN_VALUE),
    ("a.x + a.y", {"a.x": 1, "a.y": 2}, (), 3),
    ("a.x - a.y", {"a.x": 1, "a.y": 2}, (), -1),
    ("a.x * a.y", {"a.x": 3, "a.y": 2}, (), 6),
    ("a.x / a.y", {"a.x": 1, "a.y": 3}, (), Fraction(1, 3)),
    ("a.x ** a.y", {"a.x": 3, "a.y": 2}, (), 9),
    ("a.x / 0", {"a.x": 1}, (), ERROR_VALUE),
    ("a.x + a.y", {"a.x": 1}, (), UNKNOWN_VALUE),
    ("-a.x", {"a.x": 2}, (), -2),
    ("-a.x", {}, ("a.x",), ERROR_VALUE),
    ("[a.x, 1]", {"a.x": 2}, (), (2, 1)),
    ("[a.x, 1]", {}, (), UNKNOWN_VALUE),
    ('{"x": 1}[a.k]', {"a.k": "x"}, (), 1),
    ('{"x": 1}[a.k]', {"a.k": "y"}, (), ERROR_VALUE),
    ('{"x": 1}[a.k]', {}, (), UNKNOWN_VALUE),
    ("max(a.x, 2)", {"a.x": 3}, (), 3),
    ("max(a.x, 2)", {}, ("a.x",), ERROR_VALUE),
    ("decision_date", {}, (), ON),
    ("any_of(a.l, it > 1)", {"a.l": [1, 2]}, (), True),
    ("any_of(a.l, it > 1)", {"a.l": [0, 1]}, (), False),
    ("all_of(a.l, it > 1)", {"a.l": [1, 2]}, (), False),
    ("all_of(a.l, it > 1)", {"a.l": [2, 3]}, (), True),
    ("all_of(a.l, it > 1)", {"a.l": []}, (), True),
    ("any_of(a.l, it > 1)", {"a.l": []}, (), False),
    ("any_of(a.l, it > 1)", {}, (), UNKNOWN_VALUE),
    ("all_of(a.l, it > 1)", {}, ("a.l",), ERROR_VALUE),
    ("any_of(a.l, it > a.y)", {"a.l": [1, 2]}, (), UNKNOWN_VALUE),
    ("all_of(a.l, it > a.y)", {"a.l": [1, 2]}, ("a.y",), ERROR_VALUE),
    ("count(a.l, it > 1)", {"a.l": [1, 2, 3]}, (), 2),
    ("count(a.l, it > 5)", {"a.l": [1, 2, 3]}, (), 0),
    ("count(a.l, it > 1)", {}, (), UNKNOWN_VALUE),
    ("count(a.l, it > 1)", {}, ("a.l",), ERROR_VALUE),
    ("count(a.l, it > a.y)", {"a.l": [1, 2]}, (), UNKNOWN_VALUE),
    ("count(a.l, it > a.y)", {"a.l": [1, 2]}, ("a.y",), ERROR_VALUE),
    ("count(a.l, it.f > 1)", {"a.l": [{"f": 2}, {"f": 0}]}, (), 1),
    ("count(a.l, it.f > 1)", {"a.l": [{"f": 2}, {}]}, (), UNKNOWN_VALUE),
    ("count(a.l, it.f > 1 or 1 / it.f > 0)", {"a.l": [{"f": 0}, {}]}, (), ERROR_VALUE),
    ("any_of(a.l, it.f > 1)", {"a.l": [{}, {"f": 2}]}, (), True),
    ("all_of(a.l, present(it.f))", {"a.l": [{"f": 2}, {}]}, (), False),
    ("all_of(a.l, absent(it.g))", {"a.l": [{"f": 2}, {}]}, (), True),
    ("any_of(a.l, present(it.f) and it.f == 2)", {"a.l": [{}, {"f": 2}]}, (), True),
]


@pytest.mark.parametrize(("source", "values", "errors", "expected"), EVALUATIONS)
def test_the_interpreter_gives_the_three_valued_value(
    source: str, values: dict[str, Any], errors: tuple[str, ...], expected: Any
) -> None:
    node, problems = parse(source)
    assert not problems
    got = evaluate(node, values, ON, frozenset(errors))
    assert (got, type(got)) == (expected, type(expected))


def test_evaluate_reads_no_fact_in_error_by_default() -> None:
    node, _ = parse("a.x")
    assert evaluate(node, {"a.x": 1}, ON) == 1


def test_it_outside_a_quantifier_is_unknown() -> None:
    assert evaluate(ir.It(), {}, ON) is UNKNOWN_VALUE


def test_an_unknown_node_is_a_type_error_that_names_it() -> None:
    node = ir.Node()
    with _raises(TypeError, f"unknown IR node {node!r}"):
        evaluate(node, {}, ON)


# ---- bounds found by the mutation run (fixed in lang/numbers.py) ----------------------------


@pytest.mark.parametrize(
    ("op", "a", "b", "message"),
    [
        (numbers.divide, Decimal("1E-9999"), 10, "a quotient beyond the bounds of a number"),
        (
            numbers.divide,
            Decimal("9E+9999"),
            Decimal("0.1"),
            "a quotient beyond the bounds of a number",
        ),
        (
            numbers.mul,
            Decimal("1E-5000"),
            Decimal("1E-5000"),
            "a result beyond 1000 digits or 1e±9999",
        ),
        (numbers.add, 10**1001, Decimal(1), "a result of more than 1000 digits"),
    ],
)
def test_results_beyond_the_bounds_raise_the_one_error_of_the_value_model(
    op: Any, a: Any, b: Any, message: str
) -> None:
    """A quotient below the smallest exponent, above the largest, a subnormal product, an int
    operand of more than 1,000 digits: each is a NumberTooLargeError (never a raw decimal signal
    such as `decimal.Subnormal`), so the rule that computed it is an ERROR_VALUE."""
    with pytest.raises(numbers.NumberTooLargeError) as raised:
        op(a, b)
    assert str(raised.value) == message


# ---- `it` reaches every construct inside a quantifier's predicate ---------------------------

IT_EVERYWHERE = [
    ("all_of(a.l, not (it > 5))", True),
    ("all_of(a.l, it > 0 and it < 5)", True),
    ("any_of(a.l, it > 5 or it == 2)", True),
    ("any_of(a.l, 2 == it)", True),
    ("any_of(a.l, it in [2, 7])", True),
    ("any_of(a.l, 2 in [it, 7])", True),
    ("any_of(a.l, it + 1 == 3)", True),
    ("any_of(a.l, 1 + it == 3)", True),
    ("any_of(a.l, -it == -2)", True),
    ("any_of(a.l, abs(it) == 2)", True),
    ("any_of(a.l, {1: 10, 2: 20}[it] == 20)", True),
    ("all_of(a.l, {1: 10, 2: 20}[it] == 20)", False),
]


@pytest.mark.parametrize(("source", "expected"), IT_EVERYWHERE)
def test_the_current_item_is_seen_in_every_construct_of_a_predicate(
    source: str, expected: bool
) -> None:
    """In `any_of`/`all_of`, `it` is the item wherever it stands: under `not`, `and`, `or`, on
    either side of a comparison, `in` and arithmetic, negated, in a list literal, as a function
    argument and as a table key (the interpreter passes the item down every branch)."""
    node, problems = parse(source)
    assert not problems, problems
    assert evaluate(node, {"a.l": [1, 2]}, ON) is expected
