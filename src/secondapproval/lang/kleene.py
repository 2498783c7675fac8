"""The two non-values of three-valued evaluation.

`UNKNOWN_VALUE`: the value depends on a fact that is missing or invalid. `ERROR_VALUE`: evaluation
failed on valid facts (a lookup with no such key, division by zero). Both propagate through every
operator;
`and`/`or` and the quantifiers follow Kleene's logic, with ERROR ranking above UNKNOWN:

    or : any true → true;  else any ERROR → ERROR;  else any UNKNOWN → UNKNOWN;  else false
    and: any false → false; else any ERROR → ERROR; else any UNKNOWN → UNKNOWN; else true

so the result never depends on the order of operands. Strict operators: any ERROR operand →
ERROR, else any UNKNOWN operand → UNKNOWN.
"""

from __future__ import annotations

from typing import Final

from ..status import ERROR, FAILED, PASSED, UNKNOWN


class _Sentinel:
    """A non-value: it prints as `name` and pickles as the module global `symbol`."""

    __slots__ = ("name", "symbol")

    def __init__(self, name: str, symbol: str | None = None) -> None:
        self.name = name
        self.symbol = symbol or name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        raise TypeError(f"{self.name} has no truth value")

    def __reduce__(self) -> str:
        return self.symbol


UNKNOWN_VALUE: Final = _Sentinel("UNKNOWN", "UNKNOWN_VALUE")
ERROR_VALUE: Final = _Sentinel("ERROR", "ERROR_VALUE")


def status_code(value: object) -> int:
    """A rule's status code (`secondapproval.status`) from its value."""
    if value is True:
        return PASSED
    if value is False:
        return FAILED
    return ERROR if value is ERROR_VALUE else UNKNOWN
