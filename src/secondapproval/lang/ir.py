"""The typed intermediate representation of rule expressions: a small set of immutable nodes.

The parser builds these from Python's `ast`; the type checker returns a copy with every `ty` set;
the backends and the interpreter consume them. `pos` is the column of the node in its source text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .functions import CALENDAR_FUNCTIONS
from .types import ANY, Type


@dataclass(frozen=True, slots=True)
class Node:
    pos: int = field(default=0, kw_only=True, compare=False)
    ty: Type = field(default=ANY, kw_only=True, compare=False)

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Const(Node):
    """A literal: bool, int, Decimal, str, date, a tuple (list literal) or a dict (lookup table)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Fact(Node):
    """A dotted fact path, e.g. `applicant.age`."""

    path: str


@dataclass(frozen=True, slots=True)
class DecisionDate(Node):
    """The date the decision is made for (`decision_date`)."""


@dataclass(frozen=True, slots=True)
class It(Node):
    """The element a list quantifier (`any_of`, `all_of`, `count`) is testing."""


@dataclass(frozen=True, slots=True)
class ItField(Node):
    """`it.<name>`: a field of the record a quantifier over a list of records is testing.

    Unknown when the record leaves an optional field out.
    """

    name: str


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class And(Node):
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class Or(Node):
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """A binary comparison; `op` is one of == != < <= > >=."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class In(Node):
    """Membership of `item` in a list; `negated` for `not in`."""

    item: Node
    container: Node
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.item, self.container)


@dataclass(frozen=True, slots=True)
class Arith(Node):
    """Arithmetic; `op` is one of + - * / **."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class ListOf(Node):
    """A list literal with at least one non-constant item."""

    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Lookup(Node):
    """`{"bachelor": 35, …}[key]`: a constant table indexed by an expression."""

    table: Const
    key: Node

    def children(self) -> tuple[Node, ...]:
        return (self.table, self.key)


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of a function of the library (see `lang.functions`)."""

    func: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, slots=True)
class Quantifier(Node):
    """`any_of(list, predicate)` / `all_of(list, predicate)` (bool), `count(list, predicate)`
    (int: the items it holds for; an error if it errs on one, else unknown if unknown on one);
    the predicate reads `it`."""

    kind: str  # "any" | "all" | "count"
    items: Node
    predicate: Node

    def children(self) -> tuple[Node, ...]:
        return (self.items, self.predicate)


@dataclass(frozen=True, slots=True)
class Presence(Node):
    """`present(fact)` (`present` True) / `absent(fact)`: whether the fact has a valid value.

    Never unknown: a missing fact is absent. A derived fact that could not be computed is absent
    too, and one whose computation failed is an error (an error is never hidden).
    """

    fact: Fact | ItField
    """A fact, or a field of the record a quantifier tests (`present(it.phone)`)."""
    present: bool = True

    def children(self) -> tuple[Node, ...]:
        return (self.fact,)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    for child in node.children():
        yield from walk(child)


def facts_of(node: Node) -> frozenset[str]:
    """The fact paths an expression reads."""
    return frozenset(n.path for n in walk(node) if isinstance(n, Fact))


# one match case per IR node: a long dispatcher is the clearest form
def render(node: Node) -> str:  # noqa: PLR0912
    """The expression in source syntax (for messages and the canonical digest)."""
    match node:
        case Const(value=v):
            return _render_const(v)
        case Fact(path=p):
            return p
        case DecisionDate():
            return "decision_date"
        case It():
            return "it"
        case ItField(name=name):
            return f"it.{name}"
        case Not(operand=o):
            return f"not ({render(o)})"
        case And(operands=ops):
            return " and ".join(f"({render(o)})" for o in ops)
        case Or(operands=ops):
            return " or ".join(f"({render(o)})" for o in ops)
        case Compare(op=op, left=a, right=b) | Arith(op=op, left=a, right=b):
            return f"({render(a)} {op} {render(b)})"
        case In(item=i, container=c, negated=neg):
            return f"({render(i)} {'not in' if neg else 'in'} {render(c)})"
        case Neg(operand=o):
            return f"-({render(o)})"
        case ListOf(items=items):
            return "[" + ", ".join(render(i) for i in items) + "]"
        case Lookup(table=t, key=k):
            return f"{render(t)}[{render(k)}]"
        case Call(func=f, args=args):
            written = args[:2] if f in CALENDAR_FUNCTIONS else args
            return f"{f}(" + ", ".join(render(a) for a in written) + ")"
        case Quantifier(kind=k, items=items, predicate=p):
            name = "count" if k == "count" else f"{k}_of"
            return f"{name}({render(items)}, {render(p)})"
        case Presence(fact=f, present=want):
            return f"{'present' if want else 'absent'}({render(f)})"
    raise TypeError(f"not an IR node: {node!r}")


def _render_const(v: Any) -> str:
    import datetime as _dt
    from decimal import Decimal

    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, _dt.date):
        return f'date("{v.isoformat()}")'
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, tuple):
        return "[" + ", ".join(_render_const(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{" + ", ".join(f"{_render_const(k)}: {_render_const(x)}" for k, x in v.items()) + "}"
        )
    return repr(v)
