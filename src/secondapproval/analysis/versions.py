"""Two versions of a matter compared: the applications one approves and the other refers, in both
directions, each with a witness both engines decide and the rules whose results differ on it.

The versions share one application and one decision date (`Encoder(like=…)`): the facts both
declare alike are the same variables, a fact only one declares must be absent for the other to
approve (an undeclared key is refused), and the date is any day the new version is in force (or
the one given). Each version is decided by an engine pinned to it (`pinned`), so that the old one
answers for the new one's days: what a reviewer must see before the new version takes effect.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from ..engine import Engine
from ..lang import ir
from ..ruleset import Matter
from .ask import Asker, Claim, Witness, decided, summary
from .encode import Encoder, FactVars

Direction = Literal["widens", "narrows"]


@dataclass(frozen=True)
class Change:
    """One direction: `widens` (the new version approves what the old one refers) or `narrows`."""

    direction: Direction
    claim: Claim
    rules: dict[str, str] = field(default_factory=dict)
    """On the witness, each rule whose result differs: `old → new` (`absent` in one version)."""

    def to_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, **self.claim.to_dict(), "rules": self.rules}


@dataclass(frozen=True)
class VersionDiff:
    matter: str
    old: str
    new: str
    changes: tuple[Change, ...]
    rules_changed: tuple[str, ...]
    """Rules added, removed or reworded between the versions (by their rendered expression)."""
    approximate: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "matter": self.matter,
            "old": self.old,
            "new": self.new,
            "changes": [c.to_dict() for c in self.changes],
            "rules_changed": list(self.rules_changed),
            "approximate": list(self.approximate),
        }


def pinned(engine: Engine, matter: Matter) -> Engine:
    """An engine deciding `matter` (one version) on any day, as if it alone were in force."""
    snapshot = engine.snapshot
    span = next(s for s in snapshot.spans[matter.id] if s.compiled.matter is matter)
    spans = {matter.id: (span._replace(start=dt.date.min, end=None),)}
    return Engine(snapshot=dataclasses.replace(snapshot, spans=spans), vouch="all")


def compare(
    old: Matter, old_engine: Engine, new: Matter, new_engine: Engine, on: dt.date | None = None
) -> VersionDiff:
    """The applications `new` approves and `old` refers (`widens`) and the converse (`narrows`),
    decided on a day `new` is in force (`on`, if given)."""
    if on is not None and not new.spec.effective.covers(on):
        raise ValueError(f"{new.id}@{new.version} is not in force on {on.isoformat()}")
    new_enc = Encoder(new, on, tag="new:")
    old_enc = Encoder(old, tag="old:", like=new_enc)
    asker = Asker([new_enc, old_enc])
    approves = {
        "new": z3.And(new_enc.approves(), *_absent(new_enc, old_enc)),
        "old": z3.And(old_enc.approves(), *_absent(old_enc, new_enc)),
    }
    engines = {"old": pinned(old_engine, old), "new": pinned(new_engine, new)}
    changes = []
    directions: tuple[tuple[Direction, str, str], ...] = (
        ("widens", "new", "old"),
        ("narrows", "old", "new"),
    )
    for direction, yes, no in directions:
        claim = asker.ask(approves[yes], z3.Not(approves[no]))
        holds = _outcomes(engines, old.id, approve=yes, refer=no)
        claim = asker.confirm(claim, holds, f"{yes} approves and {no} refers")
        rules = {} if claim.witness is None else _rules_that_differ(engines, old.id, claim.witness)
        changes.append(Change(direction, claim, rules))
    return VersionDiff(
        new.id,
        old.version,
        new.version,
        tuple(changes),
        _reworded(old, new),
        tuple(asker.approximate),
    )


def _absent(enc: Encoder, other: Encoder) -> list[Any]:
    """The facts only `other` declares are absent: `enc`'s version refuses them as undeclared."""
    only: list[FactVars] = [f for p, f in other.facts.items() if p not in enc.facts]
    return [z3.And(z3.Not(f.given), z3.Not(f.invalid)) for f in only]


def _outcomes(
    engines: dict[str, Engine], matter: str, approve: str, refer: str
) -> Callable[[Witness], str | None]:
    """The check that one version approves a witness and the other refers it."""

    def holds(w: Witness) -> str | None:
        yes, no = decided(engines[approve], matter, w), decided(engines[refer], matter, w)
        if yes.outcome.value == "approve" and no.outcome.value == "refer":
            return None
        return f"{approve}: {summary(yes)}, {refer}: {summary(no)}"

    return holds


def _rules_that_differ(engines: dict[str, Engine], matter: str, w: Witness) -> dict[str, str]:
    old, new = decided(engines["old"], matter, w), decided(engines["new"], matter, w)
    before = {r.rule: r.status.value for r in old.results}
    after = {r.rule: r.status.value for r in new.results}
    differ = {}
    for rule in [*before, *(r for r in after if r not in before)]:
        a, b = before.get(rule, "absent"), after.get(rule, "absent")
        if a != b:
            differ[rule] = f"{a} → {b}"
    return differ


def _reworded(old: Matter, new: Matter) -> tuple[str, ...]:
    before = {r.id: ir.render(r.expr) for r in old.rules}
    after = {r.id: ir.render(r.expr) for r in new.rules}
    return tuple(sorted(r for r in before.keys() | after.keys() if before.get(r) != after.get(r)))
