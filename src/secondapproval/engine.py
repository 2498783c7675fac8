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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .backends import Backend, Evaluator
from .compiled import CompiledMatter
from .decision import Decision
from .errors import ConfigError, UnknownMatterError
from .facts import FactValidator, validator_sources
from .fastfacts import Check
from .limits import DEFAULT, LIMIT, Limits
from .log import get_logger
from .marks import Oversized
from .paths import ROOT
from .provenance import Origins
from .registry import Registry
from .ruleset import Matter, date_paths
from .snapshot import RuleSetSnapshot, RuleSource, Span, ValidatorFactory, default_validator
from .sources.deployment import Deployment, load_deployment
from .sources.gather import Gathered, Gatherer, Plan, plan_of
from .status import ERROR
from .trust import Guard, Trust, Vouch, refuse, refused

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
    plan: Plan | None
    """What it gathers from the connected sources (None: the Engine connects none it needs)."""


@dataclass(frozen=True, slots=True)
class _Serving:
    """What one decision reads once: the snapshot, its versions as served, and the recorder."""

    snapshot: RuleSetSnapshot
    spans: Mapping[str, tuple[_Served, ...]]
    digest: str
    recorder: Recorder | None
    trust: Trust
    deployment: Deployment | None = None
    narrowings: dict[frozenset[str], _Serving] = field(default_factory=dict, compare=False)
    """The same snapshot served to callers that vouch for fewer sources (`narrowed`), cached."""

    @classmethod
    def of(
        cls,
        snapshot: RuleSetSnapshot,
        trust: Trust,
        recorder: Recorder | None,
        deployment: Deployment | None,
    ) -> _Serving:
        spans = {
            matter: tuple(_served(span, trust, snapshot.registry, deployment) for span in versions)
            for matter, versions in snapshot.spans.items()
        }
        return cls(snapshot, spans, snapshot.digest, recorder, trust, deployment)

    def narrowed(self, vouched: frozenset[str]) -> _Serving:
        """This serving for a caller that vouches for only `vouched` of the Engine's vouched
        sources: the others' facts are guarded again (ConfigError for a source the Engine does
        not vouch for). Same snapshot, same recorder; built once per set."""
        if vouched == self.trust.vouched:
            return self
        cached = self.narrowings.get(vouched)
        if cached is not None:
            return cached
        beyond = sorted(vouched - self.trust.vouched)
        if beyond:
            raise ConfigError(f"the engine does not vouch for {', '.join(beyond)}")
        trust = Trust(vouched, self.trust.connected)
        serving = _Serving.of(self.snapshot, trust, self.recorder, self.deployment)
        self.narrowings[vouched] = serving
        return serving


def _served(span: Span, trust: Trust, registry: Registry, deployment: Deployment | None) -> _Served:
    matter = span.compiled.matter
    guards, origins = trust.guards(matter, registry), trust.origins(matter)
    plan = None
    if deployment is not None:
        plan = plan_of(matter, deployment, guards, origins, registry)
        if not plan.lookups:
            plan = None
    return _Served(*span, guards, origins, plan)


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
    Trust (`trust`, docs/sources.md): a caller's fact of an authoritative source is refused
    (`INVALID:<path>`) unless the Engine vouches for that source (`vouch=` ids, or "all");
    `deployment=` (a file or a loaded `Deployment`) connects sources through adapters, whose
    facts `decide(..., gather=True)`, `decide_async` and `gather` look up.
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
        deployment: Deployment | PathLike | None = None,
    ) -> None:
        if snapshot is None:
            snapshot = RuleSetSnapshot.load(
                rules, backend=backend, sources=sources, limits=limits, validator=validator
            )
        if deployment is not None and not isinstance(deployment, Deployment):
            deployment = load_deployment(deployment)
        self._deployment = deployment
        self._vouch = vouch
        trust = _trust_of(snapshot, vouch, deployment)
        self._gatherer: Gatherer | None = None
        if deployment is not None:
            self._gatherer = Gatherer(deployment, clock=clock)
        self._today = today
        self._prefix = secrets.token_hex(6) + "-"
        self._counter = itertools.count(1)
        self._log = get_logger(component="engine", backend=snapshot.backend.name)
        self._audit: Auditor | None = None
        if audit is not None:
            from .audit.auditor import Auditor
            from .audit.record import utc_now

            self._audit = Auditor(audit, key=audit_key, clock=clock or utc_now)
        self._serving = self._serve(snapshot, trust)
        self._pairs: dict[tuple[int, int], tuple[_Served, _Served, bool]] = {}
        """`decide_pairs`'s answers of `_checks_alike`, by the served versions (kept alive)."""

    def _serve(self, snapshot: RuleSetSnapshot, trust: Trust) -> _Serving:
        recorder = self._audit.recorder(snapshot) if self._audit is not None else None
        self._log.info(
            "rules.loaded",
            snapshot=snapshot.digest,
            matters=list(snapshot.matters),
            versions=sum(len(v) for v in snapshot.spans.values()),
        )
        return _Serving.of(snapshot, trust, recorder, self._deployment)

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
        can be replayed. Trust is worked out again against the new registry (`vouch="all"` is
        every authoritative source of the new rule set); a vouched source it lacks is a
        ConfigError and a deployment that does not fit it a DeploymentError, and nothing is swapped.
        Audited, a `swap` record (old and new digests) is written to every sink first: a sink
        that cannot take it raises AuditError and nothing is swapped.
        """
        trust = _trust_of(snapshot, self._vouch, self._deployment)
        serving = self._serve(snapshot, trust)
        if self._audit is not None:
            self._audit.record_swap(self._serving.snapshot.digest, snapshot.digest)
        old, self._serving = self._serving.snapshot, serving
        self._log.info("rules.swapped", old=old.digest, new=snapshot.digest)
        return old

    @property
    def trust(self) -> Trust:
        """The sources it vouches for and the sources it connects (under the current snapshot)."""
        return self._serving.trust

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
        self,
        matter: str,
        facts: Mapping[str, Any] | Any,
        *,
        on: dt.date | None = None,
        gather: bool = False,
        vouched: Collection[str] | None = None,
    ) -> Decision:
        """Decide one application: approve only if every rule passed on present, valid facts.

        `gather=True` first asks the connected sources for the facts they hold (`gather`):
        concurrently, once per source and key; what they cannot give refers. Without it, a
        fact of a connected source is refused like any guarded one. Audited, its record is
        written to every audit sink before it is returned. `vouched` narrows the Engine's
        vouching for this call (a service's caller that vouches for fewer sources): the facts
        of the other sources it vouches for are refused as if it vouched for none of them.
        """
        serving = self._serving_for(vouched)
        recorder = serving.recorder
        if gather:
            return self._decide_gathering(serving, matter, facts, on, None)
        if recorder is None:
            return self._decide(serving, matter, facts, on)
        return self._decide_recorded(serving, matter, facts, on)

    def _serving_for(self, vouched: Collection[str] | None) -> _Serving:
        serving = self._serving
        return serving if vouched is None else serving.narrowed(frozenset(vouched))

    def _decide_recorded(
        self, serving: _Serving, matter: str, facts: Any, on: dt.date | None
    ) -> Decision:
        start = _perf_ns()
        decision = self._decide(serving, matter, facts, on)
        assert serving.recorder is not None
        serving.recorder.record(matter, decision, _as_recorded(decision, facts), _perf_ns() - start)
        return decision

    async def decide_async(
        self,
        matter: str,
        facts: Mapping[str, Any] | Any,
        *,
        on: dt.date | None = None,
        gather: bool = True,
        vouched: Collection[str] | None = None,
    ) -> Decision:
        """`decide` for an event loop (a service): the lookups are awaited, never blocking it.

        Audited, the decision is made on the loop and its record committed together with the
        records other requests of the loop await (`Recorder.record_async`: one thread and one
        commit per batch, so a sink's write and fsync never stall the loop); it returns once
        the record is durable under the sink's policy, as `decide` does. `vouched` as in
        `decide`.
        """
        serving = self._serving_for(vouched)
        start = _perf_ns()
        day = self._day(on)
        gathered = None
        if gather:
            served = self._version(serving, matter, day)
            if served is not None and served.plan is not None and self._gatherer is not None:
                gathered = await self._gatherer.gather_async(served.plan, facts)
        decision, recorded = self._decided(serving, matter, facts, day, gathered)
        if serving.recorder is not None:
            await serving.recorder.record_async(matter, decision, recorded, _perf_ns() - start)
        return decision

    def gather(
        self, matter: str, application: Mapping[str, Any] | Any, *, on: dt.date | None = None
    ) -> Gathered:
        """The application with the facts its connected sources gave, and their origins."""
        day = self._day(on)
        served = self._version(self._serving, matter, day)
        if served is None:
            return Gathered(application, Origins(), {})
        if served.plan is None or self._gatherer is None:
            return Gathered(application, served.origins, refused(application, served.guards))
        return self._gatherer.gather(served.plan, application)

    def gathering_plan(self, matter: str, on: dt.date) -> Plan | None:
        """The lookups the version in force on a date makes (None: it gathers nothing)."""
        served = self._version(self._serving, matter, on)
        return served.plan if served is not None else None

    def _version(self, serving: _Serving, matter: str, day: dt.date) -> _Served | None:
        try:
            spans = serving.spans[matter]
        except KeyError:
            raise UnknownMatterError(matter, serving.spans) from None
        for served in spans:
            if served.start <= day and (served.end is None or day <= served.end):
                return served
        return None

    def _decide_gathering(
        self,
        serving: _Serving,
        matter: str,
        facts: Any,
        on: dt.date | None,
        gathered: Gathered | None,
    ) -> Decision:
        """Gather (unless given) and decide on what was gathered; audited, record it."""
        start = _perf_ns()
        day = self._day(on)
        if gathered is None and self._gatherer is not None:
            served = self._version(serving, matter, day)
            if served is not None and served.plan is not None:
                gathered = self._gatherer.gather(served.plan, facts)
        decision, recorded = self._decided(serving, matter, facts, day, gathered)
        if serving.recorder is not None:
            serving.recorder.record(matter, decision, recorded, _perf_ns() - start)
        return decision

    def _decided(
        self,
        serving: _Serving,
        matter: str,
        facts: Any,
        day: dt.date,
        gathered: Gathered | None,
    ) -> tuple[Decision, Any]:
        """The decision on the application as given, or on what was gathered for it, and the
        facts its record holds."""
        served = self._version(serving, matter, day) if gathered is not None else None
        if served is None or served.plan is None or self._gatherer is None or gathered is None:
            decision = self._decide(serving, matter, facts, day)
            return decision, _as_recorded(decision, facts)
        decision = self._on_gathered(serving, served, matter, day, gathered)
        return decision, _as_recorded(decision, gathered.facts)

    def _on_gathered(
        self, serving: _Serving, served: _Served, matter: str, day: dt.date, gathered: Gathered
    ) -> Decision:
        """The decision on a gathered application: validated like any, then the refused and
        failed facts taken out (each with its reason)."""
        decision_id = f"{self._prefix}{next(self._counter):x}"
        compiled = served.compiled
        try:
            values, invalid, missing = served.check(gathered.facts, day)
            if gathered.refused:
                for path, why in gathered.refused.items():
                    values.pop(path, None)
                    invalid.setdefault(path, why)
            failed = gathered.origins.failed
            if failed:
                for path in failed:
                    values.pop(path, None)
                missing += tuple(p for p in failed if p not in missing and p not in invalid)
            if invalid:
                sourced = gathered.origins.gathered
                for path in [p for p in invalid if p in sourced]:
                    invalid[path] = f"{invalid[path]} (as {sourced[path].source} gave it)"
        except Exception as exc:  # a validator bug is a referral, never an exception
            self._log.error("validation.failed", matter=matter, error=repr(exc))
            values, invalid, missing = {}, {ROOT: "the application could not be validated"}, ()
        try:
            statuses, _ = served.evaluate(values, day)
        except Exception as exc:  # a backend failure is never an approval
            self._log.error("backend.failed", matter=matter, error=repr(exc))
            statuses = (ERROR,) * len(compiled.matter.rules)
        return _decided(
            compiled,
            decision_id,
            day,
            values,
            statuses,
            invalid,
            missing,
            serving.digest,
            gathered.origins,
        )

    def decide_many(
        self,
        matter: str,
        applications: Iterable[Mapping[str, Any] | Any],
        *,
        on: dt.date | None = None,
        gather: bool = False,
        vouched: Collection[str] | None = None,
    ) -> list[Decision]:
        """Decide a batch of applications of one matter on one date, under one snapshot.

        Audited, the batch's records are committed together: the call returns once all of them
        are stored as the sinks' policy promises (under `group` and `always`, one fsync).
        `gather=True` gathers for the whole batch at once (each distinct call made once).
        `vouched` as in `decide`.
        """
        serving = self._serving_for(vouched)
        if gather:
            return self._decide_many_gathering(serving, matter, list(applications), on)
        return self._decide_many(serving, matter, applications, on)

    def _decide_many(
        self, serving: _Serving, matter: str, applications: Iterable[Any], on: dt.date | None
    ) -> list[Decision]:
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
        for start, end, compiled, check, evaluate, guards, origins, _ in spans:  # noqa: B007
            if start <= day and (end is None or day <= end):  # Effective.covers
                break
        else:
            return Decision.no_version(decision_id, day, serving.digest)
        try:
            values, invalid, missing = check(facts, day)
            if guards and ROOT not in invalid:  # a whole application refused: nothing to take
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

    def decide_pairs(
        self,
        baseline: Engine,
        matter: str,
        applications: Iterable[Mapping[str, Any] | Any],
        *,
        on: dt.date | None = None,
    ) -> list[tuple[Decision, Decision]]:
        """Each application decided by this Engine and by `baseline`, on one date (impact
        analysis: NEW and OLD): the pairs `self.decide_many` and `baseline.decide_many` give, and
        never audited. Where the two versions in force check facts alike (`_checks_alike`), each
        application is checked once and evaluated under each version."""
        batch = list(applications)
        day = self._day(on)
        mine, theirs = self._serving, baseline._serving
        new, old = self._version(mine, matter, day), baseline._version(theirs, matter, day)
        if (
            new is None
            or old is None
            or mine.recorder is not None
            or theirs.recorder is not None
            or not self._alike(new, old, baseline.limits)
        ):
            return list(
                zip(
                    self._decide_many(mine, matter, batch, day),
                    baseline._decide_many(theirs, matter, batch, day),
                    strict=True,
                )
            )
        return [
            (
                self._evaluated(new, mine.digest, matter, day, checked),
                baseline._evaluated(old, theirs.digest, matter, day, checked),
            )
            for checked in (self._checked(new, matter, facts, day) for facts in batch)
        ]

    def _alike(self, new: _Served, old: _Served, limits: Limits) -> bool:
        """`_checks_alike`, worked out once per pair of served versions."""
        key = (id(new), id(old))
        found = self._pairs.get(key)
        if found is None:
            found = self._pairs[key] = (new, old, _checks_alike(new, old, self.limits, limits))
        return found[2]

    def _checked(
        self, served: _Served, matter: str, facts: Any, day: dt.date
    ) -> tuple[dict[str, Any], dict[str, str], tuple[str, ...]]:
        """`_decide`'s validation, for `decide_pairs`."""
        try:
            values, invalid, missing = served.check(facts, day)
            if served.guards and ROOT not in invalid:
                refuse(facts, served.guards, values, invalid)
        except Exception as exc:  # as in `_decide`: a referral, never an exception
            self._log.error("validation.failed", matter=matter, error=repr(exc))
            return {}, {ROOT: "the application could not be validated"}, ()
        return values, invalid, missing

    def _evaluated(
        self,
        served: _Served,
        digest: str,
        matter: str,
        day: dt.date,
        checked: tuple[dict[str, Any], dict[str, str], tuple[str, ...]],
    ) -> Decision:
        """`_decide`'s evaluation and answer over checked facts (copied: each side its own)."""
        values, invalid, missing = dict(checked[0]), dict(checked[1]), checked[2]
        compiled = served.compiled
        try:
            statuses, _ = served.evaluate(values, day)
        except Exception as exc:  # as in `_decide`: a backend failure is never an approval
            self._log.error("backend.failed", matter=matter, error=repr(exc))
            statuses = (ERROR,) * len(compiled.matter.rules)
        decision_id = f"{self._prefix}{next(self._counter):x}"
        return _decided(
            compiled, decision_id, day, values, statuses, invalid, missing, digest, served.origins
        )

    def _decide_many_gathering(
        self, serving: _Serving, matter: str, applications: list[Any], on: dt.date | None
    ) -> list[Decision]:
        day = self._day(on)
        served = self._version(serving, matter, day)
        if served is None or served.plan is None or self._gatherer is None:
            return self._decide_many(serving, matter, applications, day)
        start = _perf_ns()
        batch = self._gatherer.gather_many(served.plan, applications)
        each = (_perf_ns() - start) // max(1, len(applications))
        decided = []
        for gathered in batch:
            begun = _perf_ns()
            decision = self._on_gathered(serving, served, matter, day, gathered)
            recorded = _as_recorded(decision, gathered.facts)
            decided.append((decision, recorded, each + _perf_ns() - begun))
        if serving.recorder is not None:
            serving.recorder.record_many(matter, decided)
        return [decision for decision, _, _ in decided]

    @property
    def deployment(self) -> Deployment | None:
        """The deployment file its sources are connected by (None: it connects none)."""
        return self._deployment

    def close(self) -> None:
        """Close the source adapters, commit pending audit records and close the sinks
        (AuditError if records were lost)."""
        self.close_sources()
        if self._audit is not None:
            self._audit.close()

    def close_sources(self) -> None:
        """Close the source adapters only: the audit sinks stay open (engines may share one)."""
        if self._gatherer is not None:
            self._gatherer.close()

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


def _trust_of(snapshot: RuleSetSnapshot, vouch: Vouch, deployment: Deployment | None) -> Trust:
    """The Engine's trust: its own vouching and the deployment's, the deployment's connections
    (DeploymentError when the deployment does not fit the rule set)."""
    if deployment is None:
        connected: frozenset[str] = frozenset()
    else:
        deployment.fit(snapshot.all_versions(), snapshot.registry)
        connected = deployment.connected
        if deployment.vouch:
            vouch = vouch if isinstance(vouch, str) else (*vouch, *deployment.vouch)
    named = {
        spec.source for m in snapshot.all_versions() for spec in m.inputs.values() if spec.source
    }
    return Trust.of(snapshot.registry, vouch, connected, named)


def _checks_alike(a: _Served, b: _Served, a_limits: Limits, b_limits: Limits) -> bool:
    """Whether two served versions check every application alike: the built-in validator over
    the same input facts, limits and dates, generating the same code, and the same trust guards."""
    x, y = a.compiled.matter, b.compiled.matter
    return (
        type(a.compiled.validator) is FactValidator
        and type(b.compiled.validator) is FactValidator
        and a_limits == b_limits
        and x.inputs == y.inputs
        and date_paths(x) == date_paths(y)
        and a.guards == b.guards
        and list(validator_sources(x, a_limits).values())
        == list(validator_sources(y, b_limits).values())
    )


def _as_recorded(decision: Decision, facts: Any) -> Any:
    """The application as its audit record holds it: a note in its place when it was beyond
    the engine's limits (the record stays bounded)."""
    flagged = decision.invalid
    if flagged and flagged.get(ROOT, "").startswith(LIMIT):
        return Oversized(flagged[ROOT].removeprefix(LIMIT))
    return facts
