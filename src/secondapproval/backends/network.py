"""durable_rules' side of the durable backend: ruleset JSON, and the limits of its network.

Each alternative of a condition (a conjunction of `Check`s) becomes one durable rule
`{"all": [{"m": {"$and": [...]}}]}`; durable_rules chains its tests as alpha nodes in the order
given. Its C library keeps fixed-size lists per node and checks some of them one entry too late,
so `fanout_problem` refuses, at load time, a ruleset that would come near them.
"""

from __future__ import annotations

from typing import Any

from .conditions import Check

MAX_TESTS = 24
"""Tests in one alternative (durable_rules holds 32 expressions per rule, markers included)."""

_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def _test_json(t: Check) -> dict[str, Any]:
    if t.op in ("ex", "nex"):
        return {f"${t.op}": {t.key: 1}}
    value = {"$m": t.other} if t.other is not None else t.value
    return {t.key: value} if t.op == "==" else {_OPS[t.op]: {t.key: value}}


def chain(conj: frozenset[Check]) -> list[Check]:
    """The tests of an alternative in the order durable_rules chains its alpha nodes."""
    return sorted(conj, key=repr) or [Check("==", "o", 1)]


def condition(conj: frozenset[Check]) -> dict[str, Any]:
    tests = [_test_json(t) for t in chain(conj)]
    return tests[0] if len(tests) == 1 else {"$and": tests}


MAX_FANOUT = {"nex": 100, "other": 400, "rules": 200, "stack": 56}
"""Per alpha node: `$nex` children (its list holds 128), other children (a 512-bucket hash set)
and rules ending there (a 256-entry list) — durable_rules checks these limits one entry too late
and then reads and writes past the list, so the compiler keeps well below them; and along any
path from the root, the children a message could match at once (its matching stack holds 64)."""


def fanout_problem(chains: list[list[Check]]) -> str | None:
    """Why durable_rules' alpha network would overflow one of its fixed lists, or None."""
    children: dict[tuple[Check, ...], dict[str, set[Check]]] = {}
    ends: dict[tuple[Check, ...], int] = {}
    for chain in chains:
        for k, test in enumerate(chain):
            kind = "nex" if test.op == "nex" else "other"
            children.setdefault(tuple(chain[:k]), {}).setdefault(kind, set()).add(test)
        ends[tuple(chain)] = ends.get(tuple(chain), 0) + 1

    def width(prefix: tuple[Check, ...]) -> int:
        return sum(len(v) for v in children.get(prefix, {}).values())

    worst = {
        "nex": max((len(c.get("nex", ())) for c in children.values()), default=0),
        "other": max((len(c.get("other", ())) for c in children.values()), default=0),
        "rules": max(ends.values(), default=0),
        "stack": max(
            (sum(width(tuple(chain[:k])) for k in range(len(chain))) for chain in chains),
            default=0,
        ),
    }
    for kind, count in worst.items():
        if count > MAX_FANOUT[kind]:
            return (
                f"{count} {kind} branches at one node of durable_rules' network (at most "
                f"{MAX_FANOUT[kind]})"
            )
    return None


def fnv1a(name: str) -> int:
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h
