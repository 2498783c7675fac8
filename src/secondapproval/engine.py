"""The Engine: a registry of matter versions, and `decide()` — validate, evaluate, answer.

No global state: each Engine holds its own compiled matters; many threads may call `decide()` on
one Engine at once (compiled matters are immutable; the decision counter is an atomic iterator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends import Backend, Evaluator, get_backend
from .compiled import CompiledMatter, compile_matter
from .decision import Decision
from .errors import RuleSetError, UnknownMatterError
from .facts import FactValidator
from .limits import DEFAULT, LIMIT, Limits
from .loader import load_matters, version_problems
from .log import get_logger
from .marks import Oversized
from .paths import ROOT
from .registry import Registry, load_registry
from .ruleset import Matter
from .status import ERROR

if TYPE_CHECKING:
    from .audit.auditor import Auditor
    from .audit.sinks import Sink

PathLike = str | Path
_perf_ns = time.perf_counter_ns
_Span = tuple[
    dt.date,
    dt.date | None,
    CompiledMatter,
    Callable[[object, dt.date], tuple[dict[str, Any], dict[str, str], tuple[str, ...]]],
    Evaluator,
]
"""A version in force from a date (to a date, or open): its compiled matter, check and evaluate."""


class Engine:
    """Decides applications of the matters it loaded.

    `Engine("rules")` loads every matter file under `rules/` (and `rules/sources.yaml`);
    `decide(matter, facts, on=date)` returns a `Decision` and never raises for a bad application.
    With `audit=` (one sink or several) every decision is also written as an audit record before
    `decide()` returns (under the sink's fsync policy) — `audit_key` (else the key a sink was
    opened with) MACs every record and keys the digest of the facts, `clock` gives the UTC time —
    and `decide()` raises AuditError only when a sink cannot write; any application is recorded.
    `close()` (or `with Engine(...)`) commits the rest.
    `limits=` (`limits.Limits`) bounds one application: beyond them it refers with `INVALID:$`
    before validation, and its audit record holds a short note instead of the application.
    """

    def __init__(
        self,
        rules: PathLike | Iterable[PathLike] | Iterable[Matter] = "rules",
        *,
        backend: str | Backend = "native",
        sources: Registry | PathLike | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        audit: Sink | Sequence[Sink] | None = None,
        audit_key: bytes | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        limits: Limits = DEFAULT,
    ) -> None:
        self._backend = get_backend(backend) if isinstance(backend, str) else backend
        self._limits = limits
        self._today = today
        items = [rules] if isinstance(rules, str | Path) else list(rules)
        if items and all(isinstance(i, Matter) for i in items):
            matters = [i for i in items if isinstance(i, Matter)]
            problems = version_problems(matters)
            if problems:
                raise RuleSetError(problems)
        else:
            registry = load_registry(sources) if isinstance(sources, str | Path) else sources
            matters = load_matters([i for i in items if isinstance(i, str | Path)], registry)
        self._versions: dict[str, tuple[CompiledMatter, ...]] = {}
        for m in sorted(matters, key=lambda m: (m.id, m.spec.effective.from_)):
            compiled = compile_matter(m, self._backend)
            if limits != DEFAULT:
                compiled = dataclasses.replace(compiled, validator=FactValidator(m, limits=limits))
            self._versions[m.id] = (*self._versions.get(m.id, ()), compiled)
        # each matter's versions as (from, to, compiled, check, evaluate), bound once: the hot
        # path reads no pydantic model and looks no method up
        self._spans: dict[str, tuple[_Span, ...]] = {
            matter: tuple(
                (e.from_, e.to, c, c.validator.check, c.evaluate)
                for c in vs
                for e in (c.matter.spec.effective,)
            )
            for matter, vs in self._versions.items()
        }
        self._prefix = secrets.token_hex(6) + "-"
        self._counter = itertools.count(1)
        self._log = get_logger(component="engine", backend=self._backend.name)
        self._log.info(
            "rules.loaded",
            matters=sorted(self._versions),
            versions=sum(len(v) for v in self._versions.values()),
        )
        self._audit: Auditor | None = None
        if audit is not None:
            from .audit.auditor import Auditor
            from .audit.record import utc_now

            self._audit = Auditor(
                audit,
                [c.matter for vs in self._versions.values() for c in vs],
                key=audit_key,
                clock=clock or utc_now,
                backend=f"{self._backend.name} {self._backend.version}",
            )
            # bound per instance, so that an engine without audit pays nothing for it
            self._record = self._audit.record
            self.decide = self._decide_audited  # type: ignore[method-assign]
            self.decide_many = self._decide_many_audited  # type: ignore[method-assign]

    # ---- the registry ----
    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def limits(self) -> Limits:
        """The bounds on one application (beyond them: `INVALID:$`)."""
        return self._limits

    @property
    def matters(self) -> tuple[str, ...]:
        """The ids of the loaded matters, sorted."""
        return tuple(sorted(self._versions))

    def versions(self, matter: str) -> tuple[Matter, ...]:
        """Every loaded version of a matter, oldest first."""
        return tuple(c.matter for c in self._compiled_versions(matter))

    def version_on(self, matter: str, on: dt.date) -> Matter | None:
        """The version in force on a date, or None."""
        compiled = self._compiled_on(matter, on)
        return compiled.matter if compiled else None

    def _compiled_versions(self, matter: str) -> tuple[CompiledMatter, ...]:
        try:
            return self._versions[matter]
        except KeyError:
            raise UnknownMatterError(matter, self._versions) from None

    def _compiled_on(self, matter: str, on: dt.date) -> CompiledMatter | None:
        span = self._span_on(matter, on)
        return span[2] if span is not None else None

    def _span_on(self, matter: str, on: dt.date) -> _Span | None:
        try:
            spans = self._spans[matter]
        except KeyError:
            raise UnknownMatterError(matter, self._versions) from None
        for span in spans:
            if span[0] <= on and (span[1] is None or on <= span[1]):  # Effective.covers
                return span
        return None

    # ---- deciding ----
    def decide(
        self, matter: str, facts: Mapping[str, Any] | Any, *, on: dt.date | None = None
    ) -> Decision:
        """Decide one application: approve only if every rule passed on present, valid facts."""
        day = on if on.__class__ is dt.date else self._day(on)
        span = self._span_on(matter, day)
        decision_id = f"{self._prefix}{next(self._counter):x}"
        if span is None:
            return Decision(None, decision_id, day, {}, (), {}, ())
        _, _, compiled, check, evaluate = span
        try:
            values, invalid, missing = check(facts, day)
        except Exception as exc:  # a validator bug is a referral, never an exception to the caller
            self._log.error("validation.failed", matter=matter, error=repr(exc))
            values, invalid, missing = (
                {},
                {ROOT: "the application could not be validated"},  # the log says why
                (),
            )
        try:
            statuses, derived_errors = evaluate(values, day)
        except Exception as exc:  # a backend failure is never an approval
            self._log.error("backend.failed", matter=matter, error=repr(exc))
            statuses, derived_errors = (ERROR,) * len(compiled.matter.rules), frozenset()
        return Decision(
            compiled,
            decision_id,
            day,
            values,
            statuses,
            invalid,
            missing,
            derived_errors,
        )

    def _decide_audited(
        self, matter: str, facts: Mapping[str, Any] | Any, *, on: dt.date | None = None
    ) -> Decision:
        """`decide`, timed, and its record written to every audit sink before it is returned."""
        start = _perf_ns()
        decision = Engine.decide(self, matter, facts, on=on)
        self._record(matter, decision, _as_recorded(decision, facts), _perf_ns() - start)
        return decision

    def _decide_many_audited(
        self,
        matter: str,
        applications: Iterable[Mapping[str, Any] | Any],
        *,
        on: dt.date | None = None,
    ) -> list[Decision]:
        """`decide_many`, each decision timed, and their records written to every audit sink as
        one batch (one commit, one fsync under a durable policy) before any is returned."""
        decided = []
        for facts in applications:
            start = _perf_ns()
            decision = Engine.decide(self, matter, facts, on=on)
            decided.append((decision, _as_recorded(decision, facts), _perf_ns() - start))
        assert self._audit is not None
        self._audit.record_many(matter, decided)
        return [decision for decision, _, _ in decided]

    def close(self) -> None:
        """Commit pending audit records and close the sinks (AuditError if records were lost)."""
        if self._audit is not None:
            self._audit.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def decide_many(
        self,
        matter: str,
        applications: Iterable[Mapping[str, Any] | Any],
        *,
        on: dt.date | None = None,
    ) -> list[Decision]:
        """Decide a batch of applications of one matter on one date.

        Audited, the batch's records are committed together: the call returns once all of them
        are stored as the sinks' policy promises (under `group` and `always`, one fsync).
        """
        return [self.decide(matter, facts, on=on) for facts in applications]

    def _day(self, on: dt.date | None) -> dt.date:
        if on is None:
            return self._today()
        if isinstance(on, dt.datetime):
            return on.date()
        if not isinstance(on, dt.date):
            raise TypeError(f"on must be a date, not {type(on).__name__}")
        return on


def _as_recorded(decision: Decision, facts: Any) -> Any:
    """The application as its audit record holds it: a note in its place when it was beyond
    the engine's limits (the record stays bounded)."""
    flagged = decision.parts()[5]
    if flagged and flagged.get(ROOT, "").startswith(LIMIT):
        return Oversized(flagged[ROOT].removeprefix(LIMIT))
    return facts
