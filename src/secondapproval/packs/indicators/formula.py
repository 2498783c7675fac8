"""Component formulas: expression-language text over `value`, `best` and `worst`, compiled once.

A formula is parsed and type-checked by `lang`, then compiled by the native backend's code
emitter into a three-valued Python function over Decimals (an unknown or failed evaluation is a
`FormulaError`). Arithmetic inside a formula is exact; a result that is a non-terminating exact
quotient (a `Fraction`, e.g. `value / 3`) is converted to a Decimal here, at the edge, and is
then *approximate*: correctly rounded to `numbers.APPROX_DIGITS` digits in `numbers.APPROX`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ...backends.native import compile_expression
from ...errors import SecondApprovalError
from ...lang import ir, numbers
from ...lang.check import check
from ...lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from ...lang.parser import parse
from ...lang.types import DECIMAL

NAMES = ("value", "best", "worst")
_SCHEMA = dict.fromkeys(NAMES, DECIMAL)
_EPOCH = dt.date(2000, 1, 1)


class FormulaError(SecondApprovalError, ArithmeticError):
    """A formula could not be evaluated on a value (e.g. a power of a negative number)."""


@dataclass(frozen=True, slots=True)
class Formula:
    """A checked formula and its compiled form."""

    name: str
    text: str
    node: ir.Node
    _compiled: Callable[[dict[str, Any], Any], Any] = field(repr=False, compare=False)

    def __call__(self, value: Decimal, best: Decimal, worst: Decimal) -> Decimal:
        result = self._compiled({"value": value, "best": best, "worst": worst}, _EPOCH)
        if isinstance(result, Fraction):
            result = numbers.approximate(result)
        if (
            result is ERROR_VALUE
            or result is UNKNOWN_VALUE
            or not isinstance(result, int | Decimal)
        ):
            raise FormulaError(f"formula {self.name!r} failed on value {value}")
        return Decimal(result)


def compile_formula(name: str, text: str) -> tuple[Formula | None, list[str]]:
    """The compiled formula, or None and the problems (each with its column in the text)."""
    node, syntax = parse(text)
    if syntax:
        return None, [f"column {p.column}: {p.message}" for p in syntax]
    typed, problems = check(node, _SCHEMA, DECIMAL)
    if problems:
        return None, [f"column {p.column}: {p.message}" for p in problems]
    return Formula(name, text, typed, compile_expression(typed, f"formula {name}")), []
