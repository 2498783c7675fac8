"""The two non-values of three-valued evaluation.

`UNKNOWN`: the value depends on a fact that is missing or invalid. `ERROR`: evaluation failed on
valid facts (a lookup with no such key, division by zero). Both propagate through every operator;
`and`/`or` and the quantifiers follow Kleene's logic, with ERROR ranking above UNKNOWN:

    or : any true → true;  else any ERROR → ERROR;  else any UNKNOWN → UNKNOWN;  else false
    and: any false → false; else any ERROR → ERROR; else any UNKNOWN → UNKNOWN; else true

so the result never depends on the order of operands. Strict operators: any ERROR operand →
ERROR, else any UNKNOWN operand → UNKNOWN.
"""

from __future__ import annotations

from typing import Final


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        raise TypeError(f"{self.name} has no truth value")

    def __reduce__(self) -> str:
        return self.name


UNKNOWN: Final = _Sentinel("UNKNOWN")
ERROR: Final = _Sentinel("ERROR")


def status_code(value: object) -> int:
    """A rule's status code from its value: 0 failed, 1 passed, 2 unknown, 3 error."""
    if value is True:
        return 1
    if value is False:
        return 0
    return 3 if value is ERROR else 2
