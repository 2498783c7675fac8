"""Each peer engine of the benchmarks decides the reference matter as secondapproval does."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from typing import Any

import pytest

from reference import ROOT
from secondapproval import Engine
from secondapproval.benchgen import applications

sys.path.insert(0, str(ROOT))  # the benchmarks package lives beside tests/, not in src/

from benchmarks.peers import Peer, all_peers
from benchmarks.peers.reference import MATTER

ON = dt.date(2020, 1, 1)
COUNT = 10_000
pytestmark = pytest.mark.long  # 10,000 applications through each peer: not in make quick


@pytest.fixture(scope="module")
def cases(reference_engine: Engine) -> list[tuple[dict[str, Any], bool]]:
    """10,000 fixed-seed applications (some facts missing, null, mistyped or undeclared) and
    secondapproval's answer to each."""
    matter = reference_engine.version_on(MATTER, ON)
    assert matter is not None
    apps = itertools.islice(applications(matter, on=ON, seed=6, broken=0.03, extra=0.02), COUNT)
    return [(app, reference_engine.decide(MATTER, app, on=ON).approved) for app in apps]


def test_cases_cover_both_outcomes_and_every_defect(
    cases: list[tuple[dict[str, Any], bool]],
) -> None:
    """Generated applications include approvals, referrals, missing, null, mistyped, extra keys."""
    approved = sum(ok for _, ok in cases)
    assert 200 < approved < COUNT - 200
    flat = [app for app, _ in cases]
    assert any(len(app) < 6 for app in flat)
    assert any(None in app.values() for app in flat)
    assert any(isinstance(app.get("age"), str | bool | float) for app in flat)
    assert any("undeclared_key" in app for app in flat)


@pytest.mark.parametrize("peer", all_peers(), ids=lambda p: p.name)
def test_peer_agrees_with_secondapproval(
    peer: Peer, cases: list[tuple[dict[str, Any], bool]]
) -> None:
    """The peer approves exactly the applications secondapproval approves."""
    wrong = [(app, ok) for app, ok in cases if peer.decide(app) is not ok]
    assert wrong == [], f"{peer.name} disagrees on {len(wrong)} applications, e.g. {wrong[:3]}"


@pytest.mark.parametrize("peer", [p for p in all_peers() if p.batch], ids=lambda p: p.name)
def test_peer_batch_agrees_with_secondapproval(
    peer: Peer, cases: list[tuple[dict[str, Any], bool]]
) -> None:
    """The peer's batch API approves exactly what secondapproval approves."""
    assert peer.batch is not None
    got = peer.batch([app for app, _ in cases])
    assert len(got) == len(cases)
    # Differences counted, not diffed: pytest's diff of two long lists is quadratic (a hang).
    wrong = [(app, ok) for (app, ok), mine in zip(cases, got, strict=True) if mine is not ok]
    assert wrong == [], f"{peer.name} disagrees on {len(wrong)} applications, e.g. {wrong[:3]}"


def test_bundled_matter_floor_agrees_with_secondapproval(bundled_engine: Engine) -> None:
    """The hand-written graduate-hukou-shenzhen approves exactly what secondapproval approves."""
    from benchmarks.peers import hukou_handwritten as floor

    matter = bundled_engine.version_on(floor.MATTER, ON)
    assert matter is not None
    apps = applications(matter, on=ON, seed=5, broken=0.02, extra=0.02)
    cases = [
        (a, bundled_engine.decide(floor.MATTER, a, on=ON).approved)
        for a in itertools.islice(apps, COUNT)
    ]
    # the credit penalties (0-3 records of the matter's dates) leave about 1 in 140 approvable
    assert 40 < sum(ok for _, ok in cases) < COUNT - 100
    wrong = [(a, ok) for a, ok in cases if floor.decide(a, ON) is not ok]
    assert wrong == [], f"disagrees on {len(wrong)} applications, e.g. {wrong[:3]}"
