"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: lang/check.py (the type checker) and lang/kleene.py (the rule status codes).

Each table gives an expression, every problem the checker reports (column and exact message: rule
authors read them in `secondapproval check`), and the type it gives every node of the tree, in
`ir.walk` order (parents before children).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from secondapproval.lang import ir
from secondapproval.lang.check import assignable, check, type_of_value
from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE, status_code
from secondapproval.lang.parser import parse
from secondapproval.lang.types import (
    ANY,
    BOOL,
    CN_ID,
    DATE,
    DECIMAL,
    INT,
    STR,
    Type,
    list_of,
)

DEGREE = Type("str", values=frozenset({"bachelor", "master", "doctor"}))
SCHEMA = {
    "applicant.age": INT,
    "applicant.id_number": CN_ID,
    "applicant.born": DATE,
    "degree": DEGREE,
    "income": DECIMAL,
    "name": STR,
    "married": BOOL,
    "children": list_of(INT),
}
ENUM = "enum(bachelor, doctor, master)"


def checked(text: str, expect: Type | None = None) -> tuple[ir.Node, list[tuple[int, str]]]:
    """The typed tree of `text` and its problems as (column, message); the tree keeps its shape."""
    node, problems = parse(text)
    assert problems == [], problems
    typed, problems = check(node, SCHEMA, expect)
    assert typed == node  # the same tree (types are not compared): no child lost or replaced
    return typed, [(p.column, p.message) for p in problems]


def types(node: ir.Node) -> list[str]:
    """The type of every node, parents before children."""
    return [str(n.ty) for n in ir.walk(node)]


def assert_checks(text: str, problems: list[tuple[int, str]], node_types: list[str]) -> None:
    typed, found = checked(text)
    assert found == problems
    assert types(typed) == node_types


# ---- type_of_value: the types of literals --------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, BOOL),
        (1, INT),
        (Decimal("1.5"), DECIMAL),
        ("a", STR),
        (dt.date(2020, 1, 1), DATE),
        ((), list_of(ANY)),
        ((1,), list_of(INT)),
        ((1, 2), list_of(INT)),
        ((1, Decimal("2")), list_of(DECIMAL)),
        ((Decimal("2"), 1), list_of(DECIMAL)),
        ((1, "a"), Type("list", elem=None)),
        ((1, "a", 2), Type("list", elem=None)),
        (((1,), ()), list_of(list_of(INT))),
        ({"a": 1}, Type("dict", key=STR, elem=INT)),
        ({"a": 1, 2: 1}, Type("dict", key=None, elem=INT)),
        ({"a": 1, "b": "x"}, Type("dict", key=STR, elem=None)),
        ({}, Type("dict", key=ANY, elem=ANY)),
        (None, ANY),
        (1.5, ANY),
    ],
)
def test_type_of_a_literal_value(value: Any, expected: Type) -> None:
    """Scalars get their type; a list or table whose members do not unify has no member type."""
    assert type_of_value(value) == expected


# ---- check: literals, facts, decision_date and `it` ----------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("decision_date", [], ["date"]),
        ("applicant.born", [], ["date"]),
        ("degree", [], [ENUM]),
        ("(1, 'a', 2)", [(1, "list literal mixes values of different types")], ["list[None]"]),
        ("(1, 2)", [], ["list[int]"]),
        ("zzz", [(1, "unknown fact 'zzz'")], ["any"]),
        (
            "applicant.agee",
            [(1, "unknown fact 'applicant.agee' (did you mean 'applicant.age'?)")],
            ["any"],
        ),
        ("applicant", [(1, "'applicant' is a group of facts, not a fact")], ["any"]),
        ("it", [(1, "'it' outside any_of/all_of")], ["any"]),
    ],
)
def test_leaves_are_typed_and_unknown_names_reported(
    text: str, problems: list[tuple[int, str]], node_types: list[str]
) -> None:
    """Facts take their schema type; an unknown fact, a group or a stray `it` is an error."""
    assert_checks(text, problems, node_types)


def test_an_unknown_ir_node_is_a_type_error() -> None:
    """A node that is none of the IR's kinds is a programming error, not a rule problem."""
    with pytest.raises(TypeError, match=r"^unknown IR node Node\(pos=0"):
        check(ir.Node(), SCHEMA)


def test_a_const_the_parser_could_not_read_is_left_as_it_is() -> None:
    """A literal the parser already refused (`None`) is any and adds no second problem."""
    node, problems = parse("")
    assert node == ir.Const(None)
    typed, problems = check(node, SCHEMA, BOOL)
    assert (typed, typed.ty, problems) == (node, ANY, [])


# ---- check: not, and, or -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("not married", [], ["bool", "bool"]),
        ("not applicant.age", [(5, "'not' needs true/false conditions, not int")], ["bool", "int"]),
        ("not x", [(5, "unknown fact 'x'")], ["bool", "any"]),
        ("married and not married", [], ["bool", "bool", "bool", "bool"]),
        (
            "applicant.age and married",
            [(1, "'and' needs true/false conditions, not int")],
            ["bool", "int", "bool"],
        ),
        (
            "married or name",
            [(12, "'or' needs true/false conditions, not str")],
            ["bool", "bool", "str"],
        ),
        ("x and married", [(1, "unknown fact 'x'")], ["bool", "any", "bool"]),
    ],
)
def test_logic_needs_true_false_operands(
    text: str, problems: list[tuple[int, str]], node_types: list[str]
) -> None:
    """`not`, `and` and `or` are bool and name themselves when an operand is not a condition."""
    assert_checks(text, problems, node_types)


# ---- check: comparisons and enum literals --------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("married == True", [], ["bool", "bool", "bool"]),
        ("married != False", [], ["bool", "bool", "bool"]),
        ("applicant.age < income", [], ["bool", "int", "decimal"]),
        ("applicant.born >= decision_date", [], ["bool", "date", "date"]),
        ("married < True", [(1, "cannot compare bool < bool")], ["bool", "bool", "bool"]),
        ("name == 1", [(1, "cannot compare str == int")], ["bool", "str", "int"]),
        ("x == 1", [(1, "unknown fact 'x'")], ["bool", "any", "int"]),
        ("1 > x", [(5, "unknown fact 'x'")], ["bool", "int", "any"]),
        ("name == 'x'", [], ["bool", "str", "str"]),
        ("degree == name", [], ["bool", ENUM, "str"]),
        ("degree == 'master'", [], ["bool", ENUM, "str"]),
        (
            "degree == 'phd'",
            [(11, "'phd' is not a value of this enum (bachelor, doctor, master)")],
            ["bool", ENUM, "str"],
        ),
        (
            "'phd' != degree",
            [(1, "'phd' is not a value of this enum (bachelor, doctor, master)")],
            ["bool", "str", ENUM],
        ),
        (
            "degree == 1",
            [(1, f"cannot compare {ENUM} == int")],
            ["bool", ENUM, "int"],
        ),
    ],
)
def test_comparisons(text: str, problems: list[tuple[int, str]], node_types: list[str]) -> None:
    """== and != need comparable sides, < … >= orderable ones; an enum is compared to its values."""
    assert_checks(text, problems, node_types)


# ---- check: membership (`in`) --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("applicant.age in children", [], ["bool", "int", "list[int]"]),
        ("income in [1, 2]", [], ["bool", "decimal", "list[int]"]),
        (
            "name in children",
            [(1, "str can never be in a list of int")],
            ["bool", "str", "list[int]"],
        ),
        ("x in children", [(1, "unknown fact 'x'")], ["bool", "any", "list[int]"]),
        (
            "1 in [1, 'a']",
            [(6, "list literal mixes values of different types")],
            ["bool", "int", "list[None]"],
        ),
        ("degree in ['bachelor', 'master']", [], ["bool", ENUM, "list[str]"]),
        (
            "degree in ['bachelor', 'phd']",
            [(11, "'phd' is not a value of this enum (bachelor, doctor, master)")],
            ["bool", ENUM, "list[str]"],
        ),
        ("'x' in name", [], ["bool", "str", "str"]),
        ("degree in name", [], ["bool", ENUM, "str"]),
        ("1 in name", [(1, "int can never be in a string")], ["bool", "int", "str"]),
        ("x in name", [(1, "unknown fact 'x'")], ["bool", "any", "str"]),
        (
            "1 in applicant.age",
            [(1, "'in' needs a list or a string on its right, not int")],
            ["bool", "int", "int"],
        ),
        ("1 in x", [(6, "unknown fact 'x'")], ["bool", "int", "any"]),
    ],
)
def test_membership(text: str, problems: list[tuple[int, str]], node_types: list[str]) -> None:
    """`in` takes a list of comparable values or a string; anything else on its right is refused."""
    assert_checks(text, problems, node_types)


# ---- check: arithmetic and negation --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("applicant.age + 1", [], ["int", "int", "int"]),
        ("applicant.age - 1", [], ["int", "int", "int"]),
        ("applicant.age * income", [], ["decimal", "int", "decimal"]),
        ("income + applicant.age", [], ["decimal", "decimal", "int"]),
        ("applicant.age / 2", [], ["decimal", "int", "int"]),
        ("2 ** 2", [], ["int", "int", "int"]),
        ("2 ** 0", [], ["int", "int", "int"]),
        ("2 ** -1", [], ["decimal", "int", "int"]),
        ("2 ** 1.5", [], ["decimal", "int", "decimal"]),
        ("income ** 2", [], ["decimal", "decimal", "int"]),
        ("applicant.age ** applicant.age", [], ["decimal", "int", "int"]),
        ("x + 1", [(1, "unknown fact 'x'")], ["any", "any", "int"]),
        ("1 * x", [(5, "unknown fact 'x'")], ["any", "int", "any"]),
        ("name + 1", [(1, "cannot compute str + int")], ["any", "str", "int"]),
        ("1 * married", [(1, "cannot compute int * bool")], ["any", "int", "bool"]),
        (
            "applicant.born + 1",
            [(1, "cannot compute date + int (use add_days, days_between …)")],
            ["any", "date", "int"],
        ),
        (
            "1 - decision_date",
            [(1, "cannot compute int - date (use add_days, days_between …)")],
            ["any", "int", "date"],
        ),
        ("-applicant.age", [], ["int", "int"]),
        ("-income", [], ["decimal", "decimal"]),
        ("-name", [(1, "cannot negate str")], ["str", "str"]),
        ("-x", [(2, "unknown fact 'x'")], ["any", "any"]),
    ],
)
def test_arithmetic(text: str, problems: list[tuple[int, str]], node_types: list[str]) -> None:
    """Numbers only; `/` is decimal, `**` is int only for a literal whole exponent ≥ 0."""
    assert_checks(text, problems, node_types)


# ---- check: list expressions ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("[applicant.age]", [], ["list[int]", "int"]),
        ("[applicant.age, 1]", [], ["list[int]", "int", "int"]),
        ("[applicant.age, income]", [], ["list[decimal]", "int", "decimal"]),
        (
            "[applicant.age, name]",
            [(1, "list literal mixes values of different types")],
            ["any", "int", "str"],
        ),
        (
            "[applicant.age, name, 1]",
            [(1, "list literal mixes values of different types")],
            ["any", "int", "str", "int"],
        ),
    ],
)
def test_list_expressions(
    text: str, problems: list[tuple[int, str]], node_types: list[str]
) -> None:
    """A list of expressions takes the common type of its items; without one it is refused."""
    assert_checks(text, problems, node_types)


# ---- check: table lookups ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("{'a': 1}[name]", [], ["int", "dict[str, int]", "str"]),
        ("{'bachelor': 1, 'master': 2}[degree]", [], ["int", "dict[str, int]", ENUM]),
        ("{}[name]", [], ["any", "dict[any, any]", "str"]),
        ("{'a': 1}[x]", [(10, "unknown fact 'x'")], ["int", "dict[str, int]", "any"]),
        (
            "{1: 1}[name]",
            [(1, "a str cannot index a table keyed by int")],
            ["int", "dict[int, int]", "str"],
        ),
        (
            "{1: 1}[degree]",
            [(1, f"a {ENUM} cannot index a table keyed by int")],
            ["int", "dict[int, int]", ENUM],
        ),
        (
            "{'a': 1, 2: 1}[name]",
            [(1, "the table's keys, and its values, must each be of one type")],
            ["int", "dict[None, int]", "str"],
        ),
        (
            "{'a': 1, 'b': 'x'}[name]",
            [(1, "the table's keys, and its values, must each be of one type")],
            ["any", "dict[str, None]", "str"],
        ),
        (
            "{'bachelor': 1, 'phd': 2}[degree]",
            [(1, "table key 'phd' is not a value of the enum it is indexed by")],
            ["int", "dict[str, int]", ENUM],
        ),
    ],
)
def test_table_lookups(text: str, problems: list[tuple[int, str]], node_types: list[str]) -> None:
    """A table has one key type and one value type; an enum key must name values of the enum."""
    assert_checks(text, problems, node_types)


# ---- check: function calls -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("len(children)", [], ["int", "list[int]"]),
        ("age_on(applicant.id_number, decision_date)", [], ["int", "cn_id", "date"]),
        ("len(x)", [(5, "unknown fact 'x'")], ["any", "any"]),
        ("min(x, 1)", [(5, "unknown fact 'x'")], ["any", "any", "int"]),
        ("len(1)", [(1, "len(): takes one list or string")], ["any", "int"]),
    ],
)
def test_function_calls(text: str, problems: list[tuple[int, str]], node_types: list[str]) -> None:
    """A call takes its library signature's type; a refused call names the function."""
    assert_checks(text, problems, node_types)


# ---- check: quantifiers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problems", "node_types"),
    [
        ("any_of(children, it > 1)", [], ["bool", "list[int]", "bool", "int", "int"]),
        ("all_of([], it)", [], ["bool", "list[any]", "any"]),
        ("any_of(x, it > 1)", [(8, "unknown fact 'x'")], ["bool", "any", "bool", "any", "int"]),
        ("all_of(name, it)", [(1, "all_of() needs a list, not str")], ["bool", "str", "any"]),
        (
            "any_of(children, it)",
            [(18, "'any_of' needs true/false conditions, not int")],
            ["bool", "list[int]", "int"],
        ),
        (
            "all_of(children, it)",
            [(18, "'all_of' needs true/false conditions, not int")],
            ["bool", "list[int]", "int"],
        ),
        (
            "any_of(children, any_of(children, it > 1) and it > 2)",
            [(18, "any_of/all_of/count cannot be nested")],
            [
                "bool", "list[int]", "bool",
                "bool", "list[int]", "bool", "int", "int",
                "bool", "int", "int",
            ],
        ),
    ],
)  # fmt: skip
def test_quantifiers(text: str, problems: list[tuple[int, str]], node_types: list[str]) -> None:
    """`it` is the list's element; a quantifier needs a list and cannot be nested."""
    assert_checks(text, problems, node_types)


def test_it_is_unbound_again_after_a_quantifier() -> None:
    """Once any_of/all_of is closed, `it` outside it is an error again."""
    assert checked("any_of(children, it > 1) and it")[1] == [(30, "'it' outside any_of/all_of")]


@pytest.mark.parametrize(
    ("text", "unknown", "node_types"),
    [
        ("applicant.age + 1", (1, "applicant.age"), ["any", "any", "int"]),
        ("len(children)", (5, "children"), ["any", "any"]),
        ("min(applicant.age, 1)", (5, "applicant.age"), ["any", "any", "int"]),
    ],
)
def test_a_typed_tree_checked_again_takes_the_new_schemas_types(
    text: str, unknown: tuple[int, str], node_types: list[str]
) -> None:
    """Types come only from the schema given: none of a previous check's types is kept."""
    typed, _ = checked(text)
    assert typed.ty is not ANY
    again, problems = check(typed, {})
    assert again == typed
    assert types(again) == node_types
    assert [(p.column, p.message) for p in problems] == [
        (unknown[0], f"unknown fact {unknown[1]!r}")
    ]


# ---- check: the expected result type -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expect", "problems"),
    [
        ("married", BOOL, []),
        ("married", None, []),
        ("applicant.age", None, []),
        ("applicant.age", DECIMAL, []),
        ("applicant.age + 1", BOOL, [(1, "expression is int, expected bool")]),
        ("income", INT, [(1, "expression is decimal, expected int")]),
        ("x", BOOL, [(1, "unknown fact 'x'")]),
        ("x", None, [(1, "unknown fact 'x'")]),
    ],
)
def test_the_result_must_be_of_the_expected_type(
    text: str, expect: Type | None, problems: list[tuple[int, str]]
) -> None:
    """With `expect`, a result that cannot be stored in that type is one more problem."""
    assert checked(text, expect)[1] == problems


# ---- assignable: what a derived fact may hold ----------------------------------------------------
@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (INT, DECIMAL, True),
        (DECIMAL, DECIMAL, True),
        (STR, DECIMAL, False),
        (DECIMAL, INT, False),
        (INT, INT, True),
        (BOOL, INT, False),
        (BOOL, BOOL, True),
        (CN_ID, STR, True),
        (list_of(INT), list_of(DECIMAL), True),
        (list_of(STR), list_of(INT), False),
        (list_of(DECIMAL), list_of(INT), False),
        (Type("list", elem=None), list_of(INT), True),
        (list_of(STR), Type("list", elem=None), True),
        (STR, list_of(STR), False),
        (list_of(STR), STR, False),
        (Type("str", values=frozenset({"master"})), DEGREE, True),
        (DEGREE, DEGREE, True),
        (Type("str", values=frozenset({"phd"})), DEGREE, False),
        (STR, DEGREE, False),
    ],
)
def test_assignable(value: Type, target: Type, expected: bool) -> None:
    """Numbers go into a decimal, lists by element, enums into a superset, the rest by kind."""
    assert assignable(value, target) is expected


# ---- kleene: a rule's status code from its value -------------------------------------------------
@pytest.mark.parametrize(
    ("value", "code"), [(False, 0), (True, 1), (UNKNOWN_VALUE, 2), (ERROR_VALUE, 3)]
)
def test_status_code_of_each_value(value: object, code: int) -> None:
    """Failed 0, passed 1, unknown 2, error 3."""
    assert status_code(value) == code


# ---- a function's parameter kinds (functions._accepts) ------------------------------------

ACCEPTS = {
    "date-date": ("date", Type("date"), True),
    "date-int": ("date", Type("int"), False),
    "int-int": ("int", Type("int"), True),
    "int-decimal": ("int", Type("decimal"), False),
    "id-id": ("cn_id", Type("str", domain="cn_id"), True),
    "id-str": ("cn_id", Type("str"), False),
    "id-other-domain": ("cn_id", Type("str", domain="uscc"), False),
    "either-id": ("date|cn_id", Type("str", domain="cn_id"), True),
    "either-date": ("date|cn_id", Type("date"), True),
    "either-int": ("date|cn_id", Type("int"), False),
    "str-kind-is-not-cn_id": ("str", Type("str", domain="cn_id"), True),
}


@pytest.mark.parametrize(("want", "got", "fits"), ACCEPTS.values(), ids=ACCEPTS.keys())
def test_an_argument_fits_a_parameter_by_its_kind_or_its_id_domain(
    want: str, got: Type, fits: bool
) -> None:
    """`cn_id` takes only a value of the cn_id domain; any other kind takes a value of that
    kind; `a|b` takes either."""
    from secondapproval.lang.functions import _accepts

    assert _accepts(want, got) is fits
