"""The native backend: one generated Python function per matter version, built from the IR only.

Each derived fact and each rule is compiled twice. The *fast* form is plain two-valued Python over
`v[path]`; it runs when every fact it reads is present and nothing fails — the common case. Any
exception (a missing fact's KeyError, a failed lookup, division by zero) falls back to the *slow*
form, which evaluates with three-valued semantics (`lang.kleene`) and never raises. Where the fast
form succeeds it equals the slow form: Python's short-circuit only skips operands that Kleene
logic ignores too.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from ..codegen import compile_unit
from ..lang import ir, numbers
from ..lang.functions import LIBRARY
from ..lang.kleene import ERROR_VALUE, UNKNOWN_VALUE, status_code
from ..ruleset import Matter
from ..status import FAILED, PASSED
from .contract import Evaluator

VERSION = "1"

_EMPTY: frozenset[str] = frozenset()
_CMP = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_ARITH_FN = {"+": "add", "-": "sub", "*": "mul", "/": "_divide", "**": "_power"}
_ORDER = {"<", "<=", ">", ">="}


_SCALAR_KINDS = frozenset({"bool", "int", "decimal", "str", "date"})


def _scalar(n: ir.Node) -> bool:
    """Whether a node's values compare with Python's own `==` and `in` (no list inside).

    Lists go through `numbers.eq`/`numbers.contains`, which compare a list fact and a literal
    tuple as the same value; a scalar is compared inline, exactly, at no call's cost.
    """
    return n.ty.kind in _SCALAR_KINDS


# ---- three-valued helpers of the slow form --------------------------------------------------


def _fact(v: dict[str, Any], errs: frozenset[str], path: str) -> Any:
    if path in errs:
        return ERROR_VALUE
    return v.get(path, UNKNOWN_VALUE)


def _strict(fn: Callable[..., Any], *args: Any) -> Any:
    unknown = False
    for a in args:
        if a is ERROR_VALUE:
            return ERROR_VALUE
        if a is UNKNOWN_VALUE:
            unknown = True
    if unknown:
        return UNKNOWN_VALUE
    try:
        return fn(*args)
    except Exception:
        return ERROR_VALUE


def _join(values: tuple[Any, ...], winner: bool) -> Any:
    error = unknown = False
    for x in values:
        if x is winner:
            return winner
        if x is ERROR_VALUE:
            error = True
        elif x is UNKNOWN_VALUE:
            unknown = True
    return ERROR_VALUE if error else UNKNOWN_VALUE if unknown else not winner


def _or(*values: Any) -> Any:
    return _join(values, True)


def _and(*values: Any) -> Any:
    return _join(values, False)


def _not(x: Any) -> Any:
    return x if x is UNKNOWN_VALUE or x is ERROR_VALUE else not x


def _quantify(items: Any, predicate: Callable[[Any], Any], winner: bool) -> Any:
    if items is UNKNOWN_VALUE or items is ERROR_VALUE:
        return items
    return _join(tuple(predicate(it) for it in items), winner)


def _count(items: Any, predicate: Callable[[Any], Any]) -> Any:
    if items is UNKNOWN_VALUE or items is ERROR_VALUE:
        return items
    unknown = False
    found = 0
    for it in items:
        x = predicate(it)
        if x is ERROR_VALUE:
            return ERROR_VALUE
        if x is UNKNOWN_VALUE:
            unknown = True
        elif x:
            found += 1
    return UNKNOWN_VALUE if unknown else found


def _field(it: dict[str, Any], name: str) -> Any:
    return it.get(name, UNKNOWN_VALUE)


def _presence(v: dict[str, Any], errs: frozenset[str], path: str, want: bool) -> Any:
    if path in errs:
        return ERROR_VALUE
    return (path in v) is want


def _present(v: dict[str, Any], errs: frozenset[str], path: str, want: bool) -> bool:
    """The fast form: raises where the slow form gives an error (a derived fact that failed)."""
    if path in errs:
        raise LookupError(path)
    return (path in v) is want


def _tuple(*items: Any) -> tuple[Any, ...]:
    return items


# ---- code generation ------------------------------------------------------------------------


class _Emitter:
    """Turns typed IR into Python source; constants live in a namespace, never in the text."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "U": UNKNOWN_VALUE,
            "E": ERROR_VALUE,
            "_EMPTY": _EMPTY,
            "_fact": _fact,
            "_strict": _strict,
            "_or": _or,
            "_and": _and,
            "_not": _not,
            "_quantify": _quantify,
            "_count": _count,
            "_field": _field,
            "_status": status_code,
            "_contains": numbers.contains,
            "_not_contains": numbers.not_contains,
            "_tuple": _tuple,
            "_presence": _presence,
            "_present": _present,
            "_divide": numbers.divide,
            "_power": numbers.power,
            "_settled": numbers.settled,
            "eq": numbers.eq,
            "ne": numbers.ne,
            "lt": operator.lt,
            "le": operator.le,
            "gt": operator.gt,
            "ge": operator.ge,
            "add": numbers.add,
            "sub": numbers.sub,
            "mul": numbers.mul,
            "neg": numbers.neg,
        }
        for name, fn in LIBRARY.items():
            self.namespace[f"_fn_{name}"] = fn.impl
        self._consts: dict[tuple[type, Any], str] = {}

    def const(self, value: Any, as_set: bool = False) -> str:
        if type(value) in (bool, int):
            return repr(value)
        if isinstance(value, str) and value.isprintable():
            return repr(value)
        if as_set and isinstance(value, tuple):
            value = frozenset(value)
        key = (type(value), repr(value))
        if key not in self._consts:
            name = f"_c{len(self._consts)}"
            self._consts[key] = name
            self.namespace[name] = value
        return self._consts[key]

    def fast(self, n: ir.Node) -> str:
        """Two-valued Python; raises on anything the slow form would call unknown or error."""
        match n:
            case ir.Const(value=v):
                return self.const(v)
            case ir.Fact(path=p):
                return f"v[{p!r}]"
            case ir.DecisionDate():
                return "on"
            case ir.It():
                return "it"
            case ir.ItField(name=name):
                return f"it[{name!r}]"
            case ir.Not(operand=o):
                return f"(not {self.fast(o)})"
            case ir.And(operands=ops):
                return "(" + " and ".join(self.fast(o) for o in ops) + ")"
            case ir.Or(operands=ops):
                return "(" + " or ".join(self.fast(o) for o in ops) + ")"
            case ir.Compare(op=op, left=a, right=b) if op in _ORDER:
                return f"({self.fast(a)} {op} {self.fast(b)})"
            case ir.Compare(op=op, left=a, right=b) if _scalar(a) and _scalar(b):
                return f"({self.fast(a)} {op} {self.fast(b)})"
            case ir.Compare(op=op, left=a, right=b):
                return f"{_CMP[op]}({self.fast(a)}, {self.fast(b)})"
            case ir.In(item=i, container=c, negated=neg):
                container = (
                    self.const(c.value, as_set=True) if isinstance(c, ir.Const) else self.fast(c)
                )
                if _scalar(i) and (isinstance(c, ir.Const) or c.ty.kind == "str"):
                    return f"({self.fast(i)} {'not in' if neg else 'in'} {container})"
                fn = "_not_contains" if neg else "_contains"
                return f"{fn}({container}, {self.fast(i)})"
            case ir.Arith(op=op, left=a, right=b):
                return f"{_ARITH_FN[op]}({self.fast(a)}, {self.fast(b)})"
            case ir.Neg(operand=o):
                return f"neg({self.fast(o)})"
            case ir.ListOf(items=items):
                return "(" + "".join(f"{self.fast(i)}, " for i in items) + ")"
            case ir.Lookup(table=t, key=k):
                return f"{self.const(t.value)}[{self.fast(k)}]"
            case ir.Call(func=f, args=args):
                return f"_fn_{f}(" + ", ".join(self.fast(a) for a in args) + ")"
            case ir.Quantifier(kind="count", items=items, predicate=p):
                return f"sum(1 for it in {self.fast(items)} if {self.fast(p)})"
            case ir.Quantifier(kind=kind, items=items, predicate=p):
                return f"{kind}({self.fast(p)} for it in {self.fast(items)})"
            case ir.Presence(fact=ir.ItField(name=name), present=want):
                return f"(({name!r} in it) is {want})"
            case ir.Presence(fact=ir.Fact(path=path), present=want):
                return f"_present(v, errs, {path!r}, {want})"
        raise TypeError(f"unknown IR node {n!r}")

    def slow(self, n: ir.Node) -> str:
        """Three-valued Python; never raises."""
        match n:
            case ir.Const(value=v):
                return self.const(v)
            case ir.Fact(path=p):
                return f"_fact(v, errs, {p!r})"
            case ir.DecisionDate():
                return "on"
            case ir.It():
                return "it"
            case ir.ItField(name=name):
                return f"_field(it, {name!r})"
            case ir.Not(operand=o):
                return f"_not({self.slow(o)})"
            case ir.And(operands=ops):
                return "_and(" + ", ".join(self.slow(o) for o in ops) + ")"
            case ir.Or(operands=ops):
                return "_or(" + ", ".join(self.slow(o) for o in ops) + ")"
            case ir.Compare(op=op, left=a, right=b):
                return f"_strict({_CMP[op]}, {self.slow(a)}, {self.slow(b)})"
            case ir.In(item=i, container=c, negated=neg):
                fn = "_not_contains" if neg else "_contains"
                return f"_strict({fn}, {self.slow(c)}, {self.slow(i)})"
            case ir.Arith(op=op, left=a, right=b):
                return f"_strict({_ARITH_FN[op]}, {self.slow(a)}, {self.slow(b)})"
            case ir.Neg(operand=o):
                return f"_strict(neg, {self.slow(o)})"
            case ir.ListOf(items=items):
                return "_strict(_tuple, " + ", ".join(self.slow(i) for i in items) + ")"
            case ir.Lookup(table=t, key=k):
                return f"_strict({self.const(t.value)}.__getitem__, {self.slow(k)})"
            case ir.Call(func=f, args=args):
                return f"_strict(_fn_{f}, " + ", ".join(self.slow(a) for a in args) + ")"
            case ir.Quantifier(kind="count", items=items, predicate=p):
                return f"_count({self.slow(items)}, lambda it: {self.slow(p)})"
            case ir.Quantifier(kind=kind, items=items, predicate=p):
                return f"_quantify({self.slow(items)}, lambda it: {self.slow(p)}, {kind == 'any'})"
            case ir.Presence(fact=ir.ItField(name=name), present=want):
                return f"(({name!r} in it) is {want})"
            case ir.Presence(fact=ir.Fact(path=path), present=want):
                return f"_presence(v, errs, {path!r}, {want})"
        raise TypeError(f"unknown IR node {n!r}")


def generate(matter: Matter) -> tuple[str, dict[str, Any]]:
    """The Python source of a matter's evaluator, and the namespace it runs in."""
    em = _Emitter()
    name = "evaluate_" + re.sub(r"\W", "_", matter.id)
    out = [f"def {name}(v, on):", "    errs = _EMPTY"]
    for d in matter.derived:
        p = repr(d.path)
        out += [
            "    try:",
            f"        v[{p}] = _settled({em.fast(d.expr)})",
            "    except Exception:",
            f"        x = _strict(_settled, {em.slow(d.expr)})",
            "        if x is E:",
            f"            errs = errs | {{{p}}}",
            "        elif x is not U:",
            f"            v[{p}] = x",
        ]
    results = []
    for i, rule in enumerate(matter.rules):
        out += [
            f"    # rule {rule.id}",
            "    try:",
            f"        r{i} = {PASSED} if {em.fast(rule.expr)} else {FAILED}",
            "    except Exception:",
            f"        r{i} = _status({em.slow(rule.expr)})",
        ]
        results.append(f"r{i}")
    out.append(f"    return ({''.join(r + ', ' for r in results)}), errs")
    em.namespace["__name__"] = f"secondapproval.generated.{name}"
    return "\n".join(out) + "\n", em.namespace


def compile_expression(
    node: ir.Node, name: str = "expression"
) -> Callable[[dict[str, Any], Any], Any]:
    """One typed expression as a function of (values, decision date), three-valued like a rule.

    It returns the value, or UNKNOWN / ERROR (see `lang.kleene`), and never raises: the fast form
    runs first and the slow form decides wherever the fast one raises. Packs use it for formulas.
    """
    em = _Emitter()
    fn = "expression_" + re.sub(r"\W", "_", name)
    source = (
        f"def {fn}(v, on):\n    errs = _EMPTY\n    try:\n        return {em.fast(node)}\n"
        f"    except Exception:\n        return {em.slow(node)}\n"
    )
    compiled: Callable[[dict[str, Any], Any], Any]
    compiled = compile_unit(source, f"<secondapproval:{name}>", em.namespace)[fn]  # checked IR
    return compiled


def filename_of(matter: Matter) -> str:
    """The filename a matter version's evaluator is compiled under (`codegen`)."""
    return f"<secondapproval:{matter.id}@{matter.version}>"


class NativeBackend:
    """Generated Python, compiled once per matter version: the fast, default backend."""

    name = "native"
    version = VERSION

    def compile(self, matter: Matter) -> Evaluator:
        source, namespace = generate(matter)  # from the checked IR only
        compiled = compile_unit(source, filename_of(matter), namespace)
        fn: Evaluator = next(v for k, v in compiled.items() if k.startswith("evaluate_"))
        return fn
