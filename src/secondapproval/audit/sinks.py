"""Audit sinks: where sealed records go, one hash chain per sink.

A sink is anything with `write(record)`, `head` and `close()` (the `Sink` protocol); a record
arrives unsealed (`Unsealed`: canonical JSON less `seq` and `prev`). `ChainSink` does the shared
part: under one lock it numbers, links and seals each record and commits it by the sink's fsync
policy —

- `always`: `write` returns only after the record is durably stored; a failure raises AuditError;
- `group`: records are committed in batches by a background thread, at most `delay` seconds or
  `batch` records after they were sealed, and on `close()`; a failed commit is raised by the
  next `write` or by `close`;
- `none`: records are handed to the store at once, without forcing them to disk.

After any failed commit the sink refuses further records (fail closed: an unrecorded decision
must not be acted on). Subclasses implement `_commit(lines, count, last, durable)`.
"""

from __future__ import annotations

import abc
import atexit
import threading
from collections.abc import Callable
from typing import Any, Literal, NoReturn, Protocol, runtime_checkable

from typing_extensions import override

from ..errors import AuditError
from .head import Head
from .record import Unsealed

FsyncPolicy = Literal["always", "group", "none"]
POLICIES: tuple[FsyncPolicy, ...] = ("always", "group", "none")


@runtime_checkable
class Sink(Protocol):
    """Receives unsealed records; keeps its own chain and head."""

    @property
    def head(self) -> Head: ...

    def write(self, record: Unsealed) -> None: ...

    def close(self) -> None: ...


class ChainSink(abc.ABC):
    """A sink that seals records into one chain and commits them by an fsync policy."""

    def __init__(
        self, head: Head, *, fsync: FsyncPolicy = "group", batch: int = 512, delay: float = 0.01
    ) -> None:
        if fsync not in POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(POLICIES)}, not {fsync!r}")
        if batch < 1 or delay <= 0:
            raise ValueError("batch must be >= 1 and delay > 0")
        self.fsync: FsyncPolicy = fsync
        self._group = fsync == "group"
        self._always = fsync == "always"
        self._count, self._last = head.count, head.hash
        self._committed = head
        self._batch = batch
        self._delay = delay
        self._lock = threading.Lock()
        self._io = threading.Lock()
        self._more = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self._pending: list[bytes] = []
        self._failure: BaseException | None = None
        self._closed = False
        self._flusher: threading.Thread | None = None

    def _start(self) -> None:
        """Start the group-commit thread (subclasses call this once their store is open)."""
        if self.fsync == "group":
            self._flusher = threading.Thread(
                target=self._flush_loop, daemon=True, name=f"audit-flush-{id(self):x}"
            )
            self._flusher.start()
            atexit.register(self._close_at_exit)

    # ---- the store's part ----
    @abc.abstractmethod
    def _commit(self, lines: list[bytes], count: int, last: str, durable: bool) -> None:
        """Store sealed lines (in order) and the head (`count`, `last` hash) they lead to.

        `durable`: force them to disk before returning.

        Called with no lines to store just the head (on `flush` and `close`).
        """

    @abc.abstractmethod
    def _release(self) -> None:
        """Release the store's resources (called once, after the last commit)."""

    # ---- the chain ----
    @property
    def head(self) -> Head:
        """The head of every record sealed so far (committed or pending)."""
        return Head(self._count, self._last)

    @property
    def committed(self) -> Head:
        """The head of the records the store holds."""
        return self._committed if self.fsync == "group" else self.head

    def write(self, record: Unsealed) -> None:
        """Seal a record as the next link of this sink's chain and commit it by policy."""
        with self._lock:
            if self._group:
                while len(self._pending) >= 8 * self._batch and self._failure is None:
                    self._room.wait()  # back-pressure: the disk is behind
            if self._failure is not None or self._closed:
                self._check()
            seq = self._count + 1
            line, digest = record.seal(seq, self._last)
            if self._group:
                self._pending.append(line)
                self._count, self._last = seq, digest
                if len(self._pending) >= self._batch:
                    self._more.notify()
                return
            try:
                self._commit([line], seq, digest, self._always)
            except Exception as exc:
                self._fail(exc)
            self._count, self._last = seq, digest

    def flush(self) -> None:
        """Commit what is pending (durably unless the policy is `none`); AuditError on failure."""
        durable = self.fsync != "none"
        if self.fsync != "group":
            with self._lock:
                self._check_failure()
                self._guarded(lambda: self._commit([], self._count, self._last, durable))
            return
        with self._io:
            with self._lock:
                lines, head = self._pending, self.head
                self._pending = []
                self._room.notify_all()
            if self._failure is None:
                self._guarded(lambda: self._commit(lines, head.count, head.hash, durable))
                self._committed = head
        with self._lock:
            self._check_failure()

    def close(self) -> None:
        """Commit what is pending and release the store; AuditError if records were lost."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._more.notify_all()
        if self._flusher is not None:
            self._flusher.join()
            atexit.unregister(self._close_at_exit)
        try:
            if self._failure is None:
                self.flush()
        finally:
            self._release()
        self._check_failure()

    def _close_at_exit(self) -> None:
        """Commit what is pending when the process exits without `close()`; log a failure."""
        try:
            self.close()
        except AuditError as exc:
            from ..log import get_logger

            get_logger(component="audit").error("audit.lost", error=str(exc))

    def __enter__(self) -> ChainSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ----
    def _check_failure(self) -> None:
        if self._failure is not None:
            raise AuditError(f"audit sink failed earlier and refuses records: {self._failure}")

    def _check(self) -> None:
        self._check_failure()
        if self._closed:
            raise AuditError("audit sink is closed")

    def _guarded(self, commit: Callable[[], None]) -> None:
        try:
            commit()
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> NoReturn:
        self._failure = exc
        raise AuditError(f"audit record not written: {exc}") from exc

    def _flush_loop(self) -> None:
        while True:
            with self._lock:
                if not self._closed and len(self._pending) < self._batch:
                    self._more.wait(self._delay)
                if self._closed:
                    return
                if not self._pending:
                    continue
            try:
                self.flush()
            except AuditError:
                with self._lock:
                    self._room.notify_all()
                return


class MemorySink(ChainSink):
    """Keeps sealed lines in memory (for tests and for callers that ship records themselves)."""

    def __init__(self) -> None:
        super().__init__(Head(), fsync="none")
        self.lines: list[bytes] = []

    @override
    def _commit(self, lines: list[bytes], count: int, last: str, durable: bool) -> None:
        self.lines.extend(lines)

    @override
    def _release(self) -> None:
        """Nothing to release: the lines stay readable."""


class StructlogSink(ChainSink):
    """Emits each sealed record as a structlog event `audit.record` (the line in `record`)."""

    def __init__(self, logger: Any | None = None, *, event: str = "audit.record") -> None:
        super().__init__(Head(), fsync="none")
        if logger is None:
            from ..log import get_logger

            logger = get_logger(component="audit")
        self._logger = logger
        self._event = event

    @override
    def _commit(self, lines: list[bytes], count: int, last: str, durable: bool) -> None:
        for line in lines:
            self._logger.info(self._event, record=line.decode("utf-8").rstrip("\n"))

    @override
    def _release(self) -> None:
        """Nothing to release: the logger belongs to the caller."""
