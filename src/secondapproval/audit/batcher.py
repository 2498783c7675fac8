"""Records awaited on an event loop, committed in batches: one thread per batch, not per record.

A service decides on its event loop (microseconds) and must answer only once the decision's
record is durable. Handing each record to a thread of its own costs a thread hop and a wait per
request; here the records that arrive while one batch is being committed queue for the next,
which is written (`write_many`: sealed in order, one commit, one fsync under `group`) by one
thread, and every awaiting request is woken when its batch is durable — or given the failure.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import AuditError
from .record import Unsealed

MOST = 1024
"""The most records one commit takes (the rest wait for the next): bounds a commit's time."""


@dataclass(slots=True)
class _Queue:
    """What one event loop has waiting: the records and each request's future, and the task
    that commits them while any are waiting."""

    waiting: list[tuple[Sequence[Unsealed], asyncio.Future[None]]] = field(default_factory=list)
    count: int = 0
    committing: asyncio.Task[None] | None = None


class RecordBatcher:
    """Commits the records awaited on each event loop with `write_many`, a batch at a time."""

    def __init__(self, write_many: Callable[[Sequence[Unsealed]], None], most: int = MOST) -> None:
        self._write_many = write_many
        self._most = most
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    async def write(self, records: Sequence[Unsealed]) -> None:
        """Return once these records (in order, together) are committed; AuditError if not.

        Cancelled (a request that timed out), the records are still committed: a record is
        never withdrawn once handed over.
        """
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        committed: asyncio.Future[None] = loop.create_future()
        queue.waiting.append((records, committed))
        queue.count += len(records)
        if queue.committing is None:
            queue.committing = loop.create_task(self._commit_waiting(queue))
        await committed

    async def _commit_waiting(self, queue: _Queue) -> None:
        try:
            while queue.waiting:
                batch = _take(queue, self._most)
                records = [record for some, _ in batch for record in some]
                try:
                    await asyncio.to_thread(self._write_many, records)
                except BaseException as exc:
                    _settle(batch, exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    _settle(batch, None)
        finally:
            queue.committing = None
            if queue.waiting:  # cancelled with records waiting: they are refused, not lost
                _settle(_take(queue, queue.count), AuditError("the audit batch was cancelled"))


def _take(queue: _Queue, most: int) -> list[tuple[Sequence[Unsealed], asyncio.Future[None]]]:
    """The oldest waiting requests holding up to `most` records (at least one request)."""
    taken = 0
    count = 0
    for records, _ in queue.waiting:
        if taken and count + len(records) > most:
            break
        taken += 1
        count += len(records)
    batch, queue.waiting[:taken] = queue.waiting[:taken], []
    queue.count -= count
    return batch


def _settle(
    batch: list[tuple[Sequence[Unsealed], asyncio.Future[None]]], failure: BaseException | None
) -> None:
    """Wake every request of a batch: committed, or with the failure (each its own error)."""
    for _, committed in batch:
        if committed.done():  # its request was cancelled: nothing waits for the answer
            continue
        if failure is None:
            committed.set_result(None)
        elif isinstance(failure, AuditError):
            committed.set_exception(AuditError(str(failure)))
        else:
            committed.set_exception(
                AuditError(f"the audit records could not be written: {failure!r}")
            )
