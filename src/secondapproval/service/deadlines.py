"""The request time limit, kept by one timer per event loop instead of one per request.

`asyncio.timeout` schedules and cancels a timer for every request: at thousands of decisions a
second that is a measurable share of a worker's loop. Here each request only notes its deadline;
one timer, every `tick` seconds while any request is running, cancels those past theirs, and the
request sees `TimeoutError` as with `asyncio.timeout`. A limit is kept to within `tick`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

TICK = 0.05
"""Seconds between two checks of the running requests' deadlines."""


class Deadlines:
    """The deadlines of the requests running on one event loop."""

    def __init__(self, tick: float = TICK) -> None:
        self._tick = tick
        self._loop: asyncio.AbstractEventLoop | None = None
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None

    async def within(self, work: Awaitable[T], seconds: float) -> T:
        """`await work`, cancelled after `seconds` (± `tick`): then TimeoutError."""
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to cancel, no limit to keep
            return await work
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (a restarted server): the old one's state goes
            self._loop, self._due, self._expired, self._timer = loop, {}, set(), None
        self._due[task] = loop.time() + seconds
        if self._timer is None:
            self._timer = loop.call_later(self._tick, self._check)
        try:
            return await work
        except asyncio.CancelledError:
            if task in self._expired and task.uncancel() == 0:
                raise TimeoutError from None
            raise
        finally:
            self._due.pop(task, None)
            self._expired.discard(task)

    def _check(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        for task, due in self._due.items():
            if due <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._timer = self._loop.call_later(self._tick, self._check) if self._due else None
