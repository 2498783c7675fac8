"""Signed checkpoints: heads of a log signed with Ed25519 and kept outside it.

A checkpoint says "the log held `count` records, the last with hash `hash`, at `time`", signed by
a key whose public half anyone may hold. Whoever holds the public key and the checkpoints detects
records cut from a log's end, or a log rewritten, even by someone who holds the audit (MAC) key
and rewrote the head beside the log: they cannot sign a checkpoint for the shortened chain. What
they can still do is delete checkpoints from a file they can write: keep the checkpoint file
where the log's writers cannot rewrite it (append-only storage, another host, a copy).

- `SigningKey.generate().write(path)` writes the private key (PEM, mode 0600) and `path.pub`;
  `SigningKey.read(path)`, `PublicKey.read(path.pub)` load them.
- `CheckpointFile(path, key)` is an `Anchor` (`sinks`): each `anchor(head)` appends one signed
  checkpoint to a JSON Lines file and fsyncs it; a head that goes backwards is refused.
- `read_checkpoints(path, public_key)` checks every line and returns the heads it vouches for
  and the problems found (`Checkpoints`), to give to `verify.verify_log(checkpoints=...)`.

A line is the canonical JSON of `{"v": 1, "count", "hash", "time", "key"}` with `"sig"` added: the
base64 Ed25519 signature over the canonical JSON without `sig`; `key` is the public key's id.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import AuditError
from .canonical import canonical
from .head import Head
from .jsonl import fsync_dir
from .verify import AuditProblem, Kind

VERSION = 1
_HASH = re.compile(r"^[0-9a-f]{64}$")
_MEMBERS = frozenset({"v", "count", "hash", "time", "key", "sig"})


def public_key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key (SHA-256 of a label and its raw bytes, 16 hex digits)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(b"secondapproval checkpoint key\x00" + raw).hexdigest()[:16]


def public_path(path: str | os.PathLike[str]) -> Path:
    """Where the public key of a signing key file is written: `FILE.pub`."""
    return Path(os.fspath(path) + ".pub")


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the {what}: {exc.strerror}") from None


class PublicKey:
    """The public half of a signing key: checks checkpoints."""

    __slots__ = ("_key", "id")

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        self.id = public_key_id(key)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> PublicKey:
        """The public key in a PEM file (`FILE.pub` of `audit keygen FILE`)."""
        data = _read(path, "public key")
        if b"PRIVATE KEY" in data:
            raise AuditError(
                f"{path}: this is a private key; give its public key ({public_path(path)})"
            )
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            raise AuditError(f"{path}: not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise AuditError(f"{path}: not an Ed25519 public key")
        return cls(key)

    def verifies(self, signature: bytes, data: bytes) -> bool:
        """Whether `signature` is this key's signature of `data`."""
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def to_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"PublicKey(id={self.id})"


class SigningKey:
    """An Ed25519 private key that signs checkpoints; keep it away from the log's writers' files."""

    __slots__ = ("_key", "public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = PublicKey(key.public_key())

    @property
    def id(self) -> str:
        """The id of its public key, named in every checkpoint it signs."""
        return self.public.id

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SigningKey:
        """The private key in a PEM file (unencrypted PKCS #8, as `write` leaves it)."""
        data = _read(path, "signing key")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise AuditError(f"{path}: not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError(f"{path}: not an Ed25519 private key")
        return cls(key)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the private key to `path` (mode 0600) and the public key to `path.pub`.

        Neither file may exist yet (a key is never overwritten). Returns the public key's path.
        """
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pub = public_path(path)
        for target in (Path(path), pub):
            if target.exists():
                raise AuditError(f"{target}: already exists; a key is never overwritten")
        _create(path, pem, 0o600)
        _create(pub, self.public.to_pem(), 0o644)
        fsync_dir(Path(path).resolve().parent)
        return pub

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(id={self.id})"


def _create(path: str | os.PathLike[str], data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise AuditError(f"{path}: cannot create: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def checkpoint_line(head: Head, key: SigningKey, time: dt.datetime | None = None) -> bytes:
    """One signed checkpoint of a head, as a JSON line."""
    doc: dict[str, Any] = {
        "v": VERSION,
        "count": head.count,
        "hash": head.hash,
        "time": time or dt.datetime.now(dt.UTC),
        "key": key.id,
    }
    body = canonical(doc)
    sig = base64.b64encode(key.sign(body)).decode("ascii")
    return canonical({**orjson.loads(body), "sig": sig}) + b"\n"


class CheckpointFile:
    """An `Anchor` that appends a signed checkpoint of each head it is given to a file.

    Each checkpoint is fsynced before `anchor` returns (and the folder, when the file is created).
    A head equal to the last checkpoint adds nothing (a sink anchors its head again on close). A
    head before the last checkpoint, or the same count with another hash, is refused
    (`AuditError`, which fails the sink): the log was cut or rewritten, or the file belongs to
    another log. Opening a file whose checkpoints this key does not vouch for is refused too;
    a last line torn by a crash (no newline) is dropped.
    """

    def __init__(self, path: str | os.PathLike[str], key: SigningKey) -> None:
        self.path = Path(path)
        self.key = key
        self._lock = threading.Lock()
        self.last = Head()
        """The head of the last checkpoint in the file (`Head()`: none yet)."""
        self.repaired = 0
        """Bytes of a torn last line dropped on opening."""
        if self.path.exists():
            self._repair()
            found = read_checkpoints(self.path, key.public)
            if not found.ok:
                raise AuditError(
                    f"{self.path}: cannot continue the checkpoint file: {found.problems[0]}"
                )
            if found.heads:
                self.last = max(found.heads, key=lambda h: h.count)

    def _repair(self) -> None:
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        with open(self.path, "r+b") as f:
            f.truncate(keep)
            os.fsync(f.fileno())
        self.repaired = len(data) - keep

    def anchor(self, head: Head) -> None:
        """Append a signed checkpoint of `head` and fsync it (unless it is the last one)."""
        with self._lock:
            last = self.last
            if head.count < last.count or (head.count == last.count and head != last):
                raise AuditError(
                    f"{self.path}: a checkpoint of record {head.count} ({head.hash[:12]}…) after "
                    f"one of record {last.count} ({last.hash[:12]}…): the log was cut or "
                    "rewritten, or this checkpoint file belongs to another log"
                )
            if head.count == last.count:
                return
            line = checkpoint_line(head, self.key)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_dir(self.path.resolve().parent)
            self.last = Head(head.count, head.hash)

    def __repr__(self) -> str:
        return f"CheckpointFile({str(self.path)!r}, key={self.key.id})"


@dataclass(frozen=True, slots=True)
class Checkpoints:
    """The checkpoints of a file: the heads whose signature holds, and what is wrong."""

    source: str
    heads: tuple[Head, ...]
    """Every checkpoint signed by the key, in file order (also one that goes backwards)."""
    problems: tuple[AuditProblem, ...]
    """Bad signatures (`forged`), damaged or torn lines, counts that go backwards (`checkpoint`)."""
    key_id: str

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def last(self) -> Head | None:
        """The checkpoint of the most records, if any."""
        return max(self.heads, key=lambda h: h.count) if self.heads else None

    def summary(self) -> str:
        last = self.last
        upto = f", the last of record {last.count}" if last is not None else ""
        return f"{len(self.heads)} checkpoints signed by key {self.key_id} in {self.source}{upto}"


def read_checkpoints(path: str | os.PathLike[str], public_key: PublicKey) -> Checkpoints:
    """Check every line of a checkpoint file against a public key (AuditError if unreadable)."""
    data = _read(path, "checkpoints")
    unit = f"checkpoint file {path}, line"
    heads: list[Head] = []
    problems: list[AuditProblem] = []

    def problem(number: int, kind: Kind, message: str, seq: int | None = None) -> None:
        problems.append(AuditProblem(number, kind, message, seq, unit))

    last = Head()
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        if not raw.endswith(b"\n"):
            problem(number, "torn", "the last line has no newline: a checkpoint torn by a crash")
            break
        if not raw.strip():
            problem(number, "damaged", "an empty line")
            continue
        parsed = _parse(raw, public_key)
        if isinstance(parsed, tuple):
            problem(number, *parsed)
            continue
        if parsed.count < last.count or (parsed.count == last.count and parsed != last):
            problem(
                number,
                "checkpoint",
                f"a checkpoint of record {parsed.count} after one of record {last.count}: "
                "checkpoints go backwards or disagree (the log was rewritten and signed again, "
                "or two logs share this file)",
                parsed.count,
            )
        heads.append(parsed)
        last = max(last, parsed, key=lambda h: h.count)
    return Checkpoints(str(path), tuple(heads), tuple(problems), public_key.id)


def _parse(raw: bytes, public_key: PublicKey) -> Head | tuple[Kind, str, int | None]:
    """The head a checkpoint line vouches for, or (kind, message, count) of what is wrong."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "damaged", "not JSON", None
    if not isinstance(doc, dict) or set(doc) != _MEMBERS:
        return "damaged", f"not a checkpoint (members {', '.join(sorted(_MEMBERS))})", None
    count, digest, sig = doc["count"], doc["hash"], doc.pop("sig")
    if (
        doc["v"] != VERSION
        or not isinstance(count, int)
        or isinstance(count, bool)
        or count < 0
        or not isinstance(digest, str)
        or not _HASH.match(digest)
        or not isinstance(sig, str)
        or not isinstance(doc["time"], str)
    ):
        return "damaged", "not a checkpoint of format v1", None
    try:
        signature = base64.b64decode(sig, validate=True)
    except binascii.Error:
        return "damaged", "the signature is not base64", count
    if doc["key"] != public_key.id:
        return (
            "forged",
            f"signed by key {doc['key']}, not by key {public_key.id}",
            count,
        )
    if not public_key.verifies(signature, canonical(doc)):
        return (
            "forged",
            f"the signature is not key {public_key.id}'s: the checkpoint was written or edited "
            "without the signing key",
            count,
        )
    return Head(count, digest)
