"""Impact analysis at scale: OLD vs NEW with one changed rule, from Parquet, two decisions each.

`python -m benchmarks.impact_scale [--rows 10000000] [--sample 1000000] [--dir build/impact]`
(a line of `make bench-long`) writes `--rows` applications of the Guangzhou longevity allowance
with `secondapproval samples`' generator (its stated mix of valid, missing, invalid and failing
applications), and a NEW rule set: the bundled rules with one rule changed (the allowance from
age 75, not 70). Then, in one run:

1. the single-process floor on the first `--sample` rows: the same Parquet file read row group
   by row group and `decide_many()` called under NEW and under OLD, no Dask, nothing written;
2. `secondapproval impact` on the same rows with 1 and with 2 Dask workers (a LocalCluster of
   single-threaded worker processes, not pinned: the kernel places them on the two cores, and
   the planning process shares them), end to end: cluster start, reading, deciding, writing;
3. the whole `--rows` file with 2 workers: applications/s per worker and peak memory per worker.

It prints a table of the figures and their ratios (benchmarks/README.md, "Impact analysis").
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import pyarrow.parquet as pq

from secondapproval import Engine
from secondapproval.impact import Options, run_impact
from secondapproval.jsonfile import loads_canonical
from secondapproval.samples import write_samples
from secondapproval.timing import machine
from secondapproval.trust import VOUCH_ALL

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
MATTER = "longevity-allowance-guangzhou"
CHANGED = ('when: "elder.age >= 70"', 'when: "elder.age >= 75"')


def new_rules(folder: Path) -> Path:
    """The bundled rules with the one changed rule."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(RULES, folder)
    path = folder / "elderly" / f"{MATTER}.yaml"
    text = path.read_text(encoding="utf-8")
    assert CHANGED[0] in text, "the benchmark's rule is not in the bundled matter any more"
    path.write_text(text.replace(*CHANGED), encoding="utf-8")
    return folder


def head(path: Path, rows: int, out: Path) -> Path:
    """The first row groups of a Parquet file holding at least `rows` rows, as a file."""
    pf = pq.ParquetFile(path)
    writer, held = None, 0
    for g in range(pf.num_row_groups):
        if held >= rows:
            break
        table = pf.read_row_group(g)
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
        held += table.num_rows
    assert writer is not None
    writer.close()
    return out


def floor(path: Path, new: Path) -> tuple[int, float]:
    """(applications, seconds) of reading the file and deciding each under NEW and OLD."""
    engines = Engine(new, vouch=VOUCH_ALL), Engine(RULES, vouch=VOUCH_ALL)
    begun, n = time.perf_counter(), 0
    pf = pq.ParquetFile(path)
    for g in range(pf.num_row_groups):
        table = pf.read_row_group(g, columns=["matter", "on", "facts"])
        groups: dict[tuple[str, object], list[object]] = {}
        columns = (table.column(c).to_pylist() for c in ("matter", "on", "facts"))
        for matter, on, facts in zip(*columns, strict=True):
            groups.setdefault((matter, on), []).append(loads_canonical(facts.encode()))
        for (matter, on), batch in groups.items():
            for engine in engines:
                engine.decide_many(matter, batch, on=on)
            n += len(batch)
    return n, time.perf_counter() - begun


def impact(path: Path, new: Path, out: Path, workers: int) -> dict[str, object]:
    options = Options(baseline=RULES, vouch=("all",), workers=workers)
    run = run_impact(new, [str(path)], out, options).summary
    figures = dict(run["run"])
    figures["totals"] = run["totals"]
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--sample", type=int, default=1_000_000)
    p.add_argument("--dir", type=Path, default=ROOT / "build" / "impact")
    args = p.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    print(machine())
    new = new_rules(args.dir / "new-rules")
    data = args.dir / f"{MATTER}-{args.rows}.parquet"
    report = write_samples(
        Engine(RULES, vouch=VOUCH_ALL), MATTER, args.rows, data, scenarios=[ROOT / "scenarios"]
    )
    print(report.lines()[0])
    sample = head(data, min(args.sample, args.rows), args.dir / "sample.parquet")
    n, seconds = floor(sample, new)
    floor_rate = n / seconds
    print(f"floor (one process, decide_many twice): {n:,} in {seconds:.2f} s = {floor_rate:,.0f}/s")
    rates = {}
    for workers in (1, 2):
        f = impact(sample, new, args.dir / f"sample-{workers}", workers)
        rates[workers] = float(f["applications_per_second"])  # type: ignore[arg-type]
        print(
            f"impact, {workers} worker(s): {f['seconds']} s = {rates[workers]:,.0f}/s "
            f"({f['applications_per_second_per_worker']:,.0f}/s per worker); peak KiB by worker "
            f"{f['peak_kib_by_worker']}; {f['totals']}"
        )
    whole = impact(data, new, args.dir / "whole", 2)
    per_worker = float(whole["applications_per_second_per_worker"])  # type: ignore[arg-type]
    print(
        f"impact, whole file, 2 workers: {whole['seconds']} s = "
        f"{whole['applications_per_second']:,.0f}/s ({per_worker:,.0f}/s per worker); peak KiB "
        f"by worker {whole['peak_kib_by_worker']}; {whole['totals']}"
    )
    print(f"floor / impact with 1 worker: {floor_rate / rates[1]:.2f}× (target ≤ 2×)")
    print(f"speed-up 1 → 2 workers: {rates[2] / rates[1]:.2f}× (target ≥ 1.6×)")
    print(f"per worker on the whole file: {per_worker:,.0f}/s (target ≥ 25,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
