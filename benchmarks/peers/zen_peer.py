"""GoRules ZEN (zen-engine): the reference decision as a JDM graph with one expression node.

The node checks each field's JSON type (`type(x)`, and `x % 1 == 0` for integers), refuses
undeclared keys (`keys($root)`), computes one boolean per rule, then `approve` from them.
"""

from __future__ import annotations

import json
from typing import Any

import zen

from . import Peer
from .reference import AGE_LIMIT, DEGREES, ELIGIBLE, FIELDS

KEY = "talent-reference.json"
ENGINE_KEYS = frozenset({"$", "$nodes"})
"""Keys zen adds to `$root` inside an expression node (the node's output and the graph's)."""


def _list(items: Any) -> str:
    return "[" + ", ".join(json.dumps(i) for i in sorted(items)) + "]"


def _integer(name: str) -> str:
    return f'type({name}) == "number" and {name} % 1 == 0'


EXPRESSIONS = {
    "valid": " and ".join(
        [
            f"count(keys($root), not (# in {_list(FIELDS | ENGINE_KEYS)})) == 0",
            f'type(degree) == "string" and degree in {_list(DEGREES)}',
            _integer("age"),
            _integer("graduated_years_ago"),
            'type(has_degree_certificate) == "bool"',
            _integer("social_insurance_months"),
            'type(criminal_record) == "bool"',
        ]
    ),
    "degree_level": f"degree in {_list(ELIGIBLE)}",
    "age_limit": (
        f"{_integer('age')} and degree in {_list(ELIGIBLE)} "
        f"and age <= ({json.dumps(AGE_LIMIT)})[degree]"
    ),
    "recent_graduate": f"{_integer('graduated_years_ago')} and graduated_years_ago <= 2",
    "degree_certificate": "has_degree_certificate == true",
    "social_insurance": f"{_integer('social_insurance_months')} and social_insurance_months >= 0",
    "no_criminal_record": "criminal_record == false",
}
EXPRESSIONS["approve"] = " and ".join(f"$.{k}" for k in EXPRESSIONS)


def graph() -> dict[str, Any]:
    """The JDM decision graph: input → expression node → output."""
    node = lambda i, kind, name, **extra: {  # noqa: E731
        "id": i,
        "type": kind,
        "name": name,
        "position": {"x": 0, "y": 0},
        **extra,
    }
    expressions = [
        {"id": f"x{i}", "key": k, "value": v} for i, (k, v) in enumerate(EXPRESSIONS.items())
    ]
    return {
        "nodes": [
            node("in", "inputNode", "Request"),
            node("rules", "expressionNode", "Rules", content={"expressions": expressions}),
            node("out", "outputNode", "Response"),
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "in", "targetId": "rules"},
            {"id": "e2", "type": "edge", "sourceId": "rules", "targetId": "out"},
        ],
    }


class ZenPeer:
    """A ZenEngine with the graph loaded once, and a precompiled ZenDecision of it."""

    def __init__(self) -> None:
        text = json.dumps(graph())
        content = zen.ZenDecisionContent(text)  # parsed once, as zen's docs advise for loaders
        self.engine = zen.ZenEngine({"loader": lambda key: content})
        self.decision = self.engine.create_decision(content)

    def decide(self, app: dict[str, Any]) -> bool:
        return self.decision.evaluate(app)["result"]["approve"] is True

    def batch(self, apps: list[dict[str, Any]]) -> list[bool]:
        answers = self.engine.evaluate_batch([{"key": KEY, "context": a} for a in apps])
        return [r["success"] and r["data"]["result"]["approve"] is True for r in answers]


def peer() -> Peer:
    z = ZenPeer()
    return Peer(
        "zen-engine evaluate()",
        z.decide,
        "all checks in JDM; cannot tell 35.0 from 35 (JSON numbers)",
        batch=z.batch,
    )
