"""Where each fact of a decision came from (DESIGN, "Trust"), and what the sources could not give.

A fact comes from the applicant, from a named authoritative source through its adapter (gathered:
when, the adapter's reference, the digest of the raw answer, whether from the cache), or from a
caller that vouches for that source (the embedding fetched it itself). `Origins` holds this for
one decision: the gathered facts' `Provenance`, the facts a lookup could not give (`Failure`,
whose code becomes the reason: `UNAVAILABLE:<source>`, `NOT_FOUND:<source>`, or the `MISSING`/
`INVALID` code of the lookup key), the sources vouched for, and each input fact's declared source.
An ungathered decision shares one `Origins` per matter version: nothing is built per decision.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Via = Literal["applicant", "adapter", "vouched"]
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one fact came from."""

    via: Via
    source: str
    """The data source: `applicant`, `applicant-commitment`, or an id of `rules/sources.yaml`."""
    retrieved_at: dt.datetime | None = None
    """When the adapter's answer arrived (UTC); gathered facts only."""
    reference: str | None = None
    """The adapter's reference: a certificate number, a response or row id."""
    digest: str | None = None
    """SHA-256 of the raw answer the fact was read from."""
    cached: bool = False
    """Read from the source's cache (`retrieved_at` is when the cached answer arrived)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (`decide --json`, audit record `origins`): only what is known."""
        out: dict[str, Any] = {"via": self.via, "source": self.source}
        if self.retrieved_at is not None:
            out["retrieved_at"] = self.retrieved_at.isoformat().replace("+00:00", "Z")
        if self.reference is not None:
            out["reference"] = self.reference
        if self.digest is not None:
            out["digest"] = self.digest
        if self.cached:
            out["cached"] = True
        return out


@dataclass(frozen=True, slots=True)
class Failure:
    """A fact a source could not give, and the reason code it refers with."""

    code: str
    """`UNAVAILABLE:<source>`, `NOT_FOUND:<source>`, or the lookup key's `MISSING:`/`INVALID:`."""
    source: str
    why: str
    """What happened, in English (a timeout, an HTTP status, an open circuit …)."""
    office: tuple[str, str] = ("", "")
    """The office's name (zh, en), for the reason's text."""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "failed": self.code, "why": self.why}


@dataclass(frozen=True, slots=True)
class Origins:
    """Where the facts of one decision came from (see the module's text)."""

    declared: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Each input fact's declared source (the matter version's `source:`)."""
    vouched: tuple[str, ...] = ()
    """The sources the engine vouches for that this matter version reads, sorted."""
    gathered: Mapping[str, Provenance] = field(default_factory=lambda: _EMPTY)
    failed: Mapping[str, Failure] = field(default_factory=lambda: _EMPTY)

    def of(self, path: str) -> Provenance:
        """Where a fact came from."""
        found = self.gathered.get(path)
        if found is not None:
            return found
        source = self.declared.get(path, "applicant")
        return _given("vouched" if source in self.vouched else "applicant", source)

    def codes(self) -> dict[str, str]:
        """Each failed fact's reason code."""
        return {path: f.code for path, f in self.failed.items()}


@functools.cache
def _given(via: Via, source: str) -> Provenance:
    """The provenance of a fact the caller gave (immutable, so one per via and source)."""
    return Provenance(via, source)


NO_ORIGINS = Origins()
"""A decision without declared sources (no matter version, or built by hand)."""
