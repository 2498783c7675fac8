"""`Engine.decide_pairs` gives the decisions two `decide_many()` calls give: where both versions
check facts alike (one check, two evaluations) and where they do not (a fact declared anew)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import ROOT, RULES
from secondapproval import Engine
from secondapproval.decision import Decision
from secondapproval.samples import Seed, generate, seeds_from_scenarios
from secondapproval.trust import VOUCH_ALL

MATTER = "longevity-allowance-guangzhou"


def _changed(folder: Path, old: str, new: str) -> Path:
    shutil.copytree(RULES, folder)
    path = folder / "elderly" / f"{MATTER}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engine]:
    base = tmp_path_factory.mktemp("pairs")
    return {
        "old": Engine(RULES, vouch=VOUCH_ALL),
        "rule": Engine(
            _changed(base / "rule", 'when: "elder.age >= 70"', 'when: "elder.age >= 75"'),
            vouch=VOUCH_ALL,
        ),
        # a fact checked differently: the ID number optional, so the two versions check apart
        "facts": Engine(
            _changed(base / "facts", "    type: cn_id\n", "    type: cn_id\n    optional: true\n"),
            vouch=VOUCH_ALL,
        ),
        "none": Engine(RULES, vouch=()),  # trusts nobody: other guards
    }


@pytest.fixture(scope="module")
def seeds(engines: dict[str, Engine]) -> list[Seed]:
    return seeds_from_scenarios([ROOT / "scenarios"], engines["old"])


def _plain(d: Decision) -> dict[str, Any]:
    doc = d.to_dict()
    doc.pop("decision_id")
    return doc


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from(["rule", "facts", "none", "old"]))
def test_pairs_are_the_decisions_of_deciding_twice(
    engines: dict[str, Engine], seeds: list[Seed], seed: int, which: str
) -> None:
    new, old = engines[which], engines["old"]
    batches: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in generate(old, seeds, 120, seed, perturbed=0.6):
        batches[row["matter"], row["on"]].append(row["facts"])
    for (matter, on), facts in batches.items():
        day = dt.date.fromisoformat(on)
        pairs = new.decide_pairs(old, matter, facts, on=day)
        apart = zip(
            new.decide_many(matter, facts, on=day),
            old.decide_many(matter, facts, on=day),
            strict=True,
        )
        assert [(_plain(a), _plain(b)) for a, b in pairs] == [
            (_plain(a), _plain(b)) for a, b in apart
        ]


def test_the_versions_check_alike_only_when_they_do(engines: dict[str, Engine]) -> None:
    day = dt.date(2025, 3, 15)
    old = engines["old"]
    served = {k: e._version(e._serving, MATTER, day) for k, e in engines.items()}
    assert engines["rule"]._alike(served["rule"], served["old"], old.limits)
    assert not engines["facts"]._alike(served["facts"], served["old"], old.limits)
    assert not engines["none"]._alike(served["none"], served["old"], old.limits)
