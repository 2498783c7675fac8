"""Peer engines deciding the reference matter of DESIGN §8, each used the way its users would.

Every peer is a `Peer`: a name, the notes on what it cannot express (and what stands in for it),
and `decide(app) -> bool` (True = approve). `tests/test_peers.py` checks each against
secondapproval on generated applications before any of them is timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Peer:
    """One engine's implementation of the reference decision."""

    name: str
    decide: Callable[[dict[str, Any]], bool]
    notes: str = ""
    batch: Callable[[list[dict[str, Any]]], list[bool]] | None = None


def all_peers() -> list[Peer]:
    """Every peer that can be built here (each module builds its engine once)."""
    from . import durable_peer, handwritten, rule_engine_peer, zen_peer

    return [
        handwritten.PEER,
        handwritten.PEER_PYDANTIC,
        zen_peer.peer(),
        durable_peer.peer(),
        durable_peer.peer_per_rule(),
        rule_engine_peer.peer(),
    ]
