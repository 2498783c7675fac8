"""The measures pack: a district's measures, their deadlines and targets, tracked by rules.

Plans (`plan:` files under `rules/measures/`) name measures with a domain, a responsible unit,
dates, supervision (重点督办) and targets on the four reductions and trips; JSON Lines events
report progress, visits and deliveries (trips and delivery hours are measured from them); a
first-match status table, evaluated by the Engine, gives each measure's status and why.
Registered through the `secondapproval.packs` entry point like any third-party pack.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...yamlfile import Located
from .. import ScenarioCase
from .events import Event, EventLog, check_events, iter_events, read_events
from .plan import Measure, Plan, Supervised, Target, Task, check_plan, load_plan
from .service import Deliveries, Service
from .status import MeasureStatus, StatusChange, StatusSink, statuses, track
from .trail import AuditTrail


class MeasurePack:
    """The `measures` pack (file key `plan`)."""

    name = "measures"
    file_key = "plan"

    def check_file(self, doc: Located) -> None:
        """Validate one plan file; RuleSetError with every located problem."""
        check_plan(doc)

    def iter_cases(self, doc: Located, rules_dir: Path) -> Iterator[ScenarioCase]:
        """The cases of a measure scenario file."""
        from .scenarios import iter_cases

        return iter_cases(doc, rules_dir)

    def register_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        """Add `secondapproval measures status`."""
        from .cli import register

        register(subparsers)


__all__ = [
    "AuditTrail",
    "Deliveries",
    "Event",
    "EventLog",
    "Measure",
    "MeasurePack",
    "MeasureStatus",
    "Plan",
    "Service",
    "StatusChange",
    "StatusSink",
    "Supervised",
    "Target",
    "Task",
    "check_events",
    "check_plan",
    "iter_events",
    "load_plan",
    "read_events",
    "statuses",
    "track",
]
