"""A matter split into its independent parts: the rules that share no input fact, through the
derived facts they read, ask the solver separately.

On one decision date the facts of different parts constrain each other in nothing, so a
question about one rule needs only its part: a model of the part on the day of an approving
application (`Parts.base`), with the base's facts for every other part, is a model of the whole
matter — a small solver instead of the matter's one. And a part's constraints are a subset of
the whole matter's, so a part proved to have no model (on any day) is a proof for the whole
matter. Whatever a part cannot settle (it has a model only on another day, or the solver gives
up) is asked of the whole matter (`analysis.findings`).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

from ..facts import FactValidator
from ..paths import get, put, remove
from ..ruleset import Matter, Rule
from .ask import Asker, Claim, Witness
from .encode import Encoder
from .pins import pinned

Result = str
"""A rule's status asked for: passed, failed or unknown."""

NEIGHBOURS = 8
"""A fact read by more rules than this is no rule's own: a witness that changes it (and so would
have to keep all those rules passing) is asked of the whole matter (`Parts._changed`)."""


@dataclasses.dataclass(eq=False)
class Part:
    """Some rules of a matter and the input facts they read (no other part's rule reads one)."""

    matter: Matter
    """The matter of these rules and facts only (`part_of`)."""
    facts: frozenset[str]
    _askers: dict[dt.date | None, tuple[Asker, dict[str, Any]]] = dataclasses.field(
        default_factory=dict, repr=False
    )

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.matter.rules)

    def asker(self, on: dt.date | None) -> tuple[Asker, dict[str, Any]]:
        """The part's solver on a day (any day it is in force, for None), and per rule a mark
        assuming it passes; made once a day."""
        if on not in self._askers:
            enc = Encoder(self.matter, on)
            asker = Asker([enc])
            self._askers[on] = asker, {r: asker.mark(enc.status(r)["passed"]) for r in enc.rules}
        return self._askers[on]


def parts(matter: Matter) -> list[Part]:
    """The matter's parts: input facts joined when one rule (or one output) depends on both,
    each rule in the part of its facts (a rule that reads no input fact alone in its own); the
    facts no rule reads are one last part, without rules."""
    leader = {p: p for p in matter.inputs}

    def find(p: str) -> str:
        while leader[p] != p:
            leader[p] = leader[leader[p]]
            p = leader[p]
        return p

    groups = [r.roots for r in matter.rules] + [matter.roots_of(p) for p in matter.outputs]
    for roots in groups:
        ordered = sorted(roots)
        for p in ordered[1:]:
            leader[find(p)] = find(ordered[0])
    by_leader: dict[str, list[Rule]] = {}
    alone: list[Rule] = []
    for rule in matter.rules:
        if rule.roots:
            by_leader.setdefault(find(next(iter(rule.roots))), []).append(rule)
        else:
            alone.append(rule)
    out = [part_of(matter, [r], frozenset()) for r in alone]
    for key, rules in by_leader.items():
        out.append(part_of(matter, rules, frozenset(p for p in leader if find(p) == key)))
    unread = frozenset(p for p in leader if find(p) not in by_leader)
    if unread or not out:
        out.append(part_of(matter, [], unread))
    return out


def part_of(matter: Matter, rules: list[Rule], facts: frozenset[str]) -> Part:
    """The matter of `rules` over `facts` (with the derived facts computed from them alone)."""
    derived = tuple(d for d in matter.derived if matter.roots_of(d.path) <= facts)
    keep = facts | {d.path for d in derived}
    ids = {r.id for r in rules}
    spec = matter.spec.model_copy(
        update={
            "facts": {p: f for p, f in matter.spec.facts.items() if p in keep},
            "rules": [r for r in matter.spec.rules if r.id in ids],
        }
    )
    sub = dataclasses.replace(
        matter,
        spec=spec,
        types={p: t for p, t in matter.types.items() if p in keep},
        derived=derived,
        rules=tuple(r for r in matter.rules if r.id in ids),
    )
    return Part(sub, facts)


class Parts:
    """The parts of one matter version, asked on the day of `base` (an approving application,
    once there is one) or on any day."""

    def __init__(self, matter: Matter, on: dt.date | None = None) -> None:
        self.matter = matter
        self.on = on
        self.all = parts(matter)
        self.of = {r: p for p in self.all for r in p.rules}
        self.readers: dict[str, list[Rule]] = {p: [] for p in matter.inputs}
        for r in matter.rules:
            for p in r.roots:
                self.readers[p].append(r)
        self._base: Witness | None = None
        self._values: dict[str, Any] = {}

    @property
    def base(self) -> Witness | None:
        """An approving application: a part's model on its day completes it, and a model of a
        rule's own facts with the others pinned to it changes it (`ask`)."""
        return self._base

    @base.setter
    def base(self, w: Witness | None) -> None:
        self._base = w
        if w is not None:
            self._values = dict(FactValidator(self.matter).validate(w.facts, w.on).values)

    @property
    def useful(self) -> bool:
        return len(self.all) > 1

    def approve(self) -> Claim | None:
        """An approving application made of one per part on one day (the first part's), or the
        proof that some part, and so the matter, approves none (on the day asked for, or any);
        None when the parts cannot say (they approve, but maybe on no common day)."""
        if not self.useful:
            return None
        first, *others = self.all
        claim = self._approves(first, self.on)
        if claim.answer != "yes" or claim.witness is None:
            return self._proof(claim, first)
        day = claim.witness.on
        facts = claim.witness.facts
        for part in others:
            claim = self._approves(part, day)
            if claim.answer != "yes" or claim.witness is None:
                if self.on is None:  # not on the first part's day: on none at all?
                    claim = self._approves(part, None)
                return self._proof(claim, part)
            facts = _merge(facts, claim.witness.facts, part.facts)
        return Claim("yes", Witness(facts, day))

    def _approves(self, part: Part, on: dt.date | None) -> Claim:
        asker, _ = part.asker(on)
        return asker.ask(asker.encoders[0].approves())

    def ask(self, rule: str, result: Result, *, others: bool) -> Claim | None:
        """Whether `rule` can have `result` (on clean facts, but for unknown; with every other
        rule passing, for `others`): a witness on the base's day, completed by the base; a proof
        that its part has none on any day; or None, for the whole matter to answer."""
        if self.base is not None:
            near = self._near(rule, result, others, self.base)
            if near is not None:
                return near
        if not self.useful:
            return None
        return self._proof(self._ask(self.of[rule], rule, result, others, self.on), self.of[rule])

    def _near(self, rule: str, result: Result, others: bool, base: Witness) -> Claim | None:
        """A witness that is the base but for the facts of the rule's part, or else but for
        the rule's own facts (`_own`)."""
        if self.useful:
            part = self.of[rule]
            claim = self._ask(part, rule, result, others, base.on)
            if claim.answer == "yes" and claim.witness is not None:
                return Claim(
                    "yes", Witness(_merge(base.facts, claim.witness.facts, part.facts), base.on)
                )
        return self._changed(rule, result, others, base)

    def _changed(self, rule: str, result: Result, others: bool, base: Witness) -> Claim | None:
        """A witness that changes only the rule's own facts (those at most `NEIGHBOURS` rules
        read) of the base: the rule and the rules that read them are asked with every other
        fact they read pinned to the base's value (`analysis.pins`), so each other rule keeps its
        base status but those, which pass again for `others`. None: no such witness."""
        target = next(r for r in self.matter.rules if r.id == rule)
        own = frozenset(p for p in target.roots if len(self.readers[p]) <= NEIGHBOURS)
        if not own:
            return None
        near = {r.id: r for p in own for r in self.readers[p] if r.id != rule} if others else {}
        rules = [target, *near.values()]
        facts = frozenset().union(*(r.roots for r in rules))
        enc = Encoder(part_of(self.matter, rules, facts).matter, base.on)
        try:
            pins = pinned(enc, self._values, sorted(facts - own))
        except ValueError:  # a base value z3 cannot hold
            return None
        status = enc.status(rule)[result]
        goal = [status, *pins] + ([] if result == "unknown" else [enc.clean()])
        claim = Asker([enc]).ask(*goal, *(enc.status(r)["passed"] for r in near))
        if claim.answer != "yes" or claim.witness is None:
            return None
        return Claim("yes", Witness(_merge(base.facts, claim.witness.facts, own), base.on))

    def _ask(
        self, part: Part, rule: str, result: Result, others: bool, on: dt.date | None
    ) -> Claim:
        asker, passing = part.asker(on)
        enc = asker.encoders[0]
        goal = [enc.status(rule)[result]] + ([] if result == "unknown" else [enc.clean()])
        return asker.ask(*goal, under=[m for r, m in passing.items() if r != rule and others])

    def _proof(self, claim: Claim, part: Part) -> Claim | None:
        """A part's proof (naming the rules it is over), or None if the claim is none."""
        if claim.answer not in ("no", "bounded"):
            return None
        over = ", ".join(map(repr, part.rules)) or "the facts no rule reads"
        return dataclasses.replace(claim, why=f"{claim.why} (over {over})")


def _merge(base: dict[str, Any], part: dict[str, Any], facts: frozenset[str]) -> dict[str, Any]:
    """The base application with a part's facts as the part's model gives them."""
    out = copy.deepcopy(base)
    for path in facts:
        remove(out, path)
        value = get(part, path)  # None: the part's model leaves the fact out
        if value is not None:
            put(out, path, copy.deepcopy(value))
    return out
