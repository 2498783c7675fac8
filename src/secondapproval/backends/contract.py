"""The contract between the engine and its backends: a `Backend` compiles a checked `Matter`
into an `Evaluator`.

An evaluator takes the valid facts of one application (dotted path → value; missing and invalid
facts absent) and the decision date; it adds the derived facts to that mapping and returns one
status code per rule, in rule order (`status`), plus the derived facts whose computation
failed. Backends share nothing but the IR, the function library and this contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from ..ruleset import Matter

Evaluator = Callable[[dict[str, Any], dt.date], tuple[tuple[int, ...], frozenset[str]]]


class Backend(Protocol):
    """A way of deciding: compiles a matter version once, then evaluates applications."""

    name: str
    version: str

    def compile(self, matter: Matter) -> Evaluator: ...
