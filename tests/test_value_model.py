"""The value model (lang.numbers): exact arithmetic, bounded sizes, context independence, lists.

Each case is decided by the native backend, the durable backend and the interpreter; all three
must give the same rule status, and that status must be the one exact arithmetic gives.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from differential import InterpreterBackend
from reference import examples, write_matter
from secondapproval.engine import Engine
from secondapproval.lang import numbers
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.strategies import SCHEMA, SCHEMA_FACTS, synthetic_matter

ON = dt.date(2020, 7, 1)
_CACHE: dict[str, dict[str, Engine]] = {}


def _engines(source: str) -> dict[str, Engine]:
    if source not in _CACHE:
        node, problems = parse(source)
        assert not problems, problems
        typed, problems = check(node, SCHEMA)
        assert not problems, problems
        matter = synthetic_matter(SCHEMA_FACTS, [typed])
        _CACHE[source] = {
            "native": Engine([matter], backend="native"),
            "durable": Engine([matter], backend="durable"),
            "interpreter": Engine([matter], backend=InterpreterBackend()),
        }
    return _CACHE[source]


def status(source: str, facts: dict[str, Any]) -> str:
    """The one status every engine gives the rule `source` over `facts` (they must agree)."""
    import copy

    found = {
        name: engine.decide("synthetic", copy.deepcopy(facts), on=ON).results[0].to_dict()["status"]
        for name, engine in _engines(source).items()
    }
    assert len(set(found.values())) == 1, found
    return str(next(iter(found.values())))


CASES = [
    # exact + - * : nothing is rounded away
    ("a.x + 100.50 <= 100.5", {"a": {"x": "0.0000000000000000000000000001"}}, "failed"),
    ("a.x + 100.50 > 100.5", {"a": {"x": "0.0000000000000000000000000001"}}, "passed"),
    ("a.x * 3 == 0.3", {"a": {"x": "0.1"}}, "passed"),
    ("a.x - 0.1 == 0", {"a": {"x": "0.1000000000000000000000000001"}}, "failed"),
    ("a.n * a.m > 10 ** 40", {"a": {"n": 10**30, "m": 10**11}}, "passed"),
    # literals read from the text, not through a float
    ("a.x == 0.30000000000000001", {"a": {"x": "0.3"}}, "failed"),
    ("a.x * 1e400 > 1e399", {"a": {"x": "0.5"}}, "passed"),
    ("a.x < -1e400", {"a": {"x": "-1"}}, "failed"),
    ("a.x == -0.30000000000000000000000000000001", {"a": {"x": "-0.3"}}, "failed"),
    # division: exact when it terminates, and never the caller's context
    ("a.x / 4 == 0.025", {"a": {"x": "0.1"}}, "passed"),
    ("a.n / 3 < 1", {"a": {"n": 3}}, "failed"),
    ("a.n / 0 > 1", {"a": {"n": 3}}, "error"),
    # a quotient that does not terminate is exact too (a rational), whatever the backend
    ("a.x / 3 * 3 == a.x", {"a": {"x": "0.1"}}, "passed"),
    ("a.x / 3 * 3 == a.x", {"a": {"x": "2.5"}}, "passed"),
    ("a.x / 7 + a.x / 7 > a.x / 7 * 2", {"a": {"x": "1"}}, "failed"),
    ("a.x / 3 in [0.1, 0.2]", {"a": {"x": "1"}}, "failed"),
    ("a.n / 3 not in [0.1, 0.2]", {"a": {"n": 1}}, "passed"),
    ("1 / 3 + 1 / 6 == 0.5", {"a": {}}, "passed"),
    ("1 / 3 * 3 == 1", {"a": {}}, "passed"),
    ("round(1 / 3, 2) == 0.33", {"a": {}}, "passed"),
    ("round(a.x / 3, 2) == -0.67", {"a": {"x": "-2"}}, "passed"),
    ("round(a.n / 3) == 1", {"a": {"n": 4}}, "passed"),
    ("abs(a.x / -3) * 3 == a.x", {"a": {"x": "1"}}, "passed"),
    ("max(a.x / 3, 0.3) > 0.3333", {"a": {"x": "1"}}, "passed"),
    ("(a.x / 3) ** 2 * 9 == 1", {"a": {"x": "1"}}, "passed"),
    ("a.x / 3 > 0.33333333333333333333333333333333333333", {"a": {"x": "1"}}, "passed"),
    # bounded results: beyond them an error, so the application refers
    ("a.n ** 1000 > 0", {"a": {"n": 10**50}}, "error"),
    ("a.x * 1e9999 * 10 > 0", {"a": {"x": "1"}}, "error"),
    ("a.x * 1e9000 + 1 > 0", {"a": {"x": "1"}}, "error"),
    ("a.x ** 5000 > 0", {"a": {"x": "1.5"}}, "error"),
    ("2 ** 0.5 > 1.4142", {"a": {}}, "passed"),
    ("round(a.x * 1e40) == 10 ** 67", {"a": {"x": "1000000000000000000000000000"}}, "passed"),
    ("round(a.x * 1e40 + 0.5) > 10 ** 67", {"a": {"x": "1000000000000000000000000000"}}, "passed"),
    ("round(a.x, 2) == 2.68", {"a": {"x": "2.675"}}, "passed"),
    # list equality and membership: a fact list equals a literal list
    ("a.scores == [1, 2]", {"a": {"scores": [1, 2]}}, "passed"),
    ("a.scores != [1, 2]", {"a": {"scores": [1, 2]}}, "failed"),
    ("a.scores != []", {"a": {"scores": []}}, "failed"),
    ("a.scores == []", {"a": {"scores": []}}, "passed"),
    ("a.tags == []", {"a": {"tags": ["x"]}}, "failed"),
    ("a.scores in [[1, 2], [3]]", {"a": {"scores": [1, 2]}}, "passed"),
    ("a.scores not in [[1, 2], [3]]", {"a": {"scores": [3]}}, "failed"),
    ("a.scores in [[1, 2], [3]]", {"a": {"scores": [2, 1]}}, "failed"),
    ("[1, 2] == a.scores", {"a": {"scores": [1, 2]}}, "passed"),
    ("[a.n, 2] == a.scores", {"a": {"scores": [1, 2], "n": 1}}, "passed"),
]


@pytest.mark.parametrize(("source", "facts", "expected"), CASES)
def test_value_model_cases(source: str, facts: dict[str, Any], expected: str) -> None:
    """Every engine gives the status exact arithmetic gives."""
    assert status(source, facts) == expected


@pytest.mark.parametrize(("source", "facts", "expected"), CASES)
def test_caller_decimal_context_changes_nothing(
    source: str, facts: dict[str, Any], expected: str
) -> None:
    """The calling thread's decimal context (precision, traps, rounding) changes no decision."""
    with decimal.localcontext() as ctx:
        ctx.prec = 6
        ctx.rounding = decimal.ROUND_FLOOR
        ctx.traps[decimal.Inexact] = True
        ctx.traps[decimal.FloatOperation] = True
        ctx.Emax = 10
        ctx.Emin = -10
        assert status(source, facts) == expected


def test_out_of_range_literal_is_a_load_problem() -> None:
    """A literal beyond the bounds is refused when the rule is parsed, not silently infinite."""
    _, problems = parse("a.x < 1e99999")
    assert problems


_decimals = st.builds(
    lambda n, k: Decimal(n).scaleb(-k), st.integers(-(10**27), 10**27), st.integers(0, 28)
)


def _frac(d: Decimal) -> Fraction:
    return Fraction(d)


@settings(max_examples=examples(60), deadline=None)
@given(x=_decimals, y=_decimals, z=_decimals, op=st.sampled_from(["+", "-", "*"]))
def test_exact_arithmetic_property(x: Decimal, y: Decimal, z: Decimal, op: str) -> None:
    """`x op y <= z` is decided as the exact rationals decide it, by every engine."""
    fx, fy = _frac(x), _frac(y)
    exact = {"+": fx + fy, "-": fx - fy, "*": fx * fy}[op]
    source = f"a.x {op} {y:f} <= {z:f}"
    expected = "passed" if exact <= _frac(z) else "failed"
    assert status(source, {"a": {"x": f"{x:f}"}}) == expected


@given(x=_decimals, y=_decimals, op=st.sampled_from(["add", "sub", "mul"]))
def test_numbers_are_exact(x: Decimal, y: Decimal, op: str) -> None:
    """lang.numbers' + - * equal the exact rational result, whatever the caller's context."""
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        got = getattr(numbers, op)(x, y)
    fx, fy = Fraction(x), Fraction(y)
    assert Fraction(got) == {"add": fx + fy, "sub": fx - fy, "mul": fx * fy}[op]


@given(
    xs=st.lists(st.integers(-3, 3), max_size=3),
    ys=st.lists(st.integers(-3, 3), max_size=3),
    op=st.sampled_from(["==", "!="]),
)
def test_list_equality_property(xs: list[int], ys: list[int], op: str) -> None:
    """A list fact compared with a list literal agrees with Python's list comparison."""
    source = f"a.scores {op} {ys!r}"
    expected = (xs == ys) if op == "==" else (xs != ys)
    assert status(source, {"a": {"scores": xs}}) == ("passed" if expected else "failed")


@given(
    xs=st.lists(st.integers(0, 2), max_size=2),
    pool=st.lists(st.lists(st.integers(0, 2), max_size=2), max_size=3),
    neg=st.booleans(),
)
def test_list_membership_property(xs: list[int], pool: list[list[int]], neg: bool) -> None:
    """A list fact `in` a literal list of lists agrees with Python's membership of lists."""
    source = f"a.scores {'not in' if neg else 'in'} {pool!r}"
    expected = (xs not in pool) if neg else (xs in pool)
    assert status(source, {"a": {"scores": xs}}) == ("passed" if expected else "failed")


@pytest.mark.parametrize(
    ("base", "exponent"),
    [(10**4299, 1000), (10**4299, 2), (2, 3322), (7, 10**9), (10, 1000), (Decimal("1.5"), 10**6)],
)
def test_power_beyond_the_bound_raises_before_computing(base: Any, exponent: Any) -> None:
    """`base ** n` whose result would pass the bound is refused from its size estimate."""
    with pytest.raises(ArithmeticError):
        numbers.power(base, exponent)


def test_power_at_the_bound_is_exact() -> None:
    """10 ** 999 (1,000 digits) is still exact; an exponent beyond ±1000 is refused for any base."""
    assert numbers.power(10, 999) == 10**999
    assert numbers.power(-1, 1000) == 1
    with pytest.raises(ArithmeticError):
        numbers.power(1, 1001)


DERIVED = """matter: derived-quotient
title: {zh: 派生商, en: Derived quotient}
version: "1"
effective: {from: "2000-01-01"}
facts:
  a.x: {type: decimal, source: applicant}
  a.third: {type: decimal, derive: "a.x / 3"}
rules:
  - id: third
    when: a.third * 3 == a.x
    says: {zh: 三分之一, en: A third}
    refer: {code: THIRD, zh: 不是, en: Not a third}
  - id: quotient
    when: a.x / 3 * 3 == a.x
    says: {zh: 商, en: Quotient}
    refer: {code: QUOTIENT, zh: 不是, en: Not a quotient}
"""


@pytest.mark.parametrize("backend", ["native", "durable", "interpreter"])
def test_a_derived_fact_with_no_exact_decimal_value_is_an_error(
    tmp_path: Any, backend: str
) -> None:
    """`derive: a.x / 3` is exact when the quotient terminates, an ERROR when it does not.

    A derived fact is recorded and shown (Decision values, audit records), so it must be a
    canonical decimal; a rule computing the same quotient inline stays exact.
    """
    chosen: Any = InterpreterBackend() if backend == "interpreter" else backend
    engine = Engine(write_matter(tmp_path, DERIVED), backend=chosen)
    terminating = engine.decide("derived-quotient", {"a": {"x": "0.3"}}, on=ON)
    assert [r.to_dict()["status"] for r in terminating.results] == ["passed", "passed"]
    assert terminating.values["a.third"] == Decimal("0.1")
    third = engine.decide("derived-quotient", {"a": {"x": "1"}}, on=ON)
    assert [r.to_dict()["status"] for r in third.results] == ["error", "passed"]
    assert "a.third" not in third.values


def test_a_fraction_is_normalized_and_bounded() -> None:
    third = numbers.divide(1, 3)
    assert third == Fraction(1, 3)
    assert type(numbers.mul(third, 3)) is Decimal
    assert numbers.add(third, numbers.divide(1, 6)) == Decimal("0.5")
    assert numbers.approximate(third) == Decimal("0.3333333333333333333333333333")
    with pytest.raises(numbers.NumberTooLargeError):
        numbers.divide(Decimal(10) ** 999, 3 * Decimal(10) ** -999)
    with pytest.raises(ArithmeticError):
        numbers.settled(third)
