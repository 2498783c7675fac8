"""Trips and deliveries measured from visit and delivery events, never imputed from an outcome.

Trips per application = visit events / applications, where the applications are those that a
visit or a delivery event names. A stream without any visit event does not record visits, so
its trips are unknown (never zero, never the baseline); once it records visits, an application
known only from its delivery made no trip. Delivery hours are measured per mode (postal parcel,
express): the median, and the share within the measure's `parcel_hours` / `express_hours` target.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .events import MODES, Mode
from .plan import Measure

HOURS_METRIC: Mapping[Mode, str] = {"parcel": "parcel_hours", "express": "express_hours"}
"""The target metric each delivery mode is measured against."""


@dataclass(frozen=True, slots=True)
class Deliveries:
    """The measured hours of one mode's deliveries (sorted) and the target they aim at."""

    mode: Mode
    hours: tuple[Decimal, ...]
    target: Decimal | None = None

    def median(self) -> Decimal | None:
        """The median hours from sent to delivered (None without a delivery)."""
        return Decimal(statistics.median(self.hours)) if self.hours else None

    def within(self) -> int | None:
        """How many were delivered within the target (None when the target is unknown)."""
        target = self.target
        return None if target is None else sum(1 for h in self.hours if h <= target)

    def share(self) -> Decimal | None:
        """The share delivered within the target, in [0, 1] (None if unknown or none sent)."""
        within = self.within()
        return None if within is None or not self.hours else Decimal(within) / len(self.hours)


@dataclass(frozen=True, slots=True)
class Service:
    """What one measure's visit and delivery events say, as of a date."""

    applications: frozenset[str] = frozenset()
    visits: int = 0
    deliveries: Mapping[Mode, Deliveries] = field(default_factory=dict)

    def trips(self) -> Decimal | None:
        """Trips per application: visits counted over the applications named; None if no visit."""
        if not self.visits:
            return None
        return Decimal(self.visits) / len(self.applications)

    def measured(self) -> dict[str, Decimal]:
        """The metric values these events measure (trips, parcel_hours, express_hours)."""
        out: dict[str, Decimal] = {}
        trips = self.trips()
        if trips is not None:
            out["trips"] = trips
        for mode, d in self.deliveries.items():
            median = d.median()
            if median is not None:
                out[HOURS_METRIC[mode]] = median
        return out

    def recorded(self) -> bool:
        """Whether any visit or delivery event was seen."""
        return bool(self.applications)


def target_hours(m: Measure, mode: Mode) -> Decimal | None:
    """The hours a measure's target for a delivery mode names (None if none or unknown)."""
    for t in m.targets:
        if t.metric == HOURS_METRIC[mode] and isinstance(t.target, Decimal):
            return t.target
    return None


def service(
    m: Measure, applications: Iterable[str], visits: int, hours: Mapping[Mode, Iterable[Decimal]]
) -> Service:
    """A measure's service figures from what its events recorded."""
    deliveries = {
        mode: Deliveries(mode, tuple(sorted(hours[mode])), target_hours(m, mode))
        for mode in MODES
        if mode in hours
    }
    return Service(frozenset(applications), visits, deliveries)
