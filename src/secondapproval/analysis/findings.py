"""What a matter version can and cannot approve, each claim with a witness the engine decides.

`analyze(matter, engine)` asks the solver: can the matter approve (a witness application, or a
proof that none can)? Can each rule pass, fail, be unknown (given every fact valid: only its own
facts' absence makes it unknown)? A rule that can never fail is dead (a warning); one that can
never pass makes the matter unapprovable (an error). Every witness is decided by the engine, and
the analysis stops with `AnalysisError` when the engine disagrees with an exact encoding (the
encoding or the engine has a bug); where the encoding is approximate (`Encoder.approximate`) a
"no" is *unknown*, never a proof.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from ..engine import Engine
from ..errors import SecondApprovalError
from ..ruleset import Matter
from .encode import Encoder
from .witness import application

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

    def ask(self, *goal: Any) -> tuple[Claim, z3.ModelRef | None]:
        solver = z3.Solver()
        solver.set("timeout", TIMEOUT_MS)
        solver.add(*self.enc.constraints, *goal)
        result = solver.check()
        if result == z3.sat:
            model = solver.model()
            facts, on = application(model, self.enc)
            return Claim("yes", Witness(facts, on)), model
        if result == z3.unsat and self.exact:
            return Claim("no", why="proved by the solver"), None
        why = (
            "the solver gave up"
            if result == z3.unknown
            else "not encoded exactly: " + "; ".join(sorted(set(self.enc.approximate)))
        )
        return Claim("unknown", why=why), None

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
    claim, _ = asker.ask(enc.approves())
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
            c, _ = asker.ask(status[want], *(() if want == "unknown" else (enc.clean(),)))
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
    return report


def _status_of(decision: Any, rule: str) -> str:
    return str(next(r.status.value for r in decision.results if r.rule == rule))
