"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: backends/ (native, conditions, durable, hoist, network, encode).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import durable_rules_engine  # type: ignore[import-not-found]
import pytest

from reference import write_matter
from secondapproval.backends import get_backend
from secondapproval.backends.conditions import (
    ALWAYS,
    DNF,
    NEVER,
    Builder,
    Check,
    TooComplexError,
    has_error_state,
)
from secondapproval.backends.durable import (
    LOCK,
    VERSION,
    DurableBackend,
    DurableEvaluator,
    _Collector,
)
from secondapproval.backends.encode import (
    MAX_STRING_BYTES,
    encode,
    encode_number,
    encode_string,
    postable,
)
from secondapproval.backends.hoist import (
    Cmp,
    Hoister,
    LAnd,
    LConst,
    Lit,
    LNot,
    Logic,
    LOr,
    Member,
    Slot,
    Truth,
    simplify,
)
from secondapproval.backends.native import (
    NativeBackend,
    _Emitter,
    compile_expression,
    generate,
)
from secondapproval.backends.network import chain, condition, fanout_problem, fnv1a
from secondapproval.decision import Decision, Outcome
from secondapproval.errors import BackendError, Problem, RuleSetError
from secondapproval.lang import ir
from secondapproval.lang.check import check
from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from secondapproval.lang.parser import parse
from secondapproval.loader import load_matters
from secondapproval.ruleset import Matter
from secondapproval.status import ERROR as ERRED
from secondapproval.status import FAILED, PASSED
from secondapproval.strategies import SCHEMA

INPUTS = frozenset({"a.n", "a.m", "a.x", "a.flag", "a.day", "a.name", "a.level", "a.tags"})
"""Input facts of `SCHEMA` as the hoister sees them (never erring); `a.id` plays a derived one."""


def typed(text: str) -> ir.Node:
    """The checked IR of an expression over `strategies.SCHEMA`."""
    node, syntax = parse(text)
    assert not syntax, syntax
    node, problems = check(node, SCHEMA)
    assert not problems, problems
    return node


# ---- encode: values as durable_rules compares them ------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0, "1"),
        (Decimal("0.00"), "1"),
        (Decimal("-0"), "1"),
        (1, "25101"),
        (Decimal("1.00"), "25101"),
        (10, "25111"),
        (Decimal("123.4500"), "251212345"),
        (Decimal("0.05"), "24875"),
        (-1, "04898:"),
        (Decimal("-0.05"), "05124:"),
        (-10, "04888:"),
        (Decimal("-123.45"), "048787654:"),
        (Decimal("Infinity"), "3"),
        (Decimal("-Infinity"), "-"),
        (Decimal("1E+999999999"), "2599999999991"),
        (Decimal("1E-999999999"), "2400000000001"),
        (12345678901234567890, "252191234567890123456789"),
    ],
)
def test_a_number_is_posted_as_its_order_preserving_code(value: int | Decimal, code: str) -> None:
    """Zero is `1`, positives `2…`, negatives `0…:`, infinities `-` and `3`."""
    assert encode_number(value) == code
    assert encode(value) == code


def test_number_codes_sort_like_the_numbers() -> None:
    """The byte order of the codes is the order of the values, across signs and exponents."""
    values: list[int | Decimal] = [
        Decimal("-Infinity"),
        Decimal("-1E+20"),
        -1000,
        Decimal("-99.5"),
        -10,
        Decimal("-9.99"),
        -1,
        Decimal("-0.5"),
        Decimal("-0.05"),
        Decimal("-1E-20"),
        0,
        Decimal("1E-20"),
        Decimal("0.05"),
        Decimal("0.5"),
        1,
        Decimal("1.5"),
        Decimal("9.99"),
        10,
        Decimal("99.5"),
        1000,
        Decimal("1E+20"),
        Decimal("Infinity"),
    ]
    codes = [encode_number(v) for v in values]
    assert sorted(codes) == codes
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("1E+1000000000"), "a number with an exponent of 10 digits cannot be posted"),
        (Decimal("-1E-1000000000"), "a number with an exponent of 10 digits cannot be posted"),
        (Decimal("NaN"), "NaN cannot be posted to durable_rules"),
    ],
)
def test_a_number_beyond_the_codes_cannot_be_posted(value: Decimal, message: str) -> None:
    """An exponent of ten digits or a NaN is a backend error, never a wrong code."""
    with pytest.raises(BackendError) as info:
        encode_number(value)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "code"),
    [("", ""), ("x", "78"), ("中a", "e4b8ad61"), ("\ud800", "eda080")],
)
def test_a_string_is_posted_as_the_hex_of_its_utf8(value: str, code: str) -> None:
    """Strings are hexadecimal UTF-8 (lone surrogates passed through)."""
    assert encode_string(value) == code
    assert encode(value) == code


def test_a_string_of_the_longest_postable_length_is_posted() -> None:
    """30,000 bytes are posted; one more is a backend error naming the length."""
    assert encode_string("a" * MAX_STRING_BYTES) == "61" * MAX_STRING_BYTES
    with pytest.raises(BackendError) as info:
        encode_string("a" * (MAX_STRING_BYTES + 1))
    assert str(info.value) == "a string of 30001 bytes cannot be posted to durable_rules"


@pytest.mark.parametrize(
    ("value", "posted"),
    [
        (True, True),
        (False, False),
        (dt.date(2020, 1, 2), "2020-01-02"),
        (7, "25107"),
    ],
)
def test_booleans_and_dates_are_posted_as_json_and_iso(value: Any, posted: Any) -> None:
    """A bool stays a JSON bool (not the number 1), a date is ISO text."""
    assert encode(value) is posted if isinstance(posted, bool) else encode(value) == posted


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (dt.datetime(2020, 1, 2, 3, 4), "datetime"),
        ((1, 2), "tuple"),
        (None, "NoneType"),
        (1.5, "float"),
    ],
)
def test_other_values_cannot_be_posted(value: Any, message: str) -> None:
    """A datetime, list, None or float is refused with its type's name."""
    with pytest.raises(BackendError) as info:
        encode(value)
    assert str(info.value) == f"a value of type {message} cannot be posted to durable_rules"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("bool", True),
        ("int", True),
        ("decimal", True),
        ("str", True),
        ("date", True),
        ("money", False),
        ("enum", False),
        ("list", False),
        ("cn_id", False),
    ],
)
def test_postable_kinds(kind: str, expected: bool) -> None:
    """Only bool, int, decimal, str and date values are compared by durable_rules."""
    assert postable(kind) is expected


# ---- network: ruleset JSON and the limits of durable_rules' network ---------------------------


@pytest.mark.parametrize(
    ("tests", "json"),
    [
        (set(), {"o": 1}),
        ({Check("ex", "v1")}, {"$ex": {"v1": 1}}),
        ({Check("nex", "v1")}, {"$nex": {"v1": 1}}),
        ({Check("==", "v1", "25101")}, {"v1": "25101"}),
        ({Check("==", "v1", True)}, {"v1": True}),
        ({Check("!=", "v1", "25101")}, {"$neq": {"v1": "25101"}}),
        ({Check("<", "v1", "25101")}, {"$lt": {"v1": "25101"}}),
        ({Check("<=", "v1", "25101")}, {"$lte": {"v1": "25101"}}),
        ({Check(">", "v1", "25101")}, {"$gt": {"v1": "25101"}}),
        ({Check(">=", "v1", "25101")}, {"$gte": {"v1": "25101"}}),
        ({Check("==", "v1", other="v2")}, {"v1": {"$m": "v2"}}),
        ({Check("<", "v1", other="v2")}, {"$lt": {"v1": {"$m": "v2"}}}),
        (
            {Check("<", "v1", "25105"), Check("<", "v1", other="v2")},
            {"$and": [{"$lt": {"v1": "25105"}}, {"$lt": {"v1": {"$m": "v2"}}}]},
        ),
        (
            {
                Check("nex", "v1"),
                Check("<", "v0", "2"),
                Check("==", "v2", True),
                Check(">=", "v3", other="v4"),
            },
            {
                "$and": [
                    {"$lt": {"v0": "2"}},
                    {"v2": True},
                    {"$gte": {"v3": {"$m": "v4"}}},
                    {"$nex": {"v1": 1}},
                ]
            },
        ),
    ],
)
def test_an_alternative_becomes_one_durable_condition(tests: set[Check], json: Any) -> None:
    """Each test is its durable operator; several are an `$and` in chain order."""
    assert condition(frozenset(tests)) == json


def test_an_empty_alternative_chains_the_always_true_test() -> None:
    """No tests chain as `o == 1`, which every message has; others sort by their repr."""
    assert chain(frozenset()) == [Check("==", "o", 1)]
    a, b = Check("<", "v0", "2"), Check("nex", "v1")
    assert chain(frozenset({b, a})) == [a, b]


def _tests(op: str, count: int) -> list[list[Check]]:
    return [[Check(op, f"v{i}", None if op in ("ex", "nex") else "1")] for i in range(count)]


@pytest.mark.parametrize(
    ("chains", "problem"),
    [
        ([], None),
        ([[]], None),
        (_tests("==", 56), None),
        (_tests("==", 57), "57 stack branches at one node of durable_rules' network (at most 56)"),
        (_tests("nex", 57), "57 stack branches at one node of durable_rules' network (at most 56)"),
        (
            _tests("nex", 100),
            "100 stack branches at one node of durable_rules' network (at most 56)",
        ),
        (
            _tests("nex", 101),
            "101 nex branches at one node of durable_rules' network (at most 100)",
        ),
        (
            _tests("==", 400),
            "400 stack branches at one node of durable_rules' network (at most 56)",
        ),
        (
            _tests("==", 401),
            "401 other branches at one node of durable_rules' network (at most 400)",
        ),
        (_tests("nex", 50) + _tests("==", 6), None),
        (
            _tests("nex", 50) + _tests("==", 7),
            "57 stack branches at one node of durable_rules' network (at most 56)",
        ),
        ([[Check("ex", "v0")]] * 200, None),
        (
            [[Check("ex", "v0")]] * 201,
            "201 rules branches at one node of durable_rules' network (at most 200)",
        ),
    ],
)
def test_fanout_problem_at_the_limits(chains: list[list[Check]], problem: str | None) -> None:
    """Children per node (`$nex`, other), rules per node and the matching stack are bounded."""
    assert fanout_problem(chains) == problem


def test_the_matching_stack_adds_the_widths_along_a_path() -> None:
    """A deep chain counts the children of every node it passes, not only the root's."""
    root = [Check("ex", f"r{i}") for i in range(29)]
    deep = [[root[0], Check("ex", f"d{i}")] for i in range(28)]
    chains = [[t] for t in root] + deep
    assert fanout_problem(chains) == (
        "57 stack branches at one node of durable_rules' network (at most 56)"
    )
    assert fanout_problem(chains[:-1]) is None


@pytest.mark.parametrize(
    ("name", "digest"), [("", 0x811C9DC5), ("a", 0xE40C292C), ("foobar", 0xBF9CF968)]
)
def test_fnv1a_is_the_32_bit_hash_durable_rules_uses(name: str, digest: int) -> None:
    """The published FNV-1a test vectors."""
    assert fnv1a(name) == digest


# ---- conditions: Kleene states as durable conditions ----------------------------------------

S0 = Slot(0, ir.Fact(path="a.n"), can_fail=False)
S1 = Slot(1, ir.Fact(path="d.one"), can_fail=True)
S2 = Slot(2, ir.Fact(path="d.two"), can_fail=True)


def lt(slot: Slot, value: str) -> Cmp:
    return Cmp("<", slot, Lit(value))


def text(dnf: DNF) -> set[str]:
    """A condition as readable alternatives: `ex v0 & v0 < 5`, `v0 == @v1` compares two keys."""

    def one(t: Check) -> str:
        if t.op in ("ex", "nex"):
            return f"{t.op} {t.key}"
        return f"{t.key} {t.op} {'@' + t.other if t.other is not None else t.value}"

    return {" & ".join(sorted(map(one, conj))) for conj in dnf}


@pytest.mark.parametrize(
    ("op", "passed", "failed"),
    [
        ("==", "v0 == 5", "v0 != 5"),
        ("!=", "v0 != 5", "v0 == 5"),
        ("<", "v0 < 5", "v0 >= 5"),
        ("<=", "v0 <= 5", "v0 > 5"),
        (">", "v0 > 5", "v0 <= 5"),
        (">=", "v0 >= 5", "v0 < 5"),
    ],
)
def test_a_comparison_fails_by_its_negated_operator(op: str, passed: str, failed: str) -> None:
    """Negation never reaches durable: failed is the negated comparison, present values only."""
    b = Builder(64)
    atom = Cmp(op, S0, Lit("5"))
    assert text(b.passed(atom)) == {passed}
    assert text(b.failed(atom)) == {failed}
    assert text(b.not_failed(atom)) == {passed, "nex v0"}
    assert text(b.not_passed(atom)) == {failed, "nex v0"}


@pytest.mark.parametrize(
    ("atom", "passed", "failed", "not_failed", "not_passed"),
    [
        (
            Cmp("<", S0, S1),
            {"ex v0 & ex v1 & v0 < @v1"},
            {"ex v0 & ex v1 & v0 >= @v1"},
            {"ex v0 & ex v1 & v0 < @v1", "nex v0", "nex v1"},
            {"ex v0 & ex v1 & v0 >= @v1", "nex v0", "nex v1"},
        ),
        (
            Member(S0, ("1", "2"), negated=False),
            {"v0 == 1", "v0 == 2"},
            {"ex v0 & v0 != 1 & v0 != 2"},
            {"v0 == 1", "v0 == 2", "nex v0"},
            {"ex v0 & v0 != 1 & v0 != 2", "nex v0"},
        ),
        (
            Member(S0, ("1", "2"), negated=True),
            {"ex v0 & v0 != 1 & v0 != 2"},
            {"v0 == 1", "v0 == 2"},
            {"ex v0 & v0 != 1 & v0 != 2", "nex v0"},
            {"v0 == 1", "v0 == 2", "nex v0"},
        ),
        (
            Truth(S1),
            {"v1 == True"},
            {"v1 == False"},
            {"v1 == True", "nex v1"},
            {"v1 == False", "nex v1"},
        ),
        (LConst(True), {""}, set(), {""}, set()),
        (LConst(False), set(), {""}, set(), {""}),
    ],
)
def test_the_four_conditions_of_an_atom(
    atom: Logic,
    passed: set[str],
    failed: set[str],
    not_failed: set[str],
    not_passed: set[str],
) -> None:
    """A comparison of two keys checks both exist; a membership is equal-tos or not-equal-tos."""
    b = Builder(64)
    assert text(b.passed(atom)) == passed
    assert text(b.failed(atom)) == failed
    assert text(b.not_failed(atom)) == not_failed
    assert text(b.not_passed(atom)) == not_passed


def test_constant_conditions_are_always_and_never() -> None:
    """`true` passes on every message (one empty alternative), and never fails."""
    b = Builder(64)
    assert b.passed(LConst(True)) == ALWAYS
    assert b.failed(LConst(True)) == NEVER
    assert frozenset({frozenset()}) == ALWAYS
    assert frozenset() == NEVER


AND = LAnd((lt(S0, "5"), lt(S1, "7")))
OR = LOr((lt(S0, "5"), lt(S1, "7")))


@pytest.mark.parametrize(
    ("logic", "passed", "failed", "not_failed", "not_passed"),
    [
        (
            AND,
            {"v0 < 5 & v1 < 7"},
            {"v0 >= 5", "v1 >= 7"},
            {"v0 < 5 & v1 < 7", "nex v1 & v0 < 5", "nex v0 & v1 < 7", "nex v0 & nex v1"},
            {"v0 >= 5", "v1 >= 7", "nex v0", "nex v1"},
        ),
        (
            OR,
            {"v0 < 5", "v1 < 7"},
            {"v0 >= 5 & v1 >= 7"},
            {"v0 < 5", "v1 < 7", "nex v0", "nex v1"},
            {"v0 >= 5 & v1 >= 7", "nex v1 & v0 >= 5", "nex v0 & v1 >= 7", "nex v0 & nex v1"},
        ),
        (
            LNot(AND),
            {"v0 >= 5", "v1 >= 7"},
            {"v0 < 5 & v1 < 7"},
            {"v0 >= 5", "v1 >= 7", "nex v0", "nex v1"},
            {"v0 < 5 & v1 < 7", "nex v1 & v0 < 5", "nex v0 & v1 < 7", "nex v0 & nex v1"},
        ),
        (
            LNot(OR),
            {"v0 >= 5 & v1 >= 7"},
            {"v0 < 5", "v1 < 7"},
            {"v0 >= 5 & v1 >= 7", "nex v1 & v0 >= 5", "nex v0 & v1 >= 7", "nex v0 & nex v1"},
            {"v0 < 5", "v1 < 7", "nex v0", "nex v1"},
        ),
    ],
)
def test_the_four_conditions_of_and_or_not(
    logic: Logic,
    passed: set[str],
    failed: set[str],
    not_failed: set[str],
    not_passed: set[str],
) -> None:
    """`and` passes when all pass and fails when one fails; `not` swaps the states."""
    b = Builder(64)
    assert text(b.passed(logic)) == passed
    assert text(b.failed(logic)) == failed
    assert text(b.not_failed(logic)) == not_failed
    assert text(b.not_passed(logic)) == not_passed


AND_ERROR = {
    "ex e1 & v0 < 5 & v1 < 7",
    "ex e1 & nex v1 & v0 < 5",
    "ex e1 & nex v0 & v1 < 7",
    "ex e1 & nex v0 & nex v1",
}
"""`v0 < 5 and v1 < 7` known not true: `v1` failed and no operand is false."""
OR_ERROR = {
    "ex e1 & v0 >= 5 & v1 >= 7",
    "ex e1 & nex v1 & v0 >= 5",
    "ex e1 & nex v0 & v1 >= 7",
    "ex e1 & nex v0 & nex v1",
}
"""`v0 < 5 or v1 < 7` known not false: `v1` failed and no operand is true."""


@pytest.mark.parametrize(
    ("logic", "known", "error"),
    [
        (lt(S0, "5"), "TF", set()),
        (lt(S1, "5"), "TF", {"ex e1"}),
        (Cmp("<", S0, S1), "TF", {"ex e1"}),
        (Cmp("<", S2, S1), "TF", {"ex e1", "ex e2"}),
        (Member(S1, ("1",), negated=False), "TF", {"ex e1"}),
        (Truth(S2), "TF", {"ex e2"}),
        (LConst(True), "TF", set()),
        (LAnd((lt(S0, "5"), lt(S1, "7"))), "TF", {"ex e1"}),
        (LAnd((lt(S0, "5"), lt(S1, "7"))), "F", {"ex e1"}),
        (
            LAnd((lt(S0, "5"), lt(S1, "7"))),
            "T",
            AND_ERROR,
        ),
        (LOr((lt(S0, "5"), lt(S1, "7"))), "T", {"ex e1"}),
        (
            LOr((lt(S0, "5"), lt(S1, "7"))),
            "F",
            OR_ERROR,
        ),
        (LNot(LOr((lt(S0, "5"), lt(S1, "7")))), "TF", {"ex e1"}),
        (LNot(LOr((lt(S0, "5"), lt(S1, "7")))), "F", {"ex e1"}),
        (
            LNot(LOr((lt(S0, "5"), lt(S1, "7")))),
            "T",
            OR_ERROR,
        ),
        (
            LNot(LAnd((lt(S0, "5"), lt(S1, "7")))),
            "F",
            AND_ERROR,
        ),
        (
            LOr((LAnd((lt(S0, "5"), lt(S1, "7"))), lt(S2, "9"))),
            "TF",
            AND_ERROR | {"ex e2"},
        ),
        (
            LAnd((LOr((lt(S0, "5"), lt(S1, "7"))), lt(S2, "9"))),
            "TF",
            OR_ERROR | {"ex e2"},
        ),
        (LNot(LAnd((lt(S0, "5"), lt(S1, "7")))), "T", {"ex e1"}),
        (LAnd((LNot(lt(S1, "7")), lt(S2, "9"))), "TF", {"ex e1", "ex e2"}),
        (LAnd((LAnd((lt(S0, "5"), lt(S1, "7"))), lt(S2, "9"))), "TF", {"ex e1", "ex e2"}),
    ],
)
def test_the_error_condition_given_what_is_known(logic: Logic, known: str, error: set[str]) -> None:
    """An `and` known not true needs its siblings not false; an `or` not false, not true."""
    assert text(Builder(64).error(logic, known)) == error


@pytest.mark.parametrize(
    ("logic", "expected"),
    [
        (lt(S0, "5"), False),
        (lt(S1, "5"), True),
        (Cmp("<", S0, S0), False),
        (Cmp("<", S0, S1), True),
        (Member(S0, ("1",), negated=False), False),
        (Member(S1, ("1",), negated=True), True),
        (Truth(S0), False),
        (Truth(S1), True),
        (LConst(True), False),
        (LNot(lt(S1, "5")), True),
        (LNot(lt(S0, "5")), False),
        (LAnd((lt(S0, "5"), lt(S0, "6"))), False),
        (LAnd((lt(S0, "5"), lt(S1, "6"))), True),
        (LOr((lt(S0, "5"), lt(S0, "6"))), False),
        (LOr((lt(S1, "5"), lt(S0, "6"))), True),
    ],
)
def test_has_error_state_when_a_slot_can_fail(logic: Logic, expected: bool) -> None:
    """Only a slot that can be ERROR_VALUE (derived or computed) gives a tree an error state."""
    assert has_error_state(logic) is expected


@pytest.mark.parametrize(
    ("logic", "passed"),
    [
        (LAnd((Cmp("==", S0, Lit("1")), Cmp("==", S0, Lit("2")))), set()),
        (LAnd((Cmp("==", S0, Lit("1")), Cmp("==", S0, Lit("1")))), {"v0 == 1"}),
        (LAnd((Member(S0, ("1", "2"), negated=True), Cmp("==", S0, Lit("1")))), set()),
        (
            LAnd((Member(S0, ("1", "2"), negated=True), Cmp("==", S0, Lit("3")))),
            {"ex v0 & v0 != 1 & v0 != 2 & v0 == 3"},
        ),
        (LAnd((Truth(S0), LNot(Truth(S0)))), set()),
        (LAnd((Cmp("==", S0, Lit("1")), Cmp("!=", S1, Lit("1")))), {"v0 == 1 & v1 != 1"}),
    ],
)
def test_contradictory_alternatives_are_dropped(logic: Logic, passed: set[str]) -> None:
    """Two different equal-tos, or an equal-to and a not-equal-to of one value, never match."""
    assert text(Builder(64).passed(logic)) == passed


def test_present_and_absent_together_is_a_contradiction() -> None:
    """`v0 < 5 and v0 > 1` not false: one absent `v0` covers both, never `v0 < 5 & nex v0`."""
    logic = LAnd((lt(S0, "5"), Cmp(">", S0, Lit("1"))))
    assert text(Builder(64).not_failed(logic)) == {"v0 < 5 & v0 > 1", "nex v0"}
    two = LAnd((Cmp("<", S0, S1), lt(S1, "5")))
    assert text(Builder(64).not_failed(two)) == {
        "ex v0 & ex v1 & v0 < @v1 & v1 < 5",
        "nex v0 & v1 < 5",
        "nex v0 & nex v1",
        "nex v1",
    }


def _member(count: int) -> Member:
    return Member(S0, tuple(str(i) for i in range(count)), negated=False)


def test_a_condition_of_exactly_the_limit_is_built() -> None:
    """The limit counts alternatives: as many as the limit is fine, one more is refused."""
    assert len(Builder(3).passed(_member(3))) == 3
    with pytest.raises(TooComplexError) as info:
        Builder(3).passed(_member(4))
    assert str(info.value) == "more than 3 alternatives"


def test_a_conjunction_is_refused_when_its_product_is_over_eight_times_the_limit() -> None:
    """9 × 8 alternatives are multiplied out (72 = 8 × 9); 9 × 9 are refused before."""
    assert text(Builder(9).passed(LAnd((_member(9), _member(8))))) == {
        f"v0 == {i}" for i in range(8)
    }
    with pytest.raises(TooComplexError) as info:
        Builder(9).passed(LAnd((_member(9), _member(9))))
    assert str(info.value) == "more than 9 alternatives"


def test_a_conjunction_within_the_product_bound_is_still_held_to_the_limit() -> None:
    """2 × 2 alternatives pass the product bound; the four they make are over a limit of 3."""
    wide = LAnd((LOr((Truth(S1), Truth(S2))), LOr((lt(S0, "1"), lt(S0, "2")))))
    assert len(Builder(4).passed(wide)) == 4
    with pytest.raises(TooComplexError) as info:
        Builder(3).passed(wide)
    assert str(info.value) == "more than 3 alternatives"


def test_something_else_is_not_a_logic_atom() -> None:
    """A slot is not a condition: the builder says so instead of building nonsense."""
    with pytest.raises(TypeError) as info:
        Builder(4).passed(S0)  # type: ignore[arg-type]
    assert str(info.value) == f"not a logic atom: {S0!r}"


# ---- hoist: a rule's boolean structure over hoisted values ----------------------------------


def _side(x: Slot | Lit) -> str:
    return x.key if isinstance(x, Slot) else repr(x.value)


def shape(n: Logic) -> str:
    """A logic tree as text: `v0 < '25103'`, `truth(v1)`, `and(…)`."""
    match n:
        case Cmp(op=op, left=left, right=right):
            return f"{_side(left)} {op} {_side(right)}"
        case Member(item=item, values=values, negated=negated):
            return f"{item.key} {'not in' if negated else 'in'} {list(values)}"
        case Truth(slot=s):
            return f"truth({s.key})"
        case LConst(value=value):
            return str(value).lower()
        case LNot(operand=o):
            return f"not({shape(o)})"
        case LAnd(operands=ops):
            return "and(" + ", ".join(map(shape, ops)) + ")"
        case LOr(operands=ops):
            return "or(" + ", ".join(map(shape, ops)) + ")"
    raise AssertionError(n)


A_N = ("v0", "a.n", False)


@pytest.mark.parametrize(
    ("expression", "logic", "slots"),
    [
        ("a.n < 3", "v0 < '25103'", [A_N]),
        ("3 < a.n", "v0 > '25103'", [A_N]),
        ("3 <= a.n", "v0 >= '25103'", [A_N]),
        ("3 > a.n", "v0 < '25103'", [A_N]),
        ("3 >= a.n", "v0 <= '25103'", [A_N]),
        ("3 == a.n", "v0 == '25103'", [A_N]),
        ("3 != a.n", "v0 != '25103'", [A_N]),
        ("a.x > 1.5", "v0 > '251015'", [("v0", "a.x", False)]),
        ("a.n == a.m", "v0 == v1", [A_N, ("v1", "a.m", False)]),
        ("a.flag == True", "v0 == True", [("v0", "a.flag", False)]),
        ("True == a.flag", "v0 == True", [("v0", "a.flag", False)]),
        ("a.flag == (a.n > 1)", "v0 == v1", [("v0", "a.flag", False), ("v1", "(a.n > 1)", True)]),
        ("1 < 2", "truth(v0)", [("v0", "(1 < 2)", True)]),
        ("a.n / 2 > 1", "truth(v0)", [("v0", "((a.n / 2) > 1)", True)]),
        ("(a.m + a.n / 2) > 1", "truth(v0)", [("v0", "((a.m + (a.n / 2)) > 1)", True)]),
        ("a.n / 2 in [1, 2]", "truth(v0)", [("v0", "((a.n / 2) in [1, 2])", True)]),
        ("a.n in [1, a.m]", "truth(v0)", [("v0", "(a.n in [1, a.m])", True)]),
        ("1 in [1, 2]", "truth(v0)", [("v0", "(1 in [1, 2])", True)]),
        ("a.n in [1, 2]", "v0 in ['25101', '25102']", [A_N]),
        ("a.n not in [1, 2]", "v0 not in ['25101', '25102']", [A_N]),
        ("a.name in ['x', 'y']", "v0 in ['78', '79']", [("v0", "a.name", False)]),
        ("'x' in a.tags", "truth(v0)", [("v0", "('x' in a.tags)", True)]),
        ("a.tags == ['x']", "truth(v0)", [("v0", "(a.tags == ['x'])", True)]),
        (
            "a.id == '110101199003070012'",
            "v0 == '313130313031313939303033303730303132'",
            [("v0", "a.id", True)],
        ),
        (
            "decision_date > a.day",
            "v0 > v1",
            [("v0", "decision_date", False), ("v1", "a.day", False)],
        ),
        ("a.n + 1 > a.n", "v0 > v1", [("v0", "(a.n + 1)", True), ("v1", "a.n", False)]),
        ("len(a.tags) > 0", "v0 > '1'", [("v0", "len(a.tags)", True)]),
        ("not (not a.flag)", "truth(v0)", [("v0", "a.flag", False)]),
        ("not a.flag", "not(truth(v0))", [("v0", "a.flag", False)]),
        ("a.flag and True", "truth(v0)", [("v0", "a.flag", False)]),
        ("a.flag or True", "true", [("v0", "a.flag", False)]),
        (
            "a.flag and (a.n > 1 and a.m > 1)",
            "and(truth(v0), v1 > '25101', v2 > '25101')",
            [("v0", "a.flag", False), ("v1", "a.n", False), ("v2", "a.m", False)],
        ),
        (
            "a.flag or (a.n > 1 or a.m > 1)",
            "or(truth(v0), v1 > '25101', v2 > '25101')",
            [("v0", "a.flag", False), ("v1", "a.n", False), ("v2", "a.m", False)],
        ),
        (
            "a.flag and (a.n > 1 or a.n < 0)",
            "and(truth(v0), or(v1 > '25101', v1 < '1'))",
            [("v0", "a.flag", False), ("v1", "a.n", False)],
        ),
    ],
)
def test_the_hoister_keeps_comparisons_and_hoists_the_rest(
    expression: str, logic: str, slots: list[tuple[str, str, bool]]
) -> None:
    """Comparisons of postable values stay durable's (literal on the right); others are slots."""
    hoister = Hoister(INPUTS)
    assert shape(hoister.logic(typed(expression))) == logic
    assert [(s.key, ir.render(s.node), s.can_fail) for s in hoister.slots] == slots
    assert [s.error_key for s in hoister.slots] == [f"e{i}" for i in range(len(slots))]


def test_rules_of_one_matter_share_their_slots() -> None:
    """The same value read by two rules is posted once."""
    hoister = Hoister(INPUTS)
    first = hoister.logic(typed("a.n > 1 and len(a.tags) > 0"))
    second = hoister.logic(typed("len(a.tags) < 5 or a.n < 9"))
    assert shape(first) == "and(v0 > '25101', v1 > '1')"
    assert shape(second) == "or(v1 < '25105', v0 < '25109')"
    assert [ir.render(s.node) for s in hoister.slots] == ["a.n", "len(a.tags)"]


X, Y, Z = Truth(S0), Truth(S1), Truth(S2)


@pytest.mark.parametrize(
    ("logic", "simple"),
    [
        (LNot(LConst(True)), LConst(False)),
        (LNot(LConst(False)), LConst(True)),
        (LNot(LNot(X)), X),
        (LNot(LNot(LNot(X))), LNot(X)),
        (LNot(X), LNot(X)),
        (LNot(LAnd((LConst(True), X))), LNot(X)),
        (LAnd((LConst(True), X)), X),
        (LAnd((X, LConst(False))), LConst(False)),
        (LOr((LConst(False), X)), X),
        (LOr((X, LConst(True))), LConst(True)),
        (LAnd((LConst(True), LConst(True))), LConst(True)),
        (LOr((LConst(False), LConst(False))), LConst(False)),
        (LAnd((X,)), X),
        (LAnd((X, Y)), LAnd((X, Y))),
        (LAnd((X, LAnd((Y, Z)))), LAnd((X, Y, Z))),
        (LOr((LOr((X, Y)), Z)), LOr((X, Y, Z))),
        (LAnd((X, LOr((Y, Z)))), LAnd((X, LOr((Y, Z))))),
        (LOr((X, LAnd((Y, Z)))), LOr((X, LAnd((Y, Z))))),
        (LAnd((X, LNot(LNot(Y)))), LAnd((X, Y))),
        (LAnd((X, LOr((LConst(False), Y)))), LAnd((X, Y))),
        (lt(S0, "5"), lt(S0, "5")),
    ],
)
def test_simplify_rewrites_kleene_exactly(logic: Logic, simple: Logic) -> None:
    """Units vanish, absorbing constants win, double negations cancel, like operators flatten."""
    assert simplify(logic) == simple


# ---- native: generated Python, a fast two-valued form and a slow three-valued one ------------

ON = dt.date(2021, 1, 1)
FACTS: dict[str, Any] = {
    "a.n": 7,
    "a.m": 2,
    "a.x": Decimal("1.5"),
    "a.flag": True,
    "a.day": dt.date(2020, 1, 2),
    "a.name": "xyz",
    "a.level": "mid",
    "a.tags": ("x", "y"),
    "a.scores": (1, 5),
    "a.id": "11010519491231002X",
    "a.kinds": ("x", "z"),
    "a.people": (
        {"rel": "child", "age": 4, "income": Decimal("0")},
        {"rel": "parent", "age": 40, "works": True},
    ),
}
"""Valid values of every fact of `strategies.SCHEMA`."""


class Recording(dict[str, Any]):
    """Facts that remember whether the slow form read them (only it calls `get`)."""

    slow = False

    def get(self, key: str, default: Any = None) -> Any:
        self.slow = True
        return super().get(key, default)


class SlowOnly(dict[str, Any]):
    """Facts the fast form cannot read (`v[path]` raises), so the slow form decides."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)


def _facts(changes: dict[str, Any]) -> dict[str, Any]:
    """`FACTS` with some values changed; None removes the fact (it is missing)."""
    merged = {**FACTS, **changes}
    return {k: v for k, v in merged.items() if v is not None}


NO = dict[str, Any]()


@pytest.mark.parametrize(
    ("expression", "changes", "value"),
    [
        ("a.n > 1", NO, True),
        ("a.n < a.m", NO, False),
        ("a.n <= 7", NO, True),
        ("a.n >= 8", NO, False),
        ("a.n == 7", NO, True),
        ("a.n != 7", NO, False),
        ("a.n < a.m < 9", NO, False),
        ("a.x == 1.50", NO, True),
        ("a.name == 'xyz'", NO, True),
        ("decision_date > a.day", NO, True),
        ("decision_date", NO, ON),
        ("a.day", NO, dt.date(2020, 1, 2)),
        ("a.tags == ['x', 'y']", NO, True),
        ("a.tags != ['x', 'y']", NO, False),
        ("a.scores == [1, 5]", NO, True),
        ("[a.n, a.m] == [7, 2]", NO, True),
        ("[a.n, a.m]", NO, (7, 2)),
        ("'x' in a.tags", NO, True),
        ("'q' not in a.tags", NO, True),
        ("'y' in a.name", NO, True),
        ("'q' not in a.name", NO, True),
        ("a.level in ['mid', 'low']", NO, True),
        ("a.level not in ['mid', 'low']", NO, False),
        ("a.level in ['low']", NO, False),
        ("a.n in [a.m, 7]", NO, True),
        ("a.n not in [a.m, 7]", NO, False),
        ("[1, 5] in [a.scores]", NO, True),
        ("a.n + a.m * 2 - 1 ** 2", NO, 10),
        ("a.n - a.m", NO, 5),
        ("a.n * a.m", NO, 14),
        ("a.n ** a.m", NO, 49),
        ("a.x ** 2", NO, Decimal("2.25")),
        ("a.n / a.m", NO, Decimal("3.5")),
        ("a.n / 3", NO, Fraction(7, 3)),
        ("a.n / 3 * 3 == a.n", NO, True),
        ("-a.x", NO, Decimal("-1.5")),
        ("-a.n", NO, -7),
        ('{"low": 1, "mid": 2}[a.level]', NO, 2),
        ("len(a.tags)", NO, 2),
        ("max(a.n, a.m)", NO, 7),
        ("min(a.scores)", NO, 1),
        ("age_on(a.id, decision_date)", NO, 71),
        ("any_of(a.scores, it > 4)", NO, True),
        ("any_of(a.scores, it > 5)", NO, False),
        ("all_of(a.scores, it > 4)", NO, False),
        ("all_of(a.scores, it > 0)", NO, True),
        ("count(a.people, it.age > 3)", NO, 2),
        ("count(a.people, it.rel == 'child')", NO, 1),
        ("count(a.people, it.age > 40)", NO, 0),
        ("count(a.kinds, it != 'y')", NO, 2),
        ("any_of(a.people, it.rel == 'parent' and it.age == 40)", NO, True),
        ("all_of(a.people, present(it.income))", NO, False),
        ("any_of(a.people, absent(it.works))", NO, True),
        ("'z' in a.kinds", NO, True),
        ("not a.flag", NO, False),
        ("a.n == 0 or a.flag", NO, True),
        ("a.n == 0 or not a.flag", NO, False),
        ("a.x == 1.5 and a.n == 7", NO, True),
        ("a.x == 1.5 and a.n == 8", NO, False),
    ],
)
def test_an_expression_on_complete_facts_runs_the_fast_form(
    expression: str, changes: dict[str, Any], value: Any
) -> None:
    """Every fact present and nothing failing: the fast form gives the value, as the slow would."""
    fn = compile_expression(typed(expression))
    facts = Recording(_facts(changes))
    got = fn(facts, ON)
    assert got == value
    assert type(got) is type(value)
    assert not facts.slow
    assert fn(SlowOnly(_facts(changes)), ON) == value


@pytest.mark.parametrize(
    ("expression", "changes", "value"),
    [
        ("a.n > 1", {"a.n": None}, UNKNOWN_VALUE),
        ("a.n / 0", NO, ERROR_VALUE),
        ("a.n / (a.m - 2)", NO, ERROR_VALUE),
        ("a.n + a.m", {"a.m": None}, UNKNOWN_VALUE),
        ("-a.n", {"a.n": None}, UNKNOWN_VALUE),
        ("-(a.n / 0)", NO, ERROR_VALUE),
        ("[a.n, a.m]", {"a.m": None}, UNKNOWN_VALUE),
        ("[a.n / 0, a.m]", {"a.m": None}, ERROR_VALUE),
        ('{"low": 1}[a.level]', NO, ERROR_VALUE),
        ('{"low": 1}[a.level]', {"a.level": None}, UNKNOWN_VALUE),
        ("len(a.tags)", {"a.tags": None}, UNKNOWN_VALUE),
        ("a.name != 'xyz'", {"a.name": None}, UNKNOWN_VALUE),
        ("a.n in [7, a.m]", {"a.m": None}, UNKNOWN_VALUE),
        ("a.n not in [1, a.m]", {"a.m": None}, UNKNOWN_VALUE),
        ("a.n / 0 > a.m", {"a.m": None}, ERROR_VALUE),
        ("a.m > a.n / 0", {"a.m": None}, ERROR_VALUE),
        ("a.flag or a.n > 1", {"a.flag": None}, True),
        ("a.n > 1 or a.flag", {"a.flag": None}, True),
        ("a.flag or a.n > 9", {"a.flag": None}, UNKNOWN_VALUE),
        ("a.n > 9 or a.m > 9", NO, False),
        ("a.n / 0 > 1 or a.flag", {"a.flag": None}, ERROR_VALUE),
        ("a.flag or a.n / 0 > 1", {"a.flag": None}, ERROR_VALUE),
        ("a.n / 0 > 1 or a.flag", {"a.flag": False}, ERROR_VALUE),
        ("a.n / 0 > 1 or a.flag", NO, True),
        ("a.flag and a.n / 0 > 1", {"a.flag": None}, ERROR_VALUE),
        ("a.n / 0 > 1 and a.flag", {"a.flag": False}, False),
        ("a.flag and a.m > 9", {"a.flag": None}, False),
        ("a.flag and a.m > 1", {"a.flag": None}, UNKNOWN_VALUE),
        ("a.flag and a.m > 1", NO, True),
        ("a.n / 0 > 1 or a.flag or a.m > 9", {"a.flag": None}, ERROR_VALUE),
        ("not a.flag", {"a.flag": None}, UNKNOWN_VALUE),
        ("not (a.n / 0 > 1)", NO, ERROR_VALUE),
        ("not (a.n / 0 > 1) or True", NO, True),
        ("any_of(a.scores, it > 4)", {"a.scores": None}, UNKNOWN_VALUE),
        ("all_of(a.scores, it > 4)", {"a.scores": None}, UNKNOWN_VALUE),
        ("any_of([a.n / 0], it > 1)", NO, ERROR_VALUE),
        ("any_of(a.scores, 10 / (it - 1) > 1)", NO, True),
        ("all_of(a.scores, 10 / (it - 1) > 1)", NO, ERROR_VALUE),
        ("all_of(a.scores, 10 / (it - 5) > 1)", NO, False),
        ("any_of(a.scores, 10 / (it - 5) > 9)", NO, ERROR_VALUE),
        ("any_of(a.scores, it > a.m)", {"a.m": None}, UNKNOWN_VALUE),
        ("all_of(a.scores, it > a.m)", {"a.m": None}, UNKNOWN_VALUE),
        # count: an error on one item ranks above an unknown one, which ranks above the count
        ("count(a.people, it.works)", NO, UNKNOWN_VALUE),
        ("count(a.people, it.age > 30 or it.works)", NO, UNKNOWN_VALUE),
        ("count(a.people, it.rel == 'parent' and it.works)", NO, 1),
        ("count(a.people, it.rel == 'child' or it.works)", NO, 2),
        ("count(a.people, 10 / (it.age - 4) > 1)", NO, ERROR_VALUE),
        (
            "count(a.people, (it.rel == 'child' and it.works)"
            " or (it.rel == 'parent' and 10 / (it.age - 40) > 1))",
            NO,
            ERROR_VALUE,
        ),
        ("count(a.people, it.age > 1)", {"a.people": None}, UNKNOWN_VALUE),
        ("count([a.n / 0], it > 1)", NO, ERROR_VALUE),
        ("count(a.people, it.income > 0) + 1", NO, UNKNOWN_VALUE),
        ("all_of(a.people, it.income >= 0)", NO, UNKNOWN_VALUE),
        ("any_of(a.people, it.income >= 0)", NO, True),
        ("any_of(a.people, it.works and it.age > 50)", NO, False),
        ("all_of(a.people, it.rel == 'child' or it.works)", NO, True),
    ],
)
def test_an_expression_that_cannot_run_fast_is_decided_three_valued(
    expression: str, changes: dict[str, Any], value: Any
) -> None:
    """A missing fact is unknown, a failure an error; `and`/`or`/`not` follow Kleene."""
    fn = compile_expression(typed(expression))
    assert fn(_facts(changes), ON) is value
    assert fn(SlowOnly(_facts(changes)), ON) is value


def test_a_compiled_expression_is_named_after_its_formula() -> None:
    """Tracebacks and profiles name the formula: function and file."""
    fn = compile_expression(typed("a.n + 1"), "score: x")
    assert fn.__name__ == "expression_score__x"
    assert fn.__code__.co_filename == "<secondapproval:score: x>"
    default = compile_expression(typed("a.n + 1"))
    assert default.__name__ == "expression_expression"
    # one filename per source (codegen): earlier tests compiled other expressions by this name
    assert re.fullmatch(r"<secondapproval:expression(-\d+)?>", default.__code__.co_filename)


KINDS = """\
matter: native-kinds
title: {zh: 原生, en: Native}
version: "2"
effective: {from: "2000-01-01"}
facts:
  a.n: {type: int, source: applicant}
  a.m: {type: int, source: applicant}
  a.x: {type: decimal, source: applicant}
  a.flag: {type: bool, source: applicant}
  a.level: {type: enum, values: [low, mid, high], source: applicant}
  a.scores: {type: list, of: int, source: applicant}
  a.name: {type: str, source: applicant}
  d.half: {type: decimal, derive: 'a.n / a.m'}
  d.limit: {type: int, derive: '{"low": 1, "mid": 2}[a.level]'}
rules:
  - id: half
    when: 'd.half > 1.5 and a.x != 1.5'
    says: {zh: 一, en: One}
    refer: {code: HALF, zh: 不符合, en: Not met}
  - id: limit
    when: 'd.limit >= 2 or not a.flag'
    says: {zh: 二, en: Two}
    refer: {code: LIMIT, zh: 不符合, en: Not met}
  - id: scores
    when: >-
      any_of(a.scores, it > a.n) and len(a.scores) in [1, 2] and a.scores != [3]
      and -a.m < 0 and "\\t" not in a.name
    says: {zh: 三, en: Three}
    refer: {code: SCORES, zh: 不符合, en: Not met}
  - id: mixed
    when: >-
      all_of(a.scores, it >= 1) and [a.n, a.m] == [7, 2] and a.n in [a.m, 7]
      and "x" in a.name and a.n + a.m * 2 - a.m ** 2 > 0 and a.flag == True
      and decision_date > date("2020-01-01") and a.x == 1.5
    says: {zh: 四, en: Four}
    refer: {code: MIXED, zh: 不符合, en: Not met}
"""

KINDS_SOURCE = """\
def evaluate_native_kinds(v, on):
    errs = _EMPTY
    try:
        v['d.half'] = _settled(_divide(v['a.n'], v['a.m']))
    except Exception:
        x = _strict(_settled, _strict(_divide, _fact(v, errs, 'a.n'), _fact(v, errs, 'a.m')))
        if x is E:
            errs = errs | {'d.half'}
        elif x is not U:
            v['d.half'] = x
    try:
        v['d.limit'] = _settled(_c0[v['a.level']])
    except Exception:
        x = _strict(_settled, _strict(_c0.__getitem__, _fact(v, errs, 'a.level')))
        if x is E:
            errs = errs | {'d.limit'}
        elif x is not U:
            v['d.limit'] = x
    # rule half
    try:
        r0 = 1 if ((v['d.half'] > _c1) and (v['a.x'] != _c1)) else 0
    except Exception:
        r0 = _status(_and(_strict(gt, _fact(v, errs, 'd.half'), _c1), _strict(ne, _fact(v, errs, \
'a.x'), _c1)))
    # rule limit
    try:
        r1 = 1 if ((v['d.limit'] >= 2) or (not v['a.flag'])) else 0
    except Exception:
        r1 = _status(_or(_strict(ge, _fact(v, errs, 'd.limit'), 2), _not(_fact(v, errs, \
'a.flag'))))
    # rule scores
    try:
        r2 = 1 if (any((it > v['a.n']) for it in v['a.scores']) and \
(_fn_len(v['a.scores']) in _c2) and ne(v['a.scores'], _c3) and (neg(v['a.m']) < 0) and \
(_c4 not in v['a.name'])) else 0
    except Exception:
        r2 = _status(_and(_quantify(_fact(v, errs, 'a.scores'), lambda it: _strict(gt, it, \
_fact(v, errs, 'a.n')), True), _strict(_contains, _c5, _strict(_fn_len, _fact(v, errs, \
'a.scores'))), _strict(ne, _fact(v, errs, 'a.scores'), _c3), _strict(lt, _strict(neg, _fact(v, \
errs, 'a.m')), 0), _strict(_not_contains, _fact(v, errs, 'a.name'), _c4)))
    # rule mixed
    try:
        r3 = 1 if (all((it >= 1) for it in v['a.scores']) and eq((v['a.n'], v['a.m'], ), \
_c6) and _contains((v['a.m'], 7, ), v['a.n']) and ('x' in v['a.name']) and (sub(add(v['a.n'], \
mul(v['a.m'], 2)), _power(v['a.m'], 2)) > 0) and (v['a.flag'] == True) and (on > _c7) and \
(v['a.x'] == _c1)) else 0
    except Exception:
        r3 = _status(_and(_quantify(_fact(v, errs, 'a.scores'), lambda it: _strict(ge, it, 1), \
False), _strict(eq, _strict(_tuple, _fact(v, errs, 'a.n'), _fact(v, errs, 'a.m')), _c6), \
_strict(_contains, _strict(_tuple, _fact(v, errs, 'a.m'), 7), _fact(v, errs, 'a.n')), \
_strict(_contains, _fact(v, errs, 'a.name'), 'x'), _strict(gt, _strict(sub, _strict(add, \
_fact(v, errs, 'a.n'), _strict(mul, _fact(v, errs, 'a.m'), 2)), _strict(_power, _fact(v, errs, \
'a.m'), 2)), 0), _strict(eq, _fact(v, errs, 'a.flag'), True), _strict(gt, on, _c7), _strict(eq, \
_fact(v, errs, 'a.x'), _c1)))
    return (r0, r1, r2, r3, ), errs
"""


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Matter:
    [matter] = load_matters(
        [write_matter(tmp_path_factory.mktemp("rules"), KINDS, "native-kinds.yaml")]
    )
    return matter


def test_the_generated_source_of_a_matter(kinds: Matter) -> None:
    """Derived facts, then one fast and one slow form per rule; constants live in the namespace."""
    source, namespace = generate(kinds)
    assert source == KINDS_SOURCE
    constants = {k: v for k, v in namespace.items() if k.startswith("_c") and k[2:].isdigit()}
    assert constants == {
        "_c0": {"low": 1, "mid": 2},
        "_c1": Decimal("1.5"),
        "_c2": frozenset({1, 2}),
        "_c3": (3,),
        "_c4": "\t",
        "_c5": (1, 2),
        "_c6": (7, 2),
        "_c7": dt.date(2020, 1, 1),
    }
    assert namespace["__name__"] == "secondapproval.generated.evaluate_native_kinds"


GOOD_KINDS: dict[str, Any] = {
    "a.n": 7,
    "a.m": 2,
    "a.x": Decimal("1.5"),
    "a.flag": True,
    "a.level": "mid",
    "a.scores": (1, 9),
    "a.name": "xyz",
}


@pytest.fixture(scope="module")
def evaluators(kinds: Matter) -> dict[str, Any]:
    """The matter compiled once by each backend."""
    return {"native": NativeBackend().compile(kinds), "durable": DurableBackend().compile(kinds)}


@pytest.mark.parametrize(
    ("changes", "statuses", "errors", "derived"),
    [
        (NO, (0, 1, 1, 1), set(), {"d.half": Decimal("3.5"), "d.limit": 2}),
        ({"a.x": Decimal(1)}, (1, 1, 1, 0), set(), {"d.half": Decimal("3.5"), "d.limit": 2}),
        ({"a.m": 0}, (0, 1, 0, 0), {"d.half"}, {"d.limit": 2}),
        ({"a.m": 0, "a.x": Decimal(1)}, (3, 1, 0, 0), {"d.half"}, {"d.limit": 2}),
        ({"a.m": 3}, (0, 1, 1, 0), {"d.half"}, {"d.limit": 2}),
        ({"a.m": None}, (0, 1, 2, 2), set(), {"d.limit": 2}),
        ({"a.level": "high"}, (0, 3, 1, 1), {"d.limit"}, {"d.half": Decimal("3.5")}),
        (
            {"a.level": "high", "a.flag": False},
            (0, 1, 1, 0),
            {"d.limit"},
            {"d.half": Decimal("3.5")},
        ),
        ({"a.level": "low"}, (0, 0, 1, 1), set(), {"d.half": Decimal("3.5"), "d.limit": 1}),
        ({"a.level": None}, (0, 2, 1, 1), set(), {"d.half": Decimal("3.5")}),
        ({"a.level": "high", "a.m": 0}, (0, 3, 0, 0), {"d.half", "d.limit"}, {}),
        ({"a.scores": (1, 2, 3)}, (0, 1, 0, 1), set(), {"d.half": Decimal("3.5"), "d.limit": 2}),
        ({"a.name": "x\ty"}, (0, 1, 0, 1), set(), {"d.half": Decimal("3.5"), "d.limit": 2}),
    ],
)
@pytest.mark.parametrize("backend", ["native", "durable"])
def test_an_evaluator_records_derived_facts_and_their_errors(
    evaluators: dict[str, Any],
    backend: str,
    changes: dict[str, Any],
    statuses: tuple[int, ...],
    errors: set[str],
    derived: dict[str, Any],
) -> None:
    """A derived value is added to the facts, an unknown one is not, an erring one is reported."""
    evaluate = evaluators[backend]
    values = {**GOOD_KINDS, **changes}
    values = {k: v for k, v in values.items() if v is not None}
    inputs = dict(values)
    assert evaluate(values, ON) == (statuses, frozenset(errors))
    assert values == {**inputs, **derived}


def test_the_native_evaluator_is_named_after_its_matter_version(kinds: Matter) -> None:
    """The compiled function carries the matter and version in its name, module and file."""
    backend = NativeBackend()
    evaluate = backend.compile(kinds)
    assert (backend.name, backend.version) == ("native", "1")
    assert evaluate.__name__ == "evaluate_native_kinds"
    assert evaluate.__module__ == "secondapproval.generated.evaluate_native_kinds"
    assert evaluate.__code__.co_filename == "<secondapproval:native-kinds@2>"


@pytest.mark.parametrize(
    ("when", "fast"),
    [
        ("any_of([], it > a.n)", "any((it > v['a.n']) for it in _c0)"),
        ("any_of([], it <= 1)", "any((it <= 1) for it in _c0)"),
        ("any_of([], it == a.n)", "any(eq(it, v['a.n']) for it in _c0)"),
        ("any_of([], it != 1)", "any(ne(it, 1) for it in _c0)"),
    ],
    ids=["greater", "atmost", "equal", "unequal"],
)
def test_the_fast_form_compares_an_untyped_value(tmp_path: Path, when: str, fast: str) -> None:
    """`it` of an empty list has no type: an order is still written inline (only numbers,
    strings and dates are ordered), an equality with a scalar goes through `eq`/`ne`, which
    compare a list and a tuple by value."""
    source, _ = generate(_matter(tmp_path, [when]))
    assert f"        r0 = 1 if {fast} else 0\n" in source


@pytest.mark.parametrize("form", ["fast", "slow"])
def test_an_unknown_ir_node_is_a_type_error_naming_it(form: str) -> None:
    """Both forms refuse a node they do not know, and the message shows the node."""
    node = ir.Node()
    with pytest.raises(TypeError) as info:
        getattr(_Emitter(), form)(node)
    assert str(info.value) == f"unknown IR node {node!r}"


# ---- durable: one durable_rules ruleset per matter version ----------------------------------

TWO_INTS = "  a.n: {type: int, source: applicant}\n  a.m: {type: int, source: applicant}\n"


def _matter(tmp_path: Path, rules: list[str], facts: str = TWO_INTS) -> Matter:
    """A matter `big` with the given facts (YAML lines) and one rule `r<i>` per expression."""
    text = (
        "matter: big\ntitle: {zh: 大, en: Big}\nversion: '1'\neffective: {from: '2000-01-01'}\n"
        f"facts:\n{facts}rules:\n"
    )
    for i, when in enumerate(rules):
        text += (
            f"  - id: r{i}\n    when: '{when}'\n    says: {{zh: 规则, en: Rule}}\n"
            f"    refer: {{code: R{i}, zh: 不符合, en: Not met}}\n"
        )
    [matter] = load_matters([write_matter(tmp_path, text, "big.yaml")])
    return matter


def _problems(matter: Matter) -> list[Problem]:
    with pytest.raises(RuleSetError) as info:
        DurableBackend().compile(matter)
    return list(info.value.problems)


def _in(item: str, count: int, negated: bool = False, start: int = 0) -> str:
    values = ", ".join(str(i) for i in range(start, start + count))
    return f"{item} {'not in' if negated else 'in'} [{values}]"


def test_a_rule_with_too_many_alternatives_is_refused_where_it_is(tmp_path: Path) -> None:
    """257 alternatives are more than durable holds; the problem names the rule and its field."""
    matter = _matter(tmp_path, ["a.m > 0", _in("a.n", 257)])
    assert _problems(matter) == [
        Problem(
            f"rule 'r1': the durable backend cannot express `({_in('a.n', 257)})`: its "
            "conditions need more than 256 alternatives",
            matter.file,
            field="rules.1.when",
        )
    ]


def test_a_condition_with_too_many_tests_is_refused_once_per_state(tmp_path: Path) -> None:
    """256 alternatives are fine, but their failed condition is 257 tests in one alternative."""
    matter = _matter(tmp_path, [_in("a.n", 256)])
    assert _problems(matter) == [
        Problem(
            f"rule 'r0': the durable backend cannot express `({_in('a.n', 256)})`: one of its "
            "failed conditions needs 257 tests (durable_rules holds at most 24)",
            matter.file,
            field="rules.0.when",
        ),
        Problem(
            "matter 'big': the durable backend cannot hold its rules: 257 stack branches at one "
            "node of durable_rules' network (at most 56)",
            matter.file,
        ),
    ]


def test_24_tests_in_one_alternative_are_held_and_25_are_not(tmp_path: Path) -> None:
    """`not in` 23 values is 24 tests (23 not-equals and exists); 24 values are one too many."""
    DurableBackend().compile(_matter(tmp_path, [_in("a.n", 23, negated=True)]))
    matter = _matter(tmp_path, [_in("a.n", 24, negated=True)])
    assert _problems(matter) == [
        Problem(
            f"rule 'r0': the durable backend cannot express `({_in('a.n', 24, negated=True)})`: "
            "one of its passed conditions needs 25 tests (durable_rules holds at most 24)",
            matter.file,
            field="rules.0.when",
        )
    ]


def test_only_the_first_oversized_alternative_of_a_state_is_reported(tmp_path: Path) -> None:
    """Two alternatives of 25 tests in the passed condition: one problem, not two."""
    when = f"({_in('a.n', 24, negated=True)}) or ({_in('a.n', 24, negated=True, start=100)})"
    problems = _problems(_matter(tmp_path, [when]))
    assert [p.message.rsplit(": ", 1)[1] for p in problems] == [
        "one of its passed conditions needs 25 tests (durable_rules holds at most 24)"
    ]


def test_a_network_too_wide_for_durable_rules_is_refused(tmp_path: Path) -> None:
    """28 rules on one value: 56 alternatives and the always-matching rule, 57 at the root."""
    DurableBackend().compile(_matter(tmp_path, [f"a.n == {i}" for i in range(27)]))
    matter = _matter(tmp_path, [f"a.n == {i}" for i in range(28)])
    assert _problems(matter) == [
        Problem(
            "matter 'big': the durable backend cannot hold its rules: 57 stack branches at one "
            "node of durable_rules' network (at most 56)",
            matter.file,
        )
    ]


def test_a_matter_posting_more_than_240_values_is_refused(tmp_path: Path) -> None:
    """240 hoisted values are posted; 241 are more than durable_rules' messages hold."""
    wide = "matter 'big': the durable backend cannot hold its rules: "
    at_limit = _problems(_matter(tmp_path, [f"a.n + {i} > 0" for i in range(240)]))
    assert [p.message for p in at_limit] == [
        wide + "721 other branches at one node of durable_rules' network (at most 400)"
    ]
    matter = _matter(tmp_path, [f"a.n + {i} > 0" for i in range(241)])
    assert _problems(matter) == [
        Problem(
            wide + "724 other branches at one node of durable_rules' network (at most 400)",
            matter.file,
        ),
        Problem(
            "matter 'big': the durable backend posts 241 values per decision, more than "
            "durable_rules holds (240)",
            matter.file,
        ),
    ]


@pytest.mark.parametrize("name", ["sid", "id", "o", "$s", "v0", "e0", "v1", "e1"])
def test_property_names_whose_hashes_collide_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """durable_rules keys properties by FNV-1a: reserved names and slot keys must all differ."""
    from secondapproval.backends import durable

    matter = _matter(tmp_path, ["a.n + 1 > a.m"])
    clash = {name, "v1" if name != "v1" else "e1"}
    monkeypatch.setattr(durable, "fnv1a", lambda n: 0 if n in clash else fnv1a(n))
    assert _problems(matter) == [
        Problem("matter 'big': durable_rules property names collide", matter.file)
    ]


def test_a_durable_backend_names_each_compilation(kinds: Matter) -> None:
    """Rulesets are named per backend instance, compilation, matter and version."""
    backend = DurableBackend()
    assert (backend.name, backend.version) == ("durable", VERSION)
    assert VERSION == "1+durable_rules-2.0.28"
    first, second = backend.compile(kinds), backend.compile(kinds)
    assert re.fullmatch(r"secondapproval\.[0-9a-f]{8}\.1:native-kinds@2", first.name)
    assert second.name == first.name.replace(".1:", ".2:")
    assert DurableBackend().compile(kinds).name[15:23] != first.name[15:23]


@pytest.mark.parametrize("backend", ["native", "durable"])
def test_a_derived_fact_reads_the_decision_date(tmp_path: Path, backend: str) -> None:
    """A derived fact is computed on the decision's date, like the rules."""
    facts = (
        "  a.day: {type: date, source: applicant}\n"
        "  d.years: {type: int, derive: 'years_between(a.day, decision_date)'}\n"
    )
    matter = _matter(tmp_path, ["d.years >= 1", "a.day < decision_date"], facts=facts)
    evaluate = get_backend(backend).compile(matter)
    values: dict[str, Any] = {"a.day": dt.date(2019, 6, 1)}
    assert evaluate(values, ON) == ((PASSED, PASSED), frozenset())
    assert values["d.years"] == 1


def test_a_comparison_with_a_literal_and_one_with_a_fact_chain_together(tmp_path: Path) -> None:
    """`a.n < 5 and a.n < a.m`: tests of one key against a value and a key are ordered."""
    evaluate = DurableBackend().compile(_matter(tmp_path, ["a.n < 5 and a.n < a.m"]))
    assert evaluate({"a.n": 1, "a.m": 2}, ON) == ((PASSED,), frozenset())
    assert evaluate({"a.n": 1, "a.m": 0}, ON) == ((FAILED,), frozenset())


def test_a_ruleset_is_deleted_with_its_evaluator(kinds: Matter) -> None:
    """When the evaluator is garbage, durable_rules' ruleset is gone too (deleting it fails)."""
    evaluator = DurableBackend().compile(kinds)
    handle = evaluator._ruleset._handle
    del evaluator
    gc.collect()
    with pytest.raises(durable_rules_engine.error):
        durable_rules_engine.delete_ruleset(handle)


def test_a_ruleset_is_deleted_while_a_decision_holds_the_lock(kinds: Matter) -> None:
    """Garbage collection may run inside a decision: the lock the finalizer takes is reentrant."""
    evaluator = DurableBackend().compile(kinds)
    handle = evaluator._ruleset._handle
    with LOCK:
        del evaluator
        gc.collect()
    with pytest.raises(durable_rules_engine.error):
        durable_rules_engine.delete_ruleset(handle)


def _evaluator(kinds: Matter, definition: dict[str, Any]) -> DurableEvaluator:
    return DurableEvaluator(kinds, f"test.{id(definition)}", [], definition, _Collector(4))


def _never(_closure: Any) -> None:
    raise AssertionError("no action runs")


def test_a_ruleset_durable_rules_refuses_is_a_rule_set_error(kinds: Matter) -> None:
    """durable_rules' own refusal is reported against the matter file."""
    with pytest.raises(RuleSetError) as info:
        _evaluator(kinds, {"x": {"all": [{"m": {"$bad": {"o": 1}}}], "run": _never}})
    assert info.value.problems == (
        Problem(
            "durable_rules refused the rule set of matter 'native-kinds': Could not create "
            "ruleset, error code: 202",
            kinds.file,
        ),
    )


def test_a_message_no_rule_handles_is_a_backend_error(kinds: Matter) -> None:
    """Without the always-matching rule durable_rules would not handle the decision."""
    evaluator = _evaluator(kinds, {"x": {"all": [{"m": {"o": 2}}], "run": _never}})
    with pytest.raises(BackendError) as info:
        evaluator({}, ON)
    assert str(info.value) == "durable_rules did not handle a decision of native-kinds@2"


def test_a_failing_action_is_a_backend_error(
    kinds: Matter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error durable_rules reports while running actions fails the decision, never approves."""
    evaluator = _evaluator(kinds, {"x": {"all": [{"m": {"o": 1}}], "run": lambda _c: None}})

    actions = evaluator._ruleset.do_actions

    def failing(state: Any, done: Any) -> None:
        actions(state, lambda *_: None)  # the actions run; then durable_rules reports an error
        done(RuntimeError("no lease"), None)

    monkeypatch.setattr(evaluator._ruleset, "do_actions", failing)
    message = "durable_rules failed deciding native-kinds@2: durable_rules action failed: no lease"
    with pytest.raises(BackendError) as info:
        evaluator({}, ON)
    assert str(info.value) == message

    def undeletable(sid: str) -> None:
        raise RuntimeError(f"no session {sid}")

    with pytest.raises(durable_rules_engine.error):
        evaluator._ruleset.get_state("1")  # the failed decision's session was deleted

    monkeypatch.setattr(evaluator._ruleset, "delete_state", undeletable)
    with pytest.raises(BackendError) as info:
        evaluator({}, ON)
    assert str(info.value) == message  # the failure to clean up does not hide the cause


def test_a_session_that_cannot_be_deleted_is_a_backend_error(
    kinds: Matter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state of every decision is deleted; failing to is an error naming the session."""
    evaluator = _evaluator(kinds, {"x": {"all": [{"m": {"o": 1}}], "run": lambda _c: None}})
    assert evaluator({}, ON) == ((2, 2, 2, 2), frozenset())

    def failing(sid: str) -> None:
        raise RuntimeError(f"locked {sid}")

    monkeypatch.setattr(evaluator._ruleset, "delete_state", failing)
    with pytest.raises(BackendError) as info:
        evaluator({}, ON)
    assert str(info.value) == "durable_rules could not delete session 2: locked 2"


@pytest.mark.parametrize(
    ("fired", "status"),
    [
        ([], 2),
        ([PASSED], PASSED),
        ([FAILED], FAILED),
        ([ERRED], ERRED),
        ([ERRED, PASSED], PASSED),
        ([PASSED, ERRED], PASSED),
        ([FAILED, ERRED], FAILED),
        ([ERRED, FAILED, ERRED], FAILED),
        ([PASSED, PASSED], PASSED),
        ([PASSED, FAILED], ERRED),
        ([FAILED, PASSED, ERRED], ERRED),
    ],
)
def test_passed_or_failed_outrank_error_and_a_conflict_is_an_error(
    fired: list[int], status: int
) -> None:
    """The error condition may fire beside passed or failed; passed and failed together is ERROR."""
    collector = _Collector(2)
    for s in fired:
        collector.action(1, s)(None)
    assert collector.statuses() == (2, status)
    collector.reset()
    assert collector.statuses() == (2, 2)


def test_a_backend_by_name() -> None:
    """`native` and `durable` are the backends; another name is an error that lists them."""
    assert isinstance(get_backend("native"), NativeBackend)
    assert isinstance(get_backend("durable"), DurableBackend)
    with pytest.raises(BackendError) as info:
        get_backend("rete")
    assert str(info.value) == "unknown backend 'rete' (choose native or durable)"


def test_without_durable_rules_the_durable_backend_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing optional dependency is a BackendError naming the extra to install."""
    monkeypatch.setitem(sys.modules, "secondapproval.backends.durable", None)
    with pytest.raises(BackendError) as info:
        get_backend("durable")
    assert str(info.value) == (
        "the durable backend needs durable_rules (pip install 'secondapproval[durable]'): "
        "import of secondapproval.backends.durable halted; None in sys.modules"
    )
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_an_oversized_error_condition_is_named_as_such(tmp_path: Path) -> None:
    """`(x and n not in […]) or …` known neither true nor false needs the siblings' states."""
    when = f"(a.m + 1 > 0 and {_in('a.n', 23, negated=True)}) or a.m > 5"
    problems = _problems(_matter(tmp_path, [when]))
    assert [p.message.rsplit("`: ", 1)[1] for p in problems] == [
        "one of its passed conditions needs 25 tests (durable_rules holds at most 24)",
        "one of its error conditions needs 26 tests (durable_rules holds at most 24)",
    ]


def test_every_rule_too_complex_for_durable_is_reported(tmp_path: Path) -> None:
    """One refused rule does not hide the next: all problems are reported at once."""
    problems = _problems(_matter(tmp_path, [_in("a.n", 257), _in("a.m", 257)]))
    assert [(p.field, p.message.rsplit(": ", 1)[1]) for p in problems] == [
        ("rules.0.when", "its conditions need more than 256 alternatives"),
        ("rules.1.when", "its conditions need more than 256 alternatives"),
    ]


# ---- decision: the one-line form -------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "text"),
    [
        (Outcome.REFER, "<Decision None@None refer NO_VERSION>"),
        (Outcome.APPROVE, "<Decision None@None approve>"),
    ],
    ids=["refer", "approve"],
)
def test_a_decision_shows_its_codes_only_when_it_refers(outcome: Outcome, text: str) -> None:
    """`repr` lists the reason codes of a referral; an approval given as the outcome (a replayed
    record's) shows none, even where the decision has codes."""
    d = Decision(
        compiled=None,
        decision_id="id",
        on=ON,
        values={},
        statuses=(),
        invalid={},
        missing=(),
        outcome=outcome,
    )
    assert d.codes == ("NO_VERSION",)
    assert repr(d) == text
