"""An impact run end to end: plan the partitions, decide them (here or on Dask), write the outputs.

`run_impact(new, inputs, out, ...)` ships the rule sets (`rulesets.ship`), cuts the inputs into
partitions (`inputs`), has them decided (`cluster.decided`), adds up their counts (`Tally`) and
writes `flips.parquet`, `summary.json` and `report.html` in `out` (`report`). The outputs appear
only once the run has succeeded: a log that fails verification, or an input that cannot be read,
leaves no summary behind (`ImpactError`, `AuditError`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..audit.settings import log_secret
from ..errors import AuditError, ImpactError
from .cluster import decided, default_workers
from .compare import DIRECTIONS, Tally
from .decide import Job, PartResult
from .inputs import FilePart, Part, Verification, file_parts, is_log, verified_records
from .report import FLIPS, FORMAT, FlipWriter, Gate, write_report, write_summary
from .rulesets import ShippedRules, ship

ROWS = 65_536
"""Applications per partition, by default (a Parquet file's row groups are kept whole)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    """How a run decides and where (see `secondapproval impact --help`)."""

    baseline: str | Path | None = None
    on: dt.date | None = None
    vouch: tuple[str, ...] = ()
    deployment: str | None = None
    originals: str | None = None
    key_file: str | None = None
    workers: int | None = None
    """None: one per core; 0: no Dask, every partition in this process."""
    scheduler: str | None = None
    rows: int = ROWS
    fail_on: tuple[str, ...] = ()
    no_head: bool = False
    progress: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Impact:
    """What a run found and wrote."""

    summary: dict[str, Any]
    out: Path

    @property
    def failed(self) -> bool:
        return bool(self.summary["failed"])


def run_impact(
    new: str | Path,
    inputs: Sequence[str],
    out: str | Path,
    options: Options = Options(),
    *,
    on_start: Callable[[Any], None] | None = None,
) -> Impact:
    """Decide every input under `new` and compare (see the module's text)."""
    bad = [d for d in options.fail_on if d not in DIRECTIONS]
    if bad:
        raise ImpactError(f"--fail-on {bad[0]}: not one of {', '.join(DIRECTIONS)}")
    logs = [name for name in inputs if is_log(name)]
    if options.baseline is None and len(logs) < len(inputs):
        raise ImpactError(
            f"{next(n for n in inputs if n not in logs)}: an application file records no "
            "outcome to compare with: give the rules it was decided under (--baseline OLD)"
        )
    keys = {log: log_secret(log, options.key_file, create=False) for log in logs}
    job = Job(
        ship(new),
        ship(options.baseline) if options.baseline is not None else None,
        options.on,
        options.vouch,
        options.deployment,
        options.originals,
        next(iter(keys.values()), None),
    )
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    workers = default_workers() if options.workers is None else options.workers
    verified: list[tuple[str, Verification]] = []
    begun = time.perf_counter()
    tally, writer, parts = Tally(), FlipWriter(folder / (FLIPS + ".partial")), 0
    peaks: dict[int, int] = {}
    try:
        planned = {n: file_parts(n, options.rows) for n in inputs if n not in keys}
        stream = _parts(inputs, planned, options, keys, verified)
        with _progress(options.progress, planned, bool(logs)) as bar:
            for result in decided(
                job, stream, workers=workers, scheduler=options.scheduler, on_start=on_start
            ):
                tally.merge(result.counts)
                writer.add(result)
                _peak(peaks, result)
                parts += 1
                bar.update(result.rows)
        _check_verified(verified)
    except BaseException:
        writer.close()
        (folder / (FLIPS + ".partial")).unlink(missing_ok=True)  # no output of a failed run
        raise
    writer.close()
    seconds = time.perf_counter() - begun
    summary = _summary(job, inputs, options, tally, parts, writer.rows)
    summary["run"] = _run_figures(summary, workers, options.scheduler, seconds, peaks)
    os.replace(folder / (FLIPS + ".partial"), folder / FLIPS)
    write_summary(folder, summary)
    write_report(folder, summary)
    return Impact(summary, folder)


def _parts(
    inputs: Sequence[str],
    planned: dict[str, list[FilePart]],
    options: Options,
    keys: dict[str, bytes | None],
    verified: list[tuple[str, Verification]],
) -> Iterator[Part]:
    counter = itertools.count()
    for name in inputs:
        if name in keys:
            outcome = Verification()
            verified.append((name, outcome))
            yield from verified_records(
                name,
                options.rows,
                lambda: next(counter),
                key=keys[name],
                no_head=options.no_head,
                outcome=outcome,
            )
        else:
            for part in planned[name]:
                yield dataclasses.replace(part, index=next(counter))


def _check_verified(verified: list[tuple[str, Verification]]) -> None:
    for name, outcome in verified:
        report = outcome.report
        if report is None or not report.ok:
            first = report.first if report is not None else None
            raise AuditError(
                f"{name}: the log does not verify ({report.summary() if report else 'unread'}"
                f"{'; ' + str(first) if first else ''}): no impact is reported on it; "
                "see `secondapproval audit verify`"
            )


def _progress(shown: bool, planned: dict[str, list[FilePart]], logs: bool) -> Any:
    """A progress bar on stderr (a silent one when not shown), in applications: of a known total
    unless an audit log is read (its records are counted as they are verified)."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    total = None if logs else sum(p.rows for parts in planned.values() for p in parts)
    return tqdm(
        total=total, unit=" applications", unit_scale=True, file=sys.stderr, disable=not shown
    )


def _peak(peaks: dict[int, int], result: PartResult) -> None:
    peaks[result.worker] = max(peaks.get(result.worker, 0), result.peak_kib)


def _rules(rules: ShippedRules) -> dict[str, str]:
    return {"rules": rules.source, "snapshot": rules.digest}


def _summary(
    job: Job, inputs: Sequence[str], options: Options, tally: Tally, parts: int, flips: int
) -> dict[str, Any]:
    counts = tally.summary()
    gate = Gate(options.fail_on)
    return {
        "format": FORMAT,
        "version": 1,
        "new": _rules(job.new),
        "baseline": _rules(job.baseline) if job.baseline is not None else "recorded",
        "on": job.on.isoformat() if job.on is not None else "as-recorded",
        "inputs": list(inputs),
        "vouch": list(job.vouch),
        "deployment": job.deployment,
        "partitions": parts,
        "rows_per_partition": options.rows,
        **counts,
        "flips_written": flips,
        "fail_on": list(options.fail_on),
        "failed": gate.failed(counts["totals"]),
    }


def _run_figures(
    summary: dict[str, Any],
    workers: int,
    scheduler: str | None,
    seconds: float,
    peaks: dict[int, int],
) -> dict[str, Any]:
    applications = summary["totals"]["applications"]
    rate = applications / seconds if seconds else 0.0
    deciding = max(1, len(peaks)) if scheduler else max(1, workers)
    return {
        "workers": workers if scheduler is None else len(peaks),
        "scheduler": scheduler,
        "seconds": round(seconds, 3),
        "applications_per_second": round(rate, 1),
        "applications_per_second_per_worker": round(rate / deciding, 1),
        "peak_kib_by_worker": {str(pid): kib for pid, kib in sorted(peaks.items())},
    }
