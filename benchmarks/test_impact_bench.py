"""The impact benchmark's own smoke run (make test): a few thousand rows through every step of
`benchmarks.impact_scale`; the 10-million-row run is `make bench-long`."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import impact_scale


def test_the_impact_benchmark_runs_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert impact_scale.main(["--rows", "4000", "--sample", "2000", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "speed-up 1 → 2 workers" in out
    assert "floor / impact with 1 worker" in out
