"""decide() per matter and backend, evaluation alone against the hand-written floor, peers on the
reference decision, batch APIs, and load + compile time of one and of 1,000 matters."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import MATTERS, ON, REFERENCE, RULES, bundled_day
from benchmarks.peers import Peer, all_peers
from benchmarks.peers import hukou_handwritten as hukou
from benchmarks.peers.handwritten import checks, decide_pydantic
from secondapproval import Engine
from secondapproval.backends import get_backend
from secondapproval.benchgen import applications
from secondapproval.compiled import compile_matter
from secondapproval.errors import BackendError

BUNDLED = Engine(RULES).matters
BATCH = 1_000


def _backend_or_skip(name: str) -> str:
    try:
        get_backend(name)
    except BackendError as exc:
        pytest.skip(str(exc))
    return name


@pytest.mark.parametrize("backend", ["native", "durable"])
def test_decide_reference(benchmark: Any, backend: str, reference_app: Any) -> None:
    """decide() on one approved application of the reference matter."""
    engine = Engine(MATTERS, backend=_backend_or_skip(backend), vouch="all")
    decision = benchmark(engine.decide, REFERENCE, reference_app, on=ON)
    assert decision.approved


@pytest.mark.parametrize("backend", ["native", "durable"])
@pytest.mark.parametrize("matter", BUNDLED)
def test_decide_bundled(benchmark: Any, matter: str, backend: str) -> None:
    """decide() on a generated valid application of each bundled matter."""
    engine = Engine(RULES, backend=_backend_or_skip(backend), vouch="all")
    on = bundled_day(engine, matter)
    version = engine.version_on(matter, on)
    assert version is not None
    apps = itertools.islice(applications(version, on=on, seed=0), 200)
    app = next((a for a in apps if engine.decide(matter, a, on=on).approved), None)
    app = app if app is not None else next(applications(version, on=on, seed=0))
    decision = benchmark(engine.decide, matter, app, on=on)
    assert decision.matter == matter


def test_evaluate_alone(benchmark: Any, reference_engine: Engine, reference_app: Any) -> None:
    """The generated evaluator alone, on already validated facts."""
    matter = reference_engine.version_on(REFERENCE, ON)
    assert matter is not None
    evaluate = compile_matter(matter, get_backend("native")).evaluate
    statuses, _ = benchmark(evaluate, dict(reference_app), ON)
    assert statuses == (1,) * 6


def test_floor(benchmark: Any, reference_app: Any) -> None:
    """The six checks hand-written in plain Python (the floor)."""
    assert all(benchmark(checks, reference_app))


def test_floor_with_pydantic(benchmark: Any, reference_app: Any) -> None:
    """The hand-written checks behind strict pydantic validation."""
    assert benchmark(decide_pydantic, reference_app)


def test_floor_bundled(benchmark: Any, bundled_engine: Engine) -> None:
    """The bundled graduate-hukou-shenzhen hand-written (validation and rules), the floor of
    test_decide_bundled on that matter."""
    matter = bundled_engine.version_on(hukou.MATTER, ON)
    assert matter is not None
    apps = itertools.islice(applications(matter, on=ON, seed=0), 200)
    app = next(a for a in apps if bundled_engine.decide(hukou.MATTER, a, on=ON).approved)
    assert benchmark(hukou.decide, app, ON)


@pytest.mark.parametrize("peer", all_peers(), ids=lambda p: p.name)
def test_peer(benchmark: Any, peer: Peer, reference_app: Any) -> None:
    """A peer engine's single-decision API on the same application."""
    assert benchmark(peer.decide, reference_app)


def test_batch_decide_many(
    benchmark: Any, reference_engine: Engine, reference_apps: list[dict[str, Any]]
) -> None:
    """Engine.decide_many() on 1,000 applications (divide by 1,000 for one decision)."""
    decisions = benchmark(reference_engine.decide_many, REFERENCE, reference_apps[:BATCH], on=ON)
    assert len(decisions) == BATCH


@pytest.mark.parametrize("peer", [p for p in all_peers() if p.batch], ids=lambda p: p.name)
def test_batch_peer(benchmark: Any, peer: Peer, reference_apps: list[dict[str, Any]]) -> None:
    """A peer's batch API on the same 1,000 applications (zen-engine evaluate_batch)."""
    assert peer.batch is not None
    assert len(benchmark(peer.batch, reference_apps[:BATCH])) == BATCH


def test_load_one_matter(benchmark: Any) -> None:
    """Load (YAML, schema, checks) and compile the reference matter."""
    engine = benchmark(Engine, MATTERS)
    assert engine.matters == (REFERENCE,)


def generated_matter(i: int) -> str:
    """The text of a generated matter file: the reference matter with its own id and limits."""
    text = (MATTERS / f"{REFERENCE}.yaml").read_text(encoding="utf-8")
    return (
        text.replace(f"matter: {REFERENCE}", f"matter: generated-{i:04d}")
        .replace('"bachelor": 35', f'"bachelor": {20 + i % 30}')
        .replace("graduated_years_ago <= 2", f"graduated_years_ago <= {i % 7}")
    )


def test_load_many_matters(benchmark: Any, tmp_path: Path) -> None:
    """Load and compile 1,000 generated matter files (20 in a smoke run)."""
    count = 20 if benchmark.disabled else 1_000
    for i in range(count):
        (tmp_path / f"m{i:04d}.yaml").write_text(generated_matter(i), encoding="utf-8")
    shutil.copy(MATTERS / "sources.yaml", tmp_path / "sources.yaml")
    engine = benchmark.pedantic(Engine, args=(tmp_path,), rounds=3 if count > 20 else 1)
    assert len(engine.matters) == count
