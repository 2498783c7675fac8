"""A plain tree-walking interpreter of the IR, with three-valued semantics (see `kleene`).

It is the reference the native backend's generated code is tested against, and the evaluator the
durable backend uses for hoisted values. It shares nothing with the native backend but the IR and
the function library.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from typing import Any

from . import ir, numbers
from .functions import LIBRARY
from .kleene import ERROR_VALUE, UNKNOWN_VALUE

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": numbers.eq,
    "!=": numbers.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": numbers.add,
    "-": numbers.sub,
    "*": numbers.mul,
    "/": numbers.divide,
    "**": numbers.power,
}


def _absent(values: list[Any]) -> Any:
    """ERROR_VALUE if any value is one, else UNKNOWN_VALUE if any is one, else None."""
    if any(v is ERROR_VALUE for v in values):
        return ERROR_VALUE
    if any(v is UNKNOWN_VALUE for v in values):
        return UNKNOWN_VALUE
    return None


def _kleene(values: list[Any], dominant: bool) -> Any:
    """`or` (dominant=True) or `and` (dominant=False) over three-valued operands."""
    if any(v is dominant for v in values):
        return dominant
    absent = _absent(values)
    return absent if absent is not None else (not dominant)


class Interpreter:
    """Evaluates expressions over `values` (fact path → valid value; absent = missing/invalid)."""

    def __init__(
        self, values: Mapping[str, Any], on: dt.date, errors: frozenset[str] = frozenset()
    ) -> None:
        self.values = values
        self.on = on
        self.errors = errors

    # one match case per IR node: a long dispatcher is the clearest form
    def eval(self, node: ir.Node, it: Any = UNKNOWN_VALUE) -> Any:  # noqa: PLR0912
        match node:
            case ir.Const(value=v):
                return v
            case ir.Fact(path=p):
                if p in self.errors:
                    return ERROR_VALUE
                return self.values.get(p, UNKNOWN_VALUE)
            case ir.DecisionDate():
                return self.on
            case ir.It():
                return it
            case ir.ItField(name=name):
                return it.get(name, UNKNOWN_VALUE) if isinstance(it, dict) else it
            case ir.Not(operand=o):
                v = self.eval(o, it)
                return v if v is UNKNOWN_VALUE or v is ERROR_VALUE else not v
            case ir.And(operands=ops):
                return _kleene([self.eval(o, it) for o in ops], dominant=False)
            case ir.Or(operands=ops):
                return _kleene([self.eval(o, it) for o in ops], dominant=True)
            case ir.Compare(op=op, left=a, right=b):
                return self._strict(_COMPARE[op], [self.eval(a, it), self.eval(b, it)])
            case ir.In(item=i, container=c, negated=neg):
                test = numbers.not_contains if neg else numbers.contains
                return self._strict(test, [self.eval(c, it), self.eval(i, it)])
            case ir.Arith(op=op, left=a, right=b):
                return self._strict(_ARITH[op], [self.eval(a, it), self.eval(b, it)])
            case ir.Neg(operand=o):
                return self._strict(numbers.neg, [self.eval(o, it)])
            case ir.ListOf(items=items):
                return self._strict(lambda *xs: tuple(xs), [self.eval(x, it) for x in items])
            case ir.Lookup(table=t, key=k):
                return self._strict(lambda key: t.value[key], [self.eval(k, it)])
            case ir.Call(func=f, args=args):
                return self._strict(LIBRARY[f].impl, [self.eval(a, it) for a in args])
            case ir.Quantifier(kind=kind, items=items, predicate=pred):
                xs = self.eval(items, it)
                if xs is UNKNOWN_VALUE or xs is ERROR_VALUE:
                    return xs
                results = [self.eval(pred, x) for x in xs]
                if kind == "count":
                    absent = _absent(results)
                    return absent if absent is not None else sum(r is True for r in results)
                return _kleene(results, dominant=(kind == "any"))
            case ir.Presence(fact=ir.ItField(name=name), present=want):
                return (name in it) is want
            case ir.Presence(fact=ir.Fact(path=path), present=want):
                if path in self.errors:
                    return ERROR_VALUE
                return (path in self.values) is want
        raise TypeError(f"unknown IR node {node!r}")

    @staticmethod
    def _strict(fn: Callable[..., Any], args: list[Any]) -> Any:
        absent = _absent(args)
        if absent is not None:
            return absent
        try:
            return fn(*args)
        except Exception:
            return ERROR_VALUE


def evaluate(
    node: ir.Node, values: Mapping[str, Any], on: dt.date, errors: frozenset[str] = frozenset()
) -> Any:
    """The three-valued value of `node` over `values` on date `on`."""
    return Interpreter(values, on, errors).eval(node)
