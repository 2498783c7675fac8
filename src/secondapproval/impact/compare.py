"""How two decisions of one application differ, and the counts an impact run adds up.

Each application has a decision under the baseline (OLD: decided afresh, or as an audit record
recorded it) and one under the candidate rules (NEW). They are `same`, `reasons-changed` (one
outcome, other reason codes), or a flip: `approve-to-refer` or `refer-to-approve`. A flip is
charged to every rule whose result differs between the two (a rule only one side has counts as
`absent` on the other) and to the reasons of the referring side: NEW's for approve → refer (why
it is referred now), OLD's for refer → approve (what no longer stands in the way).

`Tally` holds the counts under flat keys and merges by addition, so partitions decided anywhere,
in any order, give one result; `Tally.summary()` nests them, sorted, for the JSON report.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

Change = Literal["same", "reasons-changed", "approve-to-refer", "refer-to-approve"]
DIRECTIONS: tuple[Change, ...] = ("approve-to-refer", "refer-to-approve")
ABSENT = "absent"


class Side(NamedTuple):
    """One decision of an application: outcome, reason codes, and its rules' results (made
    only when needed: a flip)."""

    outcome: str
    codes: Callable[[], tuple[str, ...]]
    results: Callable[[], Mapping[str, str]]


def change(old: Side, new: Side) -> Change:
    """How NEW differs from OLD."""
    if old.outcome != new.outcome:
        return "approve-to-refer" if old.outcome == "approve" else "refer-to-approve"
    if old.outcome == "approve":  # an approval has no reasons
        return "same"
    return "same" if set(old.codes()) == set(new.codes()) else "reasons-changed"


def changed_rules(old: Side, new: Side) -> list[str]:
    """The rules whose result differs between the two decisions, sorted."""
    was, now = old.results(), new.results()
    return sorted(r for r in was.keys() | now.keys() if was.get(r, ABSENT) != now.get(r, ABSENT))


def charged_reasons(kind: Change, old: Side, new: Side) -> tuple[str, ...]:
    """The reasons a flip is charged to (see the module's text)."""
    return new.codes() if kind == "approve-to-refer" else old.codes()


@dataclasses.dataclass(slots=True)
class Tally:
    """Counts of an impact run (or of one partition of it), by flat keys."""

    counts: Counter[tuple[str, ...]] = dataclasses.field(default_factory=Counter)

    def decided(self, matter: str, kind: Change) -> None:
        self.counts["applications", matter] += 1
        self.counts[kind, matter] += 1

    def flip(
        self, matter: str, on: str, kind: Change, rules: list[str], reasons: tuple[str, ...]
    ) -> None:
        for rule in rules or ["(none)"]:
            self.counts["rule", matter, rule, kind] += 1
            self.counts["date-rule", on, f"{matter}/{rule}", kind] += 1
        for code in reasons:
            self.counts["reason", matter, code, kind] += 1
        self.counts["date", on, kind] += 1

    def undecided(self, matter: str, why: str) -> None:
        self.counts["applications", matter] += 1
        self.counts["undecided", matter, why] += 1

    def merge(self, other: Mapping[tuple[str, ...], int]) -> None:
        self.counts.update(other)

    def summary(self) -> dict[str, Any]:
        """The counts nested for the JSON report (every level sorted)."""
        by_matter: dict[str, dict[str, Any]] = {}
        nested: dict[str, dict[str, Any]] = {"rule": {}, "reason": {}, "date": {}, "date-rule": {}}
        for key, n in sorted(self.counts.items()):
            head, *rest = key
            if head in nested:
                _put(nested[head], rest, n)
            elif head == "undecided":
                _put(by_matter.setdefault(rest[0], {}), ["undecided", *rest[1:]], n)
            else:
                _put(by_matter.setdefault(rest[0], {}), [head], n)
        totals = {k: sum(m.get(k, 0) for m in by_matter.values()) for k in _TOTALS}
        return {
            "totals": totals,
            "by_matter": by_matter,
            "by_rule": nested["rule"],
            "by_reason": nested["reason"],
            "by_date": nested["date"],
            "by_date_and_rule": nested["date-rule"],
        }


_TOTALS = ("applications", "same", "reasons-changed", *DIRECTIONS)


def _put(tree: dict[str, Any], path: list[str], n: int) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = tree.get(path[-1], 0) + n
