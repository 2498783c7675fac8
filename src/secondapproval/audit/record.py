"""Building an audit record from a decision: its canonical JSON, less `seq`, `prev` and `hash`.

Per matter version a `_Plan` is made once (rule ids, reads and codes, personal-data paths, the
declared fact tree, the constant members already in JSON), so building a record is one HMAC and
a join of byte strings — orjson writes every variable part — with no copy of the application
unless it holds personal or undeclared data. The result is exactly `canonical(record)` (a
property test holds it to that; `verify` refuses any line that is not canonical).
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from ..backends import STATUS_CODES
from ..decision import Decision, Outcome
from ..paths import nest
from ..ruleset import FactSpec, Matter
from .canonical import OPTIONS, canonical
from .mask import Tree, mask_all, mask_application, mask_values
from .schema import RECORD_VERSION

Clock = Callable[[], dt.datetime]
"""Returns the current time; recorded in UTC (naive times are taken as UTC, others converted)."""


utc_now: Clock = functools.partial(dt.datetime.now, dt.UTC)
"""The default clock (a partial, not a function: one Python call less per record)."""
_UTC = dt.UTC


def _as_utc(now: dt.datetime) -> dt.datetime:
    """A clock's time in UTC (a naive time is taken as UTC)."""
    return now if now.tzinfo is None else now.astimezone(dt.UTC)


def key_id(key: bytes) -> str:
    """A short public name of an HMAC key (SHA-256 of a label and the key, 16 hex digits)."""
    return hashlib.sha256(b"secondapproval audit key\x00" + key).hexdigest()[:16]


class FactsDigest:
    """HMAC-SHA256 (RFC 2104) of canonical applications under one key, its pad states kept ready.

    Equal to `hmac.digest(key, canonical(facts), "sha256")`, at half the cost per call.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, facts: Any) -> str:
        return self.of_canonical(canonical(facts))

    def of_canonical(self, data: bytes) -> str:
        """The digest of an application already in canonical JSON."""
        return self.hex_of_canonical(data).decode("ascii")

    def hex_of_canonical(self, data: bytes) -> bytes:
        """The digest of an application already in canonical JSON, as ASCII hex bytes."""
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return binascii.hexlify(outer.digest())


def facts_hmac(key: bytes, facts: Any) -> str:
    """HMAC-SHA256 of the canonical JSON of an application (the standard construction)."""
    return hmac.digest(key, canonical(facts), "sha256").hex()


_CACHED = 4096
_V = b',"v":%d,"values":' % RECORD_VERSION
_DUMPS = orjson.dumps
"""orjson without options, for plain values (ids, dates, string lists) whose JSON is canonical."""
_APPROVE = Outcome.APPROVE
_OUTCOMES = {o: canonical(o.value) for o in Outcome}
_PASSED_OR_FAILED = frozenset((0, 1))


class Unsealed(NamedTuple):
    """A record in canonical JSON but for `prev` and `seq`, which the sink fills in to seal it.

    `head` runs from the opening brace to `"prev":"`; `reasons` and `results` are those arrays;
    `tail` runs from `,"time":` to the last member, without the closing brace.
    """

    head: bytes
    reasons: bytes
    results: bytes
    tail: bytes

    def seal(self, seq: int, prev: str) -> tuple[bytes, str]:
        """The record as the `seq`-th link after `prev`: its log line and its hash.

        The hash is the SHA-256 of the canonical JSON of the record without `hash`; the line is
        that JSON with `"hash":"<hex>"` appended as its last member, then a newline.
        """
        data = b"".join(
            (
                self.head,
                prev.encode(),
                b'","reasons":',
                self.reasons,
                b',"results":',
                self.results,
                b',"seq":%d' % seq,
                self.tail,
            )
        )
        sha = hashlib.sha256(data)
        sha.update(b"}")
        digest = sha.hexdigest()
        return b"".join((data, b',"hash":"', digest.encode(), b'"}\n')), digest


@dataclass(frozen=True, slots=True)
class _Plan:
    """What record building needs from one matter version, constant parts already in JSON.

    A record's members in canonical (sorted) order: backend, decision_id, digest, engine, facts,
    facts_hmac, invalid, key_id, latency_ns, matter, missing, on, outcome, prev | reasons,
    results, seq | time, v, values, version. Runs of constant members are joined once here.
    """

    version: str | None
    known: bool
    """False for a decision with no matter version (NO_VERSION): everything in it is masked."""
    rules: tuple[tuple[str, list[str]], ...]
    codes: tuple[str, ...]
    """Each rule's refer code."""
    pii: tuple[str, ...]
    tree: Tree
    plain: bool
    """Known and without personal data: a valid application is recorded as it came."""
    verbatim: bool
    """Plain, and every fact a top-level input whose valid value is its JSON value (bool, int,
    str, enum): the values of a complete valid application are the application itself."""
    opening: bytes  # {"backend":…,"decision_id":
    to_facts: bytes  # ,"digest":…,"engine":…,"facts":
    to_latency: bytes  # ,"key_id":…,"latency_ns":
    to_missing: bytes  # ,"matter":…,"missing":
    closing: bytes  # ,"version":…
    cached: dict[tuple[int, ...], tuple[bytes, bytes | None]] = field(default_factory=dict)
    """`results` (and `reasons`, when they follow from the statuses alone) by status tuple."""

    def results_of(self, statuses: tuple[int, ...]) -> tuple[bytes, bytes | None]:
        """The canonical `results` array, and `reasons` when every rule passed or failed."""
        found = self.cached.get(statuses)
        if found is None:
            results = canonical(
                [
                    {"rule": rule, "status": STATUS_CODES[code], "reads": reads}
                    for (rule, reads), code in zip(self.rules, statuses, strict=True)
                ]
            )
            reasons = None
            if _PASSED_OR_FAILED.issuperset(statuses):
                failed = (c for c, status in zip(self.codes, statuses, strict=True) if status == 0)
                reasons = canonical(list(dict.fromkeys(failed)))
            found = (results, reasons)
            if len(self.cached) < _CACHED:
                self.cached[statuses] = found
        return found


def _verbatim(path: str, spec: FactSpec) -> bool:
    """A top-level input fact whose validated value is the JSON value as it came."""
    return "." not in path and spec.derive is None and spec.type in ("bool", "int", "str", "enum")


class RecordBuilder:
    """Builds the unsealed records of the decisions of one engine's matters."""

    def __init__(
        self, matters: Iterable[Matter], *, key: bytes, clock: Clock = utc_now, backend: str
    ) -> None:
        from .. import __version__

        self._digest = FactsDigest(key)
        self._clock = clock
        self._constants = (
            canonical(backend),
            canonical(f"secondapproval {__version__}"),
            canonical(key_id(key)),
        )
        self._plans: dict[str | None, _Plan] = {m.digest: self._plan(m.id, m) for m in matters}
        self._unplanned: dict[tuple[str, str | None], _Plan] = {}

    def _plan(self, matter_id: str, matter: Matter | None, version: str | None = None) -> _Plan:
        backend, engine, key = self._constants
        facts = matter.spec.facts if matter is not None else {}
        if matter is None:
            digest: str | None = None
            rules: tuple[tuple[str, list[str]], ...] = ()
            codes: tuple[str, ...] = ()
            pii: tuple[str, ...] = ()
            tree: Tree = {}
        else:
            digest, version = matter.digest, matter.version
            rules = tuple((r.id, list(r.reads)) for r in matter.rules)
            codes = tuple(r.spec.refer.code for r in matter.rules)
            pii = tuple(p for p, f in facts.items() if f.pii)
            tree = nest({p: f.pii for p, f in facts.items() if f.derive is None})
        return _Plan(
            version,
            matter is not None,
            rules,
            codes,
            pii,
            tree,
            matter is not None and not pii,
            matter is not None and not pii and all(_verbatim(p, f) for p, f in facts.items()),
            b'{"backend":%s,"decision_id":' % backend,
            b',"digest":%s,"engine":%s,"facts":' % (canonical(digest), engine),
            b',"key_id":%s,"latency_ns":' % key,
            b',"matter":%s,"missing":' % canonical(matter_id),
            b',"version":%s' % canonical(version),
        )

    def build(self, matter: str, decision: Decision, facts: Any, latency_ns: int) -> Unsealed:
        """The record of a decision made on `facts` in `latency_ns` nanoseconds.

        TypeError if the application holds something that is not JSON.
        """
        decision_id, on, outcome, values, statuses, flagged, missing, digest = decision.parts()
        plan = self._plans.get(digest)
        if plan is None:
            plan = self._plan_without_matter(matter, decision.version)
        original = canonical(facts)
        if plan.plain and not flagged and facts.__class__ is dict:
            shown = original
            if plan.verbatim and len(values) == len(facts):
                values_json = original  # every key declared, present and valid: the same JSON
            else:
                values_json = canonical(values)
            results, reasons = plan.results_of(statuses)
        else:
            shown, values_json, results, reasons = self._masked(plan, facts, values, statuses)
        if outcome is _APPROVE:
            reasons = b"[]"
        elif reasons is None or flagged or missing:
            reasons = canonical(decision.codes)
        now = self._clock()
        if now.tzinfo is not _UTC:
            now = _as_utc(now)
        head = b"".join(
            (
                plan.opening,
                _DUMPS(decision_id),
                plan.to_facts,
                shown,
                b',"facts_hmac":"',
                self._digest.hex_of_canonical(original),
                b'","invalid":',
                canonical(flagged) if flagged else b"{}",
                plan.to_latency,
                b"%d" % latency_ns,
                plan.to_missing,
                _DUMPS(missing) if missing else b"[]",
                b',"on":',
                _DUMPS(on),
                b',"outcome":',
                _OUTCOMES[outcome],
                b',"prev":"',
            )
        )
        tail = b"".join((b',"time":', _DUMPS(now, option=OPTIONS), _V, values_json, plan.closing))
        return Unsealed(head, reasons, results, tail)

    @staticmethod
    def _masked(
        plan: _Plan, facts: Any, values: Mapping[str, Any], statuses: tuple[int, ...]
    ) -> tuple[bytes, bytes, bytes, bytes | None]:
        """Facts, values, results and reasons (if known) for a record that masks something."""
        if not plan.known:
            return canonical(mask_all(facts)), b"{}", b"[]", None
        shown = canonical(mask_application(facts, plan.tree))
        values_json = canonical(mask_values(values, plan.pii) if plan.pii else values)
        return (shown, values_json, *plan.results_of(statuses))

    def _plan_without_matter(self, matter: str, version: str | None) -> _Plan:
        """The plan of a decision with no loaded matter version (made and cached on first use)."""
        plan = self._unplanned.get((matter, version))
        if plan is None:
            plan = self._plan(matter, None, version)
            if len(self._unplanned) < _CACHED:
                self._unplanned[(matter, version)] = plan
        return plan
