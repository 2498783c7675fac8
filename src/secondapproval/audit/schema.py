"""The audit record's schema: a frozen pydantic model, published as JSON Schema.

`secondapproval schema audit` prints it. A log line is the canonical JSON of one record without
`hash` and `mac`, then `"hash":"<hex>"` (the SHA-256 of that JSON), then, when the log is keyed,
`"mac":"<hex>"` (HMAC-SHA256 of the hash under the chain key, `keys.AuditKey`), then `}` and a
newline.

Optional v2 members added later: `origins` (gathered decisions: where each gathered fact came
from, or why its source could not give it), `vouched` (the sources vouched for; every record
written since the trust boundary has it, so a record without it was decided believing every fact)
`outputs` (an approval of a matter that declares outputs: the values it carries) and `calendar`
(a matter version that counts working days: the calendar, `id@sha256:<digest>`). A second kind
of record, `kind: swap` (`SwapRecord`), marks where an engine swapped its rule-set snapshot (the
old and new digests); it is chained and MACed like a decision's.

Format v2 (this version) adds `mac` and takes `facts_hmac` over the application's lossless form
(`lossless`) under the derived facts key; `facts` holds the lossless form too. Format v1 records
(`AuditRecordV1`: no `mac`, the digest over the canonical JSON under the secret itself) are still
read by `verify`, `show` and replay.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RECORD_VERSION = 2

Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_Model = ConfigDict(extra="forbid", frozen=True)


class RuleEntry(BaseModel):
    """One rule's result and the fact paths it read (their values are in `values`)."""

    model_config = _Model
    rule: str
    status: Literal["passed", "failed", "unknown", "error"]
    reads: list[str]


class _Record(BaseModel):
    """The members every format has."""

    model_config = _Model
    seq: Annotated[int, Field(ge=1, description="position in the chain, from 1")]
    prev: Hex64 = Field(description="hash of the previous record; 64 zeros for the first")
    hash: Hex64 = Field(description="SHA-256 of the canonical JSON of the record without hash, mac")
    decision_id: str
    time: str = Field(description="when the decision was made, UTC, ISO 8601")
    on: str = Field(description="the decision date")
    matter: str
    version: str | None = Field(description="the matter version that decided; null: NO_VERSION")
    digest: Hex64 | None = Field(description="SHA-256 of the canonical rule-set content")
    engine: str
    backend: str
    facts: Any = Field(
        description="the application in its lossless form, personal and undeclared values masked"
    )
    facts_hmac: Hex64 = Field(
        description="HMAC-SHA256 of the lossless form of the original application (facts key)"
    )
    key_id: str = Field(description="identifies the HMAC key (not the key)")
    values: dict[str, Any] = Field(description="valid facts incl. derived, personal ones masked")
    invalid: dict[str, str]
    missing: list[str]
    results: list[RuleEntry]
    reasons: list[str] = Field(description="reason codes, empty for an approval")
    outcome: Literal["approve", "refer"]
    latency_ns: Annotated[int, Field(ge=0)]


class Origin(BaseModel):
    """Where one gathered fact came from, or why its source could not give it."""

    model_config = _Model
    via: Literal["adapter"] | None = None
    source: str
    retrieved_at: str | None = Field(default=None, description="when the answer arrived, UTC")
    reference: str | None = Field(default=None, description="the adapter's reference")
    digest: Hex64 | None = Field(default=None, description="SHA-256 of the raw answer")
    cached: bool | None = Field(default=None, description="read from the source's cache")
    failed: str | None = Field(
        default=None, description="the reason code of a fact the source could not give"
    )
    why: str | None = None


class AuditRecord(_Record):
    """One decision, as written to an audit log (format v2)."""

    v: Literal[2] = Field(description="record format version")
    origins: dict[str, Origin] | None = Field(
        default=None,
        description="gathered decisions: each fact its sources gave (or could not give) — "
        "the facts whose declared source is in `vouched` came from the vouching caller, "
        "every other one from the applicant",
    )
    calendar: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*@sha256:[0-9a-f]{64}$")] | None = (
        Field(
            default=None,
            description="the working-day calendar the matter version counts on, by id and the "
            "SHA-256 of its file (also part of the matter's `digest`)",
        )
    )
    outputs: dict[str, Any] | None = Field(
        default=None,
        description="an approval of a matter with outputs: the values it carries (decimals as "
        "strings, dates ISO, personal ones masked), by output fact path",
    )
    vouched: list[str] | None = Field(
        default=None,
        description="the sources the engine vouched for that the matter version reads; "
        "absent in records written before the trust boundary (every fact was believed)",
    )
    mac: Hex64 | None = Field(
        default=None,
        description="HMAC-SHA256 of `hash` under the chain key; absent in a log kept without a key",
    )


class AuditRecordV1(_Record):
    """A record of format v1: no `mac`; `facts_hmac` over canonical JSON, keyed by the secret."""

    v: Literal[1] = Field(description="record format version")


class SwapRecord(BaseModel):
    """A rule-set swap (`kind: swap`, v2): the snapshot an engine decided under until this
    record, and the one it decides under after it. It decides nothing: no reasons, no results."""

    model_config = _Model
    kind: Literal["swap"]
    v: Literal[2] = Field(description="record format version")
    seq: Annotated[int, Field(ge=1, description="position in the chain, from 1")]
    prev: Hex64 = Field(description="hash of the previous record; 64 zeros for the first")
    hash: Hex64
    time: str = Field(description="when the swap was made, UTC, ISO 8601")
    engine: str
    old: Hex64 = Field(description="the snapshot digest decided under before")
    new: Hex64 = Field(description="the snapshot digest decided under from this record on")
    reasons: Annotated[list[str], Field(max_length=0)]
    results: Annotated[list[RuleEntry], Field(max_length=0)]
    mac: Hex64 | None = None


def record_model(v: object, kind: object = None) -> type[BaseModel]:
    """The model of a record of format `v` (v2 for anything but 1: v2 then refuses it) and
    `kind` (`swap`, else a decision)."""
    if kind is not None:
        return SwapRecord
    return AuditRecordV1 if v == 1 else AuditRecord


def is_decision(doc: dict[str, Any]) -> bool:
    """Whether a record is a decision's (not a swap's)."""
    return "kind" not in doc


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an audit record."""
    doc = AuditRecord.model_json_schema()
    swap = SwapRecord.model_json_schema()
    doc.setdefault("$defs", {}).update(swap.pop("$defs", {}))
    doc["$defs"]["SwapRecord"] = swap
    doc["description"] = (
        "A decision's record; a rule-set swap is recorded as `#/$defs/SwapRecord` (kind: swap)"
    )
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["$id"] = "urn:secondapproval:audit"
    return doc
