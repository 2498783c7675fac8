"""The Engine: decides applications against its current rule-set snapshot, and records them.

Loading and compiling is `snapshot.RuleSetSnapshot`'s job; the Engine holds one snapshot at a time
(`engine.snapshot`) and can be handed another (`engine.swap`). No global state, no lock on the hot
path: `decide()` reads the current snapshot (and, audited, the record builder bound to it) once,
so a decision and its audit record are made wholly under one snapshot; many threads may decide on
one Engine at once (snapshots are immutable; the decision counter is an atomic iterator).
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .backends import Backend, Evaluator
from .compiled import CompiledMatter
from .decision import Decision
from .errors import UnknownMatterError
from .fastfacts import Check
from .limits import DEFAULT, LIMIT, Limits
from .log import get_logger
from .marks import Oversized
from .paths import ROOT
from .provenance import Origins
from .registry import Registry
from .ruleset import Matter
from .snapshot import RuleSetSnapshot, RuleSource, ValidatorFactory, default_validator
from .status import ERROR
from .trust import Guard, Trust, Vouch, refuse

if TYPE_CHECKING:
    from .audit.auditor import Auditor, Recorder
    from .audit.sinks import Sink

PathLike = str | Path
_perf_ns = time.perf_counter_ns
_decided = Decision.decided  # bound once: the hot path looks no class attribute up


class _Served(NamedTuple):
    """A matter version as this Engine decides it: the snapshot's span, and what the Engine's
    trust makes of it (the facts a caller may not give, the origins of ungathered decisions)."""

    start: dt.date
    end: dt.date | None
    compiled: CompiledMatter
    check: Check
    evaluate: Evaluator
    guards: tuple[Guard, ...]
    origins: Origins


@dataclass(frozen=True, slots=True)
class _Serving:
    """What one decision reads once: the snapshot, its versions as served, and the recorder."""

    snapshot: RuleSetSnapshot
    spans: Mapping[str, tuple[_Served, ...]]
    digest: str
    recorder: Recorder | None

    @classmethod
    def of(cls, snapshot: RuleSetSnapshot, trust: Trust, recorder: Recorder | None) -> _Serving:
        registry = snapshot.registry
        spans = {
            matter: tuple(
                _Served(
                    *span,
                    trust.guards(span.compiled.matter, registry),
                    trust.origins(span.compiled.matter),
                )
                for span in versions
            )
            for matter, versions in snapshot.spans.items()
        }
        return cls(snapshot, spans, snapshot.digest, recorder)


class Engine:
    """Decides applications of the matters of its rule-set snapshot.

    `Engine("rules")` loads every matter file under `rules/` (and `rules/sources.yaml`) into a
    snapshot (`RuleSetSnapshot.load`), or takes one built already (`snapshot=`);
    `decide(matter, facts, on=date)` returns a `Decision` and never raises for a bad application.
    With `audit=` (one sink or several) every decision is also written as an audit record before
    `decide()` returns (under the sink's fsync policy) — `audit_key` (else the key a sink was
    opened with) MACs every record and keys the digest of the facts, `clock` gives the UTC time —
    and `decide()` raises AuditError only when a sink cannot write; any application is recorded.
    `close()` (or `with Engine(...)`) commits the rest.
    `limits=` (`limits.Limits`) bounds one application: beyond them it refers with `INVALID:$`
    before validation, and its audit record holds a short note instead of the application.
    `validator=` builds each matter version's validator (the seam for a fault test).
    """

    def __init__(
        self,
        rules: RuleSource = "rules",
        *,
        backend: str | Backend = "native",
        sources: Registry | PathLike | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        audit: Sink | Sequence[Sink] | None = None,
        audit_key: bytes | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        limits: Limits = DEFAULT,
        validator: ValidatorFactory = default_validator,
        snapshot: RuleSetSnapshot | None = None,
        vouch: Vouch = (),
    ) -> None:
        if snapshot is None:
            snapshot = RuleSetSnapshot.load(
                rules, backend=backend, sources=sources, limits=limits, validator=validator
            )
        named = {
            spec.source
            for m in snapshot.all_versions()
            for spec in m.inputs.values()
            if spec.source
        }
        self._trust = Trust.of(snapshot.registry, vouch, (), named)
        self._today = today
        self._prefix = secrets.token_hex(6) + "-"
        self._counter = itertools.count(1)
        self._log = get_logger(component="engine", backend=snapshot.backend.name)
        self._audit: Auditor | None = None
        if audit is not None:
            from .audit.auditor import Auditor
            from .audit.record import utc_now

            self._audit = Auditor(audit, key=audit_key, clock=clock or utc_now)
        self._serving = self._serve(snapshot)

    def _serve(self, snapshot: RuleSetSnapshot) -> _Serving:
        recorder = self._audit.recorder(snapshot) if self._audit is not None else None
        self._log.info(
            "rules.loaded",
            snapshot=snapshot.digest,
            matters=list(snapshot.matters),
            versions=sum(len(v) for v in snapshot.spans.values()),
        )
        return _Serving.of(snapshot, self._trust, recorder)

    # ---- the rule set ----
    @property
    def snapshot(self) -> RuleSetSnapshot:
        """The rule-set snapshot decisions are made under now."""
        return self._serving.snapshot

    def swap(self, snapshot: RuleSetSnapshot) -> RuleSetSnapshot:
        """Decide under `snapshot` from now on; the snapshot replaced is returned.

        Atomic: a decision under way finishes under the snapshot it began with (its audit record
        too); every decision that begins after `swap` returns is made under the new one. Audited,
        the new snapshot's rule texts are kept beside the logs first (as at start), so its records
        can be replayed.
        """
        serving = self._serve(snapshot)
        old, self._serving = self._serving.snapshot, serving
        self._log.info("rules.swapped", old=old.digest, new=snapshot.digest)
        return old

    @property
    def trust(self) -> Trust:
        """The sources it vouches for and the sources it connects."""
        return self._trust

    @property
    def backend(self) -> str:
        return self._serving.snapshot.backend.name

    @property
    def limits(self) -> Limits:
        """The bounds on one application (beyond them: `INVALID:$`)."""
        return self._serving.snapshot.limits

    @property
    def matters(self) -> tuple[str, ...]:
        """The ids of the loaded matters, sorted."""
        return self._serving.snapshot.matters

    def versions(self, matter: str) -> tuple[Matter, ...]:
        """Every loaded version of a matter, oldest first."""
        return self._serving.snapshot.versions(matter)

    def version_on(self, matter: str, on: dt.date) -> Matter | None:
        """The version in force on a date, or None."""
        span = self._serving.snapshot.span_on(matter, on)
        return span.compiled.matter if span is not None else None

    # ---- deciding ----
    def decide(
        self, matter: str, facts: Mapping[str, Any] | Any, *, on: dt.date | None = None
    ) -> Decision:
        """Decide one application: approve only if every rule passed on present, valid facts.

        Audited, its record is written to every audit sink before it is returned.
        """
        serving = self._serving
        recorder = serving.recorder
        if recorder is None:
            return self._decide(serving, matter, facts, on)
        start = _perf_ns()
        decision = self._decide(serving, matter, facts, on)
        recorder.record(matter, decision, _as_recorded(decision, facts), _perf_ns() - start)
        return decision

    def decide_many(
        self,
        matter: str,
        applications: Iterable[Mapping[str, Any] | Any],
        *,
        on: dt.date | None = None,
    ) -> list[Decision]:
        """Decide a batch of applications of one matter on one date, under one snapshot.

        Audited, the batch's records are committed together: the call returns once all of them
        are stored as the sinks' policy promises (under `group` and `always`, one fsync).
        """
        serving = self._serving
        recorder = serving.recorder
        if recorder is None:
            return [self._decide(serving, matter, facts, on) for facts in applications]
        decided = []
        for facts in applications:
            start = _perf_ns()
            decision = self._decide(serving, matter, facts, on)
            decided.append((decision, _as_recorded(decision, facts), _perf_ns() - start))
        recorder.record_many(matter, decided)
        return [decision for decision, _, _ in decided]

    def _decide(self, serving: _Serving, matter: str, facts: Any, on: dt.date | None) -> Decision:
        """The decision itself: the version in force, validation, evaluation, the answer."""
        day = on if on.__class__ is dt.date else self._day(on)
        try:
            spans = serving.spans[matter]
        except KeyError:
            raise UnknownMatterError(matter, serving.spans) from None
        decision_id = f"{self._prefix}{next(self._counter):x}"
        # a Span unpacked, not read by name: a tuple's unpacking is what the hot loop can afford
        for start, end, compiled, check, evaluate, guards, origins in spans:  # noqa: B007
            if start <= day and (end is None or day <= end):  # Effective.covers
                break
        else:
            return Decision.no_version(decision_id, day, serving.digest)
        try:
            values, invalid, missing = check(facts, day)
            if guards:
                refuse(facts, guards, values, invalid)
        except Exception as exc:  # a validator bug is a referral, never an exception to the caller
            self._log.error("validation.failed", matter=matter, error=repr(exc))
            values, invalid, missing = (
                {},
                {ROOT: "the application could not be validated"},  # the log says why
                (),
            )
        try:
            statuses, _ = evaluate(values, day)
        except Exception as exc:  # a backend failure is never an approval
            self._log.error("backend.failed", matter=matter, error=repr(exc))
            statuses = (ERROR,) * len(compiled.matter.rules)
        return _decided(
            compiled, decision_id, day, values, statuses, invalid, missing, serving.digest, origins
        )

    def close(self) -> None:
        """Commit pending audit records and close the sinks (AuditError if records were lost)."""
        if self._audit is not None:
            self._audit.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
    flagged = decision.invalid
    if flagged and flagged.get(ROOT, "").startswith(LIMIT):
        return Oversized(flagged[ROOT].removeprefix(LIMIT))
    return facts
