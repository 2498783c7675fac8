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
    assert [(r[0], r[1], r[2], r[3]) for r in table] == [
        (sink, policy, threads, "1")
        for sink in ("jsonl", "sqlite")
        for policy in ("group", "none")
        for threads in ("1", "8")
    ]
    assert all(int(r[4].replace(",", "")) > 0 for r in table)
    assert {r[5] for r in table if r[1] == "none"} == {"1.00×"}
    assert "os.write + os.fsync of 600 bytes" in out
    assert "JSON Lines, group, 8 threads ≥ 20,000/s" in out
    assert main([*args[:4], "--threads", "8", "--sink", "jsonl", "--policies", "always"]) == 0
    assert [r[6] for r in rows(capsys.readouterr().out)] == ["1.0"]  # one fsync per record
    batched = [*args[:4], "--threads", "1", "--sink", "jsonl", "--batch", "16"]
    assert main([*batched, "--policies", "group", "always"]) == 0
    assert [(r[1], r[3], r[6]) for r in rows(capsys.readouterr().out)] == [
        ("group", "16", "16.0"),  # decide_many(): one fsync per batch of 16
        ("always", "16", "16.0"),
    ]
    assert list(tmp_path.iterdir()) == []  # the logs went with their temporary folder
