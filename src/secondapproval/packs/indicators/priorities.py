"""Weak points: which components gain the most overall points by reaching their frontier.

`gain` is the component's share of the overall score times its distance to 100; `per_unit` is
the overall points gained by improving the measured value by one unit toward the frontier.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .formula import FormulaError
from .scoring import Scorecard
from .system import Component


@dataclass(frozen=True, slots=True)
class Priority:
    """One component's room for improvement, in overall points."""

    component: Component
    score: float
    share: float
    gain: float
    per_unit: float | None


def priorities(card: Scorecard) -> tuple[Priority, ...]:
    """Scored components by overall points gained at the frontier, largest first."""
    out = []
    for cid, component in card.system.components.items():
        s = card.by_id.get(cid)
        if s is None or s.score is None:
            continue
        share = card.shares.get(cid, 0.0)
        per_unit = None
        if isinstance(s.value, Decimal):
            step = Decimal(-1) if component.direction == "lower_is_better" else Decimal(1)
            better = s.value + step
            if (better - component.best) * step > 0:
                better = component.best
            try:
                per_unit = share * (float(component.score(better)) - s.score)
            except FormulaError:
                per_unit = None
        out.append(Priority(component, s.score, share, share * (100.0 - s.score), per_unit))
    out.sort(key=lambda p: (-p.gain, p.component.id))
    return tuple(out)
