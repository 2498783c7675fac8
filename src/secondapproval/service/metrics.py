"""The service's Prometheus metrics (prometheus_client), one set per app.

With several workers, `serve` sets `PROMETHEUS_MULTIPROC_DIR` before they start, so every worker
writes its values to that folder and `/metrics` (answered by any worker) adds them up
(`MultiProcessCollector`); alone, the app's own registry is exposed. Labels never hold a key or
a fact: matters, outcomes, reason codes, sources, workers and snapshot digests only.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from ..decision import Decision, Outcome

CONTENT_TYPE = CONTENT_TYPE_LATEST
_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.decisions = Counter(
            "secondapproval_decisions", "Decisions made", ["matter", "outcome"], registry=r
        )
        self.reasons = Counter(
            "secondapproval_reasons", "Reasons of referrals", ["matter", "code"], registry=r
        )
        self.latency = Histogram(
            "secondapproval_decision_seconds",
            "Time from request to answer of a decision (record durable included)",
            ["matter"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.source_errors = Counter(
            "secondapproval_source_errors",
            "Facts a source could not give (UNAVAILABLE, NOT_FOUND)",
            ["source", "code"],
            registry=r,
        )
        self.problems = Counter(
            "secondapproval_problems", "Requests answered with a problem", ["kind"], registry=r
        )
        self.reloads = Counter(
            "secondapproval_reloads", "Rule-set swaps by a worker", ["result"], registry=r
        )
        self.serving = Gauge(
            "secondapproval_worker_snapshot",
            "1 for the snapshot digest a worker serves",
            ["worker", "snapshot"],
            registry=r,
            multiprocess_mode="liveall",
        )
        # the labelled children of the hot path, looked up once (labels() costs microseconds):
        # no more of them than the registry itself holds
        self._decided: dict[tuple[str, Outcome], tuple[Counter, Histogram]] = {}
        self._reasons: dict[tuple[str, str], tuple[Counter, ...]] = {}

    def decided(self, matter: str, decision: Decision, seconds: float) -> None:
        outcome = decision.outcome
        counted = self._decided.get((matter, outcome))
        if counted is None:
            counted = self._decided[matter, outcome] = (
                self.decisions.labels(matter, str(outcome)),
                self.latency.labels(matter),
            )
        counted[0].inc()
        counted[1].observe(seconds)
        for code in decision.codes:
            reasons = self._reasons.get((matter, code))
            if reasons is None:
                reasons = self._reasons[matter, code] = self._reason_children(matter, code)
            for child in reasons:
                child.inc()

    def _reason_children(self, matter: str, code: str) -> tuple[Counter, ...]:
        """The counters a reason code adds to: its own, and its source's error if it is one."""
        kind, _, source = code.partition(":")
        reason = self.reasons.labels(matter, code)
        if kind in ("UNAVAILABLE", "NOT_FOUND"):
            return reason, self.source_errors.labels(source, kind)
        return (reason,)

    def swapped(self, worker: str, old: str | None, new: str) -> None:
        if old is not None and old != new:
            self.serving.labels(worker, old).set(0)
        self.serving.labels(worker, new).set(1)

    def exposition(self) -> bytes:
        folder = multiprocess_dir()
        if folder is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        _multiprocess.MultiProcessCollector(merged, path=folder)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
