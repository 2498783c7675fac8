"""Status changes to the audit trail: a `StatusSink` that records each change's Decision.

The record is the project's ordinary audit record of the status table's decision (matter
`measure-status`, the measure's derived facts with `measure.id`, every row's result), so
`secondapproval audit verify` checks it like any other. The record's `time` is the audit clock;
the status itself depends only on the as-of date and the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .status import StatusChange
from .table import MATTER_ID, StatusTable

if TYPE_CHECKING:
    from ...audit.record import Clock
    from ...audit.sinks import Sink


class AuditTrail:
    """A `StatusSink` writing every change to audit sinks; close it to commit what is pending.

    The status table's decisions take no measurable time of their own: `latency_ns` is 0. The
    record's `outcome` is the engine's (approve only if every row passed) and means nothing for
    a status: the status is the first row whose result is `passed`.
    """

    def __init__(
        self,
        sinks: Sink | Sequence[Sink],
        table: StatusTable,
        *,
        key: bytes | None = None,
        clock: Clock | None = None,
    ) -> None:
        from ...audit.auditor import Auditor
        from ...audit.record import utc_now

        self._auditor = Auditor(sinks, key=key, clock=clock or utc_now)
        self._recorder = self._auditor.recorder(table.engine.snapshot)

    def __call__(self, change: StatusChange) -> None:
        st = change.after
        self._recorder.record(MATTER_ID, st.decision, st.state.facts(st.on), 0)

    def close(self) -> None:
        self._auditor.close()
