"""Rule coverage: which outcomes of each rule the scenario cases produced, and which none did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..status import Status
from .model import CaseResult

if TYPE_CHECKING:
    from ..engine import Engine


@dataclass
class Coverage:
    """Which outcomes of each rule the scenarios exercised, per matter."""

    seen: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def add(self, result: CaseResult) -> None:
        if result.matter is None:
            return
        per_rule = self.seen.setdefault(result.matter, {})
        for rule, status in result.statuses.items():
            per_rule.setdefault(rule, set()).add(status)

    def gaps(self, engine: Engine | None = None) -> dict[str, list[str]]:
        """Per matter, `rule: outcome` pairs (passed, failed, unknown) no case produced."""
        out: dict[str, list[str]] = {}
        for matter, per_rule in sorted(self.seen.items()):
            rules = list(per_rule)
            if engine is not None and matter in engine.matters:
                rules = list(dict.fromkeys(r.id for v in engine.versions(matter) for r in v.rules))
            missing = [
                f"{rule}: {status}"
                for rule in rules
                for status in (Status.PASSED, Status.FAILED, Status.UNKNOWN)
                if status not in per_rule.get(rule, set())
            ]
            out[matter] = missing
        return out

    def report(self, engine: Engine | None = None) -> str:
        lines = []
        gaps = self.gaps(engine)
        for matter, per_rule in sorted(self.seen.items()):
            lines.append(f"coverage of {matter}:")
            for rule, statuses in per_rule.items():
                marks = " ".join(
                    s if s in statuses else "-" * len(s)
                    for s in ("passed", "failed", "unknown", "error")
                )
                lines.append(f"  {rule:<32} {marks}")
            lines.append(f"  gaps: {', '.join(gaps[matter]) if gaps[matter] else 'none'}")
        return "\n".join(lines)
