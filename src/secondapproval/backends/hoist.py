"""The IR pass of the durable backend: a rule's boolean structure over hoisted values.

durable_rules evaluates comparisons of message properties, membership in literal lists (as
comparisons) and `and`/`or`/`not`. Everything else — fact paths, `decision_date`, arithmetic,
function calls, dict lookups, quantifiers, comparisons of lists — is *hoisted*: it becomes a
`Slot`, a value computed per decision by the tree-walking interpreter (`lang.interpret`) and posted
with the facts. The result of the pass is a `Logic` tree whose leaves (`Cmp`, `Member`, `Truth`)
read slots and literals only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lang import ir
from .encode import encode, postable


@dataclass(frozen=True, slots=True)
class Slot:
    """A value posted with each decision: a fact, or an expression the interpreter computes."""

    index: int
    node: ir.Node
    can_fail: bool
    """Whether the value can be ERROR (a derived fact or a computation; never an input fact)."""

    @property
    def key(self) -> str:
        return f"v{self.index}"

    @property
    def error_key(self) -> str:
        return f"e{self.index}"


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal operand, already in its posted form."""

    value: object


Operand = Slot | Lit


@dataclass(frozen=True, slots=True)
class Cmp:
    """`left op right`; at least one side is a slot."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Member:
    """`item in [literals]` (or `not in` when negated)."""

    item: Slot
    values: tuple[object, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Truth:
    """A boolean slot used as a condition."""

    slot: Slot


@dataclass(frozen=True, slots=True)
class LConst:
    """A constant condition (left when constant operands are folded away)."""

    value: bool


@dataclass(frozen=True, slots=True)
class LNot:
    operand: Logic


@dataclass(frozen=True, slots=True)
class LAnd:
    operands: tuple[Logic, ...]


@dataclass(frozen=True, slots=True)
class LOr:
    operands: tuple[Logic, ...]


Logic = Cmp | Member | Truth | LConst | LNot | LAnd | LOr

FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass
class Hoister:
    """Turns rule expressions into `Logic`, sharing slots across the rules of one matter."""

    inputs: frozenset[str]
    """The input facts (never ERROR); every other fact is derived and may be."""
    slots: list[Slot] = field(default_factory=list)
    _by_key: dict[str, Slot] = field(default_factory=dict)

    def slot(self, node: ir.Node) -> Slot:
        key = f"{ir.render(node)}:{node.ty}"
        if key not in self._by_key:
            can_fail = not (
                (isinstance(node, ir.Fact) and node.path in self.inputs)
                or isinstance(node, ir.DecisionDate | ir.Const)
            )
            self._by_key[key] = Slot(len(self.slots), node, can_fail)
            self.slots.append(self._by_key[key])
        return self._by_key[key]

    def operand(self, node: ir.Node) -> Operand:
        if isinstance(node, ir.Const) and postable(node.ty.kind):
            return Lit(encode(node.value))
        return self.slot(node)

    def logic(self, node: ir.Node) -> Logic:
        """The boolean structure of `node`, down to comparisons of slots and literals."""
        return simplify(self._logic(node))

    def _logic(self, node: ir.Node) -> Logic:
        match node:
            case ir.Const(value=bool() as value):
                return LConst(value)
            case ir.Not(operand=o):
                return LNot(self._logic(o))
            case ir.And(operands=ops):
                return LAnd(tuple(self._logic(o) for o in ops))
            case ir.Or(operands=ops):
                return LOr(tuple(self._logic(o) for o in ops))
            case ir.Compare() | ir.In() if _divides(node):
                pass  # a quotient may be an exact Fraction, which cannot be posted: hoisted whole
            case ir.Compare(op=op, left=a, right=b) if self._comparable(a, b):
                left, right = self.operand(a), self.operand(b)
                if isinstance(left, Lit):
                    left, right, op = right, left, FLIP[op]
                if isinstance(left, Slot):
                    return Cmp(op, left, right)
            case ir.In(item=i, container=ir.Const(value=tuple() as values), negated=neg) if (
                not isinstance(i, ir.Const)
                and postable(i.ty.kind)
                and all(type(v) is not dict for v in values)
            ):
                return Member(self.slot(i), tuple(encode(v) for v in values), neg)
        return Truth(self.slot(node))

    @staticmethod
    def _comparable(a: ir.Node, b: ir.Node) -> bool:
        if not (postable(a.ty.kind) and postable(b.ty.kind)):
            return False
        if a.ty.kind == "bool" or b.ty.kind == "bool":
            return a.ty.kind == b.ty.kind
        return not (isinstance(a, ir.Const) and isinstance(b, ir.Const))


def _divides(node: ir.Node) -> bool:
    """Whether a division occurs anywhere in `node`."""
    if isinstance(node, ir.Arith) and node.op == "/":
        return True
    return any(_divides(c) for c in node.children())


def simplify(n: Logic) -> Logic:
    """Fold constants and double negations, flatten nested `and`/`or` (Kleene-exact rewrites).

    `true and x` is x and `false or x` is x for every three-valued x; `false and x` is false and
    `true or x` is true even when x is an error.
    """
    match n:
        case LNot(operand=o):
            inner = simplify(o)
            if isinstance(inner, LConst):
                return LConst(not inner.value)
            return inner.operand if isinstance(inner, LNot) else LNot(inner)
        case LAnd(operands=ops) | LOr(operands=ops):
            cls = type(n)
            unit = isinstance(n, LAnd)  # true is the unit of `and`, false of `or`
            flat: list[Logic] = []
            for o in map(simplify, ops):
                if isinstance(o, LConst):
                    if o.value != unit:
                        return LConst(not unit)
                    continue
                flat.extend(o.operands if isinstance(o, LAnd | LOr) and type(o) is cls else (o,))
            if not flat:
                return LConst(unit)
            return flat[0] if len(flat) == 1 else cls(tuple(flat))
    return n
