"""The value model of numbers: exact arithmetic, bounded sizes, never the caller's decimal context.

Every engine (the interpreter, the native backend's generated code, hoisting for durable) does
arithmetic through these functions only:

- `add`, `sub`, `mul`, `neg` are exact. Decimals are computed in a private context that traps
  `Inexact`, so a result that would need rounding raises instead of being silently rounded;
- `divide` is exact whenever the quotient has at most `MAX_DIGITS` significant digits; a quotient
  that does not terminate (`1 / 3`) is *approximate*: correctly rounded to `APPROX_DIGITS`
  significant digits (half to even) in the fixed private context `APPROX`;
- `power` with a whole exponent is exact (within the bounds); with a fractional exponent it is
  approximate, computed in the fixed private context `APPROX`;
- a result with more than `MAX_DIGITS` significant digits or an adjusted exponent beyond
  ±`MAX_EXPONENT` raises `ArithmeticError`, which the engines turn into ERROR (so: refer). The
  bound is checked *before* an expensive power is computed;
- comparisons of int and Decimal are exact in Python whatever the context, and need nothing here.

`decimal.getcontext()` is never read: the results do not depend on the calling thread.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

MAX_DIGITS = 1000
"""Significant digits an operation may produce."""
MAX_EXPONENT = 9999
"""Largest adjusted decimal exponent (in absolute value) an operation may produce."""

_TRAPS = [
    decimal.Inexact,
    decimal.Rounded,
    decimal.Overflow,
    decimal.Underflow,
    decimal.Subnormal,
    decimal.InvalidOperation,
    decimal.DivisionByZero,
    decimal.Clamped,
    decimal.FloatOperation,
]
EXACT = decimal.Context(
    prec=MAX_DIGITS,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=MAX_EXPONENT,
    Emin=-MAX_EXPONENT,
    capitals=1,
    clamp=0,
    flags=[],
    traps=_TRAPS,
)
"""Exact-or-raise: any rounding is an exception."""
APPROX_DIGITS = 28
"""Significant digits of an approximate result (a non-terminating quotient, a fractional power)."""
APPROX = decimal.Context(
    prec=APPROX_DIGITS,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=MAX_EXPONENT,
    Emin=-MAX_EXPONENT,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[t for t in _TRAPS if t not in (decimal.Inexact, decimal.Rounded)],
)
"""For the approximate operations: correctly rounded to APPROX_DIGITS digits, deterministic."""
_ROUNDING = APPROX.copy()
_ROUNDING.prec = MAX_DIGITS

MAX_POWER_EXPONENT = 1000
"""`**` with an exponent beyond ±1000 is an error, whatever the base."""

_INT_BOUND = 10**MAX_DIGITS
_INT_BITS = _INT_BOUND.bit_length()


class NumberTooLargeError(OverflowError):
    """An operation would produce a number beyond the documented bounds."""


def _int(n: int) -> int:
    if -_INT_BOUND < n < _INT_BOUND:
        return n
    raise NumberTooLargeError(f"a result of more than {MAX_DIGITS} digits")


def _dec(x: int | Decimal) -> Decimal:
    return x if isinstance(x, Decimal) else EXACT.create_decimal(x)


def _checked(ctx: decimal.Context, op: Any, *args: Decimal) -> Decimal:
    """`op` in a fresh copy of `ctx` (flags are per call, so threads never share them)."""
    local = ctx.copy()
    try:
        return op(local, *args)  # type: ignore[no-any-return]
    except (decimal.Inexact, decimal.Rounded, decimal.Overflow, decimal.Underflow) as exc:
        raise NumberTooLargeError(
            f"a result beyond {MAX_DIGITS} digits or 1e±{MAX_EXPONENT}"
        ) from exc


def _both_int(a: Any, b: Any) -> bool:
    return type(a) is int and type(b) is int


def add(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    if isinstance(a, int) and isinstance(b, int):
        return _int(a + b)
    return _checked(EXACT, decimal.Context.add, _dec(a), _dec(b))


def sub(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    if isinstance(a, int) and isinstance(b, int):
        return _int(a - b)
    return _checked(EXACT, decimal.Context.subtract, _dec(a), _dec(b))


def mul(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    if isinstance(a, int) and isinstance(b, int):
        return _int(a * b)
    return _checked(EXACT, decimal.Context.multiply, _dec(a), _dec(b))


def neg(a: int | Decimal) -> int | Decimal:
    if type(a) is int:
        return -a
    return _checked(EXACT, decimal.Context.minus, _dec(a))


def divide(a: int | Decimal, b: int | Decimal) -> Decimal:
    """Exact when the quotient terminates within MAX_DIGITS digits, else correctly rounded."""
    if b == 0:
        raise ZeroDivisionError("division by zero")
    x, y = _dec(a), _dec(b)
    try:
        return EXACT.copy().divide(x, y)
    except (decimal.Inexact, decimal.Rounded):
        return _checked(APPROX, decimal.Context.divide, x, y)
    except (decimal.Overflow, decimal.Underflow) as exc:
        raise NumberTooLargeError("a quotient beyond the bounds of a number") from exc


def power(base: Any, exponent: Any) -> Any:
    """`base ** exponent`: exact for whole exponents, approximate otherwise; bounded size."""
    whole = type(exponent) is int or (
        isinstance(exponent, Decimal) and exponent == exponent.to_integral_value()
    )
    if abs(exponent) > MAX_POWER_EXPONENT:
        raise NumberTooLargeError(f"an exponent beyond ±{MAX_POWER_EXPONENT}")
    if base == 0:
        if exponent < 0:
            raise ZeroDivisionError("zero to a negative power")
        if _both_int(base, exponent):
            return 0 if exponent else 1
        return Decimal(0) if exponent else Decimal(1)
    # the size of the result, estimated before computing it
    magnitude = Decimal(abs(base)).adjusted() + 1
    too_large = abs(exponent) * max(abs(magnitude), 1) > 2 * (MAX_EXPONENT + MAX_DIGITS)
    if too_large and not (abs(base) == 1 and whole):
        raise NumberTooLargeError("power beyond the bounds of a number")
    if _both_int(base, exponent) and exponent >= 0:
        e = int(exponent)
        if (abs(base).bit_length() - 1) * e > _INT_BITS:  # a lower bound of log2 |result|
            raise NumberTooLargeError(f"a result of more than {MAX_DIGITS} digits")
        return _int(base**e)
    if whole and exponent >= 0:
        return _checked(EXACT, decimal.Context.power, _dec(base), _dec(int(exponent)))
    if whole:
        return _checked(APPROX, decimal.Context.power, _dec(base), _dec(int(exponent)))
    if base < 0:
        raise ArithmeticError("a negative number to a fractional power")
    return _checked(APPROX, decimal.Context.power, _dec(base), _dec(exponent))


def literal(text: str) -> Decimal:
    """A decimal literal read from its source text; beyond the bounds it raises ValueError."""
    try:
        value = EXACT.copy().create_decimal(text.replace("_", ""))
    except decimal.DecimalException as exc:
        raise ValueError(
            f"the number {text} is beyond {MAX_DIGITS} digits or exponent ±{MAX_EXPONENT}"
        ) from exc
    if not value.is_finite():
        raise ValueError(f"{text} is not a finite number")
    return value


def quantize(x: Decimal, quantum: Decimal, rounding: str) -> Decimal:
    """`x` rounded to the exponent of `quantum` in the private context (never the caller's)."""
    ctx = _ROUNDING.copy()
    ctx.rounding = rounding
    try:
        return ctx.quantize(x, quantum)
    except decimal.InvalidOperation as exc:
        raise NumberTooLargeError("rounding beyond the bounds of a number") from exc


def total(xs: Any) -> int | Decimal:
    """`sum` of a list of numbers, exact like `add`."""
    acc: int | Decimal = 0
    for x in xs:
        acc = add(acc, x)
    return acc


def absolute(x: int | Decimal) -> int | Decimal:
    if type(x) is int:
        return abs(x)
    return _checked(EXACT, decimal.Context.abs, _dec(x))


# ---- list values --------------------------------------------------------------------------------
# A list fact arrives as a Python list, a list literal is held as a tuple: equality and membership
# compare both as the same canonical value (a tuple, recursively), so `[1, 2]` equals `[1, 2]`
# whichever side it came from.


def canonical(x: Any) -> Any:
    """The canonical form of a value: lists and tuples become tuples, recursively."""
    if isinstance(x, list | tuple):
        return tuple(canonical(i) for i in x)
    return x


def eq(a: Any, b: Any) -> bool:
    return bool(canonical(a) == canonical(b))


def ne(a: Any, b: Any) -> bool:
    return bool(canonical(a) != canonical(b))


def contains(container: Any, item: Any) -> bool:
    """`item in container` for a string, a list (fact or literal) or a literal's frozenset."""
    if isinstance(container, str):
        return item in container
    item = canonical(item)
    if isinstance(container, frozenset):
        return item in container
    return any(canonical(x) == item for x in container)


def not_contains(container: Any, item: Any) -> bool:
    return not contains(container, item)
