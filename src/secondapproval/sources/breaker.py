"""A circuit breaker: stop asking an office that keeps failing, and try it again now and then.

Closed, every call goes through; `failures` failed calls in a row open it. Open, no call goes
through until `reset` seconds have passed; then it is half-open and lets exactly one trial call
through. The trial's success closes it, its failure opens it again for another `reset` seconds.
A trial that ends with no verdict (cancelled) is given back, so the next call is the trial.

The caller asks `admit()` before a call — a `Pass`, or None when the call may not go — and
reports the outcome with the pass: `succeeded`, `failed` or `abandoned`. No method awaits, so on
one event loop each is atomic; a lock makes them safe from several threads too. The clock is
injectable (`time.monotonic` by default) so that tests move time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

State = Literal["closed", "open", "half-open"]


@dataclass(frozen=True, slots=True)
class Pass:
    """Leave for one call to go through."""

    trial: bool
    """Whether it is the one trial of a half-open circuit."""


CALL = Pass(trial=False)
TRIAL = Pass(trial=True)


class Breaker:
    """One office's circuit: `admit()` before each call, then report how it went."""

    __slots__ = ("_clock", "_failed", "_failures", "_lock", "_opened", "_reset", "_trial")

    def __init__(
        self, failures: int, reset: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1:
            raise ValueError(f"a breaker opens after at least one failure, not {failures}")
        if reset <= 0:
            raise ValueError(f"a breaker stays open for a positive time, not {reset}")
        self._failures = failures
        self._reset = reset
        self._clock = clock
        self._lock = threading.Lock()
        self._failed = 0
        """Failed calls in a row while closed."""
        self._opened: float | None = None
        """When it last opened; None while closed."""
        self._trial = False
        """Whether the half-open trial is out."""

    @property
    def state(self) -> State:
        """Closed; open; or half-open (open `reset` seconds already: the trial is due or out)."""
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._opened is None:
            return "closed"
        if self._trial or self._clock() - self._opened >= self._reset:
            return "half-open"
        return "open"

    def admit(self) -> Pass | None:
        """Leave for a call to go through now, or None (open, or half-open with the trial out)."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return CALL
            if state == "half-open" and not self._trial:
                self._trial = True
                return TRIAL
            return None

    def succeeded(self, admitted: Pass) -> None:  # noqa: ARG002 (any call's success closes it)
        """The office answered: the circuit closes, whichever call it was."""
        with self._lock:
            self._failed = 0
            self._opened = None
            self._trial = False

    def failed(self, admitted: Pass) -> None:
        """The office failed: one more failure in a row, or the trial failed and it opens again.
        A call let through before the circuit opened changes nothing once it is open."""
        with self._lock:
            if admitted.trial and self._trial:
                self._open()
            elif self._opened is None:
                self._failed += 1
                if self._failed >= self._failures:
                    self._open()

    def abandoned(self, admitted: Pass) -> None:
        """The call ended with no verdict (cancelled): a trial is given back for the next call."""
        with self._lock:
            if admitted.trial:
                self._trial = False

    def _open(self) -> None:
        self._opened = self._clock()
        self._trial = False
        self._failed = 0

    def __repr__(self) -> str:
        return f"Breaker({self.state}, failures={self._failures}, reset={self._reset:g})"
