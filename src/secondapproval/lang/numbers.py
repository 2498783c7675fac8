"""The value model of numbers: exact arithmetic, bounded sizes, never the caller's decimal context.

Every engine (the interpreter, the native backend's generated code, hoisting for durable) does
arithmetic through these functions only:

- `add`, `sub`, `mul`, `neg` are exact. Decimals are computed in a private context that traps
  `Inexact`, so a result that would need rounding raises instead of being silently rounded;
- `divide` is exact: a quotient that terminates within `MAX_DIGITS` digits is a Decimal, one that
  does not (`1 / 3`) is an exact `fractions.Fraction`, so `1 / 3 * 3 == 1`. Every operation here
  accepts Fractions and normalizes its result (`_norm`): a Fraction whose value terminates becomes
  a Decimal again, and its numerator and denominator are
  bounded to `MAX_DIGITS` digits. A Fraction lives inside one evaluation only: a derived fact
  whose value is a non-terminating Fraction is an ERROR (`settled`), durable_rules never sees one
  (comparisons over a division are hoisted whole), and the indicator formulas turn one into a
  Decimal with `approximate`;
- `power` with a whole exponent is exact (within the bounds); with a fractional exponent it is
  approximate, computed in the fixed private context `APPROX`;
- a result with more than `MAX_DIGITS` significant digits or an adjusted exponent beyond
  ±`MAX_EXPONENT` raises `ArithmeticError`, which the engines turn into ERROR (so: refer). The
  bound is checked *before* an expensive power is computed;
- comparisons of int, Decimal and Fraction are exact in Python whatever the context, and need
  nothing here.

`decimal.getcontext()` is never read: the results do not depend on the calling thread.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
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
# For the approximate operations: EXACT, but correctly rounded to APPROX_DIGITS digits.
APPROX = EXACT.copy()
APPROX.prec = APPROX_DIGITS
APPROX.traps[decimal.Inexact] = APPROX.traps[decimal.Rounded] = False
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
    if isinstance(x, Decimal):
        return x
    try:
        return EXACT.copy().create_decimal(x)
    except (decimal.Inexact, decimal.Rounded) as exc:  # an int of more than MAX_DIGITS digits
        raise NumberTooLargeError(f"a result of more than {MAX_DIGITS} digits") from exc


def _checked(ctx: decimal.Context, op: Any, *args: Decimal) -> Decimal:
    """`op` in a fresh copy of `ctx` (flags are per call, so threads never share them)."""
    local = ctx.copy()
    try:
        return op(local, *args)  # type: ignore[no-any-return]
    except (
        decimal.Inexact,
        decimal.Rounded,
        decimal.Overflow,
        decimal.Underflow,
        decimal.Subnormal,
    ) as exc:
        raise NumberTooLargeError(
            f"a result beyond {MAX_DIGITS} digits or 1e±{MAX_EXPONENT}"
        ) from exc


def _both_int(a: Any, b: Any) -> bool:
    return type(a) is int and type(b) is int


Number = int | Decimal | Fraction


def _frac(x: Number) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(x)


def _terminates(q: int) -> bool:
    """Whether 1/q has a terminating decimal expansion (q has no prime factor but 2 and 5)."""
    q >>= (q & -q).bit_length() - 1
    while q % 5 == 0:
        q //= 5
    return q == 1


def _norm(f: Fraction) -> Number:
    """A Fraction result in its canonical form: a Decimal if it terminates, else the Fraction."""
    p, q = f.numerator, f.denominator
    if _terminates(q):
        return _checked(EXACT, decimal.Context.divide, _dec(_int(p)), _dec(q))
    _int(p)
    _int(q)
    return f


def add(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return _int(a + b)
    if isinstance(a, Fraction) or isinstance(b, Fraction):
        return _norm(_frac(a) + _frac(b))
    return _checked(EXACT, decimal.Context.add, _dec(a), _dec(b))


def sub(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return _int(a - b)
    if isinstance(a, Fraction) or isinstance(b, Fraction):
        return _norm(_frac(a) - _frac(b))
    return _checked(EXACT, decimal.Context.subtract, _dec(a), _dec(b))


def mul(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return _int(a * b)
    if isinstance(a, Fraction) or isinstance(b, Fraction):
        return _norm(_frac(a) * _frac(b))
    return _checked(EXACT, decimal.Context.multiply, _dec(a), _dec(b))


def neg(a: Number) -> Number:
    if type(a) is int:
        return -a
    if isinstance(a, Fraction):
        return -a
    return _checked(EXACT, decimal.Context.minus, _dec(a))


def divide(a: Number, b: Number) -> Number:
    """Exact: a Decimal when the quotient terminates within MAX_DIGITS digits, else a Fraction."""
    if b == 0:
        raise ZeroDivisionError("division by zero")
    if isinstance(a, Fraction) or isinstance(b, Fraction):
        return _norm(_frac(a) / _frac(b))
    x, y = _dec(a), _dec(b)
    try:
        return EXACT.copy().divide(x, y)
    except (decimal.Overflow, decimal.Underflow, decimal.Subnormal) as exc:  # before Inexact:
        raise NumberTooLargeError("a quotient beyond the bounds of a number") from exc  # its kind
    except (decimal.Inexact, decimal.Rounded):
        return _norm(Fraction(x) / Fraction(y))


def approximate(x: Number) -> int | Decimal:
    """`x` as an int or Decimal: a Fraction correctly rounded to APPROX_DIGITS digits (APPROX)."""
    if isinstance(x, Fraction):
        return _checked(APPROX, decimal.Context.divide, _dec(x.numerator), _dec(x.denominator))
    return x


def settled(x: Any) -> Any:
    """`x` as a value that may leave an evaluation: a non-terminating Fraction raises."""
    if isinstance(x, Fraction):
        raise ArithmeticError(f"{x} has no exact decimal value")
    return x


def power(base: Any, exponent: Any) -> Any:
    """`base ** exponent`: exact for whole exponents, approximate otherwise; bounded size."""
    if isinstance(exponent, Fraction):
        exponent = approximate(exponent)  # never whole: a whole Fraction is normalized away
    if isinstance(base, Fraction):
        return _fraction_power(base, exponent)
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
    if abs(exponent) * max(abs(magnitude), 1) > 2 * (MAX_EXPONENT + MAX_DIGITS):
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


def _fraction_power(base: Fraction, exponent: int | Decimal) -> Number:
    whole = isinstance(exponent, int) or exponent == exponent.to_integral_value()
    if not -MAX_POWER_EXPONENT <= exponent <= MAX_POWER_EXPONENT:
        raise NumberTooLargeError(f"an exponent beyond ±{MAX_POWER_EXPONENT}")
    if not whole:
        if base < 0:
            raise ArithmeticError("a negative number to a fractional power")
        result: Number = power(approximate(base), exponent)
        return result
    e = int(exponent)
    p, q = abs(base.numerator), base.denominator
    if max(p.bit_length() - 1, q.bit_length() - 1) * abs(e) > _INT_BITS:
        raise NumberTooLargeError(f"a result of more than {MAX_DIGITS} digits")
    return _norm(base**e)


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


def round_fraction(x: Fraction, digits: int) -> Decimal:
    """`x` rounded half away from zero to `digits` decimal places, exactly (integer arithmetic).

    A normalized Fraction never terminates, so it is never exactly halfway between two results.
    """
    scaled = x * 10**digits if digits >= 0 else x / 10**-digits
    n, r = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * r >= scaled.denominator:
        n += 1
    _int(n)
    return Decimal((0 if x >= 0 else 1, tuple(map(int, str(n))), -digits))


def total(xs: Any) -> Number:
    """`sum` of a list of numbers, exact like `add`."""
    acc: Number = 0
    for x in xs:
        acc = add(acc, x)
    return acc


def absolute(x: Number) -> Number:
    if isinstance(x, int | Fraction):
        return -x if x < 0 else x
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
