"""What a matter version can and cannot approve, each claim with a witness the engine decides.

`analyze(matter, engine)` asks the solver: can the matter approve (a witness application, or a
proof that none can)? Can each rule pass, fail (on clean applications), be unknown? A rule that
can never fail is dead (a warning); one that can never pass makes the matter unapprovable (an
error); one implied by the others is redundant (a warning naming them); a derived fact that can
fail on valid facts is shown with the facts that make it fail. The approving witness is decided
again with each required fact removed and made invalid: the engine must refer (fail-safe).
Every witness is decided by the engine, and the analysis stops with `AnalysisError` when the
engine disagrees with an exact encoding (the encoding or the engine has a bug); where the
encoding is approximate (`Encoder.approximate`) a "no" is *unknown*, never a proof.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from ..engine import Engine
from ..errors import SecondApprovalError
from ..facts import FactValidator
from ..lang import ir
from ..lang.interpret import evaluate
from ..lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from ..paths import put, remove
from ..ruleset import Matter
from .encode import Encoder
from .witness import WRONG, application

Severity = Literal["error", "warning", "info"]
TIMEOUT_MS = 10_000


class AnalysisError(SecondApprovalError, RuntimeError):
    """The engine decided a witness otherwise than the solver claimed: a bug, shown loudly."""


@dataclass(frozen=True)
class Witness:
    facts: dict[str, Any]
    on: dt.date

    def to_dict(self) -> dict[str, Any]:
        return {"facts": self.facts, "on": self.on.isoformat()}


@dataclass(frozen=True)
class Claim:
    """One question's answer: `yes` with a witness, `no` (proved), or `unknown`."""

    answer: Literal["yes", "no", "unknown"]
    witness: Witness | None = None
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"answer": self.answer}
        if self.witness is not None:
            out["witness"] = self.witness.to_dict()
        if self.why:
            out["why"] = self.why
        return out


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: str
    message: str
    rule: str | None = None
    witness: Witness | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "kind": self.kind,
            "message": self.message,
        }
        if self.rule is not None:
            out["rule"] = self.rule
        if self.witness is not None:
            out["witness"] = self.witness.to_dict()
        return out


@dataclass
class Report:
    matter: str
    version: str
    approvable: Claim
    rules: dict[str, dict[str, Claim]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    approximate: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "matter": self.matter,
            "version": self.version,
            "approvable": self.approvable.to_dict(),
            "rules": {r: {k: c.to_dict() for k, c in cs.items()} for r, cs in self.rules.items()},
            "findings": [f.to_dict() for f in self.findings],
            "approximate": list(self.approximate),
        }


class _Asker:
    def __init__(self, enc: Encoder, engine: Engine, matter: Matter) -> None:
        self.enc = enc
        self.engine = engine
        self.matter = matter
        self.exact = not enc.approximate

    def ask(self, *goal: Any) -> Claim:
        solver = z3.Solver()
        solver.set("timeout", TIMEOUT_MS)
        solver.add(*self.enc.constraints, *goal)
        result = solver.check()
        if result == z3.sat:
            model = solver.model()
            facts, on = application(model, self.enc)
            return Claim("yes", Witness(facts, on))
        if result == z3.unsat and self.exact:
            return Claim("no", why="proved by the solver")
        why = (
            "the solver gave up"
            if result == z3.unknown
            else "not encoded exactly: " + "; ".join(sorted(set(self.enc.approximate)))
        )
        return Claim("unknown", why=why)

    def decide(self, w: Witness) -> Any:
        return self.engine.decide(self.matter.id, w.facts, on=w.on)

    def confirm(self, claim: Claim, check: Any, what: str) -> Claim:
        """The engine's decision of the witness must bear the claim out."""
        if claim.witness is None:
            return claim
        decision = self.decide(claim.witness)
        if check(decision):
            return claim
        if not self.exact:
            return Claim("unknown", why=f"the witness did not hold on the engine ({what})")
        raise AnalysisError(
            f"{self.matter.id}@{self.matter.version}: the solver says {what} for "
            f"{claim.witness.to_dict()}, the engine decided {decision.outcome.value} "
            f"{list(decision.codes)}"
        )


def analyze(matter: Matter, engine: Engine, on: dt.date | None = None) -> Report:
    """The analysis of one matter version, every witness decided by `engine` (on `on`, which the
    version must be in force on; by default, any day it is)."""
    if on is not None and not matter.spec.effective.covers(on):
        raise ValueError(f"{matter.id}@{matter.version} is not in force on {on.isoformat()}")
    enc = Encoder(matter, on)
    asker = _Asker(enc, engine, matter)
    claim = asker.ask(enc.approves())
    claim = asker.confirm(claim, lambda d: d.outcome.value == "approve", "it approves")
    report = Report(
        matter.id, matter.version, claim, approximate=tuple(sorted(set(enc.approximate)))
    )
    if claim.answer == "no":
        report.findings.append(
            Finding("error", "unapprovable", "no application can be approved (proved)")
        )
    elif claim.answer == "unknown":
        report.findings.append(Finding("info", "approvable-unknown", claim.why))
    for rule in enc.rules:
        status = enc.status(rule)
        claims: dict[str, Claim] = {}
        for want in ("passed", "failed", "unknown"):
            c = asker.ask(status[want], *(() if want == "unknown" else (enc.clean(),)))
            claims[want] = asker.confirm(
                c, lambda d, r=rule, w=want: _status_of(d, r) == w, f"{rule} is {want}"
            )
        report.rules[rule] = claims
        if claims["failed"].answer == "no":
            report.findings.append(
                Finding("warning", "dead-rule", f"rule {rule!r} can never fail (proved)", rule)
            )
        if claims["passed"].answer == "no":
            report.findings.append(
                Finding(
                    "error",
                    "never-passes",
                    f"rule {rule!r} can never pass (proved): the matter cannot approve",
                    rule,
                )
            )
    if claim.answer == "yes" and claim.witness is not None:
        report.findings += _fail_safe(matter, engine, claim.witness)
        dead = {r for r, cs in report.rules.items() if cs["failed"].answer == "no"}
        report.findings += _redundant(enc, asker, dead)
    report.findings += _failing_derivations(matter, enc, asker)
    return report


def _fail_safe(matter: Matter, engine: Engine, w: Witness) -> list[Finding]:
    """The approving witness with each required fact removed, and with it made invalid, decided
    by the engine: each must refer (a proof over the encoding alone would hold by construction;
    this checks the code)."""
    out = []
    for path, spec in matter.inputs.items():
        if spec.optional:
            continue
        for change, facts in (
            ("removed", _without(w.facts, path)),
            ("invalid", _with(w.facts, path, WRONG.get(spec.type, "not-valid"))),
        ):
            d = engine.decide(matter.id, facts, on=w.on)
            if d.outcome.value == "approve":
                out.append(
                    Finding(
                        "error",
                        "fail-safe",
                        f"approved with the required fact {path!r} {change}",
                        witness=Witness(facts, w.on),
                    )
                )
    return out


def _without(facts: dict[str, Any], path: str) -> dict[str, Any]:
    out = copy.deepcopy(facts)
    remove(out, path)
    return out


def _with(facts: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(facts)
    put(out, path, value)
    return out


def _redundant(enc: Encoder, asker: _Asker, dead: set[str]) -> list[Finding]:
    """A rule that passes on every clean application on which the others all pass is implied by
    them (a warning naming the ones that imply it: an unsat core). A dead rule, implied by
    anything, is reported as dead only."""
    if not asker.exact or len(enc.rules) < 2:
        return []
    out = []
    passed = {r: enc.status(r)["passed"] for r in enc.rules}
    for rule in (r for r in enc.rules if r not in dead):
        solver = z3.Solver()
        solver.set("timeout", TIMEOUT_MS)
        solver.add(*enc.constraints, enc.clean(), z3.Not(passed[rule]))
        marks = {z3.Bool(f"__implies:{r}"): r for r in enc.rules if r != rule}
        for mark, r in marks.items():
            solver.add(z3.Implies(mark, passed[r]))
        if solver.check(*marks) == z3.unsat:
            by = sorted(marks[m] for m in solver.unsat_core())
            message = f"rule {rule!r} is implied by {', '.join(map(repr, by)) or 'nothing'}"
            out.append(Finding("warning", "redundant", message + " (proved)", rule))
    return out


def _failing_derivations(matter: Matter, enc: Encoder, asker: _Asker) -> list[Finding]:
    """A derived fact whose computation can fail although every fact is given and valid (a
    division by zero, a lookup with no row), with the inputs that make it fail."""
    out = []
    for d in matter.derived:
        claim = asker.ask(
            enc.all_valid(),
            z3.Not(z3.Or(*[f.invalid for f in enc.facts.values()])),
            enc.values[d.path].err,
        )
        if claim.answer != "yes" or claim.witness is None:
            continue
        w = claim.witness
        if not _derivation_fails(matter, d.path, w):
            if asker.exact:
                raise AnalysisError(
                    f"{matter.id}: {d.path} fails on {w.to_dict()} for the solver, "
                    "not for the interpreter"
                )
            continue
        out.append(
            Finding(
                "warning",
                "derivation-fails",
                f"the derived fact {d.path!r} fails on valid facts ({d.expr.ty} from "
                f"{ir.render(d.expr)})",
                witness=w,
            )
        )
    return out


def _derivation_fails(matter: Matter, path: str, w: Witness) -> bool:
    """Whether the interpreter, on the engine's validated facts, gives the derived fact an error."""
    values = dict(FactValidator(matter).validate(w.facts, w.on).values)
    errors: set[str] = set()
    for d in matter.derived:
        v = evaluate(d.expr, values, w.on, frozenset(errors))
        if v is ERROR_VALUE:
            errors.add(d.path)
        elif v is not UNKNOWN_VALUE:
            values[d.path] = v
        if d.path == path:
            return d.path in errors
    return False


def _status_of(decision: Any, rule: str) -> str:
    return str(next(r.status.value for r in decision.results if r.rule == rule))
