"""Questions to the solver, each answer a `Claim`: `yes` with a witness the engine decides, `no`
(proved), `bounded` (no witness among lists of the encoded length) or `unknown`.

One incremental solver holds a matter's constraints; each question is a fresh goal literal the
solver is asked under (`check(goal)`), so the constraints are asserted and learnt once, not per
question. Every witness is decided by the engine and must bear the claim out: where the encoding
is exact a disagreement is a bug and stops the analysis (`AnalysisError`); where it is
approximate the claim becomes *unknown*.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import z3

from ..engine import Engine
from ..errors import SecondApprovalError
from .encode import Encoder
from .witness import application

TIMEOUT_MS = 10_000
Answer = Literal["yes", "no", "bounded", "unknown"]


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
    """One question's answer: `yes` with a witness, `no` (proved), `bounded` (proved for lists of
    at most the encoded length only) or `unknown`."""

    answer: Answer
    witness: Witness | None = None
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"answer": self.answer}
        if self.witness is not None:
            out["witness"] = self.witness.to_dict()
        if self.why:
            out["why"] = self.why
        return out


class Asker:
    """The solver of one or more encodings (sharing their facts: `Encoder(like=…)`), asked goal
    by goal; the caller's engines decide the witnesses (`Asker.confirm`)."""

    def __init__(self, encoders: Iterable[Encoder]) -> None:
        self.encoders = list(encoders)
        self.solver = z3.Solver()
        self.solver.set("timeout", TIMEOUT_MS)
        self._asserted = [0] * len(self.encoders)
        self.sync()
        self._marks = itertools.count()

    @property
    def approximate(self) -> list[str]:
        return sorted({a for e in self.encoders for a in e.approximate})

    @property
    def bounded(self) -> list[str]:
        return sorted({b for e in self.encoders for b in e.bounded})

    @property
    def exact(self) -> bool:
        return not any(e.approximate for e in self.encoders)

    def sync(self) -> None:
        """Assert what the encoders constrained since (a term encoded after the solver began)."""
        for i, enc in enumerate(self.encoders):
            self.solver.add(*enc.constraints[self._asserted[i] :])
            self._asserted[i] = len(enc.constraints)

    def mark(self, *goal: Any) -> Any:
        """A literal that, when assumed, asserts `goal`."""
        self.sync()
        literal = z3.Bool(f"__goal{next(self._marks)}")
        self.solver.add(z3.Implies(literal, z3.And(*goal)))
        return literal

    def check(self, *assumed: Any) -> Any:
        return self.solver.check(*assumed)

    def ask(self, *goal: Any, under: Iterable[Any] = ()) -> Claim:
        """Whether `goal` holds on some application (with the marks `under` assumed too)."""
        result = self.check(self.mark(*goal), *under)
        if result == z3.sat:
            facts, on = application(self.solver.model(), self.encoders)
            return Claim("yes", Witness(facts, on))
        return self.no(result)

    def no(self, result: Any) -> Claim:
        """The claim of a goal the solver found no model for."""
        if result == z3.unsat and self.exact:
            if self.bounded:
                return Claim("bounded", why="none with " + "; ".join(self.bounded))
            return Claim("no", why="proved by the solver")
        why = (
            "the solver gave up"
            if result == z3.unknown
            else "not encoded exactly: " + "; ".join(self.approximate)
        )
        return Claim("unknown", why=why)

    def confirm(self, claim: Claim, holds: Callable[[Witness], str | None], what: str) -> Claim:
        """The engine's decision of the witness must bear the claim out: `holds` returns None if
        it does, else what the engine decided."""
        if claim.witness is None:
            return claim
        decided = holds(claim.witness)
        if decided is None:
            return claim
        if not self.exact:
            return Claim("unknown", why=f"the witness did not hold on the engine ({what})")
        raise AnalysisError(
            f"the solver says {what} for {claim.witness.to_dict()}; the engine decided {decided}"
        )


def decided(engine: Engine, matter: str, w: Witness) -> Any:
    return engine.decide(matter, w.facts, on=w.on)


def summary(decision: Any) -> str:
    return f"{decision.outcome.value} {list(decision.codes)}"
