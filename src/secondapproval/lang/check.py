"""Type checking of IR against a fact schema: returns a typed copy of the tree and every problem."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import ir
from .functions import LIBRARY
from .parser import SyntaxProblem
from .types import ANY, BOOL, DATE, DECIMAL, INT, STR, Type, comparable, list_of, orderable, unify


def type_of_value(value: Any) -> Type:
    """The type of a literal value."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, str):
        return STR
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, tuple):
        elem: Type | None = None
        for item in value:
            t = type_of_value(item)
            elem = t if elem is None else unify(elem, t)
            if elem is None:
                return Type("list", elem=None)
        return list_of(elem or ANY)
    if isinstance(value, dict):
        keys = type_of_value(tuple(value))
        vals = type_of_value(tuple(value.values()))
        return Type("dict", key=keys.elem, elem=vals.elem)
    return ANY


class _Checker:
    def __init__(self, schema: Mapping[str, Type]) -> None:
        self.schema = schema
        self.problems: list[SyntaxProblem] = []
        self.in_quantifier: Type | None = None

    def fail(self, node: ir.Node, message: str) -> Type:
        self.problems.append(SyntaxProblem(node.pos + 1, message))
        return ANY

    # one match case per IR node: a long dispatcher is the clearest form
    def typed(self, node: ir.Node) -> ir.Node:  # noqa: PLR0912
        """The node with its type and its children's types set."""
        match node:
            case ir.Const(value=None):
                return node  # already reported by the parser
            case ir.Const(value=v):
                ty = type_of_value(v)
                if ty.kind == "list" and ty.elem is None:
                    self.fail(node, "list literal mixes values of different types")
                return dataclasses.replace(node, ty=ty)
            case ir.Fact(path=p):
                return dataclasses.replace(node, ty=self.fact_type(node, p))
            case ir.DecisionDate():
                return dataclasses.replace(node, ty=DATE)
            case ir.It():
                if self.in_quantifier is None:
                    return dataclasses.replace(
                        node, ty=self.fail(node, "'it' outside any_of/all_of")
                    )
                return dataclasses.replace(node, ty=self.in_quantifier)
            case ir.ItField():
                return dataclasses.replace(node, ty=self.item_field(node))
            case ir.Not(operand=o):
                o2 = self.expect_bool(self.typed(o), "not")
                return dataclasses.replace(node, operand=o2, ty=BOOL)
            case ir.And(operands=ops) | ir.Or(operands=ops):
                word = "and" if isinstance(node, ir.And) else "or"
                typed_ops = tuple(self.expect_bool(self.typed(o), word) for o in ops)
                return dataclasses.replace(node, operands=typed_ops, ty=BOOL)
            case ir.Compare():
                return self.compare(node)
            case ir.In():
                return self.membership(node)
            case ir.Arith():
                return self.arith(node)
            case ir.Neg(operand=o):
                o2 = self.typed(o)
                if not o2.ty.numeric and o2.ty is not ANY:
                    self.fail(node, f"cannot negate {o2.ty}")
                return dataclasses.replace(node, operand=o2, ty=o2.ty.plain())
            case ir.ListOf(items=items):
                typed_items = tuple(self.typed(i) for i in items)
                elem: Type | None = typed_items[0].ty
                for i in typed_items[1:]:
                    elem = unify(elem, i.ty) if elem else None
                if elem is None:
                    return dataclasses.replace(
                        node,
                        items=typed_items,
                        ty=self.fail(node, "list literal mixes values of different types"),
                    )
                return dataclasses.replace(node, items=typed_items, ty=list_of(elem))
            case ir.Lookup():
                return self.lookup(node)
            case ir.Call():
                return self.call(node)
            case ir.Quantifier():
                return self.quantifier(node)
            case ir.Presence(fact=ir.ItField() as f):
                field = dataclasses.replace(f, ty=self.item_field(f))
                return dataclasses.replace(node, fact=field, ty=BOOL)
            case ir.Presence(fact=ir.Fact() as f):
                fact = dataclasses.replace(f, ty=self.fact_type(f, f.path))
                return dataclasses.replace(node, fact=fact, ty=BOOL)
        raise TypeError(f"unknown IR node {node!r}")

    def fact_type(self, node: ir.Node, path: str) -> Type:
        if path in self.schema:
            return self.schema[path]
        if any(k.startswith(path + ".") for k in self.schema):
            return self.fail(node, f"{path!r} is a group of facts, not a fact")
        hint = difflib.get_close_matches(path, list(self.schema), n=1)
        suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
        return self.fail(node, f"unknown fact {path!r}{suffix}")

    def item_field(self, node: ir.ItField) -> Type:
        item = self.in_quantifier
        if item is None:
            return self.fail(node, "'it' outside any_of/all_of")
        if item is ANY:
            return ANY
        if item.kind != "record":
            return self.fail(node, f"'it' is a {item}: only a list of records has fields")
        found = item.field(node.name)
        if found is None:
            names = [name for name, _ in item.fields or ()]
            hint = difflib.get_close_matches(node.name, names, n=1)
            suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
            return self.fail(node, f"the items have no field {node.name!r}{suffix}")
        return found

    def expect_bool(self, node: ir.Node, where: str) -> ir.Node:
        if node.ty.kind not in ("bool", "any"):
            self.fail(node, f"'{where}' needs true/false conditions, not {node.ty}")
        return node

    def check_enum_literal(self, enum: Type, other: ir.Node) -> None:
        if enum.values is None or not isinstance(other, ir.Const):
            return
        literals = other.value if isinstance(other.value, tuple) else (other.value,)
        for lit in literals:
            if isinstance(lit, str) and lit not in enum.values:
                allowed = ", ".join(sorted(enum.values))
                self.fail(other, f"{lit!r} is not a value of this enum ({allowed})")

    def compare(self, node: ir.Compare) -> ir.Node:
        a, b = self.typed(node.left), self.typed(node.right)
        ok = comparable(a.ty, b.ty) if node.op in ("==", "!=") else orderable(a.ty, b.ty)
        if not ok and ANY not in (a.ty, b.ty):
            self.fail(node, f"cannot compare {a.ty} {node.op} {b.ty}")
        self.check_enum_literal(a.ty, b)
        self.check_enum_literal(b.ty, a)
        return dataclasses.replace(node, left=a, right=b, ty=BOOL)

    def membership(self, node: ir.In) -> ir.Node:
        item, container = self.typed(node.item), self.typed(node.container)
        if container.ty.kind == "list":
            elem = container.ty.elem
            if elem is not None and not comparable(item.ty, elem) and ANY not in (item.ty, elem):
                self.fail(node, f"{item.ty} can never be in a list of {elem}")
            self.check_enum_literal(item.ty, container)
            if elem is not None:
                self.check_enum_literal(elem, item)
        elif container.ty.kind == "str":
            if item.ty.kind not in ("str", "any"):
                self.fail(node, f"{item.ty} can never be in a string")
        elif container.ty is not ANY:
            self.fail(node, f"'in' needs a list or a string on its right, not {container.ty}")
        return dataclasses.replace(node, item=item, container=container, ty=BOOL)

    def arith(self, node: ir.Arith) -> ir.Node:
        a, b = self.typed(node.left), self.typed(node.right)
        if ANY in (a.ty, b.ty):
            return dataclasses.replace(node, left=a, right=b, ty=ANY)
        if not (a.ty.numeric and b.ty.numeric):
            hint = " (use add_days, days_between …)" if DATE in (a.ty.plain(), b.ty.plain()) else ""
            ty = self.fail(node, f"cannot compute {a.ty} {node.op} {b.ty}{hint}")
        elif node.op == "/":
            ty = DECIMAL
        elif node.op == "**":
            whole = (
                a.ty.kind == b.ty.kind == "int"
                and isinstance(b, ir.Const)
                and isinstance(b.value, int)
                and b.value >= 0
            )
            ty = INT if whole else DECIMAL
        else:
            ty = DECIMAL if "decimal" in (a.ty.kind, b.ty.kind) else INT
        return dataclasses.replace(node, left=a, right=b, ty=ty)

    def lookup(self, node: ir.Lookup) -> ir.Node:
        table = self.typed(node.table)
        key = self.typed(node.key)
        assert isinstance(table, ir.Const)
        if table.ty.key is not None and not comparable(key.ty, table.ty.key) and key.ty is not ANY:
            self.fail(node, f"a {key.ty} cannot index a table keyed by {table.ty.key}")
        if table.ty.elem is None or table.ty.key is None:
            self.fail(node, "the table's keys, and its values, must each be of one type")
        if key.ty.values is not None:
            for k in table.value:
                if isinstance(k, str) and k not in key.ty.values:
                    self.fail(node, f"table key {k!r} is not a value of the enum it is indexed by")
        return dataclasses.replace(node, table=table, key=key, ty=table.ty.elem or ANY)

    def call(self, node: ir.Call) -> ir.Node:
        args = tuple(self.typed(a) for a in node.args)
        if any(a.ty is ANY for a in args):
            return dataclasses.replace(node, args=args, ty=ANY)
        result = LIBRARY[node.func].signature([a.ty for a in args])
        if isinstance(result, str):
            return dataclasses.replace(
                node, args=args, ty=self.fail(node, f"{node.func}(): {result}")
            )
        return dataclasses.replace(node, args=args, ty=result)

    def quantifier(self, node: ir.Quantifier) -> ir.Node:
        items = self.typed(node.items)
        name = "count" if node.kind == "count" else f"{node.kind}_of"
        if self.in_quantifier is not None:
            self.fail(node, "any_of/all_of/count cannot be nested")
        elem = ANY
        if items.ty.kind == "list":
            elem = items.ty.elem or ANY
        elif items.ty is not ANY:
            self.fail(node, f"{name}() needs a list, not {items.ty}")
        outer, self.in_quantifier = self.in_quantifier, elem
        predicate = self.expect_bool(self.typed(node.predicate), name)
        self.in_quantifier = outer
        ty = INT if node.kind == "count" else BOOL
        return dataclasses.replace(node, items=items, predicate=predicate, ty=ty)


def check(
    node: ir.Node, schema: Mapping[str, Type], expect: Type | None = None
) -> tuple[ir.Node, list[SyntaxProblem]]:
    """Type `node` against `schema`; with `expect`, also check the result type."""
    checker = _Checker(schema)
    typed = checker.typed(node)
    if expect is not None and typed.ty is not ANY and not assignable(typed.ty, expect):
        checker.fail(typed, f"expression is {typed.ty}, expected {expect}")
    return typed, checker.problems


def assignable(value: Type, target: Type) -> bool:
    """Whether a value of type `value` may be stored in a fact of type `target`."""
    if target.kind == "decimal":
        return value.numeric
    if target.kind == "list":
        return value.kind == "list" and (
            value.elem is None or target.elem is None or assignable(value.elem, target.elem)
        )
    if target.values is not None:
        return value.values is not None and value.values <= target.values
    return value.kind == target.kind
