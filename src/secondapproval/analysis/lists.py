"""List facts as bounded lists: a length of 0 to K and K item slots, exact up to the bound.

A list fact of scalars or enums is a length variable and K slots, each a value of the item type
constrained as a scalar fact of that type is (`Encoder._value`: enum values, bounded decimals,
dates in range, an ID number's birth date and sequence). A list of records holds, per slot and
field, a value and, for an optional field, whether it is present (a `null` field is absent, as the
validator says). Only the first `length` slots are items. The quantifiers (`any_of`, `all_of`,
`count`), `it` and `it.<field>`, `present(it.<field>)`, `len`, `sum`, `min`/`max` of a list,
membership in a list and the equality of lists of scalars follow the interpreter exactly over those
items. A witness (a sat answer) is therefore exact; an unsat answer is a proof only for lists of at
most K items, which the encoder names in `Encoder.bounded`.

K is `BOUND`, or more for a list whose length or count a rule compares with a greater number
(`len(staff) >= 5` needs five items to pass), up to `MAX_BOUND`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3

from ..lang import ir
from ..lang.types import BOOL, Type
from ..ruleset import FactSpec, Matter, field_spec, item_spec
from .terms import FALSE, TRUE, Sym, const_sym, same_sort, strict

Encoder = Any
"""An `analysis.encode.Encoder`, which imports this module (so this one does not import it)."""

BOUND = 3
"""The items of a list fact the encoding holds, unless a rule needs more (`bounds`)."""
MAX_BOUND = 8
"""The most items a list fact is given, whatever its rules compare its length with."""
_IDENTIFIERS = ("cn_id", "uscc")


@dataclass(frozen=True)
class Slot:
    """One value of an item: a scalar item, or a field of a record."""

    value: Any
    present: Any
    """Whether it is there (always, but for an optional field of a record)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """An ID number's `born` and `seq` (as `FactVars.extra`)."""


@dataclass(frozen=True)
class Item:
    """One item slot: a scalar (`slot`) or a record (`fields`)."""

    slot: Slot | None = None
    fields: dict[str, Slot] | None = None


@dataclass(frozen=True)
class Bounded:
    """A list's value: its length and its item slots (only the first `length` are items)."""

    length: Any
    items: tuple[Item, ...]

    def active(self, i: int) -> Any:
        """Whether slot `i` is an item of the list."""
        return z3.IntVal(i) < self.length


def bounds(matter: Matter) -> dict[str, int]:
    """Per list fact a rule or derivation compares the length or a count of with a whole number
    `n`, the bound that lets the comparison go either way (n + 1 items), within `MAX_BOUND`."""
    out: dict[str, int] = {}
    roots = [r.expr for r in matter.rules] + [d.expr for d in matter.derived]
    for node in (n for root in roots for n in ir.walk(root)):
        if not isinstance(node, ir.Compare):
            continue
        for a, b in ((node.left, node.right), (node.right, node.left)):
            path = _measured(a)
            if path is not None and isinstance(b, ir.Const) and type(b.value) is int:
                want = min(MAX_BOUND, max(BOUND, b.value + 1))
                out[path] = max(out.get(path, BOUND), want)
    return out


def _read(matter: Matter) -> frozenset[str]:
    """The facts the rules and derivations of `matter` read."""
    roots = [r.expr for r in matter.rules] + [d.expr for d in matter.derived]
    return frozenset().union(*(ir.facts_of(e) for e in roots))


def _measured(node: ir.Node) -> str | None:
    """The list fact whose length or count `node` is (`len(x)`, `count(x, …)`), if it is one."""
    if isinstance(node, ir.Call) and node.func == "len" and len(node.args) == 1:
        target = node.args[0]
    elif isinstance(node, ir.Quantifier) and node.kind == "count":
        target = node.items
    else:
        return None
    return target.path if isinstance(target, ir.Fact) and target.ty.kind == "list" else None


# ---- the value of a list fact ---------------------------------------------------------------


def value(enc: Encoder, name: str, path: str, spec: FactSpec, t: Type, k: int) -> Bounded:
    """The bounded list of a list fact named `name`: its length, its `k` slots and their
    constraints (in `enc.constraints`)."""
    length = z3.Int(f"{name}:len")
    enc.constraints += [length >= 0, length <= k]
    if path in _read(enc.matter):  # the items of a list no rule reads change no answer
        enc.bounded.append(f"lists of at most {k} items ({path})")
    elem = t.elem
    assert elem is not None
    items = []
    for i in range(k):
        if spec.of == "record":
            fields = {}
            for fname, f in (spec.fields or {}).items():
                ft = elem.field(fname)
                assert ft is not None
                fields[fname] = _slot(enc, f"{name}[{i}].{fname}", field_spec(f), ft)
            items.append(Item(fields=fields))
        else:
            items.append(Item(slot=_slot(enc, f"{name}[{i}]", item_spec(spec), elem)))
    return Bounded(length, tuple(items))


def _slot(enc: Encoder, name: str, spec: FactSpec, t: Type) -> Slot:
    v, extra = enc._value(name, spec, t)  # a scalar as the encoder makes one of a fact
    present = z3.Bool(f"{name}:present") if spec.optional else TRUE
    if extra:
        enc.parts[v.sexpr()] = extra
    return Slot(v, present, extra)


# ---- expressions ----------------------------------------------------------------------------


def expr(enc: Encoder, node: ir.Node, it: Any) -> Sym:
    """`it`, `it.<field>`, `present(it.<field>)`, a quantifier or a list literal; `it` is the
    `Item` under test (None outside a quantifier)."""
    item = it if isinstance(it, Item) else None
    match node:
        case ir.It() if item is not None and item.slot is not None:
            return const_sym(item.slot.value)
        case ir.ItField(name=n) if item is not None and item.fields and n in item.fields:
            s = item.fields[n]
            return Sym(s.present, FALSE, s.value)
        case ir.Presence(fact=ir.ItField(name=n), present=want) if (
            item is not None and item.fields and n in item.fields
        ):
            p = item.fields[n].present
            return const_sym(p if want else z3.Not(p))
        case ir.Quantifier(kind=kind, items=items, predicate=pred):
            xs = of(enc, items, it)
            if xs is None:
                return _unknown(enc, node, f"a quantifier over {ir.render(items)}")
            lst = xs.v
            results = [enc.expr(pred, x) for x in lst.items]
            return _quantify(kind, xs, lst, results)
        case ir.ListOf(items=items):
            syms = [enc.expr(x, it) for x in items]
            slots = tuple(Item(slot=Slot(s.v, TRUE)) for s in syms)
            return strict(syms, Bounded(z3.IntVal(len(slots)), slots))
    return _unknown(enc, node, f"{type(node).__name__} ({ir.render(node)})")


def of(enc: Encoder, node: ir.Node, it: Any) -> Sym | None:
    """A list expression as a `Sym` whose value is `Bounded`, or None if it is not encoded."""
    if isinstance(node, ir.Const) and isinstance(node.value, tuple):
        elem = node.ty.elem
        values = [enc.literal(x, elem) for x in node.value] if elem is not None else []
        slots = tuple(Item(slot=Slot(v, TRUE)) for v in values)
        return const_sym(Bounded(z3.IntVal(len(slots)), slots))
    s = enc.expr(node, it)
    return s if isinstance(s.v, Bounded) else None


def _quantify(kind: str, xs: Sym, lst: Bounded, results: list[Sym]) -> Sym:
    """`any_of` / `all_of` by Kleene's rules over the items (a decisive one wins, then an
    error, then unknown), `count` strict over them (an error, then unknown, else the number
    true); an unknown or failed list is the quantifier's status."""
    active = [lst.active(i) for i in range(len(results))]
    trues = [z3.And(a, r.ok, r.v) for a, r in zip(active, results, strict=True)]
    falses = [z3.And(a, r.ok, z3.Not(r.v)) for a, r in zip(active, results, strict=True)]
    errs = _or([z3.And(a, r.err) for a, r in zip(active, results, strict=True)])
    every = _and([z3.Implies(a, r.ok) for a, r in zip(active, results, strict=True)])
    if kind == "count":
        n = z3.Sum(*[z3.If(t, 1, 0) for t in trues]) if trues else z3.IntVal(0)
        ok, err, v = every, errs, n
    else:
        wins = _or(trues if kind == "any" else falses)
        ok, err, v = z3.Or(wins, every), z3.And(z3.Not(wins), errs), wins
        if kind == "all":
            v = z3.Not(wins)
    return Sym(z3.And(xs.ok, ok), z3.Or(xs.err, z3.And(xs.ok, err)), v)


def _or(xs: list[Any]) -> Any:
    return z3.Or(*xs) if xs else FALSE


def _and(xs: list[Any]) -> Any:
    return z3.And(*xs) if xs else TRUE


# ---- functions, membership and equality ---------------------------------------------------


def call(enc: Encoder, f: str, arg: Sym, node: ir.Node, t: Type) -> Sym:
    """`len`, `sum`, `min` or `max` of one list."""
    if not isinstance(arg.v, Bounded) or _identifiers(node.ty):
        return _unknown(enc, node, f"{f}() of {ir.render(node)}", t)
    lst = arg.v
    if f == "len":
        return strict([arg], lst.length)
    values = [_scalar(x) for x in lst.items]
    if f == "sum":
        zero = z3.RealVal(0) if t.kind == "decimal" else z3.IntVal(0)
        addends = [z3.If(lst.active(i), *same_sort(v, zero)) for i, v in enumerate(values)]
        return strict([arg], z3.Sum(*addends) if addends else zero)
    if f in ("min", "max") and not values:  # of an empty literal: an error
        return strict([arg], z3.IntVal(0), TRUE)
    if f in ("min", "max"):
        out = values[0]
        for i, v in enumerate(values[1:], start=1):
            x, y = same_sort(v, out)
            better = x < y if f == "min" else x > y
            out = z3.If(z3.And(lst.active(i), better), x, y)
        return strict([arg], out, lst.length == 0)
    return _unknown(enc, node, f"{f}() of {ir.render(node)}", t)


def member(enc: Encoder, item: ir.Node, container: ir.Node, negated: bool, it: Any) -> Sym:
    """`item in list` / `not in`: equal to one of the list's items."""
    elem = container.ty.elem
    xs = of(enc, container, it) if elem is not None and elem.kind != "record" else None
    if xs is None or _identifiers(container.ty):
        why = f"membership in {ir.render(container)}"
        return _unknown(enc, item, why, BOOL)
    si, lst = enc.expr(item, it), xs.v
    found = _or(
        [z3.And(lst.active(i), enc.equal(si.v, _scalar(x))) for i, x in enumerate(lst.items)]
    )
    return strict([xs, si], z3.Not(found) if negated else found)


def compare(enc: Encoder, op: str, a: ir.Node, b: ir.Node, it: Any) -> Sym:
    """`==` / `!=` of two lists of scalars: the same length and the same items in order."""
    why = f"a comparison of lists ({ir.render(a)} {op} {ir.render(b)})"
    if op not in ("==", "!=") or any(_not_scalars(n.ty) for n in (a, b)):
        return _unknown(enc, a, why, BOOL)
    sa, sb = of(enc, a, it), of(enc, b, it)
    if sa is None or sb is None:
        return _unknown(enc, a, why, BOOL)
    la, lb = sa.v, sb.v
    same = [
        z3.Implies(la.active(i), enc.equal(_scalar(x), _scalar(y)))
        for i, (x, y) in enumerate(zip(la.items, lb.items, strict=False))
    ]
    equal = z3.And(la.length == lb.length, *same)
    return strict([sa, sb], equal if op == "==" else z3.Not(equal))


def _scalar(item: Item) -> Any:
    assert item.slot is not None
    return item.slot.value


def _identifiers(t: Type) -> bool:
    """A list of ID numbers or credit codes: the encoding holds their parts, not their text."""
    return t.elem is not None and t.elem.domain in _IDENTIFIERS


def _not_scalars(t: Type) -> bool:
    """Not a list of scalars (an empty literal, of no item type, is one)."""
    if t.kind != "list":
        return True
    return t.elem is not None and (t.elem.kind == "record" or _identifiers(t))


def _unknown(enc: Encoder, node: ir.Node, why: str, ty: Type | None = None) -> Sym:
    """What the encoding does not know (`Encoder.unknown`: any value, any status; listed)."""
    out: Sym = enc.unknown(node, why, ty)
    return out
