"""The contract between the engine and a source adapter (entry points `secondapproval.sources`).

An adapter reaches one connected office. The deployment file (`sources.deployment`) names it by
its entry-point name (`adapter: http-json`), validates its options against the adapter's
`Settings` (a pydantic model, `extra="forbid"`) when the file is loaded, and builds it once per
Engine: `Adapter(source, settings, timeout=seconds)`. Gathering then calls `await
adapter.lookup(key)` — `key` maps each lookup parameter (`id_number`) to the value the
application gave for it — at most once per source and key in a decision, many at once.

A lookup answers with the office's record (`Answer`), or raises `NotFound` (the office answered
that it holds nothing for the key) or `Unavailable` (anything else: a timeout, a refused or reset
connection, a server error, an open circuit, an answer too large, not JSON, not an object). It
never raises anything else for a bad answer, and it keeps within its timeout, retries included.
Mapping the record's fields to fact paths, confirming the key and validating each value against
the matter's fact types are the engine's job, the same for every adapter (`sources.gather`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

from pydantic import BaseModel


class Answer(NamedTuple):
    """What an office answered for one key."""

    record: Mapping[str, Any]
    """The office's record: a JSON object (fields are read by dotted path, `person.name`)."""
    reference: str | None
    """The adapter's reference for the answer: a certificate number, a response or row id."""
    digest: str
    """SHA-256 (hex) of the raw response as received (`raw_digest`), for the audit record."""


class LookupFailedError(Exception):
    """A lookup gave no record. Never reaches the caller of `decide()`: it becomes a reason."""

    code = "UNAVAILABLE"

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Unavailable(LookupFailedError):  # noqa: N818 (the reason code's name)
    """Timeout, connection error, server error, open circuit, an answer that is not a record."""

    code = "UNAVAILABLE"


class NotFound(LookupFailedError):  # noqa: N818 (the reason code's name)
    """The office answered that it holds nothing for the key."""

    code = "NOT_FOUND"


@runtime_checkable
class Adapter(Protocol):
    """One connected office, built from its deployment entry."""

    source: str
    """The id of the data source (`rules/sources.yaml`) it reaches."""

    async def lookup(self, key: Mapping[str, Any]) -> Answer:
        """The office's record for a key; `NotFound` or `Unavailable` when there is none."""
        ...

    async def aclose(self) -> None:
        """Release connections and files (the Engine's `close()`)."""
        ...

    def describe(self) -> str:
        """Where it reaches, without secrets (a URL without credentials, a file name)."""
        ...


class AdapterClass(Protocol):
    """What an entry point of `secondapproval.sources` names: an adapter class."""

    Settings: ClassVar[type[BaseModel]]
    """Its options in the deployment file (every key of the entry but the common ones)."""

    def __call__(self, source: str, settings: Any, *, timeout: float) -> Adapter: ...


def raw_digest(raw: bytes) -> str:
    """The digest of a raw response recorded with each fact it gave."""
    return hashlib.sha256(raw).hexdigest()
