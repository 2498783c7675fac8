"""Shared fixtures of the benchmarks: engines, generated applications, the peers.

`make bench` times them (pytest-benchmark); `make test` runs each once with
`--benchmark-disable` as a smoke run, so every benchmark must also be quick that way.
"""

from __future__ import annotations

import datetime as dt
import itertools
import resource
from pathlib import Path
from typing import Any

import pytest

from secondapproval import Engine
from secondapproval.benchgen import applications

ROOT = Path(__file__).resolve().parent.parent
MATTERS = ROOT / "benchmarks" / "matters"
RULES = ROOT / "rules"
REFERENCE = "talent-reference"
ON = dt.date(2020, 1, 1)
"""The decision date of every benchmark (the reference matter is in force from 2000)."""


@pytest.fixture(scope="session")
def reference_engine() -> Engine:
    """An Engine (native backend) of the reference matter."""
    return Engine(MATTERS, vouch="all")


@pytest.fixture(scope="session")
def reference_apps(reference_engine: Engine) -> list[dict[str, Any]]:
    """1,000 valid generated applications of the reference matter (seed 0)."""
    matter = reference_engine.version_on(REFERENCE, ON)
    assert matter is not None
    return list(itertools.islice(applications(matter, on=ON, seed=0), 1_000))


@pytest.fixture(scope="session")
def reference_app(reference_engine: Engine, reference_apps: list[dict[str, Any]]) -> Any:
    """One approved application of the reference matter: every rule runs to the end."""
    return next(a for a in reference_apps if reference_engine.decide(REFERENCE, a, on=ON).approved)


@pytest.fixture(scope="session")
def bundled_engine() -> Engine:
    """An Engine of every bundled matter under rules/."""
    return Engine(RULES, vouch="all")


def bundled_day(engine: Engine, matter: str) -> dt.date:
    """A date on which the latest version of a bundled matter is in force."""
    return max(engine.versions(matter)[-1].spec.effective.from_, ON)


def rss_mb() -> float:
    """The resident set size of this process now, in MB (Linux /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20
