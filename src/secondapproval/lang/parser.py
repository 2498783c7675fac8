"""Rule text → IR. Python's `ast` parses; only a whitelist of node kinds becomes IR.

Everything else — attribute access, subscripts other than a dict-literal lookup, lambdas,
comprehensions, calls outside the library, dunder names, statements and imports — is refused with
a message and the column it stands at. All problems of one expression are reported together.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import ir, numbers
from .functions import DATE_LITERAL, LIBRARY, PRESENCE, QUANTIFIERS


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    column: int
    message: str


_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED = {
    ast.Lambda: "lambdas are not allowed",
    ast.ListComp: "comprehensions are not allowed (use any_of/all_of)",
    ast.SetComp: "comprehensions are not allowed (use any_of/all_of)",
    ast.DictComp: "comprehensions are not allowed (use any_of/all_of)",
    ast.GeneratorExp: "comprehensions are not allowed (use any_of/all_of)",
    ast.IfExp: "conditional expressions are not allowed (write two conditions with and/or)",
    ast.NamedExpr: "assignment expressions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Starred: "starred expressions are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
}


def _is_dunder(name: str) -> bool:
    return name.startswith("__") or name.endswith("__")


class _Parser:
    def __init__(self, source: str) -> None:
        self.problems: list[SyntaxProblem] = []
        self.source = source

    def refuse(self, node: ast.expr, message: str) -> ir.Node:
        self.problems.append(SyntaxProblem(node.col_offset + 1, message))
        return ir.Const(None, pos=node.col_offset)

    def convert(self, node: ast.expr) -> ir.Node:
        for kind, message in _REFUSED.items():
            if isinstance(node, kind):
                return self.refuse(node, message)
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            return self.refuse(node, f"{type(node).__name__} is not part of the rule language")
        result: ir.Node = method(node)
        return result

    # ---- leaves ----
    def _Constant(self, node: ast.Constant) -> ir.Node:
        v = node.value
        pos = node.col_offset
        if isinstance(v, bool | int | str):
            return ir.Const(v, pos=pos)
        if isinstance(v, float):
            # read from the text, never through the float (`0.30000000000000001` stays exact)
            text = ast.get_source_segment(self.source, node) or repr(v)
            try:
                return ir.Const(numbers.literal(text), pos=pos)
            except ValueError as exc:
                return self.refuse(node, str(exc))
        if isinstance(v, complex):
            return self.refuse(node, "complex literals are not allowed")
        if v is None:
            return self.refuse(
                node, "None is not a value (a missing fact is handled by the engine)"
            )
        return self.refuse(node, f"{type(v).__name__} literals are not allowed")

    def _Name(self, node: ast.Name) -> ir.Node:
        if _is_dunder(node.id):
            return self.refuse(node, f"dunder name {node.id!r} is not allowed")
        if node.id == "decision_date":
            return ir.DecisionDate(pos=node.col_offset)
        if node.id == "it":
            return ir.It(pos=node.col_offset)
        return ir.Fact(node.id, pos=node.col_offset)

    def _Attribute(self, node: ast.Attribute) -> ir.Node:
        parts: list[str] = []
        cur: ast.AST = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Name):
            parts.append(cur.id)
            for part in parts:
                if _is_dunder(part):
                    return self.refuse(node, f"dunder name {part!r} is not allowed")
            if cur.id == "it" and len(parts) == 2:
                return ir.ItField(parts[0], pos=node.col_offset)
            if cur.id in ("decision_date", "it"):
                what = "a field of 'it' has no fields" if cur.id == "it" else None
                return self.refuse(node, what or f"attribute access on {cur.id!r} is not allowed")
            return ir.Fact(".".join(reversed(parts)), pos=node.col_offset)
        return self.refuse(node, "attribute access is not allowed (only dotted fact paths)")

    # ---- operators ----
    def _BoolOp(self, node: ast.BoolOp) -> ir.Node:
        ops = tuple(self.convert(v) for v in node.values)
        cls = ir.And if isinstance(node.op, ast.And) else ir.Or
        return cls(ops, pos=node.col_offset)

    def _UnaryOp(self, node: ast.UnaryOp) -> ir.Node:
        operand = self.convert(node.operand)
        if isinstance(node.op, ast.Not):
            return ir.Not(operand, pos=node.col_offset)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            if isinstance(operand, ir.Const) and type(operand.value) in (int, Decimal):
                return ir.Const(numbers.neg(operand.value), pos=node.col_offset)
            return ir.Neg(operand, pos=node.col_offset)
        return self.refuse(node, "bitwise operators are not allowed")

    def _BinOp(self, node: ast.BinOp) -> ir.Node:
        op = _ARITH.get(type(node.op))
        if op is None:
            return self.refuse(
                node, f"operator {type(node.op).__name__} is not allowed (+ - * / **)"
            )
        return ir.Arith(op, self.convert(node.left), self.convert(node.right), pos=node.col_offset)

    def _Compare(self, node: ast.Compare) -> ir.Node:
        pairs: list[ir.Node] = []
        left = self.convert(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.convert(comparator)
            if isinstance(op, ast.In | ast.NotIn):
                pairs.append(ir.In(left, right, isinstance(op, ast.NotIn), pos=node.col_offset))
            elif type(op) in _COMPARE:
                pairs.append(ir.Compare(_COMPARE[type(op)], left, right, pos=node.col_offset))
            else:
                pairs.append(self.refuse(node, "'is' is not allowed (use == or !=)"))
            left = right
        return pairs[0] if len(pairs) == 1 else ir.And(tuple(pairs), pos=node.col_offset)

    # ---- literals ----
    def _sequence(self, node: ast.List | ast.Tuple | ast.Set) -> ir.Node:
        items = tuple(self.convert(e) for e in node.elts)
        if all(isinstance(i, ir.Const) for i in items):
            return ir.Const(
                tuple(i.value for i in items if isinstance(i, ir.Const)), pos=node.col_offset
            )
        return ir.ListOf(items, pos=node.col_offset)

    _List = _Tuple = _Set = _sequence

    def _Dict(self, node: ast.Dict) -> ir.Node:
        table: dict[Any, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                return self.refuse(node, "** in dict literals is not allowed")
            key, value = self.convert(k), self.convert(v)
            if not isinstance(key, ir.Const) or not isinstance(value, ir.Const):
                return self.refuse(node, "dict literals hold constant keys and values only")
            if key.value in table:
                return self.refuse(k, f"duplicate key {key.value!r} in dict literal")
            table[key.value] = value.value
        return ir.Const(table, pos=node.col_offset)

    def _Subscript(self, node: ast.Subscript) -> ir.Node:
        if not isinstance(node.value, ast.Dict):
            return self.refuse(
                node, "subscripts are allowed only on dict literals (no computed fact names)"
            )
        table = self.convert(node.value)
        key = self.convert(node.slice)
        if not isinstance(table, ir.Const):
            return table
        return ir.Lookup(table, key, pos=node.col_offset)

    # ---- calls ----
    def _Call(self, node: ast.Call) -> ir.Node:
        if not isinstance(node.func, ast.Name):
            return self.refuse(node, "only functions of the library can be called")
        name = node.func.id
        if _is_dunder(name):
            return self.refuse(node, f"dunder name {name!r} is not allowed")
        if node.keywords:
            return self.refuse(node, "keyword arguments are not allowed")
        args = tuple(self.convert(a) for a in node.args)
        if name in QUANTIFIERS:
            if len(args) != 2:
                return self.refuse(node, f"{name}(list, predicate) takes two arguments")
            return ir.Quantifier(QUANTIFIERS[name], args[0], args[1], pos=node.col_offset)
        if name == DATE_LITERAL:
            return self._date_literal(node, args)
        if name in PRESENCE:
            if len(args) != 1 or not isinstance(args[0], ir.Fact | ir.ItField):
                return self.refuse(node, f"{name}() takes one fact, e.g. {name}(applicant.phone)")
            return ir.Presence(args[0], PRESENCE[name], pos=node.col_offset)
        if name not in LIBRARY:
            known = [*LIBRARY, *QUANTIFIERS, *PRESENCE, DATE_LITERAL]
            hint = difflib.get_close_matches(name, known, n=1)
            suffix = f" (did you mean {hint[0]}?)" if hint else ""
            return self.refuse(node, f"unknown function {name!r}{suffix}")
        return ir.Call(name, args, pos=node.col_offset)

    def _date_literal(self, node: ast.Call, args: tuple[ir.Node, ...]) -> ir.Node:
        if (
            len(args) != 1
            or not isinstance(args[0], ir.Const)
            or not isinstance(args[0].value, str)
        ):
            return self.refuse(node, 'date() takes one string literal, e.g. date("2019-07-01")')
        try:
            return ir.Const(parse_iso_date(args[0].value), pos=node.col_offset)
        except ValueError as exc:
            return self.refuse(node, f"bad date literal: {exc}")


def parse_iso_date(text: str) -> dt.date:
    """A strict ISO `YYYY-MM-DD` date (no other ISO forms)."""
    if (
        len(text) != 10
        or text[4] != "-"
        or text[7] != "-"
        or not (text[:4] + text[5:7] + text[8:]).isdigit()
    ):
        raise ValueError(f"{text!r} is not a YYYY-MM-DD date")
    return dt.date.fromisoformat(text)


MAX_LENGTH = 4_000
"""The longest expression text, in characters (docs/language.md, "Limits")."""
MAX_DEPTH = 50
"""The deepest nesting of an expression's syntax tree (`not not a` is 3 deep, `a + b + c` is 3)."""

_TOO_DEEP = f"expression nested too deeply (more than {MAX_DEPTH} levels)"


def _depth_problem(tree: ast.expr) -> SyntaxProblem | None:
    """The first node nested deeper than MAX_DEPTH, found iteratively (no recursion)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return SyntaxProblem(getattr(node, "col_offset", 0) + 1, _TOO_DEEP)
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, ast.expr_context)
        )
    return None


def _syntax_tree(source: str) -> ast.expr | SyntaxProblem:
    """Python's parse of a bounded expression text, or the one problem that stops it."""
    if len(source) > MAX_LENGTH:
        return SyntaxProblem(1, f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        try:
            ast.parse(source, mode="exec")
        except SyntaxError:
            return SyntaxProblem(exc.offset or 1, f"syntax error: {exc.msg}")
        except (RecursionError, MemoryError):
            return SyntaxProblem(1, _TOO_DEEP)
        return SyntaxProblem(1, "statements (import, assignment …) are not allowed")
    except (RecursionError, MemoryError):  # Python's own parser recurses on deep nesting
        return SyntaxProblem(1, _TOO_DEEP)
    return _depth_problem(tree.body) or tree.body


def parse(text: str) -> tuple[ir.Node, list[SyntaxProblem]]:
    """Parse one expression; return its IR and every problem found (empty when it is valid).

    The text is bounded (MAX_LENGTH, MAX_DEPTH) before any recursive pass over it runs.
    """
    if not isinstance(text, str) or not text.strip():
        return ir.Const(None), [SyntaxProblem(1, "empty expression")]
    tree = _syntax_tree(" ".join(text.split("\n")).strip())
    if isinstance(tree, SyntaxProblem):
        return ir.Const(None), [tree]
    parser = _Parser(" ".join(text.split("\n")).strip())
    node = parser.convert(tree)
    return node, parser.problems
