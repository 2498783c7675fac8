"""A second, plain-Python evaluator of the rule expression language, written from docs/language.md.

It reads an expression's *text* with Python's `ast` and evaluates it by the documented semantics
alone — nothing from `secondapproval.lang` or the backends — so that the differential test
(tests/test_oracle.py) can hold native, durable and the interpreter against what the docs promise:

- numbers are exact: `+ - * /` and comparisons on `fractions.Fraction` (an int stays an int);
  a decimal literal is read from its text, never through a float;
- `/` by zero, a lookup with no such key, an exponent above 1000, a date out of range: ERROR;
- a missing fact: UNKNOWN; strict operators and functions: any ERROR → ERROR, else any
  UNKNOWN → UNKNOWN; `and`/`or`/`not` (and the quantifiers) are Kleene's, ERROR above UNKNOWN.

Where docs/language.md is silent the choice made here is marked `# docs silent:` — a
disagreement there is a question for the docs, not necessarily a bug.
"""

from __future__ import annotations

import ast
import calendar
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any


class _Mark:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNKNOWN = _Mark("UNKNOWN")
ERROR = _Mark("ERROR")
MAX_EXPONENT = 1000


class _EvalError(Exception):
    """Evaluation failed on valid values: the result is ERROR."""


def _strict(args: Sequence[Any]) -> Any:
    """ERROR if any argument is ERROR, else UNKNOWN if any is UNKNOWN, else None."""
    if any(a is ERROR for a in args):
        return ERROR
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    return None


def kleene_or(values: Sequence[Any]) -> Any:
    if any(v is True for v in values):
        return True
    return _strict(values) or False


def kleene_and(values: Sequence[Any]) -> Any:
    if any(v is False for v in values):
        return False
    return _strict(values) or True


def kleene_not(value: Any) -> Any:
    return value if value is UNKNOWN or value is ERROR else not value


def _number(value: Any) -> int | Fraction:
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return value
    return Fraction(value)


def _exact(x: int | Fraction) -> int | Fraction:
    return x.numerator if isinstance(x, Fraction) and x.denominator == 1 else x


# ---- dates -------------------------------------------------------------------------------------
def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise _EvalError("date out of range")
    return dt.date(year, month + 1, min(day.day, _last_day(year, month + 1)))


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def add_days(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        raise _EvalError("date out of range") from None


def years_between(a: dt.date, b: dt.date) -> int:
    """Completed years from a to b (docs silent for b before a: the same formula, floored)."""
    return b.year - a.year - ((b.month, b.day) < (a.month, a.day))


def months_between(a: dt.date, b: dt.date) -> int:
    """Completed months (docs silent on month ends: a month is complete on the same day number)."""
    return (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)


def birth_date(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def sex_of(id_number: str) -> str:
    return "male" if int(id_number[16]) % 2 else "female"


def age_on(born: dt.date | str, day: dt.date) -> int:
    return years_between(birth_date(born) if isinstance(born, str) else born, day)


# ---- numbers -----------------------------------------------------------------------------------
def round_away(x: int | Fraction, digits: int = 0) -> int | Fraction:
    """Half away from zero, at `digits` places; `round(x)` a whole number."""
    scale = Fraction(10) ** digits
    q = abs(Fraction(x) * scale)
    whole = int(q)
    if q - whole >= Fraction(1, 2):
        whole += 1
    result = Fraction(whole if x >= 0 else -whole) / scale
    return _exact(result)


def power(base: int | Fraction, exponent: int | Fraction) -> int | Fraction:
    if exponent > MAX_EXPONENT:
        raise _EvalError("exponent above 1000")
    if isinstance(exponent, Fraction) and exponent.denominator != 1:
        raise NotImplementedError("approximate: the oracle does not judge it")
    e = int(exponent)
    if base == 0 and e < 0:
        raise _EvalError("zero to a negative power")  # docs silent: division by zero is an error
    if isinstance(base, int) and e >= 0:
        return _within_bounds(base**e)
    result = _within_bounds(Fraction(base) ** e)
    if e > DIGITS_OF_A_SAFE_POWER:
        # docs: "no operation may produce a number of more than 1,000 significant digits"; docs
        # silent on whether a decimal's trailing zeros (1.0 ** 1000) count: not judged
        raise NotImplementedError("a decimal power near the bounds: the oracle does not judge it")
    return result


MAX_DIGITS = 1000
DIGITS_OF_A_SAFE_POWER = 17
"""A decimal to a power above this may carry more than 1,000 digits in its written form (a
56-digit product to the 18th) even where its value has fewer."""


def _within_bounds(x: int | Fraction) -> int | Fraction:
    """docs: beyond 1,000 significant digits or a decimal exponent beyond ±9,999, an error."""
    if isinstance(x, int) or x.denominator == 1:
        if abs(x) >= 10**MAX_DIGITS:
            raise _EvalError("more than 1,000 digits")
        return x
    num, den = abs(x.numerator), x.denominator
    if len(str(num)) > MAX_DIGITS or len(str(den)) > MAX_DIGITS:
        raise _EvalError("more than 1,000 digits")
    return x


def _minmax(pick: Callable[..., Any]) -> Callable[..., Any]:
    def f(*args: Any) -> Any:
        items = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
        if not items:
            raise _EvalError("min/max of an empty list")  # docs silent
        return pick(items)

    return f


def clip(x: Any, lo: Any, hi: Any) -> Any:
    if lo > hi:
        # docs silent: an empty interval fails on valid facts, so ERROR (what every backend does;
        # reported so that docs/language.md says it).
        raise _EvalError("clip with lo > hi")
    return min(max(x, lo), hi)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "age_on": age_on,
    "years_between": years_between,
    "months_between": months_between,
    "days_between": lambda a, b: (b - a).days,
    "add_days": add_days,
    "add_months": add_months,
    "add_years": add_years,
    "birth_date": birth_date,
    "sex_of": sex_of,
    "len": len,
    "min": _minmax(min),
    "max": _minmax(max),
    "sum": lambda xs: _exact(sum((Fraction(x) for x in xs), Fraction(0))),
    "abs": abs,
    "round": round_away,
    "clip": clip,
}


def _compare(op: ast.cmpop, a: Any, b: Any) -> bool:
    if isinstance(op, ast.In):
        return a in b
    if isinstance(op, ast.NotIn):
        return a not in b
    ops: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
        ast.Eq: lambda x, y: x == y,
        ast.NotEq: lambda x, y: x != y,
        ast.Lt: lambda x, y: x < y,
        ast.LtE: lambda x, y: x <= y,
        ast.Gt: lambda x, y: x > y,
        ast.GtE: lambda x, y: x >= y,
    }
    return ops[type(op)](a, b)


def _arith(op: ast.operator, a: Any, b: Any) -> Any:
    if isinstance(op, ast.Add):
        return _exact(a + b) if not isinstance(a, int) or not isinstance(b, int) else a + b
    if isinstance(op, ast.Sub):
        return _exact(a - b) if not isinstance(a, int) or not isinstance(b, int) else a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.Div):
        if b == 0:
            raise _EvalError("division by zero")
        return Fraction(a) / Fraction(b)
    if isinstance(op, ast.Pow):
        return power(a, b)
    raise ValueError(f"not in the language: {type(op).__name__}")


class Oracle:
    """Evaluates one expression text on facts (dotted path → value; absent = missing)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tree = ast.parse(text, mode="eval").body

    def __call__(self, facts: Mapping[str, Any], on: dt.date) -> Any:
        self.facts = facts
        self.on = on
        return self.eval(self.tree, None)

    def eval(self, node: ast.expr, it: Any) -> Any:
        try:
            return self._eval(node, it)
        except _EvalError:
            return ERROR

    def _eval(self, node: ast.expr, it: Any) -> Any:
        match node:
            case ast.BoolOp(op=ast.And(), values=values):
                return kleene_and([self.eval(v, it) for v in values])
            case ast.BoolOp(op=ast.Or(), values=values):
                return kleene_or([self.eval(v, it) for v in values])
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return kleene_not(self.eval(operand, it))
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                x = self.eval(operand, it)
                return _strict([x]) or -x
            case ast.Compare(left=left, ops=ops, comparators=rights):
                # A chain `a < b < c` is `a < b and b < c` (Kleene `and`; docs silent).
                operands = [self.eval(e, it) for e in [left, *rights]]
                pairs = [
                    _strict([a, b]) or _compare(op, a, b)
                    for op, a, b in zip(ops, operands, operands[1:], strict=False)
                ]
                return kleene_and(pairs)
            case ast.BinOp(op=op, left=left, right=right):
                a, b = self.eval(left, it), self.eval(right, it)
                return _strict([a, b]) or _arith(op, a, b)
            case ast.Call(func=ast.Name(id=("any_of" | "all_of") as name), args=[items, pred]):
                xs = self.eval(items, it)
                if xs is UNKNOWN or xs is ERROR:
                    return xs
                results = [self.eval(pred, x) for x in xs]
                return kleene_or(results) if name == "any_of" else kleene_and(results)
            case ast.Call(func=ast.Name(id="count"), args=[items, pred]):
                # "the number of items for which p is true; unknown when p is unknown for an
                # item, an error when p errs on one" (errors rank above unknown)
                xs = self.eval(items, it)
                if xs is UNKNOWN or xs is ERROR:
                    return xs
                results = [self.eval(pred, x) for x in xs]
                return _strict(results) or sum(1 for r in results if r is True)
            case ast.Call(func=ast.Name(id=("present" | "absent") as name), args=[arg]):
                # "present(x) is true when the fact has a valid value"; of `it.f`, when the
                # item gives the field
                if isinstance(arg, ast.Attribute) and _is_it(arg.value):
                    given = arg.attr in it
                else:
                    given = self.fact(arg) is not UNKNOWN
                return given if name == "present" else not given
            case ast.Call(func=ast.Name(id="date"), args=[ast.Constant(value=str(text))]):
                return dt.date.fromisoformat(text)
            case ast.Call(func=ast.Name(id=name), args=args):
                values = [self.eval(a, it) for a in args]
                return _strict(values) or FUNCTIONS[name](*values)
            case ast.Subscript(value=ast.Dict(keys=keys, values=vals), slice=key):
                k = self.eval(key, it)
                if k is UNKNOWN or k is ERROR:
                    return k
                pairs = zip(keys, vals, strict=True)
                table = {self._eval(a, it): self._eval(b, it) for a, b in pairs}  # type: ignore[arg-type]
                if k not in table:
                    raise _EvalError("no such key")
                return table[k]
            case ast.List(elts=elts):
                items = [self.eval(e, it) for e in elts]
                return _strict(items) or tuple(items)
            case ast.Constant(value=bool(b)):
                return b
            case ast.Constant(value=int(n)):
                return n
            case ast.Constant(value=float()):
                text = ast.get_source_segment(self.text, node)
                assert text is not None
                return Fraction(text)  # read from its text, never through a float
            case ast.Constant(value=str(s)):
                return s
            case ast.Name(id="decision_date"):
                return self.on
            case ast.Name(id="it"):
                return it
            case ast.Attribute(value=ast.Name(id="it"), attr=field):
                # "reading [an optional field] it leaves out is unknown"
                return _typed(it[field]) if field in it else UNKNOWN
            case ast.Name() | ast.Attribute():
                return self.fact(node)
        raise ValueError(f"not in the language: {ast.dump(node)}")

    def fact(self, node: ast.expr) -> Any:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        assert isinstance(node, ast.Name)
        path = ".".join([node.id, *reversed(parts)])
        if path not in self.facts:
            return UNKNOWN
        value = self.facts[path]
        if isinstance(value, list):
            return tuple(v if isinstance(v, dict) else _typed(v) for v in value)
        return _typed(value)


def _typed(value: Any) -> Any:
    return _exact(Fraction(value)) if isinstance(value, Decimal) else value


def _is_it(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "it"


def status(value: Any) -> str:
    """A rule's status from its value, as `RuleResult.to_dict()` spells it."""
    if value is True:
        return "passed"
    if value is False:
        return "failed"
    return "error" if value is ERROR else "unknown"
