"""The Engine's side of auditing: build each decision's record once, hand it to every sink.

On creation the `Auditor` binds the audit key to every sink (a log written with a key accepts
only that key). For each rule-set snapshot it serves it gives a `Recorder`, whose record builder
knows that snapshot's matter versions, after keeping the exact text of every one of them beside
each log that has a place for it (`LOG.rules/`, `snapshots`), so that `audit verify --replay` can
re-decide any record later.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..decision import Decision
from ..errors import AuditError
from ..log import get_logger
from ..ruleset import Matter
from .batcher import RecordBatcher
from .keys import AuditKey
from .record import Clock, RecordBuilder, Unsealed, swap_record, utc_now
from .rule_texts import keep_texts
from .sinks import ChainSink, Sink

if TYPE_CHECKING:
    from ..snapshot import RuleSetSnapshot


class Auditor:
    """Records decisions into one or several sinks (each keeps its own chain).

    It holds the sinks, the key and the clock; `recorder(snapshot)` gives the `Recorder` of one
    rule-set snapshot (its record builder knows that snapshot's matter versions).
    """

    def __init__(
        self,
        sinks: Sink | Sequence[Sink],
        *,
        key: AuditKey | bytes | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.sinks: tuple[Sink, ...] = (sinks,) if isinstance(sinks, Sink) else tuple(sinks)
        if not self.sinks:
            raise AuditError("auditing needs at least one sink")
        chains = [s for s in self.sinks if isinstance(s, ChainSink)]
        audit_key = AuditKey.of(key) if key is not None else _key_of(chains)
        for sink in chains:
            sink.bind(audit_key)
        if audit_key is None:
            get_logger(component="audit").warning(
                "audit.no_key",
                note="no audit key given: the records are not authenticated (anyone who can "
                "write the log can rewrite it unseen) and their facts digests can never be "
                "checked; pass audit_key= (kept outside the log)",
            )
        self._chains = chains
        self._facts_key = audit_key or AuditKey(secrets.token_bytes(32))
        self._clock = clock
        self._writes = tuple(sink.write for sink in self.sinks)
        self._writes_many = tuple(_batch_writer(sink) for sink in self.sinks)
        self._batcher = RecordBatcher(self._write_many)

    def _write_many(self, records: Sequence[Unsealed]) -> None:
        for write_many in self._writes_many:
            write_many(records)

    def recorder(self, snapshot: RuleSetSnapshot) -> Recorder:
        """The recorder of a snapshot's decisions; its rule texts are kept beside each log that
        has a place for them first, so every record it writes can be replayed."""
        return self.recorder_of(
            snapshot.all_versions(), snapshot.backend_label, snapshot.registry.text
        )

    def recorder_of(
        self, matters: Iterable[Matter], backend: str, registry_text: str | None = None
    ) -> Recorder:
        """The recorder of the decisions of these matter versions, made by `backend`
        (`registry_text`: the `sources.yaml` they were checked against, kept beside them)."""
        matters = list(matters)
        for sink in self._chains:
            if sink.rules_store is not None:
                _keep_rules(matters, sink, registry_text)
        builder = RecordBuilder(matters, key=self._facts_key, clock=self._clock, backend=backend)
        return Recorder(builder, self._writes, self._writes_many, self._batcher)

    def record_swap(self, old: str, new: str) -> None:
        """Record in every sink that decisions from now on are made under snapshot `new`
        (AuditError if a sink cannot take it: then nothing may be swapped)."""
        record = swap_record(old, new, self._clock())
        for write in self._writes:
            write(record)

    def close(self) -> None:
        """Close every sink (committing what is pending); the first failure is raised."""
        failure: AuditError | None = None
        for sink in self.sinks:
            try:
                sink.close()
            except AuditError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure


class Recorder:
    """Writes the records of one snapshot's decisions to every sink of its auditor."""

    __slots__ = ("_batcher", "_build", "_writes", "_writes_many", "builder")

    def __init__(
        self,
        builder: RecordBuilder,
        writes: tuple[Callable[[Unsealed], None], ...],
        writes_many: tuple[Callable[[Sequence[Unsealed]], None], ...],
        batcher: RecordBatcher,
    ) -> None:
        self.builder = builder
        self._build = builder.build
        self._writes = writes
        self._writes_many = writes_many
        self._batcher = batcher

    def record(self, matter: str, decision: Decision, facts: Any, latency_ns: int) -> None:
        """Write the record of a decision to every sink; AuditError if one cannot take it."""
        record = self._built(matter, decision, facts, latency_ns)
        for write in self._writes:
            write(record)

    async def record_async(
        self, matter: str, decision: Decision, facts: Any, latency_ns: int
    ) -> None:
        """`record` on an event loop: built here, committed with the records other requests
        of the loop are awaiting (one thread and one commit per batch); it returns once the
        record is stored as the sinks' policy promises."""
        await self._batcher.write((self._built(matter, decision, facts, latency_ns),))

    def _built(self, matter: str, decision: Decision, facts: Any, latency_ns: int) -> Unsealed:
        try:
            return self._build(matter, decision, facts, latency_ns)
        except Exception as exc:  # a bug here: the decision must not stand unrecorded
            raise AuditError(
                f"decision {decision.decision_id}: the record could not be built: {exc!r}"
            ) from exc

    def record_many(self, matter: str, decided: Sequence[tuple[Decision, Any, int]]) -> None:
        """Write the records of several decisions (each with its facts and latency in ns), in
        order, to every sink as one batch (`write_many`, one commit, where the sink has it)."""
        try:
            records = [self._build(matter, d, facts, ns) for d, facts, ns in decided]
        except Exception as exc:  # a bug here: the decisions must not stand unrecorded
            raise AuditError(
                f"{len(decided)} decisions of {matter}: their records could not be built: {exc!r}"
            ) from exc
        for write_many in self._writes_many:
            write_many(records)


def _batch_writer(sink: Sink) -> Callable[[Sequence[Unsealed]], None]:
    """The sink's `write_many`, or, for a sink with `write` alone, its records one by one."""
    write_many: Callable[[Sequence[Unsealed]], None] | None = getattr(sink, "write_many", None)
    if write_many is not None:
        return write_many

    def one_by_one(records: Sequence[Unsealed]) -> None:
        for record in records:
            sink.write(record)

    return one_by_one


def _key_of(chains: Iterable[ChainSink]) -> AuditKey | None:
    """The key the sinks were opened with (the first keyed one's), if any."""
    return next((s.key for s in chains if s.key is not None), None)


def _keep_rules(matters: list[Matter], sink: ChainSink, registry_text: str | None) -> None:
    """Snapshot the texts of the matter versions beside a log (those built in Python have none)."""
    assert sink.rules_store is not None
    kept = [m for m in matters if m.text]
    try:
        keep_texts(kept, sink.rules_store, registry_text)
    except OSError as exc:
        raise AuditError(f"{sink.rules_store}: cannot keep the rule texts: {exc}") from None
    if len(kept) < len(matters):
        get_logger(component="audit").warning(
            "audit.rules_not_kept",
            log=sink.where,
            matters=sorted({m.id for m in matters if not m.text}),
            note="matter versions built in Python have no text: their records cannot be replayed",
        )
