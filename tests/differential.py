"""Helpers of the differential tests: the reference interpreter as a backend, and comparisons.

Three engines decide the same application — the native backend (generated code), the durable
backend (durable_rules) and the tree-walking interpreter — and must agree on the outcome, the
reason codes and every rule's status and the facts it read.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Any

from reference import REFERENCE, RULES
from secondapproval.backends import Evaluator
from secondapproval.decision import Decision
from secondapproval.engine import Engine
from secondapproval.lang import kleene
from secondapproval.lang.interpret import evaluate
from secondapproval.loader import load_matters
from secondapproval.ruleset import Matter
from secondapproval.status import ERROR, FAILED, PASSED, UNKNOWN

BACKENDS = ("native", "durable", "interpreter")


class InterpreterBackend:
    """The reference: every derived fact and rule evaluated by `lang.interpret`."""

    name = "interpreter"
    version = "1"

    def compile(self, matter: Matter) -> Evaluator:
        def evaluator(v: dict[str, Any], on: dt.date) -> tuple[tuple[int, ...], frozenset[str]]:
            errors: frozenset[str] = frozenset()
            for d in matter.derived:
                x = evaluate(d.expr, v, on, errors)
                if isinstance(x, Fraction):  # no exact decimal value: numbers.settled
                    x = kleene.ERROR_VALUE
                if x is kleene.ERROR_VALUE:
                    errors |= {d.path}
                elif x is not kleene.UNKNOWN_VALUE:
                    v[d.path] = x
            return tuple(_status(evaluate(r.expr, v, on, errors)) for r in matter.rules), errors

        return evaluator


def _status(x: Any) -> int:
    if x is True:
        return PASSED
    if x is False:
        return FAILED
    return ERROR if x is kleene.ERROR_VALUE else UNKNOWN


def bundled_matters() -> list[Matter]:
    """Every matter under rules/ and benchmarks/matters/."""
    return load_matters([RULES]) + load_matters([REFERENCE])


def engines(matters: list[Matter]) -> dict[str, Engine]:
    """One engine per backend over the same matters."""
    return {
        "native": Engine(matters, backend="native"),
        "durable": Engine(matters, backend="durable"),
        "interpreter": Engine(matters, backend=InterpreterBackend()),
    }


def folder_engines(rules: Path) -> dict[str, Engine]:
    """One engine per backend over a rules folder, vouching for every source."""
    return {
        "native": Engine(rules, vouch="all"),
        "durable": Engine(rules, backend="durable", vouch="all"),
        "interpreter": Engine(rules, backend=InterpreterBackend(), vouch="all"),
    }


def signature(d: Decision) -> tuple[Any, ...]:
    """What must be identical across backends: outcome, reasons and per-rule results."""
    return (
        str(d.outcome),
        tuple(sorted(d.codes)),
        tuple(r.to_dict()["status"] for r in d.results),
        tuple(repr(r.to_dict()["facts_read"]) for r in d.results),
    )


def disagreement(by_backend: dict[str, Engine], matter: str, facts: Any, on: dt.date) -> str:
    """An empty string when every backend decides alike, else what differs."""
    import copy

    sigs = {
        name: signature(engine.decide(matter, copy.deepcopy(facts), on=on))
        for name, engine in by_backend.items()
    }
    reference = sigs["interpreter"]
    diffs = [f"{name}: {sig}" for name, sig in sigs.items() if sig != reference]
    if not diffs:
        return ""
    return f"{matter} on {on} with {facts!r}:\n  interpreter: {reference}\n  " + "\n  ".join(diffs)
