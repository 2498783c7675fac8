"""Audit sinks: where sealed records go, one hash chain per sink.

A sink is anything with `write(record)`, `head` and `close()` (the `Sink` protocol); a record
arrives unsealed (`Unsealed`: canonical JSON less `seq` and `prev`). `ChainSink` does the shared
part: under one lock it numbers, links, seals (and, with a key, MACs) each record and commits it
by the sink's fsync policy —

- `always`: `write` returns only after its record is durably stored, one fsync per record;
- `group`: `write` returns only after its record is durably stored, and writers that arrive
  while a commit is on its way share the next one (group commit: one of them writes and fsyncs
  everything pending, the others wait for it);
- `fire-and-forget`: `write` returns at once; a background thread commits records in batches, at
  most `delay` seconds or `batch` records after they were sealed, and on `close()`. A crash loses
  what was not yet committed, although `write` had returned: the name says so;
- `none`: records are handed to the store at once, never forced to disk (they survive the
  process being killed, not the machine stopping).

After any failed commit the sink refuses further records (fail closed: an unrecorded decision
must not be acted on). A sink belongs to the process that opened it: after `os.fork()` the child's
copy refuses records (it would write a second chain into the same log), and a sink cannot be
pickled. Subclasses implement `_commit(lines, head, durable)` (storing `self._signed(head)`).
"""

from __future__ import annotations

import abc
import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, Protocol, runtime_checkable

from typing_extensions import override

from ..errors import AuditError
from .head import Head
from .keys import AuditKey
from .record import Unsealed

FsyncPolicy = Literal["always", "group", "fire-and-forget", "none"]
POLICIES: tuple[FsyncPolicy, ...] = ("always", "group", "fire-and-forget", "none")
LINGER = 0.0005
"""Seconds a group commit's leader waits at most for the writers of the last commit to arrive."""
DURABLE: frozenset[FsyncPolicy] = frozenset({"always", "group"})
"""The policies under which a returned `write` means a record on disk."""


@runtime_checkable
class Sink(Protocol):
    """Receives unsealed records; keeps its own chain and head."""

    @property
    def head(self) -> Head: ...

    def write(self, record: Unsealed) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Anchor(Protocol):
    """Keeps heads outside the log (a signed checkpoint file, a remote store, a copy).

    A sink calls `anchor(head)` after a commit, at most every `anchor_every` seconds, and once
    more on `close()`; whoever holds the anchored heads detects records cut from the log's end
    even when its own head was rewritten too. An exception fails the sink (fail closed).
    """

    def anchor(self, head: Head) -> None: ...


@dataclass(frozen=True, slots=True)
class Found:
    """What a store held when it was opened: its last record and its stored head."""

    last: Head = field(default_factory=Head)
    """The count and hash of the last record, with its MAC (None: written without a key)."""
    stored: Head | None = None
    """The head kept beside the log, with its MAC; None when there is none."""


_LIVE: weakref.WeakSet[ChainSink] = weakref.WeakSet()


def _orphan_all() -> None:
    """In a forked child: every sink inherited from the parent refuses records."""
    for sink in list(_LIVE):
        sink._orphan()


os.register_at_fork(after_in_child=_orphan_all)


class ChainSink(abc.ABC):
    """A sink that seals records into one chain and commits them by an fsync policy."""

    rules_store: Path | None = None
    """Where the texts of the rule sets its records name are kept (`snapshots`), if anywhere."""

    def __init__(
        self,
        found: Found | Head = Found(),
        *,
        key: AuditKey | bytes | None = None,
        fsync: FsyncPolicy = "group",
        batch: int = 512,
        delay: float = 0.01,
        where: str = "audit sink",
        anchor: Anchor | None = None,
        anchor_every: float = 1.0,
    ) -> None:
        if fsync not in POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(POLICIES)}, not {fsync!r}")
        if batch < 1 or delay <= 0:
            raise ValueError("batch must be >= 1 and delay > 0")
        if isinstance(found, Head):
            found = Found(found, found)
        self.fsync: FsyncPolicy = fsync
        self.where = where
        self._found = found
        self._pid = os.getpid()
        self._mode = fsync
        self._count, self._last = found.last.count, found.last.hash
        self._durable = found.last.count
        self._batch = batch
        self._delay = delay
        self._new_locks()
        self._pending: list[bytes] = []
        self._leading = False
        self._lingering = False
        self._siblings = 1
        """How many records the last group commit held: the next leader waits (a little) for as
        many writers to arrive, so that concurrent writers share one fsync."""
        self._failure: BaseException | None = None
        self._refusal: AuditError | None = None
        self._closed = False
        self._flusher: threading.Thread | None = None
        self._key: AuditKey | None = None
        self._wrote = False
        self._anchor = anchor
        self._anchor_every = anchor_every
        self._anchor_due = 0.0
        if key is not None:
            self.bind(key)
        elif found.last.mac is not None:
            self._refusal = AuditError(
                f"{where}: the log was written with an audit key: give it (key=…) to continue it"
            )
        _LIVE.add(self)

    def _new_locks(self) -> None:
        self._lock = threading.Lock()
        self._io = threading.Lock()
        self._more = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self._done = threading.Condition(self._lock)
        self._arrived = threading.Condition(self._lock)

    def _start(self) -> None:
        """Start the background commits (subclasses call this once their store is open)."""
        if self.fsync == "fire-and-forget":
            self._flusher = threading.Thread(
                target=self._flush_loop, daemon=True, name=f"audit-flush-{id(self):x}"
            )
            self._flusher.start()
            atexit.register(self._close_at_exit)

    # ---- the key ----
    @property
    def key(self) -> AuditKey | None:
        """The audit key its records are MACed with (None: an unkeyed log)."""
        return self._key

    def bind(self, key: AuditKey | bytes | None) -> None:
        """Authenticate the log with a key before the first record (the Engine's `audit_key`).

        The last record and the stored head must carry MACs under this key, so that a log
        rewritten, cut or continued by someone without it is refused. `None` accepts only a log
        written without a key. Binding again to the same key does nothing.
        """
        key = None if key is None else AuditKey.of(key)
        if self._key is not None:
            if key is None or not key.same(self._key):
                raise AuditError(f"{self.where}: the sink is already keyed with key {self._key.id}")
            return
        if key is None:
            if self._found.last.mac is not None:
                raise AuditError(
                    f"{self.where}: the log was written with an audit key: give it to continue it"
                )
            return
        if self._wrote:
            raise AuditError(f"{self.where}: a key must be given before the first record")
        problem = authentication_problem(self._found, key)
        if problem is not None:
            raise AuditError(f"{self.where}: {problem}; run `secondapproval audit verify`")
        self._key = key
        if self._refusal is not None and not self._closed and self._failure is None:
            self._refusal = None
        stored = self._found.stored
        if self._found.last.count == 0 and stored is not None and stored.mac is None:
            # a new log's head, MACed now: a crash before its first head update then leaves a
            # head that is merely behind, never one that anyone could have written
            self._commit([], Head(), True)
            self._found = Found(self._found.last, self._signed(Head()))

    # ---- the store's part ----
    @abc.abstractmethod
    def _commit(self, lines: list[bytes], head: Head, durable: bool) -> None:
        """Store sealed lines (in order) and the head they lead to (a store that keeps the head
        writes `self._signed(head)`: with its MAC, if keyed).

        `durable`: force the lines to disk before returning (the head is forced on `flush`).

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

    def _signed(self, head: Head) -> Head:
        key = self._key
        if key is None:
            return head
        return Head(head.count, head.hash, key.head_mac(head.count, head.hash))

    def write(self, record: Unsealed) -> None:
        """Seal a record as the next link of this sink's chain and commit it by policy."""
        with self._lock:
            mode = self._admit()
            seq = self._count + 1
            line, digest = record.seal(seq, self._last, self._key)
            self._store([line], seq, digest, mode)

    def write_many(self, records: Sequence[Unsealed]) -> None:
        """Seal records as the next links of the chain, in order, and commit them together by
        policy: under `always` and `group` this returns once all of them are on disk (one fsync
        for the batch), under `none` once the store holds them."""
        if not records:
            return
        with self._lock:
            mode = self._admit()
            seq, last, key = self._count, self._last, self._key
            lines = []
            for record in records:
                seq += 1
                line, last = record.seal(seq, last, key)
                lines.append(line)
            self._store(lines, seq, last, mode, linger=False)

    def _store(
        self, lines: list[bytes], seq: int, last: str, mode: FsyncPolicy, *, linger: bool = True
    ) -> None:
        """Commit sealed lines, the last of them record `seq` with hash `last`, by policy (the
        lock held): pending for a group commit or the background thread, or at once. A batch
        (`linger=False`) is committed without waiting for writers that are not coming: whoever
        hands over a batch has already gathered it."""
        if mode in ("group", "fire-and-forget"):
            self._pending.extend(lines)
            self._count, self._last = seq, last
            if mode == "group":
                if self._lingering:
                    self._arrived.notify()
                self._await(seq, linger)
            elif len(self._pending) >= self._batch:
                self._more.notify()
            return
        head = Head(seq, last)
        try:
            self._commit(lines, head, mode == "always")
            if self._anchor is not None:
                self._anchored(head)
        except Exception as exc:
            self._fail(exc)
        self._count, self._last = seq, last

    def _admit(self) -> FsyncPolicy:
        """Check (the lock held) that the sink takes records, waiting while a fire-and-forget
        backlog is full; the policy to commit them by."""
        if self._refusal is not None:
            raise self._refusal
        mode = self._mode
        if mode == "fire-and-forget":
            while len(self._pending) >= 8 * self._batch and self._failure is None:
                self._room.wait()  # back-pressure: the disk is behind
            if self._refusal is not None:
                raise self._refusal
        self._wrote = True
        return mode

    def _await(self, seq: int, linger: bool = True) -> None:
        """Group commit (the lock held): return once record `seq` is on disk.

        One waiting writer leads: it waits up to `LINGER` seconds for as many writers as shared
        the last commit, takes everything pending, writes and fsyncs it with the lock released —
        writers arriving meanwhile queue for the next commit — then wakes the others.
        """
        while self._durable < seq:
            if self._failure is not None:
                self._check_failure()
            if self._leading:
                self._done.wait()
                continue
            self._leading = True
            if linger:
                self._linger()
            lines, head = self._pending, self.head
            self._siblings = len(lines)
            self._pending = []
            failure: Exception | None = None
            self._lock.release()
            try:
                self._commit(lines, head, True)
                self._anchored(head)
            except Exception as exc:
                failure = exc
            finally:
                self._lock.acquire()
                self._leading = False
                self._done.notify_all()
            if failure is not None:
                self._fail(failure)
            self._durable = head.count

    def _linger(self) -> None:
        """Wait (the lock held) until as many records are pending as the last commit held."""
        if len(self._pending) >= self._siblings:
            return
        deadline = time.monotonic() + LINGER
        self._lingering = True
        try:
            while len(self._pending) < self._siblings and self._failure is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
        finally:
            self._lingering = False

    def flush(self) -> None:
        """Commit what is pending (durably unless the policy is `none`); AuditError on failure."""
        durable = self.fsync != "none"
        if self.fsync != "fire-and-forget":
            with self._lock:
                if self._orphaned():
                    return
                self._check_failure()
                if self._unbound():
                    raise AuditError(f"{self.where}: the log was written with a key: give it")
                while self._leading:
                    self._done.wait()
                lines, self._pending = self._pending, []
                head = self.head
                self._guarded(lambda: self._commit(lines, head, durable))
                self._guarded(lambda: self._anchored(head, final=self._closed))
                self._durable = head.count
            return
        with self._io:
            with self._lock:
                lines, head = self._pending, self.head
                self._pending = []
                self._room.notify_all()
            if self._failure is None:
                try:
                    self._commit(lines, head, durable)
                    self._anchored(head, final=self._closed)
                except Exception as exc:
                    with self._lock:  # `_fail` wakes the waiting writers: it needs the lock
                        self._fail(exc)
        with self._lock:
            self._check_failure()

    def close(self) -> None:
        """Commit what is pending and release the store; AuditError if records were lost."""
        with self._lock:
            if self._closed or self._orphaned():
                return
            self._closed = True
            if self._refusal is None:
                self._refusal = AuditError(f"{self.where}: the audit sink is closed")
            self._more.notify_all()
        if self._flusher is not None:
            self._flusher.join()
            atexit.unregister(self._close_at_exit)
        try:
            if self._failure is None and not self._unbound() and (self._wrote or self._stale()):
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

    def __reduce__(self) -> NoReturn:
        raise AuditError(
            f"{self.where}: an audit sink cannot be copied to another process; open the log there"
        )

    def _unbound(self) -> bool:
        """Written with a key that this sink was not given: it must not touch the store."""
        return self._key is None and self._found.last.mac is not None

    def _stale(self) -> bool:
        """The stored head is not the head of the records found (missing, behind, unMACed)."""
        stored, last = self._found.stored, self._found.last
        return (
            stored is None
            or (stored.count, stored.hash) != (last.count, last.hash)
            or (self._key is not None and stored.mac is None and last.count > 0)
        )

    def _anchored(self, head: Head, final: bool = False) -> None:
        """Hand a committed head to the anchor when one is due (and always when closing)."""
        if self._anchor is None or head.count == 0:
            return
        now = time.monotonic()
        if final or now >= self._anchor_due:
            self._anchor.anchor(head)
            self._anchor_due = now + self._anchor_every

    # ---- one process per sink ----
    def _orphaned(self) -> bool:
        return self._pid != os.getpid()

    def _orphan(self) -> None:
        """In a forked child: drop what the parent had pending and refuse every record."""
        self._new_locks()
        self._pending = []
        self._flusher = None
        self._refusal = AuditError(
            f"{self.where}: this sink belongs to process {self._pid}; a forked process must "
            "open a log of its own"
        )

    # ---- internals ----
    def _check_failure(self) -> None:
        if self._failure is not None:
            raise AuditError(
                f"{self.where}: the audit sink failed earlier and refuses records: {self._failure}"
            )

    def _guarded(self, commit: Callable[[], None]) -> None:
        try:
            commit()
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> NoReturn:
        self._failure = exc
        self._refusal = AuditError(
            f"{self.where}: the audit sink failed earlier and refuses records: {exc}"
        )
        self._done.notify_all()
        self._room.notify_all()
        raise AuditError(f"{self.where}: audit record not written: {exc}") from exc

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


def authentication_problem(found: Found, key: AuditKey) -> str | None:
    """Why a log's last record or stored head is not vouched for by a key, or None."""
    last, stored = found.last, found.stored
    if last.count:
        if last.mac is None:
            return (
                "the log was written without an audit key (format v1, or unkeyed): "
                "continue it without a key, or start a new log"
            )
        if not key.vouches_for_record(last.hash, last.mac):
            return (
                f"record {last.count}, the last, is not authenticated by key {key.id}: "
                "written with another key, or by someone without it"
            )
    if (
        stored is not None
        and (stored.count or last.count)
        and not key.vouches_for_head(stored.count, stored.hash, stored.mac)
    ):
        return f"the head kept beside the log is not authenticated by key {key.id}"
    return None


class MemorySink(ChainSink):
    """Keeps sealed lines in memory (for tests and for callers that ship records themselves)."""

    def __init__(self, *, key: AuditKey | bytes | None = None) -> None:
        super().__init__(key=key, fsync="none", where="memory sink")
        self.lines: list[bytes] = []

    @override
    def _commit(self, lines: list[bytes], head: Head, durable: bool) -> None:
        self.lines.extend(lines)

    @override
    def _release(self) -> None:
        """Nothing to release: the lines stay readable."""


class StructlogSink(ChainSink):
    """Emits each sealed record as a structlog event `audit.record` (the line in `record`)."""

    def __init__(
        self,
        logger: Any | None = None,
        *,
        event: str = "audit.record",
        key: AuditKey | bytes | None = None,
    ) -> None:
        super().__init__(key=key, fsync="none", where="structlog sink")
        if logger is None:
            from ..log import get_logger

            logger = get_logger(component="audit")
        self._logger = logger
        self._event = event

    @override
    def _commit(self, lines: list[bytes], head: Head, durable: bool) -> None:
        for line in lines:
            self._logger.info(self._event, record=line.decode("utf-8").rstrip("\n"))

    @override
    def _release(self) -> None:
        """Nothing to release: the logger belongs to the caller."""
