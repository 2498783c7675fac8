"""The Engine's side of auditing: build each decision's record once, hand it to every sink."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from ..decision import Decision
from ..errors import AuditError
from ..log import get_logger
from ..ruleset import Matter
from .record import Clock, RecordBuilder, utc_now
from .sinks import Sink


class Auditor:
    """Records decisions into one or several sinks (each keeps its own chain)."""

    def __init__(
        self,
        sinks: Sink | Sequence[Sink],
        matters: Iterable[Matter],
        *,
        key: bytes | None = None,
        clock: Clock = utc_now,
        backend: str,
    ) -> None:
        self.sinks: tuple[Sink, ...] = (sinks,) if isinstance(sinks, Sink) else tuple(sinks)
        if not self.sinks:
            raise AuditError("auditing needs at least one sink")
        if key is None:
            key = secrets.token_bytes(32)
            get_logger(component="audit").warning(
                "audit.random_key",
                note="no audit key given: the facts digests can never be checked against the "
                "applications; pass audit_key= (kept outside the log)",
            )
        self._builder = RecordBuilder(matters, key=key, clock=clock, backend=backend)
        self._build = self._builder.build
        self._writes = tuple(sink.write for sink in self.sinks)

    def record(self, matter: str, decision: Decision, facts: Any, latency_ns: int) -> None:
        """Write the record of a decision to every sink; AuditError if one cannot take it."""
        try:
            record = self._build(matter, decision, facts, latency_ns)
        except TypeError as exc:
            raise AuditError(
                f"decision {decision.decision_id}: the application cannot be recorded: {exc}"
            ) from None
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
