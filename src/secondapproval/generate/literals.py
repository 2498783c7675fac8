"""What a matter's rules compare its facts against: the literals a generator aims next to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..lang import ir
from ..ruleset import Matter

_LARGEST_COUNT = 120
"""The largest whole number read as a count of years, months or days (a human lifetime)."""


def expressions(matter: Matter) -> tuple[ir.Node, ...]:
    """The typed expressions of a matter: its rules, then its derived facts."""
    return (*(r.expr for r in matter.rules), *(d.expr for d in matter.derived))


def flattened(value: Any) -> Iterator[Any]:
    """The scalars of a constant: itself, the items of a list, the keys and values of a table."""
    if isinstance(value, tuple):
        for item in value:
            yield from flattened(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from flattened(key)
            yield from flattened(item)
    else:
        yield value


def compared_literals(matter: Matter) -> dict[str, tuple[Any, ...]]:
    """Per fact path, the literals an expression compares that fact with (sorted by `repr`).

    A comparison with a constant on either side, membership in a constant list and the keys of
    a lookup table indexed by the fact; lookup-table values are not compared with the fact. The
    field `f` of the records of a list `path` a quantifier tests (`it.f`) is `path[].f`.
    """
    found: dict[str, set[Any]] = {}
    for expr in expressions(matter):
        for node in ir.walk(expr):
            if isinstance(node, ir.Quantifier) and isinstance(node.items, ir.Fact):
                for inner in ir.walk(node.predicate):
                    for item, literal in _compared_pairs(inner):
                        if isinstance(item, ir.ItField):
                            _add(found, f"{node.items.path}[].{item.name}", literal)
            for fact, literal in _compared_pairs(node):
                if isinstance(fact, ir.Fact):
                    _add(found, fact.path, literal)
    return {path: tuple(sorted(values, key=repr)) for path, values in found.items()}


def _add(found: dict[str, set[Any]], path: str, literal: ir.Node) -> None:
    if isinstance(literal, ir.Const):
        values = literal.value if isinstance(literal.value, tuple) else (literal.value,)
        found.setdefault(path, set()).update(v for v in values if not isinstance(v, dict))


def _compared_pairs(node: ir.Node) -> list[tuple[ir.Node, ir.Node]]:
    """The (operand, other side) pairs a node compares."""
    if isinstance(node, ir.Compare):
        return [(node.left, node.right), (node.right, node.left)]
    if isinstance(node, ir.In):
        return [(node.item, node.container)]
    if isinstance(node, ir.Lookup):
        return [(node.key, ir.Const(tuple(node.table.value)))]
    return []


@dataclass(frozen=True, slots=True)
class Constants:
    """Every literal of a matter's expressions by type (booleans left out), each sorted.

    The whole numbers always hold 0 and 1 and the decimals 0: the edges of any count or amount.
    """

    ints: tuple[int, ...]
    decimals: tuple[Decimal, ...]
    dates: tuple[dt.date, ...]
    strs: tuple[str, ...]

    @property
    def counts(self) -> tuple[int, ...]:
        """The whole numbers from 0 to 120: years, months or days a rule may count from a date."""
        return tuple(n for n in self.ints if 0 <= n <= _LARGEST_COUNT)


def constants(matter: Matter) -> Constants:
    """The literals of a matter's rules and derived facts, by type."""
    ints: set[int] = {0, 1}
    decimals: set[Decimal] = {Decimal(0)}
    dates: set[dt.date] = set()
    strs: set[str] = set()
    for expr in expressions(matter):
        for node in ir.walk(expr):
            if not isinstance(node, ir.Const):
                continue
            for value in flattened(node.value):
                if isinstance(value, bool):
                    continue
                if isinstance(value, int):
                    ints.add(value)
                elif isinstance(value, Decimal):
                    decimals.add(value)
                elif isinstance(value, dt.date):
                    dates.add(value)
                elif isinstance(value, str):
                    strs.add(value)
    return Constants(
        tuple(sorted(ints)), tuple(sorted(decimals)), tuple(sorted(dates)), tuple(sorted(strs))
    )


def preferred_bools(matter: Matter) -> dict[str, bool]:
    """For each bool fact a rule reads plainly or negated, the value that lets that rule pass."""
    preferred: dict[str, bool] = {}

    def visit(node: ir.Node, negated: bool) -> None:
        if isinstance(node, ir.Not):
            visit(node.operand, not negated)
        elif isinstance(node, ir.Fact):
            preferred.setdefault(node.path, not negated)
        elif isinstance(node, ir.And | ir.Or):
            for child in node.children():
                visit(child, negated)

    for rule in matter.rules:
        visit(rule.expr, False)
    return preferred
