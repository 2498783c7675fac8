"""Canonical JSON and the hash of a record: the one byte form every hash is taken over.

Canonical JSON here is orjson's output with sorted keys: UTF-8, no insignificant whitespace,
shortest round-trip floats, dates and UTC times in ISO form (`Z`), decimals as strings. A sealed
record is the canonical JSON of the record without `hash` and `mac`, with `"hash":"<sha256 hex>"`
appended, then in a keyed log `"mac":"<hmac hex>"`, as its last members, then a newline
(`record.Unsealed.seal`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

GENESIS = "0" * 64
"""The `prev` of the first record of a chain."""

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
"""orjson's options for canonical JSON."""
_HASH_KEY = b',"hash":"'
_MAC_KEY = b',"mac":"'
_MAC_END = len(_MAC_KEY) + 64 + 2


def json_default(value: Any) -> Any:
    """What orjson calls for what it cannot write itself: decimals, sets, other mappings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Set):
        return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of a value (a TypeError — orjson's — if it is not JSON)."""
    return orjson.dumps(value, default=json_default, option=OPTIONS)


class Sealed(NamedTuple):
    """A sealed line taken apart: the hashed part, the claimed hash and MAC (None: no MAC)."""

    body: bytes
    hash: str
    mac: str | None


def split_sealed(line: bytes) -> Sealed | None:
    """The hashed part (the record without `hash` and `mac`), the claimed hash and MAC, or None."""
    line = line.rstrip(b"\n")
    mac = None
    at = line.rfind(_MAC_KEY)
    if at >= 0 and len(line) - at == _MAC_END and line.endswith(b'"}'):
        mac = line[at + len(_MAC_KEY) : -2].decode("ascii", "replace")
        line = line[:at] + b"}"
    at = line.rfind(_HASH_KEY)
    if at < 0 or not line.endswith(b'"}') or len(line) - at - len(_HASH_KEY) - 2 != 64:
        return None
    return Sealed(line[:at] + b"}", line[at + len(_HASH_KEY) : -2].decode("ascii", "replace"), mac)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
