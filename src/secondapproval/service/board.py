"""The board every worker of one service watches: the rule set published, and each worker's state.

A folder (the service's state folder) holds
- `published.json` — the bundle every worker is to serve (`{"seq", "digest", "bundle", "at"}`),
  replaced atomically (written beside, fsynced, `os.replace`): a reader sees the old or the new;
- `good.json` — the last publication a worker took: a worker that starts while a bad bundle is
  published serves that one (and says so in its state) instead of failing to start;
- `bundles/<digest>.tar` — the bundles published (immutable once written);
- `workers/w<slot>.json` — what each worker serves (`{"slot", "pid", "digest", "beat", "error"}`),
  rewritten on every heartbeat;
- `slots/w<slot>.lock` — held (`flock`) by the live worker of that slot for its whole life: a
  worker takes the lowest free slot, and its audit chain is that slot's (`w<slot>`), so a worker
  restarted after a crash continues the chain its predecessor left and no two live workers ever
  write one chain.

Only this module reads and writes the folder's layout; the watcher and the admin call go through
it. All I/O here is small files; the caller runs it off the event loop where it may block.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ALIVE_WITHIN = 3.0
"""Seconds since its last heartbeat within which a worker counts as live."""
MAX_SLOTS = 256


@dataclass(frozen=True, slots=True)
class Publication:
    seq: int
    digest: str
    bundle: str
    at: str


@dataclass(frozen=True, slots=True)
class WorkerState:
    slot: int
    pid: int
    digest: str | None
    beat: float
    error: str | None = None

    def alive(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) - self.beat <= ALIVE_WITHIN

    def to_dict(self) -> dict[str, Any]:
        return {
            "worker": f"w{self.slot}",
            "pid": self.pid,
            "snapshot": self.digest,
            "beat": dt.datetime.fromtimestamp(self.beat, dt.UTC).isoformat(),
            "error": self.error,
        }


class Board:
    """The state folder of one service (see the module's text)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        for sub in ("bundles", "workers", "slots"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    # ---- the rule set published ----
    def bundle_path(self, digest: str) -> Path:
        return self.folder / "bundles" / f"{digest}.tar"

    def publish(self, digest: str, bundle: Path) -> Publication:
        current = self.current()
        publication = Publication(
            (current.seq + 1) if current else 1,
            digest,
            str(bundle),
            dt.datetime.now(dt.UTC).isoformat(),
        )
        _write_atomically(self.folder / "published.json", _publication_json(publication))
        return publication

    def current(self) -> Publication | None:
        """The publication every worker is to serve."""
        return self._read("published.json")

    def last_good(self) -> Publication | None:
        """The last publication a worker served (a worker that starts while a bad bundle is
        published falls back to it)."""
        return self._read("good.json")

    def mark_good(self, publication: Publication) -> None:
        _write_atomically(self.folder / "good.json", _publication_json(publication))

    def _read(self, name: str) -> Publication | None:
        try:
            doc = orjson.loads((self.folder / name).read_bytes())
        except FileNotFoundError:
            return None
        return Publication(int(doc["seq"]), str(doc["digest"]), str(doc["bundle"]), str(doc["at"]))

    def forget_workers(self) -> None:
        """Remove the states of the workers of an earlier run (before a service starts)."""
        for path in (self.folder / "workers").glob("w*.json"):
            path.unlink(missing_ok=True)

    # ---- the workers ----
    def report(self, state: WorkerState) -> None:
        doc = {
            "slot": state.slot,
            "pid": state.pid,
            "digest": state.digest,
            "beat": state.beat,
            "error": state.error,
        }
        _write_atomically(
            self.folder / "workers" / f"w{state.slot}.json", orjson.dumps(doc), sync=False
        )

    def workers(self) -> list[WorkerState]:
        """Every worker that has reported, live or not, by slot."""
        out = []
        for path in sorted((self.folder / "workers").glob("w*.json")):
            with contextlib.suppress(FileNotFoundError, orjson.JSONDecodeError, KeyError):
                doc = orjson.loads(path.read_bytes())
                out.append(
                    WorkerState(
                        int(doc["slot"]),
                        int(doc["pid"]),
                        doc["digest"],
                        float(doc["beat"]),
                        doc.get("error"),
                    )
                )
        return sorted(out, key=lambda w: w.slot)

    def live_workers(self) -> list[WorkerState]:
        now = time.time()
        return [w for w in self.workers() if w.alive(now)]

    @contextlib.contextmanager
    def slot(self) -> Iterator[int]:
        """The lowest free worker slot, held until the block ends (or the process dies)."""
        for slot in range(MAX_SLOTS):
            fd = os.open(self.folder / "slots" / f"w{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield slot
            finally:
                os.close(fd)
            return
        raise RuntimeError(f"{self.folder}: all {MAX_SLOTS} worker slots are taken")


def _publication_json(p: Publication) -> bytes:
    return orjson.dumps({"seq": p.seq, "digest": p.digest, "bundle": p.bundle, "at": p.at})


def _write_atomically(path: Path, data: bytes, sync: bool = True) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if sync:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
