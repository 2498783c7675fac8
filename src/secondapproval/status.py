"""What one rule came to, named once: the status codes every backend returns, and their names.

An evaluator returns one small int per rule (`FAILED`, `PASSED`, `UNKNOWN`, `ERROR`), the compact
form the hot path and the audit record carry; `Status` is its readable form in a `RuleResult`,
and `STATUS_OF[code]` turns one into the other. The two *values* of three-valued evaluation that
lead to the last two codes are `lang.kleene.UNKNOWN_VALUE` and `lang.kleene.ERROR_VALUE`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

FAILED: Final = 0
PASSED: Final = 1
UNKNOWN: Final = 2
"""The rule depends on a fact that is missing or invalid."""
ERROR: Final = 3
"""The rule could not be evaluated on valid facts (a failed lookup, division by zero)."""


class Status(StrEnum):
    """What one rule came to, readable: the name of its status code."""

    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    ERROR = "error"


STATUS_OF: Final = (Status.FAILED, Status.PASSED, Status.UNKNOWN, Status.ERROR)
"""The `Status` of each code, by code."""
