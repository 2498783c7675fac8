"""The four reductions and trips, measured from the library itself rather than typed in.

For each matter (the version in force on a date) against its declared `baseline`:
- materials: the input facts whose source is not authoritative in the data-source registry —
  what the applicant still brings (DESIGN §4);
- from an audit log (JSON Lines records with at least `matter`, `outcome`, `latency_ns`):
  the share approved automatically; steps (one online submission when approved automatically,
  the baseline's steps when referred, averaged); days (the median decision time, a referred
  application counting the baseline's days); trips (zero when approved automatically, the
  baseline's trips when referred, averaged);
- fees are not changed by automatic approval and are not measured: they stay unknown.
Without an audit log only materials are measured.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import orjson

from ...errors import AuditError, Problem
from ...registry import Registry
from ...ruleset import Matter
from .plan import MEASURED, Plan

_OUTCOMES = ("approve", "refer")
NS_PER_DAY = Decimal(86_400 * 10**9)
AUTO_STEPS = Decimal(1)
"""An automatically approved application is one step: the online submission."""


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What an audit log says about one matter: each decision's outcome and latency."""

    approved: int = 0
    referred: int = 0
    approved_latency_ns: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """Outcomes by matter, and the lines that were not decision records."""

    by_matter: Mapping[str, Outcomes]
    skipped: tuple[Problem, ...] = ()


def read_audit(path: str | Path) -> AuditSummary:
    """Read an audit log tolerantly: other fields are ignored, other lines reported as skipped."""
    approved: dict[str, list[int]] = {}
    referred: dict[str, int] = {}
    skipped: list[Problem] = []
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the audit log: {exc}") from None
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            rec = orjson.loads(text)
        except orjson.JSONDecodeError:
            skipped.append(Problem("not JSON", str(path), number))
            continue
        matter = rec.get("matter") if isinstance(rec, dict) else None
        latency = rec.get("latency_ns") if isinstance(rec, dict) else None
        outcome = rec.get("outcome") if isinstance(rec, dict) else None
        if not isinstance(matter, str) or not isinstance(latency, int) or outcome not in _OUTCOMES:
            why = "not a decision record (matter, outcome, latency_ns)"
            skipped.append(Problem(why, str(path), number))
            continue
        if outcome == "approve":
            approved.setdefault(matter, []).append(latency)
        else:
            referred[matter] = referred.get(matter, 0) + 1
    matters = set(approved) | set(referred)
    return AuditSummary(
        {
            m: Outcomes(len(approved.get(m, ())), referred.get(m, 0), tuple(approved.get(m, ())))
            for m in sorted(matters)
        },
        tuple(skipped),
    )


@dataclass(frozen=True, slots=True)
class Reduction:
    """One matter: its baseline, the measured after-state (None where not measurable)."""

    matter: str
    version: str
    baseline: Mapping[str, Decimal | None]
    after: Mapping[str, Decimal | None] = field(default_factory=dict)
    decisions: int = 0


def _baseline(m: Matter) -> dict[str, Decimal | None]:
    b = m.spec.baseline
    out: dict[str, Decimal | None] = {}
    for kind in ("materials", "steps", "days", "fees", "trips"):
        value = getattr(b, kind) if b is not None else None
        out[kind] = None if value is None else Decimal(value)
    return out


def _mean_with(outcomes: Outcomes, approved: Decimal, referred: Decimal | None) -> Decimal | None:
    if outcomes.referred and referred is None:
        return None
    total = outcomes.approved * approved + outcomes.referred * (referred or 0)
    return total / (outcomes.approved + outcomes.referred)


def reduction(m: Matter, registry: Registry, outcomes: Outcomes | None) -> Reduction:
    """The measured after-state of one matter version."""
    base = _baseline(m)
    brought = sum(
        1 for f in m.inputs.values() if f.source is None or not registry.authoritative(f.source)
    )
    after: dict[str, Decimal | None] = dict.fromkeys(MEASURED)
    after["materials"] = Decimal(brought)
    n = 0
    if outcomes is not None and outcomes.approved + outcomes.referred:
        n = outcomes.approved + outcomes.referred
        after["auto_share"] = Decimal(100 * outcomes.approved) / n
        after["steps"] = _mean_with(outcomes, AUTO_STEPS, base["steps"])
        after["trips"] = _mean_with(outcomes, Decimal(0), base["trips"])
        days: list[Decimal] = [Decimal(ns) / NS_PER_DAY for ns in outcomes.approved_latency_ns]
        if not outcomes.referred or base["days"] is not None:
            days += [base["days"] or Decimal(0)] * outcomes.referred
            after["days"] = Decimal(statistics.median(days))
    return Reduction(m.id, m.version, base, after, n)


def reductions(
    matters: Sequence[Matter],
    registry: Registry,
    on: dt.date,
    audit: AuditSummary | None = None,
) -> tuple[Reduction, ...]:
    """Every matter's reduction, from the version in force on `on`."""
    out = []
    for m in sorted(matters, key=lambda m: m.id):
        if m.spec.effective.covers(on):
            out.append(reduction(m, registry, audit.by_matter.get(m.id) if audit else None))
    return tuple(out)


def feed(plan: Plan, measured: Iterable[Reduction]) -> dict[tuple[str, str], Decimal]:
    """The measured value of every target that names matters: the mean over those matters."""
    by_matter = {r.matter: r for r in measured}
    out: dict[tuple[str, str], Decimal] = {}
    for m in plan.spec.measures:
        for t in m.targets:
            if t.matters is None:
                continue
            chosen = list(by_matter) if t.matters == "all" else t.matters
            values = [
                v
                for mid in chosen
                if mid in by_matter and (v := by_matter[mid].after.get(t.metric)) is not None
            ]
            if values:
                out[(m.id, t.metric)] = sum(values, Decimal(0)) / len(values)
    return out
