"""API keys of the calling platforms: made once, printed once, kept only as a salted scrypt hash.

A key reads `sa_<id>_<secret>`: the id (8 hex digits) says which configured key it claims to be,
the secret (43 URL-safe characters, 256 bits) proves it. The configuration file keeps the id and
`scrypt$<n>$<r>$<p>$<salt>$<hash>` (base64, `hashlib.scrypt`), never the secret. Checking a key
costs one scrypt (tens of milliseconds, by design); `KeyRing` remembers the keys it has checked
(by their SHA-256, in this process only), so a platform pays it once per worker, not per request.
An unknown id or a malformed key is refused without a scrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

N, R, P = 2**14, 8, 1
"""scrypt's cost (n: CPU/memory, 16 MiB at r=8), block size and parallelism for new keys."""
_KEY = re.compile(r"^sa_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
_HASH = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
_MAX_N = 2**20
"""The largest scrypt cost a configuration may ask for (beyond it a check could take seconds)."""


def new_key() -> tuple[str, str]:
    """A fresh key and its id: `(key_id, "sa_<key_id>_<secret>")`."""
    key_id = secrets.token_hex(4)
    return key_id, f"sa_{key_id}_{secrets.token_urlsafe(32)}"


def hash_key(key: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """The stored form of a key: scrypt over the whole key with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(key, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def valid_hash(stored: str) -> str | None:
    """Why a stored hash cannot be used (None: it can)."""
    m = _HASH.match(stored)
    if m is None:
        return "not scrypt$<n>$<r>$<p>$<salt>$<hash> (made by `secondapproval keys add`)"
    n, r, p = (int(g) for g in m.groups()[:3])
    if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= 32 or not 1 <= p <= 16:
        return f"scrypt cost n={n} r={r} p={p} out of range (n a power of two ≤ {_MAX_N})"
    return None


def key_id_of(key: str) -> str | None:
    """The id a presented key claims (None: not the shape of a key)."""
    m = _KEY.match(key)
    return m.group(1) if m else None


def matches(key: str, stored: str) -> bool:
    """Whether `key` is the key `stored` was made from (constant time in the hash)."""
    m = _HASH.match(stored)
    if m is None:
        return False
    n, r, p = (int(g) for g in m.groups()[:3])
    salt, expected = base64.b64decode(m.group(4)), base64.b64decode(m.group(5))
    return hmac.compare_digest(_scrypt(key, salt, n, r, p), expected)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a checked key is: its configured name and what it may do."""

    name: str
    key_id: str
    matters: frozenset[str]
    """The matter ids it may decide (`"*"`: every matter)."""
    audit_read: bool = False
    admin: bool = False
    vouch: frozenset[str] = frozenset()
    """The authoritative sources whose facts this platform supplies (recorded as vouched)."""

    def may_decide(self, matter: str) -> bool:
        return "*" in self.matters or matter in self.matters


class KeyRing:
    """The configured keys; `check(key)` gives its Principal, or None for any key not theirs."""

    def __init__(self, stored: Iterable[tuple[str, Principal]]) -> None:
        self._by_id: Mapping[str, tuple[str, Principal]] = {p.key_id: (h, p) for h, p in stored}
        self._checked: dict[bytes, Principal] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def principals(self) -> tuple[Principal, ...]:
        return tuple(p for _, p in self._by_id.values())

    def check(self, key: str) -> Principal | None:
        fingerprint = hashlib.sha256(key.encode()).digest()
        known = self._checked.get(fingerprint)
        if known is not None:
            return known
        key_id = key_id_of(key)
        entry = self._by_id.get(key_id) if key_id is not None else None
        if entry is None or not matches(key, entry[0]):
            return None
        with self._lock:
            self._checked[fingerprint] = entry[1]
        return entry[1]


def _scrypt(key: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(key.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
