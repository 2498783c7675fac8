"""The four reductions and trips of each matter, like with like, each side with its unit.

For each matter (the version in force on a date) against its declared `baseline`:
- materials: the baseline counts documents; which of a matter's facts are documents (rather
  than form entries or declarations) no matter file says, so documents after stay unknown, and
  the facts the applicant still supplies (source not authoritative, DESIGN §4) are a line of
  their own, in facts — a count of facts is never compared with a count of documents;
- steps: steps on the automatic path (one online submission for 秒批, none when nobody applies,
  unknown for a `check`), against the baseline's steps of the manual path;
- days and fees: the matter's declared `automatic.days` (service days until the result is in
  hand) and `automatic.fees` (CNY), unknown when null — never the baseline's, and never a
  decision's latency (a decision in milliseconds is not a service time);
- trips: measured from visit events per measure (`service.py`), not from matters: unknown here;
- from an audit log (JSON Lines records with at least `matter`, `outcome`, `latency_ns`): the
  share of decisions approved automatically. Latency is read but no figure is derived from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import orjson

from ...errors import AuditError, Problem
from ...registry import Registry
from ...ruleset import Matter
from .plan import REDUCTIONS, Plan

_OUTCOMES = ("approve", "refer")
AUTO_STEPS: Mapping[str, Decimal] = MappingProxyType(
    {"miaopi": Decimal(1), "no-application": Decimal(0)}
)
"""Steps of the automatic path by `automatic.form`: 秒批 is one online submission; with no
application (免申即享) the applicant takes none; a `check` leads to an office's own steps,
which no source counts (unknown)."""


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


UNITS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "materials": ("document", "document"),
        "applicant_facts": ("fact", "fact"),
        "steps": ("step", "step on the automatic path"),
        "days": ("service day", "service day"),
        "fees": ("CNY", "CNY"),
        "trips": ("trip per application", "trip per application"),
        "auto_share": ("% of decisions", "% of decisions"),
    }
)
"""The unit of each side of every reduction line (baseline, after): like is compared with like."""


@dataclass(frozen=True, slots=True)
class Reduction:
    """One matter: its baseline and its after-state, measured or declared (None where unknown)."""

    matter: str
    version: str
    baseline: Mapping[str, Decimal | None]
    after: Mapping[str, Decimal | None] = field(default_factory=dict)
    decisions: int = 0

    def lines(self) -> tuple[tuple[str, Decimal | None, str, Decimal | None, str], ...]:
        """(kind, baseline, its unit, after, its unit) for every kind, in `UNITS` order."""
        return tuple(
            (kind, self.baseline.get(kind), before, self.after.get(kind), after)
            for kind, (before, after) in UNITS.items()
        )


def _baseline(m: Matter) -> dict[str, Decimal | None]:
    b = m.spec.baseline
    out: dict[str, Decimal | None] = dict.fromkeys(UNITS)
    for kind in REDUCTIONS:
        value = getattr(b, kind) if b is not None else None
        out[kind] = None if value is None else Decimal(value)
    return out


def _automatic_steps(m: Matter) -> Decimal | None:
    """Steps on the automatic path: one online submission (秒批), none when nobody applies."""
    return AUTO_STEPS.get(m.spec.automatic.form)


def reduction(m: Matter, registry: Registry, outcomes: Outcomes | None) -> Reduction:
    """The measured or declared after-state of one matter version, each in its unit."""
    auto = m.spec.automatic
    supplied = sum(
        1 for f in m.inputs.values() if f.source is None or not registry.authoritative(f.source)
    )
    after: dict[str, Decimal | None] = dict.fromkeys(UNITS)
    after["applicant_facts"] = Decimal(supplied)
    after["steps"] = _automatic_steps(m)
    after["days"] = auto.days
    after["fees"] = auto.fees
    n = 0
    if outcomes is not None and outcomes.approved + outcomes.referred:
        n = outcomes.approved + outcomes.referred
        after["auto_share"] = Decimal(100 * outcomes.approved) / n
    return Reduction(m.id, m.version, _baseline(m), after, n)


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
