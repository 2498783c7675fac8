"""Boundary scenarios: for every rule of a matter version, applications at each of its boundaries
and one per result (passed, failed, unknown), each decided by the engine, as a scenario file a
reviewer can read and accept (`secondapproval scenarios generate`).

A boundary is a comparison in a rule between numbers or dates: the application where its two
sides are equal, and where they differ by the next value either side (one, one day, one fen),
asked with every other rule passing so the case shows that rule alone. A rule's failing case
also has every other rule passing; its unknown case leaves out what it reads. A result no
application reaches is listed with the solver's proof instead (or, where the encoding is
approximate, as not decided).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from ..engine import Engine
from ..lang import ir
from ..ruleset import Matter
from .ask import Asker, Claim, Witness, decided
from .encode import Encoder

RESULTS = ("passed", "failed", "unknown")
_STEPS = {"int": "1", "date": "1 day", "decimal": "0.01"}


@dataclass(frozen=True)
class GeneratedCase:
    name: str
    witness: Witness
    outcome: str
    reasons: tuple[str, ...]
    results: dict[str, str]
    """The engine's result of every rule."""
    checked: tuple[str, ...]
    """The rules whose results the case expects (the one it shows; every one for an approval)."""
    note: str

    def to_dict(self, on: dt.date) -> dict[str, Any]:
        expect: dict[str, Any] = {"outcome": self.outcome}
        if self.outcome == "refer":
            expect["reasons"] = list(self.reasons)
        expect["results"] = {r: self.results[r] for r in self.checked}
        out: dict[str, Any] = {"name": self.name, "note": self.note}
        if self.witness.on != on:
            out["on"] = self.witness.on.isoformat()
        out["facts"] = self.witness.facts
        out["expect"] = expect
        return out


@dataclass
class Boundaries:
    matter: str
    version: str
    on: dt.date
    cases: list[GeneratedCase] = field(default_factory=list)
    unreachable: dict[str, dict[str, Claim]] = field(default_factory=dict)
    """Per rule, the results no case shows, with the analysis's answer (`no`: proved)."""

    def shown(self, rule: str) -> set[str]:
        return {c.results[rule] for c in self.cases if rule in c.results}


def generate(matter: Matter, engine: Engine, on: dt.date | None = None) -> Boundaries:
    """The boundary cases of every rule of `matter`, decided by `engine` (on `on`, if given)."""
    if on is not None and not matter.spec.effective.covers(on):
        raise ValueError(f"{matter.id}@{matter.version} is not in force on {on.isoformat()}")
    enc = Encoder(matter, on)
    asker = Asker([enc])
    passing = {r: asker.mark(enc.status(r)["passed"]) for r in enc.rules}
    plausible = asker.mark(*_plausible(enc))

    def ask(*goal: Any, under: tuple[Any, ...] = ()) -> Claim:
        """A witness of plausible values if there is one (a reviewer reads them), else any."""
        claim = asker.ask(*goal, under=(*under, plausible))
        return claim if claim.answer == "yes" else asker.ask(*goal, under=under)

    cases: dict[str, GeneratedCase] = {}
    first = ask(enc.approves())
    out = Boundaries(matter.id, matter.version, on or _day(first, matter))
    seen: set[str] = set()

    def add(claim: Claim, rules: tuple[str, ...], name: str, note: str) -> None:
        if claim.witness is None:
            return
        w = claim.witness
        key = json.dumps([w.facts, w.on.isoformat(), rules], sort_keys=True)
        if key in seen:
            return
        seen.add(key)
        d = decided(engine, matter.id, claim.witness)
        results = {r.rule: r.status.value for r in d.results}
        if len(rules) == 1:
            name = f"{name}: {results[rules[0]]}, {d.outcome.value}"
        unique = next(
            n for n in (name, *(f"{name} ({i})" for i in range(2, 1000))) if n not in cases
        )
        cases[unique] = GeneratedCase(
            unique, claim.witness, d.outcome.value, tuple(d.codes), results, rules, note
        )

    add(first, tuple(enc.rules), "every condition met: approved", "every rule passes")
    for rule in enc.rules:
        status = enc.status(rule)
        others = tuple(m for r, m in passing.items() if r != rule)
        if first.answer != "yes":
            add(ask(status["passed"], enc.clean()), (rule,), f"{rule} passes", "passes")
        for node in _comparisons(matter, rule):
            for relation, claim in _boundary_witnesses(enc, ask, node, others):
                add(claim, (rule,), f"{rule} at {relation}", f"a boundary of {ir.render(node)}")
        failed = ask(status["failed"], enc.clean(), under=others)
        if failed.answer != "yes":
            failed = ask(status["failed"], enc.clean())
        add(failed, (rule,), f"{rule} with every other rule passing", "it fails alone")
        unknown = ask(status["unknown"], under=others)
        if unknown.answer != "yes":
            unknown = ask(status["unknown"])
        add(unknown, (rule,), f"{rule} with a fact it reads left out", "unknown")
    out.cases = list(cases.values())
    for rule in enc.rules:
        missing = {
            want: _why_not(claims_for(enc, asker, rule, want))
            for want in RESULTS
            if want not in out.shown(rule)
        }
        if missing:
            out.unreachable[rule] = missing
    return out


def claims_for(enc: Encoder, asker: Asker, rule: str, want: str) -> Claim:
    """The analysis's answer to whether `rule` can have the result `want` (fail and pass asked of
    clean applications, as `analyze` asks)."""
    status = enc.status(rule)
    return asker.ask(status[want], *(() if want == "unknown" else (enc.clean(),)))


def _why_not(claim: Claim) -> Claim:
    if claim.answer == "yes":  # the solver found one the engine decided otherwise: not shown
        return Claim("unknown", why="the witness the solver found was decided otherwise")
    return claim


def _plausible(enc: Encoder) -> list[Any]:
    """Values a reader expects: dates from 1950 to ten years after the decision, numbers within
    a million (a preference the generator drops when nothing satisfies it)."""
    first = dt.date(1950, 1, 1).toordinal()
    out = []
    for f in enc.facts.values():
        if f.spec.type == "date":
            out += [f.value >= first, f.value <= enc.on + 3653]
        elif f.spec.type in ("int", "decimal", "money"):
            out += [f.value >= -(10**6), f.value <= 10**6]
        elif f.spec.type == "cn_id":
            out.append(f.extra["born"] >= first)
    return out


def _day(claim: Claim, matter: Matter) -> dt.date:
    if claim.witness is not None:
        return claim.witness.on
    return matter.spec.effective.from_


def _comparisons(matter: Matter, rule: str) -> list[ir.Compare]:
    """The comparisons of numbers or dates in a rule, each once."""
    expr = next(r.expr for r in matter.rules if r.id == rule)
    found: dict[str, ir.Compare] = {}
    for node in ir.walk(expr):
        if isinstance(node, ir.Compare) and _ordered(node.left) and _ordered(node.right):
            found.setdefault(ir.render(node), node)
    return list(found.values())


def _ordered(node: ir.Node) -> bool:
    return node.ty.kind in ("int", "decimal", "date")


def _boundary_witnesses(
    enc: Encoder, ask: Any, node: ir.Compare, others: tuple[Any, ...]
) -> list[tuple[str, Claim]]:
    """Applications where the comparison's sides are equal and one step apart either way, clean
    and with every other rule passing (those the solver finds)."""
    left, right = enc.expr(node.left), enc.expr(node.right)
    decimal = "decimal" in (node.left.ty.kind, node.right.ty.kind)
    step: Any = z3.RealVal(str(Fraction(1, 100))) if decimal else z3.IntVal(1)
    a, b = left.v, right.v
    if decimal:
        a = z3.ToReal(a) if a.is_int() else a
        b = z3.ToReal(b) if b.is_int() else b
    kind = "decimal" if decimal else node.left.ty.kind
    lhs, rhs = ir.render(node.left), ir.render(node.right)
    relations = {
        -1: f"{lhs} = {rhs} − {_STEPS[kind]}",
        0: f"{lhs} = {rhs}",
        1: f"{lhs} = {rhs} + {_STEPS[kind]}",
    }
    out = []
    for k, relation in relations.items():
        claim = ask(left.ok, right.ok, a - b == step * k, enc.clean(), under=others)
        if claim.answer == "yes":
            out.append((relation, claim))
    return out


def scenario_document(b: Boundaries, rules: str, engine_name: str = "z3") -> dict[str, Any]:
    """The scenario file (DESIGN §7) of the generated cases; `rules` is the rules folder as the
    file will reach it (relative to the file). The results no case shows are in `description`."""
    lines = [
        f"Boundary scenarios of {b.matter}@{b.version}, generated by `secondapproval scenarios "
        "generate` and decided by the engine: accept them by reading them.",
    ]
    for rule, missing in b.unreachable.items():
        for want, claim in missing.items():
            verdict = {
                "no": f"unreachable (proved by {engine_name})",
                "bounded": f"unreachable for {claim.why.removeprefix('none with ')}",
            }.get(claim.answer, f"not decided ({claim.why})")
            lines.append(f"{rule}: {want}: {verdict}")
    return {
        "matter": b.matter,
        "on": b.on.isoformat(),
        "rules": rules,
        "vouch": "all",
        "description": "\n".join(lines),
        "cases": [c.to_dict(b.on) for c in b.cases],
    }
