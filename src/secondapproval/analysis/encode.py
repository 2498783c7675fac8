"""The typed IR of a matter version as SMT terms (z3), under the language's three-valued semantics.

Every expression becomes a `Sym`: `ok` (it has a value), `err` (its evaluation fails on valid
facts) and `v`, the value when `ok` (unknown is neither). The encoding follows the value model
exactly where it can: ints are integers, decimals exact rationals (a decimal input is a bounded
decimal), dates day numbers (`date.toordinal()`) with their year, month and day derived by the
civil calendar's integer arithmetic, strings z3 strings (a declared pattern a z3 regular
expression, `analysis.regex`). An input fact is *given* (valid) or not, and *invalid* or not;
a rule is passed, failed, unknown or in error as the engines say. What it cannot encode exactly
it replaces by a fresh, unconstrained value and names it in `approximate`: a query that depends
on one never yields a proof (`analysis.findings`).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import z3

from ..calendars import Calendar
from ..lang import ir
from ..lang.functions import CALENDAR_FUNCTIONS
from ..lang.types import BOOL, Type
from ..ruleset import FactSpec, Matter
from .lists import BOUND, bounds
from .lists import call as list_call
from .lists import compare as list_compare
from .lists import expr as list_expr
from .lists import member as list_member
from .lists import value as list_value
from .regex import to_z3
from .terms import (
    FALSE,
    TRUE,
    Sym,
    const_sym,
    kleene,
    representable,
    same_sort,
    strict,
    string_value,
)
from .workdays import add_working_days, monotone, working_days_between

DECIMAL_DIGITS = 28
"""A decimal input has at most 28 significant digits and 28 decimal places (`factchecks`)."""
LAST_DAY = dt.date.max.toordinal()


# ---- dates -----------------------------------------------------------------------------------


def leap(y: Any) -> Any:
    return z3.Or(z3.And(y % 4 == 0, y % 100 != 0), y % 400 == 0)


def days_in_month(y: Any, m: Any) -> Any:
    thirty = z3.Or(m == 4, m == 6, m == 9, m == 11)
    return z3.If(m == 2, z3.If(leap(y), 29, 28), z3.If(thirty, 30, 31))


_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]


def ordinal(y: Any, m: Any, d: Any) -> Any:
    """`date(y, m, d).toordinal()` for a valid day."""
    p = y - 1
    before_year = p * 365 + p / 4 - p / 100 + p / 400
    before_month = _BEFORE[0]
    for month in range(12, 1, -1):
        before_month = z3.If(m == month, _BEFORE[month - 1], before_month)
    return before_year + before_month + z3.If(z3.And(m > 2, leap(y)), 1, 0) + d


@dataclass
class Civil:
    """The year, month and day of a day number (fresh variables tied to it)."""

    y: Any
    m: Any
    d: Any


# ---- the encoder -------------------------------------------------------------------------------


@dataclass
class FactVars:
    """The SMT variables of one input fact."""

    path: str
    spec: FactSpec
    type: Type
    given: Any
    """A valid value is given."""
    invalid: Any
    """A value is given and refused (the application refers `INVALID:<path>`)."""
    value: Any
    extra: dict[str, Any] = field(default_factory=dict)
    """Domain parts: a cn_id's `born` (day number) and `seq` (its three sequence digits)."""


class Encoder:
    """Encodes one matter version: its input facts, derived facts, rules and outcome."""

    def __init__(
        self,
        matter: Matter,
        on: dt.date | None = None,
        tag: str = "",
        like: Encoder | None = None,
        *,
        list_bound: int | None = None,
    ) -> None:
        """`like`: an encoding of another version whose decision date and input facts this one
        shares (the facts declared alike in both), so that one application is decided by both
        (`analysis.versions`); the date is then the one `like` constrains. `list_bound`: the
        most items a list fact has (default: `lists`)."""
        self.matter = matter
        self.tag = tag
        self.constraints: list[Any] = []
        self.approximate: list[str] = []
        self.bounded: list[str] = []
        """The bounds of list facts (`lists`): an unsat answer holds only within them."""
        self.parts: dict[str, dict[str, Any]] = {}
        """The `born`/`seq` of an ID number in a list, by its value's name (`lists`)."""
        self._list_bounds = bounds(matter)
        self._list_bound = list_bound
        self._fresh = itertools.count()
        self._civil: dict[int, Civil] = {} if like is None else like._civil  # the same days
        self._counted: dict[Calendar, list[Any]] = {} if like is None else like._counted
        spec = matter.spec.effective
        last = spec.to or dt.date(spec.from_.year + 50, 12, 31)
        self.on: Any
        if like is not None:
            self.on = like.on
        elif on is not None:
            self.on = z3.IntVal(on.toordinal())
        else:
            self.on = z3.Int(f"{tag}on")
            self.constraints += [self.on >= spec.from_.toordinal(), self.on <= last.toordinal()]
        shared = like.facts if like is not None else {}
        self.facts: dict[str, FactVars] = {
            p: self._input(p, s, shared.get(p)) for p, s in matter.inputs.items()
        }
        self.values: dict[str, Sym] = {
            p: Sym(f.given, FALSE, f.value) for p, f in self.facts.items()
        }
        for d in matter.derived:
            if d.expr.ty.kind == "decimal" and any(
                isinstance(n, ir.Arith) and n.op == "/" for n in ir.walk(d.expr)
            ):  # a derived quotient without a terminating decimal value is an error
                self.approximate.append(f"whether the quotient {d.path} terminates")
            self.values[d.path] = self.expr(d.expr)
        self.rules = {r.id: self.expr(r.expr) for r in matter.rules}
        self._status: dict[str, dict[str, Any]] = {}

    # ---- facts ----
    def name(self, what: str) -> str:
        return f"{self.tag}{what}"

    def fresh(self, sort: Any, why: str) -> Any:
        return z3.Const(f"{self.tag}_{why}_{next(self._fresh)}", sort)

    def _input(self, path: str, spec: FactSpec, alike: FactVars | None = None) -> FactVars:
        t = self.matter.types[path]
        if alike is not None and declared_alike(alike.spec, spec) and alike.type == t:
            return alike
        if alike is not None:
            self.approximate.append(f"{path} is declared otherwise in the other version")
        given = z3.Bool(self.name(f"given:{path}"))
        invalid = z3.Bool(self.name(f"invalid:{path}"))
        self.constraints.append(z3.Not(z3.And(given, invalid)))
        if spec.type == "list":
            k = self._list_bound or self._list_bounds.get(path, BOUND)
            bounded = list_value(self, self.name(path), path, spec, t, k)
            return FactVars(path, spec, t, given, invalid, bounded)
        value, extra = self._value(self.name(path), spec, t)
        return FactVars(path, spec, t, given, invalid, value, extra)

    def _value(self, name: str, spec: FactSpec, t: Type) -> tuple[Any, dict[str, Any]]:
        kind = spec.type
        if kind == "bool":
            return z3.Bool(name), {}
        if kind == "int":
            return z3.Int(name), {}
        if kind in ("decimal", "money"):
            v = z3.Real(name)
            places = 2 if kind == "money" else DECIMAL_DIGITS
            self.constraints.append(_bounded_decimal(v, places, self.fresh))
            return v, {}
        if kind == "date":
            v = z3.Int(name)
            self.constraints += [v >= 1, v <= LAST_DAY]
            return v, {}
        if kind == "enum":
            v = z3.String(name)
            self.constraints.append(z3.Or(*[v == self.literal(x, t) for x in spec.values or ()]))
            return v, {}
        if kind == "str":
            v = z3.String(name)
            language = None if spec.pattern is None else to_z3(spec.pattern)
            if language is not None:  # restricts the value only: given, absent or invalid alike
                self.constraints.append(z3.InRe(v, language))
            elif spec.pattern is not None:
                self.approximate.append(f"the pattern of {name}")
            return v, {}
        if kind == "cn_id":
            born, seq = self.day(name + ":born", 1900, 2099), z3.Int(name + ":seq")
            self.constraints.append(self.not_after(born, self.on))
            self.constraints += [seq >= 0, seq <= 999]
            return z3.String(name), {"born": born, "seq": seq}
        if kind == "uscc":
            return z3.Int(name), {}
        self.approximate.append(f"a fact of type {kind} ({name})")
        return z3.Const(name, self.sort(t)), {}

    def sort(self, t: Type) -> Any:
        if t.kind == "bool":
            return z3.BoolSort()
        if t.kind in ("int", "date"):
            return z3.IntSort()
        if t.kind == "decimal":
            return z3.RealSort()
        if t.kind == "str" and t.domain == "uscc":
            return z3.IntSort()
        if t.kind == "str":
            return z3.StringSort()
        return z3.IntSort()

    # ---- dates ----
    def day(self, name: str, first_year: int, last_year: int) -> Any:
        """A day chosen by its year, month and day (in the years given): its day number is their
        ordinal, and its civil parts are known without solving for them (`civil`)."""
        c = Civil(*(z3.Int(f"{name}:{p}") for p in "ymd"))
        self.constraints += [
            c.y >= first_year,
            c.y <= last_year,
            c.m >= 1,
            c.m <= 12,
            c.d >= 1,
            c.d <= days_in_month(c.y, c.m),
        ]
        day = ordinal(c.y, c.m, c.d)
        self._civil[day.get_id()] = c
        return day

    def not_after(self, day: Any, other: Any) -> Any:
        """`day <= other`, over their civil parts: for a day chosen by its parts (`day`) this
        keeps the ordinal's divisions out of the solver's way."""
        a, b = self.civil(day), self.civil(other)
        same_month = z3.And(a.y == b.y, a.m == b.m)
        earlier_month = z3.And(a.y == b.y, a.m < b.m)
        return z3.Or(a.y < b.y, earlier_month, z3.And(same_month, a.d <= b.d))

    def civil(self, day: Any) -> Civil:
        key = day.get_id()
        if key not in self._civil and z3.is_int_value(day):
            date = dt.date.fromordinal(day.as_long())
            self._civil[key] = Civil(*map(z3.IntVal, (date.year, date.month, date.day)))
        if key not in self._civil:
            n = next(self._fresh)
            c = Civil(*(z3.Int(f"{self.tag}_{p}{n}") for p in "ymd"))
            self.constraints += [
                c.m >= 1,
                c.m <= 12,
                c.d >= 1,
                c.d <= days_in_month(c.y, c.m),
                c.y >= 1,
                c.y <= 9999,
                ordinal(c.y, c.m, c.d) == day,
            ]
            self._civil[key] = c
        return self._civil[key]

    # ---- expressions ----
    def expr(self, node: ir.Node, it: Any = None) -> Sym:  # noqa: PLR0912
        if _reads_an_identifier_as_text(node):
            return self.unknown(node, f"an identifier read as text ({ir.render(node)})")
        match node:
            case ir.Const(value=v):
                return const_sym(self.literal(v, node.ty))
            case ir.Fact(path=p):
                return self.values[p]
            case ir.DecisionDate():
                return const_sym(self.on)
            case ir.Not(operand=o):
                s = self.expr(o, it)
                return Sym(s.ok, s.err, z3.Not(s.v))
            case ir.And(operands=ops):
                return kleene([self.expr(o, it) for o in ops], dominant=False)
            case ir.Or(operands=ops):
                return kleene([self.expr(o, it) for o in ops], dominant=True)
            case ir.Compare(op=op, left=a, right=b):
                return self.compare(op, a, b, it)
            case ir.In(item=i, container=ir.Const(value=tuple() as values), negated=neg):
                s = self.expr(i, it)
                found = z3.Or(*[self.equal(s.v, self.literal(x, i.ty)) for x in values])
                return strict([s], z3.Not(found) if neg else found)
            case ir.In(item=i, container=c, negated=neg) if c.ty.kind == "str":
                si, sc = self.expr(i, it), self.expr(c, it)
                found = z3.Contains(sc.v, si.v)
                return strict([sc, si], z3.Not(found) if neg else found)
            case ir.In(item=i, container=ir.ListOf(items=items), negated=neg):
                si = self.expr(i, it)
                members = [self.expr(x, it) for x in items]
                found = z3.Or(*[self.equal(si.v, m.v) for m in members])
                return strict([*members, si], z3.Not(found) if neg else found)
            case ir.In(item=i, container=c, negated=neg) if c.ty.kind == "list":
                return list_member(self, i, c, neg, it)
            case ir.Arith(op=op, left=a, right=b):
                return self.arith(op, self.expr(a, it), self.expr(b, it), node.ty)
            case ir.Neg(operand=o):
                s = self.expr(o, it)
                return strict([s], -s.v)
            case ir.Lookup(table=t, key=k):
                s = self.expr(k, it)
                return self.lookup(t.value, s, k.ty, node.ty)
            case ir.Call(func=f, args=args):
                encoded = [self.argument(a, it) for a in args]
                return self.call(f, encoded, args, node.ty)
            case ir.Presence(fact=ir.Fact(path=p), present=want):
                s = self.values[p]
                given = self.facts[p].given if p in self.facts else s.ok
                value = given if want else z3.Not(given)
                return const_sym(value) if p in self.facts else Sym(z3.Not(s.err), s.err, value)
            case ir.It() | ir.ItField() | ir.Presence() | ir.Quantifier() | ir.ListOf():
                return list_expr(self, node, it)
        return self.unknown(node, f"{type(node).__name__} ({ir.render(node)})")

    def argument(self, node: ir.Node, it: Any) -> Sym:
        """A call's argument; a table (`band`) or a calendar is read by the call itself."""
        if isinstance(node, ir.Const) and isinstance(node.value, dict):
            return const_sym(TRUE)
        if isinstance(node, ir.Const) and not isinstance(node.value, _SCALARS):
            return const_sym(TRUE)
        return self.expr(node, it)

    def unknown(self, node: ir.Node, why: str, ty: Type | None = None) -> Sym:
        """A construct the encoding does not know: any value (of `ty`, or the node's type),
        any status."""
        self.approximate.append(why)
        ok, err = self.fresh(z3.BoolSort(), "ok"), self.fresh(z3.BoolSort(), "err")
        self.constraints.append(z3.Not(z3.And(ok, err)))
        return Sym(ok, err, self.fresh(self.sort(ty or node.ty), "v"))

    def literal(self, v: Any, t: Type) -> Any:
        if isinstance(v, bool):
            return z3.BoolVal(v)
        if isinstance(v, int):
            return z3.RealVal(v) if t.kind == "decimal" else z3.IntVal(v)
        if isinstance(v, Decimal | Fraction):
            return z3.RealVal(str(Fraction(v)))
        if isinstance(v, dt.date):
            return z3.IntVal(v.toordinal())
        if isinstance(v, str):
            if representable(v):
                return string_value(v)
            self.approximate.append(f"a text beyond z3's alphabet ({v!r})")
            return self.fresh(z3.StringSort(), "text")
        raise _UnsupportedError(f"a literal {v!r}")

    @staticmethod
    def equal(a: Any, b: Any) -> Any:
        x, y = same_sort(a, b)
        return x == y

    def compare(self, op: str, a: ir.Node, b: ir.Node, it: Any) -> Sym:
        if a.ty.kind == "list" or b.ty.kind == "list":
            return list_compare(self, op, a, b, it)
        if a.ty.kind in ("dict", "record") or b.ty.kind in ("dict", "record"):
            why = f"a comparison of lists ({ir.render(a)} {op} {ir.render(b)})"
            return self.unknown(a, why, BOOL)
        sa, sb = self.expr(a, it), self.expr(b, it)
        x, y = same_sort(sa.v, sb.v)
        value = {
            "==": lambda: x == y,
            "!=": lambda: x != y,
            "<": lambda: x < y,
            "<=": lambda: x <= y,
            ">": lambda: x > y,
            ">=": lambda: x >= y,
        }[op]()
        return strict([sa, sb], value)

    def arith(self, op: str, a: Sym, b: Sym, t: Type) -> Sym:
        x, y = a.v, b.v
        if t.kind == "decimal" or op == "/":
            x, y = z3.ToReal(x) if x.is_int() else x, z3.ToReal(y) if y.is_int() else y
        if op == "+":
            return strict([a, b], x + y)
        if op == "-":
            return strict([a, b], x - y)
        if op == "*":
            return strict([a, b], x * y)
        if op == "/":
            return strict([a, b], x / y, y == 0)
        self.approximate.append("a power (**)")
        return Sym(
            z3.And(a.ok, b.ok, self.fresh(z3.BoolSort(), "pok")),
            z3.Or(a.err, b.err, z3.And(a.ok, b.ok, self.fresh(z3.BoolSort(), "perr"))),
            self.fresh(self.sort(t), "pow"),
        )

    def lookup(self, table: dict[Any, Any], key: Sym, kt: Type, t: Type) -> Sym:
        value = self.fresh(self.sort(t), "row")
        hit = FALSE
        for k, v in table.items():
            match = self.equal(key.v, self.literal(k, kt))
            hit = z3.Or(hit, match)
            self.constraints.append(
                z3.Implies(z3.And(key.ok, match), self.equal(value, self.literal(v, t)))
            )
        return strict([key], value, z3.Not(hit))

    # one branch per function of the library: a long dispatcher is the clearest form
    def call(  # noqa: PLR0912
        self, f: str, args: list[Sym], nodes: tuple[ir.Node, ...], t: Type
    ) -> Sym:
        vs = [a.v for a in args]
        if f in ("len", "sum", "min", "max") and len(args) == 1 and nodes[0].ty.kind == "list":
            return list_call(self, f, args[0], nodes[0], t)
        if f == "days_between":
            return strict(args, vs[1] - vs[0])
        if f == "add_days":
            r = vs[0] + vs[1]
            return strict(args, r, z3.Or(r < 1, r > LAST_DAY))
        if f in ("years_between", "age_on"):
            born = self.born(nodes[0], args[0]) if f == "age_on" else vs[0]
            a, b = self.civil(born), self.civil(vs[1])
            earlier = z3.Or(b.m < a.m, z3.And(b.m == a.m, b.d < a.d))
            return strict(args, b.y - a.y - z3.If(earlier, 1, 0))
        if f == "months_between":
            a, b = self.civil(vs[0]), self.civil(vs[1])
            return strict(args, (b.y - a.y) * 12 + b.m - a.m - z3.If(b.d < a.d, 1, 0))
        if f in ("add_months", "add_years"):
            n = vs[1] * 12 if f == "add_years" else vs[1]
            c = self.civil(vs[0])
            index = c.y * 12 + c.m - 1 + n
            y, m = index / 12, index % 12 + 1
            d = z3.If(c.d < days_in_month(y, m), c.d, days_in_month(y, m))
            return strict(args, ordinal(y, m, d), z3.Or(y < 1, y > 9999))
        if f == "birth_date":
            return strict(args, self.born(nodes[0], args[0]))
        if f == "sex_of":
            seq = self.domain(nodes[0], "seq", vs[0])
            male = z3.StringVal("male")
            return strict(args, z3.If(seq % 2 == 1, male, z3.StringVal("female")))
        if f == "len" and nodes[0].ty.kind == "str":
            return strict(args, z3.Length(vs[0]))
        if f in ("min", "max") and len(args) > 1:
            out = vs[0]
            for v in vs[1:]:
                x, y = same_sort(out, v)
                out = z3.If(y < x, y, x) if f == "min" else z3.If(y > x, y, x)
            return strict(args, out)
        if f == "abs":
            return strict(args, z3.If(vs[0] < 0, -vs[0], vs[0]))
        if f == "clip":
            x, lo = same_sort(vs[0], vs[1])
            x, hi = same_sort(x, vs[2])
            lo, hi = same_sort(lo, hi)
            return strict(args, z3.If(x < lo, lo, z3.If(x > hi, hi, x)), lo > hi)
        if f == "band":
            table = nodes[1]
            assert isinstance(table, ir.Const)
            x = vs[0]
            value = self.literal(table.value[min(table.value)], t)
            for k in sorted(table.value):
                xk, kk = same_sort(x, self.literal(k, nodes[0].ty))
                value = z3.If(xk >= kk, self.literal(table.value[k], t), value)
            low, kk = same_sort(x, self.literal(min(table.value), nodes[0].ty))
            return strict(args[:1], value, low < kk)
        if f in CALENDAR_FUNCTIONS and len(nodes) == 4 and isinstance(nodes[2], ir.Const):
            return self.working_days(f, args, nodes[2].value)  # bound by the checker
        return self.unknown(nodes[0] if nodes else ir.Const(0), f"the function {f}()", t)

    def working_days(self, f: str, args: list[Sym], calendar: Calendar) -> Sym:
        """A call over the calendar the checker bound to it (with `decision_date`, its 4th
        argument); the encoding is exact (`workdays`)."""
        day, other, on = args[0].v, args[1].v, args[3].v
        if f == "working_days_between":
            value, fails = working_days_between(calendar, day, other, on)
            self.count_on(calendar, day, other)
            return strict(args, value, fails)
        result = self.fresh(z3.IntSort(), "workday")
        pin, fails = add_working_days(calendar, day, other, on, result)
        self.constraints.append(pin)
        self.count_on(calendar, day, result)
        return strict(args, result, fails)

    def count_on(self, calendar: Calendar, *days: Any) -> None:
        """Days counted on: the count's monotonicity between each and those before (`workdays`)."""
        counted = self._counted.setdefault(calendar, [])
        for day in days:
            self.constraints += monotone(calendar, day, counted)
            counted.append(day)

    def domain(self, node: ir.Node, part: str, value: Any = None) -> Any:
        if isinstance(node, ir.Fact) and node.path in self.facts:
            found = self.facts[node.path].extra.get(part)
            if found is not None:
                return found
        if isinstance(node, ir.It | ir.ItField) and z3.is_expr(value):
            found = self.parts.get(value.sexpr(), {}).get(part)
            if found is not None:
                return found
        self.approximate.append(f"the {part} of {ir.render(node)}")
        return self.fresh(z3.IntSort(), part)

    def born(self, node: ir.Node, s: Sym) -> Any:
        if node.ty.domain == "cn_id":
            return self.domain(node, "born", s.v)
        return s.v

    # ---- the outcome ----
    def status(self, rule: str) -> dict[str, Any]:
        if rule not in self._status:
            s = self.rules[rule]
            self._status[rule] = {
                "passed": z3.And(s.ok, s.v),
                "failed": z3.And(s.ok, z3.Not(s.v)),
                "error": s.err,
                "unknown": z3.And(z3.Not(s.ok), z3.Not(s.err)),
            }
        return self._status[rule]

    def clean(self) -> Any:
        """Every required fact given, none invalid."""
        return self._clean

    def approves(self) -> Any:
        return self._approves

    def all_valid(self) -> Any:
        """Every input fact given and valid (optional ones too): the facts a rule can read."""
        return self._all_valid

    @functools.cached_property
    def _clean(self) -> Any:
        parts = [z3.Not(f.invalid) for f in self.facts.values()]
        parts += [f.given for f in self.facts.values() if not f.spec.optional]
        return z3.And(*parts)

    @functools.cached_property
    def _approves(self) -> Any:
        outputs = [self.values[p].ok for p in self.matter.outputs]
        passed = [self.status(r)["passed"] for r in self.rules]
        return z3.And(self.clean(), *passed, *outputs)

    @functools.cached_property
    def _all_valid(self) -> Any:
        return z3.And(*[f.given for f in self.facts.values()])


def declared_alike(a: FactSpec, b: FactSpec) -> bool:
    """Whether two declarations accept the same values (optional or not, labelled or not)."""
    ignored = {"optional", "label", "description", "pii", "source", "output"}
    return bool(a.model_dump(exclude=ignored) == b.model_dump(exclude=ignored))


class _UnsupportedError(Exception):
    pass


_SCALARS = (bool, int, Decimal, Fraction, dt.date, str, tuple)
_IDENTIFIERS = ("cn_id", "uscc")


def _reads_an_identifier_as_text(node: ir.Node) -> bool:
    """Whether an operation reads a citizen ID number or a credit code as a string: the encoding
    keeps an ID number's birth date and sequence (and a credit code's identity), not its text."""
    if isinstance(node, ir.Compare | ir.In | ir.Lookup):
        return any(c.ty.domain in _IDENTIFIERS for c in node.children())
    if isinstance(node, ir.Call) and node.func in ("len", "min", "max"):
        return any(a.ty.domain in _IDENTIFIERS for a in node.args)
    return False


def _bounded_decimal(v: Any, places: int, fresh: Any) -> Any:
    """`v` is a decimal of at most 28 significant digits and `places` decimal places."""
    cases = []
    for k in range(places + 1):
        n = fresh(z3.IntSort(), f"dec{k}")
        cases.append(z3.And(v * 10**k == z3.ToReal(n), n < 10**DECIMAL_DIGITS, n > -(10**28)))
    return z3.Or(*cases)
