"""Where the partitions of an impact run are decided: in this process, or on Dask.

`decided(job, parts, workers=0)` decides them one after another here (the single-process run
that a distributed run must equal). With `workers ≥ 1` a `distributed.LocalCluster` of that many
single-threaded worker processes is started (and stopped) for the run; with `scheduler` the run
uses an existing cluster, whose workers must read the input files at the same paths. The job
(rule-set bundles and options) is scattered to every worker once; at most `2 × workers + 2`
partitions are in flight, so the planning process holds few results and streams audit records
without reading a log ahead. Results come back in completion order; each names its partition.
A worker lost mid-run (its process killed) costs only time: the scheduler decides its
partitions again on another worker, and `run_part` gives the same result wherever it runs.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from .decide import Job, PartResult, run_part
from .inputs import Part


def default_workers() -> int:
    """A worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def decided(
    job: Job,
    parts: Iterable[Part],
    *,
    workers: int = 0,
    scheduler: str | None = None,
    on_start: Any = None,
) -> Iterator[PartResult]:
    """Each partition's result, in completion order (see the module's text). `on_start(client)`
    is called once the cluster is up (tests kill a worker from it)."""
    if workers == 0 and scheduler is None:
        for part in parts:
            yield run_part(job, part)
        return
    with _client(workers, scheduler) as client:
        if on_start is not None:
            on_start(client)
        yield from _on_dask(client, job, parts, max(1, _worker_count(client)))


@contextlib.contextmanager
def _client(workers: int, scheduler: str | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the scheduler here logs each worker's comings and goings
    try:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # no dashboard; its HTTP server on a free port, not on 8787 (runs side by side)
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    finally:
        quiet.setLevel(level)


def _worker_count(client: Any) -> int:
    return len(client.scheduler_info().get("workers", {}))


def _on_dask(client: Any, job: Job, parts: Iterable[Part], workers: int) -> Iterator[PartResult]:
    from distributed import as_completed

    shared = client.scatter(job, broadcast=True, hash=False)
    pending = iter(parts)
    running = as_completed()
    for part in itertools.islice(pending, 2 * workers + 2):
        running.add(client.submit(run_part, shared, part, pure=False))
    for future in running:
        result: PartResult = future.result()
        future.release()
        for part in itertools.islice(pending, 1):
            running.add(client.submit(run_part, shared, part, pure=False))
        yield result
