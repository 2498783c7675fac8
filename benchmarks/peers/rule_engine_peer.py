"""rule-engine: the reference decision as one rule with a type resolver for strict types.

The resolver raises on a wrong type or a missing field (caught: refer); null is allowed by
rule-engine for any type, so the rule tests `!= null`. A rule cannot see the set of keys, so
undeclared keys are refused by a Python check in front.
"""

from __future__ import annotations

import json
from typing import Any

import rule_engine

from . import Peer
from .reference import AGE_LIMIT, ELIGIBLE, FIELDS

T = rule_engine.DataType
TYPES = {
    "degree": T.STRING,
    "age": T.FLOAT,
    "graduated_years_ago": T.FLOAT,
    "has_degree_certificate": T.BOOLEAN,
    "social_insurance_months": T.FLOAT,
    "criminal_record": T.BOOLEAN,
}
RULE = " and ".join(
    [
        *(f"{name} != null" for name in sorted(FIELDS)),
        "age % 1 == 0 and graduated_years_ago % 1 == 0 and social_insurance_months % 1 == 0",
        f"degree in {json.dumps(sorted(ELIGIBLE))}",
        f"age <= {json.dumps(AGE_LIMIT)}[degree]",
        "graduated_years_ago <= 2",
        "has_degree_certificate",
        "social_insurance_months >= 0",
        "not criminal_record",
    ]
)


def peer() -> Peer:
    context = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(TYPES))
    rule = rule_engine.Rule(RULE, context=context)
    matches = rule.matches
    errors = rule_engine.errors.EngineError

    def decide(app: dict[str, Any]) -> bool:
        if not app.keys() <= FIELDS:
            return False
        try:
            return bool(matches(app))
        except errors:
            return False

    return Peer("rule-engine", decide, "undeclared keys checked in Python (a rule cannot see keys)")
