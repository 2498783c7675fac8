"""Tests that kill the mutants the suite let live (issue 13, class 9; docs/mutation.md).

Modules: lang/parser.py, lang/ir.py and lang/types.py.

IR nodes compare without their `pos` (and `ty`), so the columns the parser records are
asserted separately, node by node, with `positions`.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal
from typing import Any

import pytest

from secondapproval.lang import ir
from secondapproval.lang.parser import MAX_DEPTH, MAX_LENGTH, SyntaxProblem, parse, parse_iso_date
from secondapproval.lang.types import (
    ANY,
    BOOL,
    CN_ID,
    DATE,
    DECIMAL,
    INT,
    STR,
    USCC,
    Type,
    comparable,
    list_of,
    orderable,
    unify,
)

TOO_DEEP = f"expression nested too deeply (more than {MAX_DEPTH} levels)"
NONE = ir.Const(None)


def accepted(text: str) -> ir.Node:
    """The IR of a text the parser accepts."""
    node, problems = parse(text)
    assert problems == [], problems
    return node


def refused(text: str) -> list[tuple[int, str]]:
    """Every problem of a refused text, as (column, message)."""
    _, problems = parse(text)
    assert problems, f"{text!r} was accepted"
    return [(p.column, p.message) for p in problems]


def positions(node: ir.Node) -> list[tuple[str, int]]:
    """Each node's kind and column, parents before children."""
    return [(type(n).__name__, n.pos) for n in ir.walk(node)]


def enum(*values: str) -> Type:
    return Type("str", values=frozenset(values))


# ---- parse: the text around the expression ----


@pytest.mark.parametrize("text", ["", " ", "\n", " \n\t "])
def test_a_blank_expression_is_empty(text: str) -> None:
    """A blank text is one problem, "empty expression", at column 1, and no IR."""
    node, problems = parse(text)
    assert node == NONE
    assert problems == [SyntaxProblem(1, "empty expression")]


@pytest.mark.parametrize("value", [None, 1, b"a == 1", ["a"]])
def test_an_expression_that_is_not_text_is_empty(value: Any) -> None:
    """A rule whose `when` is not a string (YAML gave a number, a list…) is refused, not raised."""
    node, problems = parse(value)
    assert node == NONE
    assert problems == [SyntaxProblem(1, "empty expression")]


def test_lines_are_joined_with_spaces_and_the_text_is_stripped() -> None:
    """A multi-line `when` reads as one line; columns count in the joined, stripped text."""
    node = accepted("  a\nand b\n== 0.30000000000000001  ")
    assert node == ir.And(
        (ir.Fact("a"), ir.Compare("==", ir.Fact("b"), ir.Const(Decimal("0.30000000000000001"))))
    )
    assert positions(node) == [("And", 0), ("Fact", 0), ("Compare", 6), ("Fact", 6), ("Const", 11)]


def test_leading_blanks_do_not_shift_a_decimal_literal() -> None:
    """The decimal literal is read from the same stripped text the columns count in."""
    node = accepted("   a ==  2.5")
    assert node == ir.Compare("==", ir.Fact("a"), ir.Const(Decimal("2.5")))
    assert positions(node) == [("Compare", 0), ("Fact", 0), ("Const", 6)]


# ---- parse: bounds and syntax errors ----


def test_an_expression_of_max_length_is_parsed() -> None:
    """MAX_LENGTH characters (after stripping) are accepted; one more is refused."""
    assert accepted("  " + "a" * MAX_LENGTH + "\n") == ir.Fact("a" * MAX_LENGTH)
    node, problems = parse("a" * (MAX_LENGTH + 1))
    assert node == NONE
    assert problems == [SyntaxProblem(1, f"expression longer than {MAX_LENGTH} characters")]
    assert problems[0].message == "expression longer than 4000 characters"


def test_an_expression_of_max_depth_is_parsed() -> None:
    """MAX_DEPTH levels are accepted (50 here); the first node one level deeper is refused."""
    assert TOO_DEEP == "expression nested too deeply (more than 50 levels)"
    # 49 minus signs and a name: 50 levels (the name's Load context is not a level)
    node = accepted("-" * (MAX_DEPTH - 1) + "a")
    assert [type(n).__name__ for n in ir.walk(node)] == ["Neg"] * (MAX_DEPTH - 1) + ["Fact"]
    assert refused("-" * MAX_DEPTH + "a") == [(MAX_DEPTH + 1, TOO_DEEP)]
    assert refused("-" * MAX_DEPTH + "1") == [(MAX_DEPTH + 1, TOO_DEEP)]
    assert refused("a + " + "-" * (MAX_DEPTH + 5) + "1") == [(MAX_DEPTH + 4, TOO_DEEP)]


def test_a_node_too_deep_without_a_column_is_reported_at_column_1() -> None:
    """A too-deep node that has no column of its own (a comprehension clause) is at column 1."""
    assert refused("-" * (MAX_DEPTH - 1) + "[x for x in y]") == [(1, TOO_DEEP)]


@pytest.mark.parametrize(
    "text",
    [
        "-" * 3000 + "1",  # Python's own parser gives up (RecursionError)
        "x = " + "-" * 3000 + "1",  # not an expression, and too deep to parse as a statement
    ],
)
def test_nesting_too_deep_for_python_is_too_deep(text: str) -> None:
    """Nesting Python's parser cannot follow is the same "too deep" problem, at column 1."""
    node, problems = parse(text)
    assert node == NONE
    assert problems == [SyntaxProblem(1, TOO_DEEP)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1 2", (3, "syntax error: invalid syntax")),
        ("a ==== b", (5, "syntax error: invalid syntax")),
        ("a == )", (6, "syntax error: unmatched ')'")),
        ("(a", (1, "syntax error: '(' was never closed")),
        ("a == 1 +", (1, "syntax error: invalid syntax")),  # Python gives offset 0
        ("a\x00", (1, "syntax error: source code string cannot contain null bytes")),  # no offset
        ("import os", (1, "statements (import, assignment …) are not allowed")),
        ("x = 1", (1, "statements (import, assignment …) are not allowed")),
        ("a == 1; b == 2", (1, "statements (import, assignment …) are not allowed")),
    ],
)
def test_syntax_errors_and_statements(text: str, problem: tuple[int, str]) -> None:
    """Text that is not one Python expression is one problem, with Python's column."""
    node, problems = parse(text)
    assert node == NONE
    assert [(p.column, p.message) for p in problems] == [problem]


# ---- parse_iso_date ----


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2019-07-01", dt.date(2019, 7, 1)),
        ("0001-01-01", dt.date(1, 1, 1)),
        ("2020-02-29", dt.date(2020, 2, 29)),
    ],
)
def test_an_iso_date_is_read(text: str, day: dt.date) -> None:
    """`YYYY-MM-DD` reads as that date."""
    assert parse_iso_date(text) == day


@pytest.mark.parametrize(
    "text",
    [
        "2019-7-01",
        "2019-07-1",
        "2019-07-011",
        "20190701",
        "2019/07/01",
        "2019-07/01",
        "2019_07-01",
        "201-907-01",
        "2019-0-701",
        "x019-07-01",
        "201x-07-01",
        "2019-x7-01",
        "2019-0x-01",
        "2019-07-x1",
        "2019-07-0x",
        "+019-07-01",
        "20190701T0",
        "2019-W27-1",
        "",
    ],
)
def test_other_date_forms_are_refused(text: str) -> None:
    """Anything but ten characters `YYYY-MM-DD` of ASCII digits is refused, naming the text."""
    with pytest.raises(ValueError, match=f"^{re.escape(repr(text))} is not a YYYY-MM-DD date$"):
        parse_iso_date(text)


def test_an_impossible_date_is_refused_by_the_calendar() -> None:
    """A well-formed date that does not exist is refused with the calendar's message."""
    with pytest.raises(ValueError, match=r"^day is out of range for month$"):
        parse_iso_date("2019-02-29")


# ---- leaves: constants and names ----


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("True", True),
        ("False", False),
        ("0", 0),
        ("42", 42),
        ("'x'", "x"),
        ('""', ""),
        ("2.5", Decimal("2.5")),
        ("2.50", Decimal("2.50")),
        ("0.30000000000000001", Decimal("0.30000000000000001")),
        ("1_000.5", Decimal("1000.5")),
        ("1e3", Decimal("1E+3")),
    ],
)
def test_literals_are_constants(text: str, value: object) -> None:
    """Literals become constants; a decimal literal is read from its text, never a float."""
    node = accepted("x == " + text)
    assert isinstance(node, ir.Compare)
    assert node.right == ir.Const(value)
    assert type(node.right).__name__ == "Const"
    assert isinstance(node.right, ir.Const)
    assert type(node.right.value) is type(value)
    assert str(node.right.value) == str(value)
    assert node.right.pos == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1j", "complex literals are not allowed"),
        ("None", "None is not a value (a missing fact is handled by the engine)"),
        ("b'x'", "bytes literals are not allowed"),
        ("...", "ellipsis literals are not allowed"),
        ("1e99999", "the number 1e99999 is beyond 1000 digits or exponent ±9999"),
    ],
)
def test_refused_literals(text: str, message: str) -> None:
    """Literals outside the value model are refused at their column, with a message."""
    node, problems = parse("a == " + text)
    assert problems == [SyntaxProblem(6, message)]
    assert node == ir.Compare("==", ir.Fact("a"), NONE)
    assert positions(node) == [("Compare", 0), ("Fact", 0), ("Const", 5)]


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("decision_date", ir.DecisionDate()),
        ("it", ir.It()),
        ("it.age", ir.ItField("age")),
        ("age", ir.Fact("age")),
        ("_x_", ir.Fact("_x_")),
        ("_", ir.Fact("_")),
        ("a__b", ir.Fact("a__b")),
        ("applicant.age", ir.Fact("applicant.age")),
        ("a.b.c", ir.Fact("a.b.c")),
        ("it_s.decision_date", ir.Fact("it_s.decision_date")),
        ("a.it", ir.Fact("a.it")),
    ],
)
def test_names_and_dotted_paths(text: str, node: ir.Node) -> None:
    """A name is a fact path, `decision_date` or `it`; a dotted name is one fact path, or a
    field of `it`."""
    parsed = accepted("1 == " + text)
    assert isinstance(parsed, ir.Compare)
    assert parsed.right == node
    assert type(parsed.right) is type(node)
    assert parsed.right.pos == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__x", "dunder name '__x' is not allowed"),
        ("x__", "dunder name 'x__' is not allowed"),
        ("__x.y", "dunder name '__x' is not allowed"),
        ("x.__y", "dunder name '__y' is not allowed"),
        ("x.y__.z", "dunder name 'y__' is not allowed"),
        ("__x.__y", "dunder name '__y' is not allowed"),
        ("decision_date.year", "attribute access on 'decision_date' is not allowed"),
        ("it.a.b", "a field of 'it' has no fields"),
        ("(a + b).c", "attribute access is not allowed (only dotted fact paths)"),
        ("'s'.upper", "attribute access is not allowed (only dotted fact paths)"),
        ("{'a': 1}['a'].b", "attribute access is not allowed (only dotted fact paths)"),
    ],
)
def test_refused_names(text: str, message: str) -> None:
    """Dunder names, attributes of decision_date and of a field of it, and other attributes are
    refused."""
    node, problems = parse("1 == " + text)
    assert problems == [SyntaxProblem(6, message)]
    assert node == ir.Compare("==", ir.Const(1), NONE)
    assert positions(node) == [("Compare", 0), ("Const", 0), ("Const", 5)]


# ---- operators ----


def test_and_or_keep_their_operands_and_columns() -> None:
    """`and` and `or` are n-ary nodes at the column of their first operand."""
    node = accepted("x or (a and b and c)")
    assert node == ir.Or((ir.Fact("x"), ir.And((ir.Fact("a"), ir.Fact("b"), ir.Fact("c")))))
    assert type(node) is ir.Or
    assert positions(node) == [
        ("Or", 0),
        ("Fact", 0),
        ("And", 6),
        ("Fact", 6),
        ("Fact", 12),
        ("Fact", 18),
    ]
    assert type(accepted("a and b")) is ir.And


@pytest.mark.parametrize(
    ("text", "node", "where"),
    [
        ("x == (not a)", ir.Not(ir.Fact("a")), [("Not", 6), ("Fact", 10)]),
        ("x == +a", ir.Fact("a"), [("Fact", 6)]),
        ("x == -a", ir.Neg(ir.Fact("a")), [("Neg", 5), ("Fact", 6)]),
        ("x == -5", ir.Const(-5), [("Const", 5)]),
        ("x == - 2.5", ir.Const(Decimal("-2.5")), [("Const", 5)]),
        ("x == --5", ir.Const(5), [("Const", 5)]),
        ("x == -True", ir.Neg(ir.Const(True)), [("Neg", 5), ("Const", 6)]),
        ("x == -'s'", ir.Neg(ir.Const("s")), [("Neg", 5), ("Const", 6)]),
        ("x == -[1]", ir.Neg(ir.Const((1,))), [("Neg", 5), ("Const", 6)]),
    ],
)
def test_unary_operators(text: str, node: ir.Node, where: list[tuple[str, int]]) -> None:
    """`not` negates, `+` is dropped, `-` of a number literal is folded, of anything else kept."""
    parsed = accepted(text)
    assert isinstance(parsed, ir.Compare)
    assert parsed.right == node
    assert type(parsed.right) is type(node)
    if isinstance(node, ir.Const):
        assert isinstance(parsed.right, ir.Const)
        assert type(parsed.right.value) is type(node.value)
    assert positions(parsed.right) == where


def test_bitwise_inversion_is_refused() -> None:
    """`~x` is refused at its column (its operand is still checked)."""
    node, problems = parse("1 == ~__a")
    assert problems == [
        SyntaxProblem(7, "dunder name '__a' is not allowed"),
        SyntaxProblem(6, "bitwise operators are not allowed"),
    ]
    assert node == ir.Compare("==", ir.Const(1), NONE)
    assert positions(node)[2] == ("Const", 5)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_arithmetic_operators(op: str) -> None:
    """The five arithmetic operators become Arith nodes, at the column of the left operand."""
    node = accepted(f"x == a {op} 2")
    assert isinstance(node, ir.Compare)
    assert node.right == ir.Arith(op, ir.Fact("a"), ir.Const(2))
    assert positions(node.right) == [("Arith", 5), ("Fact", 5), ("Const", 8 + len(op))]


@pytest.mark.parametrize(
    ("op", "name"),
    [
        ("//", "FloorDiv"),
        ("%", "Mod"),
        ("@", "MatMult"),
        ("<<", "LShift"),
        (">>", "RShift"),
        ("|", "BitOr"),
        ("&", "BitAnd"),
        ("^", "BitXor"),
    ],
)
def test_other_binary_operators_are_refused(op: str, name: str) -> None:
    """Other binary operators are refused, naming the operator and the allowed ones."""
    node, problems = parse(f"x == a {op} 2")
    assert problems == [SyntaxProblem(6, f"operator {name} is not allowed (+ - * / **)")]
    assert node == ir.Compare("==", ir.Fact("x"), NONE)
    assert positions(node)[2] == ("Const", 5)


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparison_operators(op: str) -> None:
    """The six comparisons become Compare nodes at the column of the left operand."""
    node = accepted(f"(a {op} 1)")
    assert node == ir.Compare(op, ir.Fact("a"), ir.Const(1))
    assert type(node) is ir.Compare
    assert positions(node) == [("Compare", 1), ("Fact", 1), ("Const", 4 + len(op))]


def test_membership() -> None:
    """`in` and `not in` become In nodes, `negated` for `not in`."""
    node = accepted("a in [1, 2] and b not in c")
    assert node == ir.And(
        (
            ir.In(ir.Fact("a"), ir.Const((1, 2)), negated=False),
            ir.In(ir.Fact("b"), ir.Fact("c"), negated=True),
        )
    )
    assert isinstance(node, ir.And)
    assert [getattr(o, "negated", None) for o in node.operands] == [False, True]
    assert positions(node) == [
        ("And", 0),
        ("In", 0),
        ("Fact", 0),
        ("Const", 5),
        ("In", 16),
        ("Fact", 16),
        ("Fact", 25),
    ]


def test_a_chained_comparison_is_a_conjunction_of_pairs() -> None:
    """`1 < a <= b in c` is `1 < a and a <= b and b in c`, each pair at the chain's column."""
    node = accepted("x or 1 < a <= b in c")
    assert node == ir.Or(
        (
            ir.Fact("x"),
            ir.And(
                (
                    ir.Compare("<", ir.Const(1), ir.Fact("a")),
                    ir.Compare("<=", ir.Fact("a"), ir.Fact("b")),
                    ir.In(ir.Fact("b"), ir.Fact("c")),
                )
            ),
        )
    )
    assert positions(node) == [
        ("Or", 0),
        ("Fact", 0),
        ("And", 5),
        ("Compare", 5),
        ("Const", 5),
        ("Fact", 9),
        ("Compare", 5),
        ("Fact", 9),
        ("Fact", 14),
        ("In", 5),
        ("Fact", 14),
        ("Fact", 19),
    ]


@pytest.mark.parametrize("text", ["x or a is b", "x or a is not b"])
def test_identity_is_refused(text: str) -> None:
    """`is` and `is not` are refused at the comparison's column."""
    node, problems = parse(text)
    assert problems == [SyntaxProblem(6, "'is' is not allowed (use == or !=)")]
    assert node == ir.Or((ir.Fact("x"), NONE))
    assert positions(node)[2] == ("Const", 5)


def test_identity_in_a_chain_refuses_only_its_pair() -> None:
    """In a chain, the `is` pair is refused and the other pairs are kept."""
    node, problems = parse("a < b is c == d")
    assert problems == [SyntaxProblem(1, "'is' is not allowed (use == or !=)")]
    assert node == ir.And(
        (
            ir.Compare("<", ir.Fact("a"), ir.Fact("b")),
            NONE,
            ir.Compare("==", ir.Fact("c"), ir.Fact("d")),
        )
    )


# ---- literals: lists and dict lookups ----


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("[]", ()),
        ("[1, 2]", (1, 2)),
        ("(1, 'a')", (1, "a")),
        ("{2, 1}", (2, 1)),
        ("[[1], [2, 3]]", ((1,), (2, 3))),
        ("[-1, 2.5]", (-1, Decimal("2.5"))),
    ],
)
def test_a_constant_list_is_a_constant_tuple(text: str, value: tuple[Any, ...]) -> None:
    """A list, tuple or set literal of constants is one constant tuple, in written order."""
    node = accepted("x in " + text)
    assert isinstance(node, ir.In)
    assert node.container == ir.Const(value)
    assert isinstance(node.container, ir.Const)
    assert positions(node.container) == [("Const", 5)]


def test_a_list_with_a_non_constant_item_is_a_list_node() -> None:
    """A list literal with any non-constant item keeps every item as a node."""
    node = accepted("x in [1, a, 'b']")
    assert isinstance(node, ir.In)
    assert node.container == ir.ListOf((ir.Const(1), ir.Fact("a"), ir.Const("b")))
    assert positions(node.container) == [
        ("ListOf", 5),
        ("Const", 6),
        ("Fact", 9),
        ("Const", 12),
    ]


def test_a_constant_dict_is_a_constant_table() -> None:
    """A dict literal of constants is one constant dict, looked up by an expression."""
    node = accepted('x == {"bachelor": 35, "master": 40, 1: True}[degree]')
    assert isinstance(node, ir.Compare)
    assert node.right == ir.Lookup(
        ir.Const({"bachelor": 35, "master": 40, 1: True}), ir.Fact("degree")
    )
    assert positions(node.right) == [("Lookup", 5), ("Const", 5), ("Fact", 45)]
    empty = accepted("{}[k]")
    assert empty == ir.Lookup(ir.Const({}), ir.Fact("k"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{**a}[k]", (6, "** in dict literals is not allowed")),
        ("{1: 2, **a}[k]", (6, "** in dict literals is not allowed")),
        ("{a: 1}[k]", (6, "dict literals hold constant keys and values only")),
        ("{1: a}[k]", (6, "dict literals hold constant keys and values only")),
        ("{1: 2, 'x': [a]}[k]", (6, "dict literals hold constant keys and values only")),
        ('{"a": 1, "a": 2}[k]', (15, "duplicate key 'a' in dict literal")),
        ("{1: 'x', True: 'y'}[k]", (15, "duplicate key True in dict literal")),
    ],
)
def test_refused_dict_literals(text: str, problem: tuple[int, str]) -> None:
    """`**`, non-constant keys or values and a key given twice are refused at their column."""
    node, problems = parse("1 == " + text)
    assert [(p.column, p.message) for p in problems] == [problem]
    assert isinstance(node, ir.Compare)
    assert node.right == ir.Lookup(NONE, ir.Fact("k"))
    # the refused table stands where the problem is (the repeated key for a duplicate)
    assert positions(node.right)[:2] == [("Lookup", 5), ("Const", problem[0] - 1)]


@pytest.mark.parametrize(
    "text",
    ["x[1]", "[1, 2][0]", "'abc'[0]", "f(x)[0]", "{'a': 1}['a']['b']"],
)
def test_subscripts_of_anything_but_a_dict_literal_are_refused(text: str) -> None:
    """Only a dict literal can be subscripted: no computed fact names, no indexing."""
    node, problems = parse("1 == " + text)
    assert problems == [
        SyntaxProblem(6, "subscripts are allowed only on dict literals (no computed fact names)")
    ]
    assert node == ir.Compare("==", ir.Const(1), NONE)


# ---- refused constructs ----


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("(lambda: 1)", 7, "lambdas are not allowed"),
        ("[x for x in y]", 6, "comprehensions are not allowed (use any_of/all_of)"),
        ("{x for x in y}", 6, "comprehensions are not allowed (use any_of/all_of)"),
        ("{x: 1 for x in y}", 6, "comprehensions are not allowed (use any_of/all_of)"),
        ("(x for x in y)", 6, "comprehensions are not allowed (use any_of/all_of)"),
        (
            "(a if b else c)",
            7,
            "conditional expressions are not allowed (write two conditions with and/or)",
        ),
        ("(y := 1)", 7, "assignment expressions are not allowed"),
        ("f'{a}'", 6, "f-strings are not allowed"),
        ("len(*a)", 10, "starred expressions are not allowed"),
        ("{'a': 1}[1:2]", 15, "slices are not allowed"),
    ],
)
def test_refused_constructs_name_themselves(text: str, column: int, message: str) -> None:
    """Each construct outside the whitelist is refused with its own message, at its column."""
    _, problems = parse("1 == " + text)
    assert problems == [SyntaxProblem(column, message)]


@pytest.mark.skipif(sys.version_info < (3, 14), reason="t-strings are Python 3.14 syntax")
def test_an_expression_kind_the_language_does_not_know_is_refused() -> None:
    """A kind of expression newer than the rule language (3.14's t-strings) is refused by name."""
    _, problems = parse('1 == t"{a}"')
    assert problems == [SyntaxProblem(6, "TemplateStr is not part of the rule language")]


def test_every_problem_of_an_expression_is_reported() -> None:
    """Problems are reported together, left to right, each at its column."""
    _, problems = parse("__a == 1 or b // 2 == 1 or c is d or zzz(1)")
    assert problems == [
        SyntaxProblem(1, "dunder name '__a' is not allowed"),
        SyntaxProblem(13, "operator FloorDiv is not allowed (+ - * / **)"),
        SyntaxProblem(28, "'is' is not allowed (use == or !=)"),
        SyntaxProblem(38, "unknown function 'zzz'"),
    ]


# ---- calls ----


def test_a_library_call_is_a_call_node() -> None:
    """A call of a library function keeps its name and arguments, at its column."""
    node = accepted("x == add_years(a.b, 2)")
    assert isinstance(node, ir.Compare)
    assert node.right == ir.Call("add_years", (ir.Fact("a.b"), ir.Const(2)))
    assert positions(node.right) == [("Call", 5), ("Fact", 15), ("Const", 20)]
    assert accepted("abs(-x) == x") == ir.Compare(
        "==", ir.Call("abs", (ir.Neg(ir.Fact("x")),)), ir.Fact("x")
    )


@pytest.mark.parametrize(("name", "kind"), [("any_of", "any"), ("all_of", "all")])
def test_quantifiers(name: str, kind: str) -> None:
    """`any_of` and `all_of` take a list and a predicate over `it`."""
    node = accepted(f"x or {name}(items, it > 1)")
    assert isinstance(node, ir.Or)
    quantifier = node.operands[1]
    assert quantifier == ir.Quantifier(
        kind, ir.Fact("items"), ir.Compare(">", ir.It(), ir.Const(1))
    )
    assert positions(quantifier) == [
        ("Quantifier", 5),
        ("Fact", 6 + len(name)),
        ("Compare", 13 + len(name)),
        ("It", 13 + len(name)),
        ("Const", 18 + len(name)),
    ]


@pytest.mark.parametrize("args", ["", "a", "a, b, c"])
@pytest.mark.parametrize("name", ["any_of", "all_of"])
def test_a_quantifier_takes_two_arguments(name: str, args: str) -> None:
    """A quantifier with other than two arguments is refused, naming it."""
    node, problems = parse(f"x or {name}({args})")
    assert problems == [SyntaxProblem(6, f"{name}(list, predicate) takes two arguments")]
    assert node == ir.Or((ir.Fact("x"), NONE))


def test_a_date_literal_is_a_constant_date() -> None:
    """`date("YYYY-MM-DD")` is a constant date at its column."""
    node = accepted('x == date("2019-07-01")')
    assert isinstance(node, ir.Compare)
    assert node.right == ir.Const(dt.date(2019, 7, 1))
    assert positions(node.right) == [("Const", 5)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("", 'date() takes one string literal, e.g. date("2019-07-01")'),
        ('"2019-07-01", "2019-07-02"', 'date() takes one string literal, e.g. date("2019-07-01")'),
        ("a", 'date() takes one string literal, e.g. date("2019-07-01")'),
        ("20190701", 'date() takes one string literal, e.g. date("2019-07-01")'),
        ("[1]", 'date() takes one string literal, e.g. date("2019-07-01")'),
        ('"2019-7-1"', "bad date literal: '2019-7-1' is not a YYYY-MM-DD date"),
        ('"2019-02-30"', "bad date literal: day is out of range for month"),
        ('"2019-13-01"', "bad date literal: month must be in 1..12"),
    ],
)
def test_refused_date_literals(args: str, message: str) -> None:
    """A date literal takes one string literal holding a real YYYY-MM-DD date."""
    node, problems = parse(f"x == date({args})")
    assert problems == [SyntaxProblem(6, message)]
    assert node == ir.Compare("==", ir.Fact("x"), NONE)
    assert positions(node)[2] == ("Const", 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("zzz(1)", "unknown function 'zzz'"),
        ("lenn(a)", "unknown function 'lenn' (did you mean len?)"),
        ("anyof(a, it)", "unknown function 'anyof' (did you mean any_of?)"),
        ("dat('2019-07-01')", "unknown function 'dat' (did you mean date?)"),
        ("open('f')", "unknown function 'open'"),
        ("__import__('os')", "dunder name '__import__' is not allowed"),
        ("len__(a)", "dunder name 'len__' is not allowed"),
        ("len(x=a)", "keyword arguments are not allowed"),
        ("len(a, x=a)", "keyword arguments are not allowed"),
        ("a.len(b)", "only functions of the library can be called"),
        ("(lambda: 1)()", "only functions of the library can be called"),
        ("{'a': len}['a'](b)", "only functions of the library can be called"),
    ],
)
def test_refused_calls(text: str, message: str) -> None:
    """Only library functions are called, by name, with positional arguments."""
    node, problems = parse("1 == " + text)
    assert problems == [SyntaxProblem(6, message)]
    assert node == ir.Compare("==", ir.Const(1), NONE)
    assert positions(node)[2] == ("Const", 5)


def test_the_arguments_of_an_unknown_function_are_checked_too() -> None:
    """An unknown function's arguments are still parsed, and their problems reported first."""
    _, problems = parse("zzz(__a)")
    assert problems == [
        SyntaxProblem(5, "dunder name '__a' is not allowed"),
        SyntaxProblem(1, "unknown function 'zzz'"),
    ]


# ---- ir: walk, facts_of, render ----


TREE = ir.And(
    (
        ir.Not(ir.Fact("a")),
        ir.Compare("<", ir.Neg(ir.Fact("b")), ir.Const(1)),
        ir.In(ir.Fact("c"), ir.ListOf((ir.Fact("d"), ir.Const(2)))),
        ir.Quantifier("all", ir.Fact("e"), ir.Compare(">", ir.It(), ir.DecisionDate())),
        ir.Or((ir.Call("len", (ir.Fact("f"),)), ir.Lookup(ir.Const({"k": 1}), ir.Fact("g")))),
        ir.Compare("==", ir.Arith("+", ir.Fact("a"), ir.Fact("h")), ir.Const(3)),
    )
)


def test_walk_visits_parents_before_children_in_order() -> None:
    """`walk` yields every node once, depth first, parents before children, left to right."""
    assert [type(n).__name__ for n in ir.walk(TREE)] == [
        "And",
        "Not",
        "Fact",
        "Compare",
        "Neg",
        "Fact",
        "Const",
        "In",
        "Fact",
        "ListOf",
        "Fact",
        "Const",
        "Quantifier",
        "Fact",
        "Compare",
        "It",
        "DecisionDate",
        "Or",
        "Call",
        "Fact",
        "Lookup",
        "Const",
        "Fact",
        "Compare",
        "Arith",
        "Fact",
        "Fact",
        "Const",
    ]


def test_facts_of_is_every_fact_path_read() -> None:
    """`facts_of` is the set of fact paths anywhere in the tree."""
    assert ir.facts_of(TREE) == frozenset("abcdefgh")
    assert ir.facts_of(ir.Fact("x.y")) == frozenset({"x.y"})
    assert ir.facts_of(ir.Const(1)) == frozenset()


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (ir.Fact("a.b"), "a.b"),
        (ir.DecisionDate(), "decision_date"),
        (ir.It(), "it"),
        (ir.Not(ir.Fact("a")), "not (a)"),
        (ir.And((ir.Fact("a"), ir.Fact("b"), ir.Fact("c"))), "(a) and (b) and (c)"),
        (ir.Or((ir.Fact("a"), ir.Fact("b"))), "(a) or (b)"),
        (ir.Compare("<=", ir.Fact("a"), ir.Const(1)), "(a <= 1)"),
        (ir.Arith("**", ir.Fact("a"), ir.Const(2)), "(a ** 2)"),
        (ir.In(ir.Fact("a"), ir.Const((1, 2))), "(a in [1, 2])"),
        (ir.In(ir.Fact("a"), ir.Fact("b"), negated=True), "(a not in b)"),
        (ir.Neg(ir.Fact("a")), "-(a)"),
        (ir.ListOf((ir.Fact("a"), ir.Const("x"))), "[a, 'x']"),
        (ir.ListOf(()), "[]"),
        (ir.Lookup(ir.Const({"a": 1, "b": 2}), ir.Fact("k")), "{'a': 1, 'b': 2}[k]"),
        (ir.Call("len", (ir.Fact("a"),)), "len(a)"),
        (ir.Call("min", (ir.Fact("a"), ir.Const(1))), "min(a, 1)"),
        (ir.Call("today", ()), "today()"),
        (
            ir.Quantifier("any", ir.Fact("xs"), ir.Compare(">", ir.It(), ir.Const(1))),
            "any_of(xs, (it > 1))",
        ),
    ],
)
def test_render_writes_source_syntax(node: ir.Node, text: str) -> None:
    """`render` writes each node in source syntax, fully parenthesised."""
    assert ir.render(node) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "True"),
        (False, "False"),
        (0, "0"),
        (-7, "-7"),
        (Decimal("2.50"), "2.50"),
        (Decimal("-1E+3"), "-1E+3"),
        ("x", "'x'"),
        ("", "''"),
        (dt.date(2019, 7, 1), 'date("2019-07-01")'),
        ((), "[]"),
        ((1, True, "a"), "[1, True, 'a']"),
        (((1,), (dt.date(2020, 1, 2),)), '[[1], [date("2020-01-02")]]'),
        ({}, "{}"),
        ({"a": True, 1: Decimal("0.5")}, "{'a': True, 1: 0.5}"),
        ({False: (1, 2)}, "{False: [1, 2]}"),
    ],
)
def test_render_writes_constants(value: Any, text: str) -> None:
    """Constants are written as the literal that parses back to them."""
    assert ir.render(ir.Const(value)) == text


@pytest.mark.parametrize(
    "text",
    [
        'a and not (b or c) and d in [1, 2.50, "x"] and e not in f',
        'x == {"a": 1, 2: True}[k] and -y < 2 ** z / 3 - 1 * 4 + 5',
        'any_of(xs, it >= date("2019-07-01")) or all_of(ys, it != decision_date)',
        "len([a, 1]) == min(b, c) and [] == d",
    ],
)
def test_render_parses_back_to_the_same_tree(text: str) -> None:
    """The rendered text of a parsed expression parses back to the same IR."""
    node = accepted(text)
    assert accepted(ir.render(node)) == node


def test_render_refuses_what_is_not_a_node_kind() -> None:
    """The bare Node base class is no expression: rendering it is a TypeError naming it."""
    with pytest.raises(TypeError, match=r"^not an IR node: Node\(pos=0, ty=Type\(kind='any'"):
        ir.render(ir.Node())


# ---- types ----


@pytest.mark.parametrize(
    ("ty", "text"),
    [
        (INT, "int"),
        (BOOL, "bool"),
        (ANY, "any"),
        (CN_ID, "cn_id"),
        (USCC, "uscc"),
        (enum("b", "a", "c"), "enum(a, b, c)"),
        (enum(), "enum()"),
        (list_of(DECIMAL), "list[decimal]"),
        (list_of(list_of(enum("x"))), "list[list[enum(x)]]"),
        (Type("list"), "list[None]"),
        (Type("dict", key=STR, elem=INT), "dict[str, int]"),
        (Type("dict", key=enum("a"), elem=list_of(DATE)), "dict[enum(a), list[date]]"),
    ],
)
def test_a_type_is_written_as_in_messages(ty: Type, text: str) -> None:
    """Types are written in problems as their kind, element types, enumeration or domain."""
    assert str(ty) == text


def test_list_of_builds_a_list_type() -> None:
    """`list_of(t)` is the list type with element type t, nothing else set."""
    assert list_of(INT) == Type("list", elem=INT, key=None, values=None, domain=None)
    assert list_of(INT).kind == "list"
    assert list_of(INT).elem is INT


@pytest.mark.parametrize(
    ("ty", "plain"),
    [
        (INT, INT),
        (enum("a"), STR),
        (CN_ID, STR),
        (USCC, STR),
        (DATE, DATE),
        (ANY, ANY),
        (list_of(enum("a")), list_of(enum("a"))),
        (Type("dict", key=STR, elem=INT), Type("dict", key=STR, elem=INT)),
    ],
)
def test_plain_drops_enumeration_and_domain(ty: Type, plain: Type) -> None:
    """`plain()` is the scalar type without values or domain; lists and dicts are kept whole."""
    assert ty.plain() == plain
    assert ty.plain().values is None
    assert ty.plain().domain is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (ANY, DATE, True),
        (list_of(INT), ANY, True),
        (INT, DECIMAL, True),
        (DECIMAL, DECIMAL, True),
        (INT, STR, False),
        (STR, INT, False),
        (BOOL, INT, False),
        (DATE, STR, False),
        (enum("a"), STR, True),
        (CN_ID, STR, True),
        (list_of(INT), list_of(DECIMAL), True),
        (list_of(INT), list_of(STR), False),
        (list_of(STR), list_of(INT), False),
        (Type("list"), list_of(STR), True),
        (list_of(STR), Type("list"), True),
        (list_of(list_of(INT)), list_of(list_of(DATE)), False),
        (list_of(list_of(INT)), list_of(list_of(DECIMAL)), True),
        (list_of(INT), INT, False),
        (INT, list_of(INT), False),
        (list_of(ANY), list_of(DATE), True),
    ],
)
def test_comparable(a: Type, b: Type, expected: bool) -> None:
    """== and != need numbers, the same kind, `any`, or lists of comparable elements."""
    assert comparable(a, b) is expected
    assert comparable(b, a) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (INT, INT, True),
        (INT, DECIMAL, True),
        (DECIMAL, INT, True),
        (STR, STR, True),
        (enum("a"), CN_ID, True),
        (DATE, DATE, True),
        (BOOL, BOOL, False),
        (STR, DATE, False),
        (DATE, STR, False),
        (INT, STR, False),
        (STR, INT, False),
        (ANY, ANY, False),
        (ANY, INT, False),
        (INT, ANY, False),
        (list_of(INT), list_of(INT), False),
    ],
)
def test_orderable(a: Type, b: Type, expected: bool) -> None:
    """<, <=, > and >= need two numbers, two strings or two dates."""
    assert orderable(a, b) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (INT, INT, INT),
        (INT, DECIMAL, DECIMAL),
        (DECIMAL, INT, DECIMAL),
        (DECIMAL, DECIMAL, DECIMAL),
        (STR, INT, None),
        (INT, STR, None),
        (BOOL, INT, None),
        (DATE, DATE, DATE),
        (enum("a"), enum("a"), enum("a")),
        (enum("a"), enum("b"), STR),
        (enum("a"), STR, STR),
        (CN_ID, STR, STR),
        (STR, CN_ID, STR),
        (CN_ID, CN_ID, CN_ID),
        (Type("list"), list_of(INT), list_of(INT)),
        (list_of(INT), Type("list"), list_of(INT)),
        (list_of(ANY), list_of(DATE), list_of(DATE)),
        (list_of(DATE), list_of(ANY), list_of(DATE)),
        (list_of(INT), list_of(DECIMAL), list_of(DECIMAL)),
        (list_of(DECIMAL), list_of(INT), list_of(DECIMAL)),
        (list_of(enum("a")), list_of(enum("b")), list_of(STR)),
        (list_of(INT), list_of(STR), None),
        (list_of(list_of(INT)), list_of(list_of(STR)), None),
        (list_of(INT), INT, None),
    ],
)
def test_unify(a: Type, b: Type, expected: Type | None) -> None:
    """The common type: decimal over int, the plain type of differing strings, lists by element."""
    assert unify(a, b) == expected
