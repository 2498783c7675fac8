"""The JSON Lines sink: one sealed record per line, a head file beside it, an exclusive lock.

Opening a log takes an exclusive `flock` on it (a second writer gets AuditError), creates the log
and its head (fsyncing the folder on creation), and recovers from a crash: bytes after the last
newline are a torn record — they are appended to `LOG.torn`, reported in `recovered` and in the
log, and cut from the log; the chain then continues from the last whole record. A log whose end
does not match its head (records cut from the end) is refused: run `audit verify`. So is a log
with records but no head (a deleted or emptied head file would otherwise hide a truncation):
verify it against a head kept elsewhere, then reopen it with `rebuild_head=True`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

import orjson
from typing_extensions import override

from ..errors import AuditError
from ..log import get_logger
from .canonical import split_sealed
from .head import HEAD_SIZE, Head, head_path
from .keys import AuditKey
from .rule_texts import rules_store_of
from .sinks import Anchor, ChainSink, Found, FsyncPolicy

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Torn:
    """A torn last record found on opening: where it was and where its bytes were moved."""

    offset: int
    size: int
    moved_to: str

    def __str__(self) -> str:
        return (
            f"torn last record ({self.size} bytes at offset {self.offset}) "
            f"moved aside to {self.moved_to}"
        )


def torn_path(log: str | os.PathLike[str]) -> str:
    return os.fspath(log) + ".torn"


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a folder's entries (a created file) durable."""
    fd = os.open(os.fspath(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def last_line_start(fd: int, end: int) -> int:
    """The offset just after the last newline before `end` (0 if none)."""
    pos = end
    while pos > 0:
        step = min(_CHUNK, pos)
        chunk = os.pread(fd, step, pos - step)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return pos - step + at + 1
        pos -= step
    return 0


class JsonLinesSink(ChainSink):
    """Appends sealed records to a JSON Lines file under an fsync policy."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        key: AuditKey | bytes | None = None,
        fsync: FsyncPolicy = "group",
        batch: int = 512,
        delay: float = 0.01,
        rebuild_head: bool = False,
        anchor: Anchor | None = None,
        anchor_every: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.recovered: Torn | None = None
        created = not self.path.exists()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise AuditError(f"{self.path}: cannot open the log: {exc.strerror}") from None
        head_fd = -1
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AuditError(f"{self.path}: the log is open for writing elsewhere") from None
            hp = head_path(self.path)
            head_created = not os.path.exists(hp)
            head_fd = os.open(hp, os.O_RDWR | os.O_CREAT, 0o644)
            if created or head_created:
                os.fsync(fd)
                os.fsync(head_fd)
                fsync_dir(self.path.parent.resolve())
            found = self._recover(fd, head_fd, rebuild_head)
        except OSError as exc:
            os.close(fd)
            if head_fd >= 0:
                os.close(head_fd)
            raise AuditError(f"{self.path}: cannot open the log: {exc}") from None
        except BaseException:
            os.close(fd)
            if head_fd >= 0:
                os.close(head_fd)
            raise
        self._fd = fd
        self._head_fd = head_fd
        try:
            super().__init__(
                found,
                key=key,
                fsync=fsync,
                batch=batch,
                delay=delay,
                where=str(self.path),
                anchor=anchor,
                anchor_every=anchor_every,
            )
        except BaseException:
            self._release()
            raise
        self.rules_store = rules_store_of(self.path)
        self._start()

    def _recover(self, fd: int, head_fd: int, rebuild_head: bool) -> Found:
        """Move a torn tail aside, then the last record and the stored head (checked together)."""
        end = os.fstat(fd).st_size
        start = last_line_start(fd, end)
        if start < end:
            torn = os.pread(fd, end - start, start)
            moved = torn_path(self.path)
            with open(moved, "ab") as out:
                out.write(torn + b"\n")
                out.flush()
                os.fsync(out.fileno())
            fsync_dir(self.path.parent.resolve())
            os.ftruncate(fd, start)
            os.fsync(fd)
            self.recovered = Torn(start, end - start, moved)
            get_logger(component="audit").warning(
                "audit.torn", log=str(self.path), offset=start, size=end - start, moved_to=moved
            )
            end = start
        last = Head()
        if end > 0:
            begin = last_line_start(fd, end - 1)
            last = self._head_of(os.pread(fd, end - begin, begin))
        size = max(HEAD_SIZE, os.fstat(head_fd).st_size)  # a keyed head is longer than HEAD_SIZE
        stored = Head.from_bytes(os.pread(head_fd, size, 0), head_path(self.path))
        if stored is None:
            if last.count and not rebuild_head:
                raise AuditError(
                    f"{self.path}: the log holds {last.count} records but no head "
                    f"({head_path(self.path)} is missing or empty), so records cut from its end "
                    f"could not be detected; check it with `secondapproval audit verify "
                    f"{self.path} --expect-head COUNT:HASH` against a head kept elsewhere, then "
                    "reopen it with rebuild_head=True (`--audit-rebuild-head`)"
                )
            if last.count:
                get_logger(component="audit").warning(
                    "audit.head_rebuilt", log=str(self.path), count=last.count
                )
            else:  # a new log: its head (MACed once the key is bound, `ChainSink.bind`)
                stored = Head()
                os.pwrite(head_fd, stored.to_bytes(), 0)
                os.fsync(head_fd)
        elif stored.count > last.count or (stored.count == last.count and stored.hash != last.hash):
            raise AuditError(
                f"{self.path}: the log ends at record {last.count} but its head names record "
                f"{stored.count} ({stored.hash[:12]}…): records are missing; run "
                f"`secondapproval audit verify {self.path}`"
            )
        return Found(last, stored)

    def _head_of(self, line: bytes) -> Head:
        parts = split_sealed(line)
        try:
            if parts is None:
                raise ValueError("no hash")
            seq = orjson.loads(parts[0])["seq"]
            if not isinstance(seq, int):
                raise TypeError("seq")
        except (ValueError, KeyError, TypeError):
            raise AuditError(
                f"{self.path}: the last record is damaged; run "
                f"`secondapproval audit verify {self.path}`"
            ) from None
        return Head(seq, parts.hash, parts.mac)

    @override
    def _commit(self, lines: list[bytes], head: Head, durable: bool) -> None:
        if lines:
            data = memoryview(b"".join(lines))
            while data:
                data = data[os.write(self._fd, data) :]
            if durable:
                os.fsync(self._fd)
        signed = self._signed(head)  # after the lines: the head is never ahead of the log
        os.pwrite(self._head_fd, signed.to_bytes(), 0)
        if durable and not lines:
            os.fsync(self._head_fd)

    @override
    def _release(self) -> None:
        for fd in (self._head_fd, self._fd):
            with contextlib.suppress(OSError):
                os.close(fd)
