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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from ..engine import Engine
from ..facts import FactValidator
from ..lang import ir
from ..lang.interpret import evaluate
from ..lang.kleene import ERROR_VALUE, UNKNOWN_VALUE
from ..paths import put, remove
from ..ruleset import Matter
from .ask import AnalysisError, Asker, Claim, Witness, decided, summary
from .encode import Encoder
from .parts import Parts
from .witness import WRONG

Severity = Literal["error", "warning", "info"]


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


def analyze(matter: Matter, engine: Engine, on: dt.date | None = None) -> Report:
    """The analysis of one matter version, every witness decided by `engine` (on `on`, which the
    version must be in force on; by default, any day it is)."""
    if on is not None and not matter.spec.effective.covers(on):
        raise ValueError(f"{matter.id}@{matter.version} is not in force on {on.isoformat()}")
    enc = Encoder(matter, on)
    asker = Asker([enc])
    check = _Checks(matter, engine)
    one = Parts(matter, on)
    claim = one.approve() or asker.ask(enc.approves())
    claim = asker.confirm(claim, check.approves, "it approves")
    one.base = claim.witness
    report = Report(matter.id, matter.version, claim, approximate=tuple(asker.approximate))
    report.findings += _approvable_findings(claim)
    passing = {r: asker.mark(enc.status(r)["passed"]) for r in enc.rules}
    alone: set[str] = set()  # rules shown failing while every other one passes
    for rule in enc.rules:
        report.rules[rule], fails_alone = _rule_claims(enc, asker, one, check, rule, passing)
        report.findings += _rule_findings(rule, report.rules[rule])
        if fails_alone:
            alone.add(rule)
    if claim.answer == "yes" and claim.witness is not None:
        report.findings += _fail_safe(matter, engine, claim.witness)
        dead = {r for r, cs in report.rules.items() if cs["failed"].answer == "no"}
        report.findings += _redundant(enc, asker, passing, skip=alone | dead)
    report.findings += _failing_derivations(matter, enc, asker)
    return report


class _Checks:
    """What the engine decides of a witness, as `Asker.confirm` reads it (None: as claimed)."""

    def __init__(self, matter: Matter, engine: Engine) -> None:
        self.matter = matter
        self.engine = engine

    def approves(self, w: Witness) -> str | None:
        d = decided(self.engine, self.matter.id, w)
        return None if d.outcome.value == "approve" else summary(d)

    def statuses(self, want: dict[str, str]) -> Callable[[Witness], str | None]:
        def holds(w: Witness) -> str | None:
            d = decided(self.engine, self.matter.id, w)
            results = {r.rule: r.status.value for r in d.results}
            got = {r: results[r] for r in want}
            return None if got == want else f"{summary(d)} {got}"

        return holds


def _rule_claims(
    enc: Encoder,
    asker: Asker,
    one: Parts,
    check: _Checks,
    rule: str,
    passing: dict[str, Any],
) -> tuple[dict[str, Claim], bool]:
    """Can the rule pass, fail and be unknown? Passing is shown by the approving witness when
    there is one; failing is asked first with every other rule passing (the witness a reviewer
    wants, and a proof the rule is not implied by the others: the second value), then alone.
    Each question goes to the rule's part first (`Parts.ask`), then to the whole matter."""
    status = enc.status(rule)
    others = [m for r, m in passing.items() if r != rule]
    approving = Claim("yes", one.base) if one.base is not None else None
    passed = approving or asker.confirm(
        one.ask(rule, "passed", others=False) or asker.ask(status["passed"], enc.clean()),
        check.statuses({rule: "passed"}),
        f"{rule} is passed",
    )
    failed = one.ask(rule, "failed", others=True) or asker.ask(
        status["failed"], enc.clean(), under=others
    )
    want = {rule: "failed", **{r: "passed" for r in passing if r != rule}}
    alone = failed.answer == "yes"
    if not alone:
        failed = one.ask(rule, "failed", others=False) or asker.ask(status["failed"], enc.clean())
        want = {rule: "failed"}
    failed = asker.confirm(failed, check.statuses(want), f"{rule} is failed")
    unknown = _left_out(check, rule, one.base) or asker.confirm(
        one.ask(rule, "unknown", others=False) or asker.ask(status["unknown"]),
        check.statuses({rule: "unknown"}),
        f"{rule} is unknown",
    )
    claims = {"passed": passed, "failed": failed, "unknown": unknown}
    return claims, alone and failed.answer == "yes"


def _left_out(check: _Checks, rule: str, w: Witness | None) -> Claim | None:
    """The approving witness `w` with one input fact the rule reads left out, if the engine then
    gives the rule unknown: a witness no solver needs to find."""
    if w is None:
        return None
    holds = check.statuses({rule: "unknown"})
    for path in reads(check.matter, rule):
        candidate = Witness(_without(w.facts, path), w.on)
        if candidate.facts != w.facts and holds(candidate) is None:
            return Claim("yes", candidate)
    return None


def reads(matter: Matter, rule: str) -> list[str]:
    """The input facts a rule reads, through the derived facts it reads."""
    derived = {d.path: d.expr for d in matter.derived}
    expr = next(r.expr for r in matter.rules if r.id == rule)
    out: list[str] = []
    todo = [expr]
    while todo:
        for node in ir.walk(todo.pop()):
            if isinstance(node, ir.Fact) and node.path in derived:
                todo.append(derived.pop(node.path))
            elif isinstance(node, ir.Fact) and node.path in matter.inputs and node.path not in out:
                out.append(node.path)
    return out


def _approvable_findings(claim: Claim) -> list[Finding]:
    if claim.answer == "no":
        return [Finding("error", "unapprovable", "no application can be approved (proved)")]
    if claim.answer == "bounded":
        return [Finding("warning", "unapprovable-bounded", f"no application approves: {claim.why}")]
    if claim.answer == "unknown":
        return [Finding("info", "approvable-unknown", claim.why)]
    return []


def _rule_findings(rule: str, claims: dict[str, Claim]) -> list[Finding]:
    out = []
    if claims["failed"].answer == "no":
        out.append(Finding("warning", "dead-rule", f"rule {rule!r} can never fail (proved)", rule))
    if claims["passed"].answer == "no":
        message = f"rule {rule!r} can never pass (proved): the matter cannot approve"
        out.append(Finding("error", "never-passes", message, rule))
    return out


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


def _redundant(
    enc: Encoder, asker: Asker, passing: dict[str, Any], skip: set[str]
) -> list[Finding]:
    """A rule that passes on every clean application on which the others all pass is implied by
    them (a warning naming the ones that imply it: an unsat core). The rules in `skip` need no
    question: one shown failing while the others pass is not implied, and a dead rule, implied
    by anything, is reported as dead only."""
    if not asker.exact or asker.bounded or len(enc.rules) < 2:
        return []
    out = []
    for rule in (r for r in enc.rules if r not in skip):
        marks = {passing[r]: r for r in enc.rules if r != rule}
        goal = asker.mark(enc.clean(), z3.Not(enc.status(rule)["passed"]))
        if asker.check(goal, *marks) == z3.unsat:
            by = sorted(marks[m] for m in asker.solver.unsat_core() if m in marks)
            message = f"rule {rule!r} is implied by {', '.join(map(repr, by)) or 'nothing'}"
            out.append(Finding("warning", "redundant", message + " (proved)", rule))
    return out


def _failing_derivations(matter: Matter, enc: Encoder, asker: Asker) -> list[Finding]:
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
