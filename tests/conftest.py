"""Shared test configuration: Hypothesis profiles (ci by default; quick; fuzz for long runs) and
the fixtures many test files use (the helpers and folders behind them are in tests/reference.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from reference import PROFILE, REFERENCE, ROOT, RULES, engine_over
from secondapproval import Engine

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "quick", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=100_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(PROFILE)


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def bundled_engine() -> Engine:
    """The shared engine over the bundled real matters (rules/): decide with it only."""
    return engine_over(RULES)


@pytest.fixture(scope="session")
def reference_engine() -> Engine:
    """The shared engine over the reference matter (benchmarks/matters/): decide with it only."""
    return engine_over(REFERENCE)
