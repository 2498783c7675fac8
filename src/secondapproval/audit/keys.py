"""The audit key: the secret kept outside a log that authenticates it and keys its facts digests.

From one secret two keys are derived (HMAC-SHA256 of the secret and a label), so that a digest of
an application can never pass for a MAC of a record:

- the **facts key** keys `facts_hmac`, the digest of the application's lossless form (whoever
  holds it can check an application given later against a record);
- the **chain key** keys `mac`, the MAC of each record's hash, and the MAC of the head, so that
  whoever can write the log's files but holds no key cannot add, change or shorten it unseen.

`key_id` names the secret in records without revealing it. Records of format v1 keyed their
facts digest with the secret itself (`FactsDigest(secret)`) and carry no MAC.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ..errors import AuditError

MIN_SECRET = 16
"""Bytes: a shorter secret is refused (a key file holds 64 hex digits by default)."""


class FactsDigest:
    """HMAC-SHA256 (RFC 2104) under one key, its pad states kept ready.

    `of_canonical(data)` equals `hmac.digest(key, data, "sha256").hex()` at half the cost per call.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, facts: object) -> str:
        """The v1 digest of an application: over its canonical JSON."""
        from .canonical import canonical

        return self.of_canonical(canonical(facts))

    def of_canonical(self, data: bytes) -> str:
        """The MAC of some bytes, as hex."""
        return self.hex_of_canonical(data).decode("ascii")

    def hex_of_canonical(self, data: bytes) -> bytes:
        """The MAC of some bytes, as ASCII hex bytes."""
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return binascii.hexlify(outer.digest())


Hmac = FactsDigest
"""The same precomputed HMAC-SHA256, by the name the chain uses."""


def key_id(secret: bytes) -> str:
    """A short public name of an audit secret (SHA-256 of a label and the secret, 16 hex digits)."""
    return hashlib.sha256(b"secondapproval audit key\x00" + secret).hexdigest()[:16]


def derive(secret: bytes, label: bytes) -> bytes:
    return hmac.digest(secret, b"secondapproval audit v2 " + label, "sha256")


class AuditKey:
    """One audit secret and the keys derived from it."""

    __slots__ = ("_chain", "_secret", "facts", "id")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET:
            raise AuditError(f"an audit key is at least {MIN_SECRET} bytes")
        self._secret = secret
        self.id = key_id(secret)
        self.facts = FactsDigest(derive(secret, b"facts"))
        """Keys `facts_hmac` in v2 records."""
        self._chain = Hmac(derive(secret, b"chain"))

    @classmethod
    def of(cls, key: AuditKey | bytes) -> AuditKey:
        return key if isinstance(key, AuditKey) else cls(key)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> AuditKey:
        """The key held in a file (its bytes, a trailing newline dropped)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise AuditError(f"{path}: cannot read the audit key: {exc.strerror}") from None
        try:
            return cls(data.rstrip(b"\r\n"))
        except AuditError as exc:
            raise AuditError(f"{path}: {exc}") from None

    @property
    def v1_facts(self) -> FactsDigest:
        """The facts digest of v1 records (keyed with the secret itself)."""
        return FactsDigest(self._secret)

    def record_mac(self, record_hash: bytes) -> bytes:
        """The MAC of a record, over its hash (hex ASCII): `mac` in v2."""
        return self._chain.hex_of_canonical(b"record:" + record_hash)

    def head_mac(self, count: int, last: str) -> str:
        """The MAC of a head (its count and last hash)."""
        return self._chain.of_canonical(b"head:%d:%s" % (count, last.encode("ascii")))

    def vouches_for_record(self, record_hash: str, mac: str | None) -> bool:
        """Whether `mac` is this key's MAC of a record with that hash."""
        return mac is not None and hmac.compare_digest(
            self.record_mac(record_hash.encode("ascii")).decode("ascii"), mac
        )

    def vouches_for_head(self, count: int, last: str, mac: str | None) -> bool:
        """Whether `mac` is this key's MAC of the head (`count`, `last`)."""
        return mac is not None and hmac.compare_digest(self.head_mac(count, last), mac)

    def same(self, other: AuditKey) -> bool:
        return hmac.compare_digest(self._secret, other._secret)

    def __repr__(self) -> str:
        return f"AuditKey(id={self.id})"


def log_key(
    log: str | os.PathLike[str],
    key_file: str | os.PathLike[str] | None,
    *,
    create: bool,
    env: str = "SECONDAPPROVAL_AUDIT_KEY",
) -> tuple[bytes | None, Path | None]:
    """The audit secret of a log, and the file it was just written to (None: not created).

    From `key_file` (its bytes, a trailing newline dropped, as `AuditKey.read` reads it), else the
    environment variable `env`, else `LOG.key` beside the log — created
    (64 random hex digits, mode 0600) if `create`. A key beside the log protects against no one
    who can read the log's folder: it is the command line's convenience, to be moved away.
    """
    if key_file is not None:
        try:
            return Path(key_file).read_bytes().rstrip(b"\r\n"), None
        except OSError as exc:
            raise AuditError(f"{key_file}: cannot read the audit key: {exc.strerror}") from None
    if os.environ.get(env):
        return os.environ[env].encode("utf-8"), None
    beside = Path(os.fspath(log) + ".key")
    if beside.exists():
        return beside.read_bytes().rstrip(b"\r\n"), None
    if not create:
        return None, None
    fd = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode("ascii"))
    return beside.read_bytes(), beside
