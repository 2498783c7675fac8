"""The head of a chain: how many records it holds and the hash of the last one.

A chain alone cannot show that whole records were cut from its end; the head, kept beside the log
and updated with each commit (and, by a careful user, copied elsewhere), can. Its text form
`COUNT:HASH` is what `--expect-head` takes. In a keyed log the head file also holds the MAC of
the head under the chain key, so that whoever holds no key cannot write a head for a shortened
log; a head *copied* earlier still passes, which is what a head kept elsewhere (or a signed
checkpoint, `checkpoints`) is for.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import orjson

from ..errors import AuditError
from .canonical import GENESIS

HEAD_SIZE = 256
_TEXT = re.compile(r"^(\d+):([0-9a-f]{64})$")


@dataclass(slots=True, unsafe_hash=True)
class Head:
    """Record count and last hash of a chain (`Head()` is the empty chain).

    A value: never changed once made (not `frozen` only because a frozen dataclass costs three
    times as much to create, and a sink makes one per record).
    """

    count: int = 0
    hash: str = GENESIS
    mac: str | None = field(default=None, compare=False, repr=False)
    """HMAC-SHA256 of the head under the chain key (`keys.AuditKey.head_mac`); None: unkeyed."""

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """A head from its `COUNT:HASH` text; AuditError if malformed."""
        m = _TEXT.match(text.strip())
        if not m:
            raise AuditError(f"not a head (COUNT:HASH with a 64-digit hex hash): {text!r}")
        return cls(int(m.group(1)), m.group(2))

    def to_bytes(self) -> bytes:
        """The fixed-size form of a head file (JSON padded with spaces), rewritten in place."""
        doc: dict[str, object] = {"count": self.count, "hash": self.hash}
        if self.mac is not None:
            doc["mac"] = self.mac
        data = orjson.dumps(doc)
        return data + b" " * (HEAD_SIZE - 1 - len(data)) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Head | None:
        """A head read from a head file; None for an empty file, AuditError if damaged."""
        if not data.strip():
            return None
        try:
            doc = orjson.loads(data)
            mac = doc.get("mac")
            return cls(int(doc["count"]), str(doc["hash"]), None if mac is None else str(mac))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise AuditError(f"{where}: damaged head file") from None


def head_path(log: str | os.PathLike[str]) -> str:
    """Where the head of a JSON Lines log is kept."""
    return os.fspath(log) + ".head"


def read_head_file(path: str | os.PathLike[str]) -> Head | None:
    """The head stored in a head file, or None when there is none."""
    try:
        with open(path, "rb") as f:
            return Head.from_bytes(f.read(), os.fspath(path))
    except FileNotFoundError:
        return None
