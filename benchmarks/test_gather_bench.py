"""Gathering: decide() on a cache hit of every source against decide() of the same facts vouched
for (DESIGN §8, overhead ≤ 5 µs; `python -m benchmarks.gather` prints the difference)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.conftest import RULES
from benchmarks.gather import ID, ON, TALENT, brought, memory_engine, vouched_facts
from secondapproval import Engine


@pytest.fixture(scope="module")
def cached() -> Iterator[Engine]:
    engine = memory_engine(cache=True)
    yield engine
    engine.close()


def test_decide_vouched(benchmark: Any) -> None:
    engine = Engine(RULES, vouch="all")
    decision = benchmark(engine.decide, TALENT, vouched_facts(ID), on=ON)
    assert decision.approved


def test_decide_gathered_on_a_cache_hit(benchmark: Any, cached: Engine) -> None:
    app = brought(ID)
    cached.decide(TALENT, app, on=ON, gather=True)  # the answers are cached from now on
    decision = benchmark(cached.decide, TALENT, app, on=ON, gather=True)
    assert decision.approved
    assert decision.provenance["credit.untrustworthy"].cached
