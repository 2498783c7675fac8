"""The demo batch: made by the seeded generator the repository contains, decided by `make demo`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reference import ROOT, RULES, SCENARIOS
from secondapproval import Engine
from secondapproval.demo import main as demo_main
from secondapproval.samples import generate, seeds_from_scenarios

BATCH = ROOT / "samples" / "applications.jsonl"


def test_bundled_batch_is_reproduced_by_the_generator(bundled_engine: Engine) -> None:
    """The committed batch is exactly what the seeded generator makes from the scenarios."""
    seeds = seeds_from_scenarios([SCENARIOS], bundled_engine)
    rows = list(generate(bundled_engine, seeds, 1200, seed=2019))
    bundled = [json.loads(line) for line in BATCH.read_text(encoding="utf-8").splitlines()]
    assert len(bundled) >= 1000
    assert rows == bundled


@pytest.mark.long  # the whole batch of 1,200 applications, as make demo decides it
def test_demo_reports_outcomes_reasons_and_latency(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo decides the whole batch and prints counts, top reasons and p50/p99."""
    assert demo_main(["--rules", str(RULES), "--samples", str(BATCH), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("decided 1200 applications")
    assert "top referral reasons:" in out
    assert "p50" in out
    assert "p99" in out
