"""What the tests share: the repository's folders, the reference matter of DESIGN §8 (its folder, a
date, an approvable case), engines over the bundled rule sets built once, a writer of small rule
folders, and a test's own Hypothesis example count under the run's profile.

Tests import it as a top-level module (`from reference import REFERENCE, ON`); the fixtures built
on it are in tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from pathlib import Path

from hypothesis import settings

from secondapproval import Engine, Matter

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
RULES = ROOT / "rules"
"""The bundled real matters, their packs and `rules/sources.yaml`."""
REFERENCE = ROOT / "benchmarks" / "matters"
"""The reference matter (`talent-reference`) and its `sources.yaml`."""
SCENARIOS = ROOT / "scenarios"
"""The scenario files of the bundled matters and packs."""
FIXTURES = ROOT / "tests" / "fixtures"
"""Rule folders made for the tests (`rules/`, `guide/`, …)."""

ON = dt.date(2021, 6, 1)
GOOD_REF = {
    "degree": "master",
    "age": 30,
    "graduated_years_ago": 1,
    "has_degree_certificate": True,
    "social_insurance_months": 12,
    "criminal_record": False,
}


@functools.cache
def engine_over(folder: Path) -> Engine:
    """The one engine of this test run over `folder` (e.g. `RULES`, `REFERENCE`): built on first
    use, then shared. Decide with it only; a test that audits, swaps or limits builds its own
    (`Engine(snapshot=engine_over(folder).snapshot, audit=..., vouch="all")` reuses the loaded rule
    set). It vouches for every authoritative source: the tests give the offices' facts as the
    caller does (refusal and gathering are tested in test_trust, test_gather, test_gather_real)."""
    return Engine(folder, vouch="all")


def versions(engine: Engine) -> list[Matter]:
    """Every version of every matter of `engine`, matter by matter, oldest first."""
    return [v for matter in engine.matters for v in engine.versions(matter)]


def write_matter(
    folder: Path, text: str, name: str = "m.yaml", *, sources: str | None = None
) -> Path:
    """Writes the matter file `name` (and `sources.yaml`, if given) into `folder`, made if need
    be; returns `folder`, ready for `Engine(folder)`."""
    folder.mkdir(parents=True, exist_ok=True)
    if sources is not None:
        (folder / "sources.yaml").write_text(sources, encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    return folder


PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
"""The Hypothesis profile of this run (registered and loaded by tests/conftest.py)."""


def examples(n: int) -> int:
    """The example count of a test that sets its own (`@settings(max_examples=examples(300))`):
    `n`, except under the quick profile (`make quick`), which caps it at its own few."""
    return min(n, settings().max_examples) if PROFILE == "quick" else n


def plain_id(value: object) -> str:
    """A test id of ASCII letters, digits and dashes. pytest escapes an id with other characters
    again each time one process collects it (mutmut collects twice: stats, then the clean run),
    and a test whose id changed is not found."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", repr(value)).strip("-")[:60] or "empty"
