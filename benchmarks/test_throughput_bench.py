"""Smoke run of the audited-throughput program (`python -m benchmarks.throughput`, `make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.throughput import main


def rows(out: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in out.splitlines()
        if line.startswith(("| jsonl", "| sqlite"))
    ]


def test_throughput_table_covers_sinks_policies_and_thread_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Short runs print a row per sink × policy × threads, the fsync latency and the targets."""
    args = ["--seconds", "0.02", "--dir", str(tmp_path), "--threads", "1", "8"]
    assert main([*args, "--sink", "jsonl", "sqlite", "--policies", "group", "none"]) == 0
    out = capsys.readouterr().out
    table = rows(out)
    assert [(r[0], r[1], r[2]) for r in table] == [
        (sink, policy, threads)
        for sink in ("jsonl", "sqlite")
        for policy in ("group", "none")
        for threads in ("1", "8")
    ]
    assert all(int(r[3].replace(",", "")) > 0 for r in table)
    assert {r[4] for r in table if r[1] == "none"} == {"1.00×"}
    assert "os.write + os.fsync of 600 bytes" in out
    assert "JSON Lines, group, 8 threads ≥ 20,000/s" in out
    assert main([*args[:4], "--threads", "8", "--sink", "jsonl", "--policies", "always"]) == 0
    assert [r[5] for r in rows(capsys.readouterr().out)] == ["1.0"]  # one fsync per record
    assert list(tmp_path.iterdir()) == []  # the logs went with their temporary folder
