"""Kleene states of a `Logic` tree as durable_rules conditions, negation pushed to comparisons.

For each rule the durable backend needs three conditions over the posted message: *passed*
(the expression is true), *failed* (false) and *error*; none matching means *unknown*. Each is
built in disjunctive normal form — a set of alternatives, each a conjunction of tests of one
property (`v3 < "25…"`, `v3 == v4`, `v3` exists, `e3` exists) — so that every alternative is one
plain durable rule. Negation never reaches durable: `not` swaps passed and failed, and each
comparison has its negated operator. Semantics follow `lang.kleene`:

    and: any false → false; else any error → error; else any unknown → unknown; else true
    or : any true  → true;  else any error → error; else any unknown → unknown; else false

A rule's error condition only has to be right where neither its passed nor its failed rule
fires, which keeps it small (see `Builder.error`). An ERROR slot is posted as `e<n>` without
`v<n>`, an UNKNOWN one as neither, so a comparison
only matches present values. "Not false" and "not true" (needed for the error state of `and`
and `or`) are built the same way, without complement of whole conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product

from .hoist import Cmp, LAnd, LConst, Lit, LNot, Logic, LOr, Member, Slot, Truth

NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


@dataclass(frozen=True, slots=True, order=True)
class Check:
    """One test of a message property: `key op value` (value a literal or another key)."""

    op: str  # == != < <= > >= ex nex
    key: str
    value: object = None
    other: str | None = None
    """When set, compare with the property of this name instead of `value`."""


Conj = frozenset[Check]
DNF = frozenset[Conj]
NEVER: DNF = frozenset()
ALWAYS: DNF = frozenset({frozenset()})


class TooComplexError(Exception):
    """A condition has more alternatives than durable_rules can reasonably hold."""


def _exists(slot: Slot) -> Check:
    return Check("ex", slot.key)


def _absent(slot: Slot) -> Check:
    return Check("nex", slot.key)


def _failed(slot: Slot) -> Check:
    return Check("ex", slot.error_key)


def _contradicts(conj: Conj) -> bool:
    """Whether a conjunction can never match (a key both present and absent, two equal-tos…)."""
    absent = {t.key for t in conj if t.op == "nex"}
    equal: dict[str, object] = {}
    for t in conj:
        if t.op == "nex":
            continue
        if t.key in absent or (t.other is not None and t.other in absent):
            return True
        if t.op == "==" and t.other is None:
            if t.key in equal and equal[t.key] != t.value:
                return True
            equal[t.key] = t.value
    return any(
        t.op == "!=" and t.other is None and equal.get(t.key, object()) == t.value for t in conj
    )


class Builder:
    """Builds the passed / failed / error conditions of logic trees, with a size limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def _check(self, dnf: Iterable[Conj]) -> DNF:
        out = frozenset(c for c in dnf if not _contradicts(c))
        if len(out) > self.limit:
            raise TooComplexError(f"more than {self.limit} alternatives")
        return out

    def _or(self, parts: Iterable[DNF]) -> DNF:
        return self._check(c for p in parts for c in p)

    def _and(self, parts: Iterable[DNF]) -> DNF:
        acc: DNF = frozenset({frozenset()})
        for p in parts:
            if len(acc) * len(p) > self.limit * 8:
                raise TooComplexError(f"more than {self.limit} alternatives")
            acc = self._check(a | b for a, b in product(acc, p))
        return acc

    # ---- the four conditions of each node ----

    def passed(self, n: Logic) -> DNF:
        match n:
            case LNot(operand=o):
                return self.failed(o)
            case LAnd(operands=ops):
                return self._and(self.passed(o) for o in ops)
            case LOr(operands=ops):
                return self._or(self.passed(o) for o in ops)
        return self._atom(n, positive=True)

    def failed(self, n: Logic) -> DNF:
        match n:
            case LNot(operand=o):
                return self.passed(o)
            case LAnd(operands=ops):
                return self._or(self.failed(o) for o in ops)
            case LOr(operands=ops):
                return self._and(self.failed(o) for o in ops)
        return self._atom(n, positive=False)

    def not_failed(self, n: Logic) -> DNF:
        match n:
            case LNot(operand=o):
                return self.not_passed(o)
            case LAnd(operands=ops):
                return self._and(self.not_failed(o) for o in ops)
            case LOr(operands=ops):
                return self._or(self.not_failed(o) for o in ops)
        return self._or([self._atom(n, positive=True), self._missing(n)])

    def not_passed(self, n: Logic) -> DNF:
        match n:
            case LNot(operand=o):
                return self.not_failed(o)
            case LAnd(operands=ops):
                return self._or(self.not_passed(o) for o in ops)
            case LOr(operands=ops):
                return self._and(self.not_passed(o) for o in ops)
        return self._or([self._atom(n, positive=False), self._missing(n)])

    def error(self, n: Logic, known: str = "TF") -> DNF:
        """When the node is ERROR — exactly, wherever its value is not one `known` excludes.

        `known` says what is already established: "TF" (the node is neither true nor false:
        the passed and failed rules did not fire), "T" (not true) or "F" (not false). Knowing
        that an `or` is not true means no operand is true, so it is an error iff an operand is;
        only an `and` known not to be true (or an `or` not to be false) needs its siblings' states.
        """
        match n:
            case LNot(operand=o):
                return self.error(o, {"TF": "TF", "T": "F", "F": "T"}[known])
            case LAnd(operands=ops) | LOr(operands=ops):
                conjunctive = isinstance(n, LAnd)
                inner = "F" if conjunctive else "T"
                errors = self._or(self.error(o, inner) for o in ops if has_error_state(o))
                if known in ("TF", inner):
                    return errors
                siblings = self.not_failed if conjunctive else self.not_passed
                return self._and([errors, *(siblings(o) for o in ops)])
        return self._check(frozenset({_failed(s)}) for s in _slots(n) if s.can_fail)

    # ---- atoms ----

    def _missing(self, n: Logic) -> DNF:
        """The atom has no value: one of its slots is absent (unknown) or failed."""
        return self._check(frozenset({_absent(s)}) for s in _slots(n))

    def _atom(self, n: Logic, positive: bool) -> DNF:
        match n:
            case LConst(value=value):
                return ALWAYS if value == positive else NEVER
            case Cmp(op=op, left=left, right=right):
                assert isinstance(left, Slot)
                op = op if positive else NEGATE[op]
                if isinstance(right, Lit):
                    return frozenset({frozenset({Check(op, left.key, right.value)})})
                guard = {_exists(left), _exists(right)}
                return frozenset({frozenset({Check(op, left.key, other=right.key), *guard})})
            case Member(item=item, values=values, negated=negated):
                if positive != negated:
                    return self._check(frozenset({Check("==", item.key, v)}) for v in values)
                return frozenset(
                    {frozenset({_exists(item), *(Check("!=", item.key, v) for v in values)})}
                )
            case Truth(slot=s):
                return frozenset({frozenset({Check("==", s.key, positive)})})
        raise TypeError(f"not a logic atom: {n!r}")


def _slots(n: Logic) -> tuple[Slot, ...]:
    match n:
        case Cmp(left=left, right=right):
            return tuple(x for x in (left, right) if isinstance(x, Slot))
        case Member(item=item):
            return (item,)
        case Truth(slot=s):
            return (s,)
    return ()


def has_error_state(n: Logic) -> bool:
    """Whether any slot the tree reads can be ERROR (else its error condition is empty)."""
    match n:
        case LNot(operand=o):
            return has_error_state(o)
        case LAnd(operands=ops) | LOr(operands=ops):
            return any(has_error_state(o) for o in ops)
    return any(s.can_fail for s in _slots(n))
