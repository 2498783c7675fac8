"""durable_rules used directly, two ways: one rule whose match approves (an event: the fastest
form), and one rule per condition, the application asserted as a fact so that every rule it
passes fires (the per-rule results secondapproval also gives), then retracted.

durable_rules compares loosely ("3" <= 35 and true <= 35 match) and cannot test a value's type
or the set of keys, so the strict validation runs in Python in front (the hand-written one).
"""

from __future__ import annotations

import itertools
from typing import Any

from durable.lang import assert_fact, m, post, retract_fact, ruleset, when_all

from . import Peer
from .handwritten import valid
from .reference import AGE_LIMIT

_names = itertools.count()


def _not_handled(exc: Exception) -> bool:
    """durable raises this when no rule matched what was posted or asserted."""
    return type(exc).__name__ == "MessageNotHandledException"


def _age_within_limit() -> Any:
    by_degree = None
    for degree, limit in AGE_LIMIT.items():
        clause = (m.degree == degree) & (m.age <= limit)
        by_degree = clause if by_degree is None else by_degree | clause
    return by_degree


def peer() -> Peer:
    name = f"talent_reference_{next(_names)}"
    approved: list[bool] = []
    by_degree = _age_within_limit()
    with ruleset(name):

        @when_all(
            by_degree
            & (m.graduated_years_ago <= 2)
            & (m.has_degree_certificate == True)  # noqa: E712 (durable_rules' DSL)
            & (m.social_insurance_months >= 0)
            & (m.criminal_record == False)  # noqa: E712
        )
        def approve(c: Any) -> None:
            approved.append(True)

    def decide(app: dict[str, Any]) -> bool:
        if not valid(app):
            return False
        approved.clear()
        try:
            post(name, app)
        except Exception as exc:
            if not _not_handled(exc):
                raise
            return False
        return bool(approved)

    return Peer("durable_rules", decide, "strict types and keys checked in Python (hand-written)")


def _recorder(passed: set[int], i: int) -> Any:
    """A rule action that records rule i as passed (durable names rules after their action)."""

    def action(c: Any) -> None:
        passed.add(i)

    action.__name__ = f"rule_{i}"
    return action


def peer_per_rule() -> Peer:
    name = f"talent_reference_rules_{next(_names)}"
    passed: set[int] = set()
    conditions = [
        (m.degree == "bachelor") | (m.degree == "master") | (m.degree == "doctor"),
        _age_within_limit(),
        m.graduated_years_ago <= 2,
        m.has_degree_certificate == True,  # noqa: E712 (durable_rules' DSL)
        m.social_insurance_months >= 0,
        m.criminal_record == False,  # noqa: E712
    ]
    with ruleset(name):
        for i, condition in enumerate(conditions):
            when_all(condition)(_recorder(passed, i))

    def decide(app: dict[str, Any]) -> bool:
        if not valid(app):
            return False
        passed.clear()
        for step in (assert_fact, retract_fact):
            try:
                step(name, app)
            except Exception as exc:
                if not _not_handled(exc):
                    raise
        return len(passed) == len(conditions)

    return Peer(
        "durable_rules, per-rule facts",
        decide,
        "one rule per condition, assert + retract; types and keys checked in Python",
    )
