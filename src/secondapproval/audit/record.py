"""Building an audit record from a decision: its canonical JSON, less `seq`, `prev` and `hash`.

Per matter version a `_Plan` is made once (rule ids, reads and codes, personal-data paths, the
declared fact tree, the constant members already in JSON), so building a record is one HMAC and
a join of byte strings — orjson writes every variable part — with no copy of the application
unless it holds personal or undeclared data. The result is exactly `canonical(record)` (a
property test holds it to that; `verify` refuses any line that is not canonical).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from ..decision import Decision, Outcome, jsonable
from ..marks import Oversized
from ..paths import nest, with_iso_dates
from ..provenance import Origins
from ..ruleset import FactSpec, Matter, date_paths
from ..status import FAILED, PASSED, STATUS_OF
from ..version import __version__
from .canonical import OPTIONS, canonical
from .keys import AuditKey, FactsDigest, key_id
from .lossless import lossless_json, vouched_json
from .mask import Tree, mask_all, mask_application, mask_values
from .schema import RECORD_VERSION

__all__ = ["AuditKey", "FactsDigest", "RecordBuilder", "Unsealed", "facts_hmac", "key_id"]

Clock = Callable[[], dt.datetime]
"""Returns the current time; recorded in UTC (naive times are taken as UTC, others converted)."""


utc_now: Clock = functools.partial(dt.datetime.now, dt.UTC)
"""The default clock (a partial, not a function: one Python call less per record)."""
_UTC = dt.UTC


def _as_utc(now: dt.datetime) -> dt.datetime:
    """A clock's time in UTC (a naive time is taken as UTC)."""
    return now if now.tzinfo is None else now.astimezone(dt.UTC)


def facts_hmac(key: bytes, facts: Any) -> str:
    """The v2 `facts_hmac` of an application under an audit secret (the standard HMAC-SHA256)."""
    return AuditKey(key).facts.of_canonical(lossless_json(facts))


_CACHED = 4096
_V = b',"v":%d,"values":' % RECORD_VERSION
_DUMPS = orjson.dumps
"""orjson without options, for plain values (ids, dates, string lists) whose JSON is canonical."""
_APPROVE = Outcome.APPROVE
_OUTCOMES = {o: canonical(o.value) for o in Outcome}
_PASSED_OR_FAILED = frozenset((FAILED, PASSED))


class Unsealed(NamedTuple):
    """A record in canonical JSON but for `prev` and `seq`, which the sink fills in to seal it.

    `head` runs from the opening brace to `"prev":"`; `reasons` and `results` are those arrays;
    `tail` runs from `,"time":` to the last member, without the closing brace.
    """

    head: bytes
    reasons: bytes
    results: bytes
    tail: bytes

    def seal(self, seq: int, prev: str, key: AuditKey | None = None) -> tuple[bytes, str]:
        """The record as the `seq`-th link after `prev`: its log line and its hash.

        The hash is the SHA-256 of the canonical JSON of the record without `hash` and `mac`; the
        line is that JSON with `"hash":"<hex>"` appended, then (with a key) `"mac":"<hex>"`, the
        MAC of the hash under the chain key, then a newline.
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
        hashed = digest.encode()
        if key is None:
            return b"".join((data, b',"hash":"', hashed, b'"}\n')), digest
        mac = key.record_mac(hashed)
        return b"".join((data, b',"hash":"', hashed, b'","mac":"', mac, b'"}\n')), digest


def swap_record(old: str, new: str, now: dt.datetime) -> Unsealed:
    """The unsealed record of a rule-set swap from snapshot `old` to `new` at `now` (UTC)."""
    if now.tzinfo is not _UTC:
        now = _as_utc(now)
    head = b'{"engine":%s,"kind":"swap","new":%s,"old":%s,"prev":"' % (
        _DUMPS(f"secondapproval {__version__}"),
        _DUMPS(new),
        _DUMPS(old),
    )
    tail = b',"time":%s,"v":%d' % (_DUMPS(now, option=OPTIONS), RECORD_VERSION)
    return Unsealed(head, b"[]", b"[]", tail)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What record building needs from one matter version, constant parts already in JSON.

    A record's members in canonical (sorted) order: backend, decision_id, digest, engine, facts,
    facts_hmac, invalid, key_id, latency_ns, matter, missing, on, [origins], outcome, prev |
    reasons, results, seq | time, v, values, version, vouched. Runs of constant members are
    joined once here.
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
    opening: bytes  # {"backend":…,("calendar":…,)"decision_id":
    to_facts: bytes  # ,"digest":…,"engine":…,"facts":
    to_latency: bytes  # ,"key_id":…,"latency_ns":
    to_missing: bytes  # ,"matter":…,"missing":
    closing: bytes  # ,"version":…
    cached: dict[tuple[int, ...], tuple[bytes, bytes | None]] = field(default_factory=dict)
    """`results` (and `reasons`, when they follow from the statuses alone) by status tuple."""
    outputs: tuple[str, ...] = ()
    """The matter's outputs: an approval's record holds their values (`outputs`)."""
    dates: tuple[str, ...] = ()
    """Its date facts: a Python caller's `datetime.date` there is recorded as its ISO string,
    so that the record is the one the JSON application makes (`ruleset.date_paths`)."""

    def results_of(self, statuses: tuple[int, ...]) -> tuple[bytes, bytes | None]:
        """The canonical `results` array, and `reasons` when every rule passed or failed."""
        found = self.cached.get(statuses)
        if found is None:
            results = canonical(
                [
                    {"rule": rule, "status": STATUS_OF[code].value, "reads": reads}
                    for (rule, reads), code in zip(self.rules, statuses, strict=True)
                ]
            )
            reasons = None
            if _PASSED_OR_FAILED.issuperset(statuses):
                failed = (
                    c for c, status in zip(self.codes, statuses, strict=True) if status == FAILED
                )
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
        self,
        matters: Iterable[Matter],
        *,
        key: AuditKey | bytes,
        clock: Clock = utc_now,
        backend: str,
    ) -> None:
        key = AuditKey.of(key)
        self._digest = key.facts
        self._clock = clock
        self._constants = (
            canonical(backend),
            canonical(f"secondapproval {__version__}"),
            canonical(key.id),
        )
        self._plans: dict[str | None, _Plan] = {m.digest: self._plan(m.id, m) for m in matters}
        self._unplanned: dict[tuple[str, str | None], _Plan] = {}

    def _plan(self, matter_id: str, matter: Matter | None, version: str | None = None) -> _Plan:
        backend, engine, key = self._constants
        facts = matter.spec.facts if matter is not None else {}
        calendar = matter.calendar if matter is not None else None
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
            b'{"backend":%s,"decision_id":' % backend
            if calendar is None
            else b'{"backend":%s,"calendar":%s,"decision_id":'
            % (backend, canonical(calendar.name)),
            b',"digest":%s,"engine":%s,"facts":' % (canonical(digest), engine),
            b',"key_id":%s,"latency_ns":' % key,
            b',"matter":%s,"missing":' % canonical(matter_id),
            b',"version":%s' % canonical(version),
            outputs=matter.outputs if matter is not None else (),
            dates=date_paths(matter) if matter is not None else (),
        )

    def build(self, matter: str, decision: Decision, facts: Any, latency_ns: int) -> Unsealed:
        """The record of a decision made on `facts` in `latency_ns` nanoseconds.

        Any application can be recorded: it is written in its lossless form (`lossless`).
        """
        decision_id, on, outcome, values, statuses, flagged, missing, digest = decision.parts()
        origins = decision.origins
        plan = self._plans.get(digest)
        if plan is None:
            plan = self._plan_without_matter(matter, decision.version)
        if plan.dates:
            facts = with_iso_dates(facts, plan.dates)
        if plan.plain and not flagged and facts.__class__ is dict:
            shown = original = vouched_json(facts)
            if plan.verbatim and len(values) == len(facts):
                values_json = original  # every key declared, present and valid: the same JSON
            else:
                values_json = values_json_of(values)
            results, reasons = plan.results_of(statuses)
        else:
            original = lossless_json(facts)
            shown, values_json, results, reasons = self._masked(plan, facts, values, statuses)
        if outcome is _APPROVE:
            reasons = b"[]"
        elif reasons is None or flagged or missing or plan.outputs:  # outputs: not statuses alone
            reasons = _texts(decision.codes)
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
                _texts(flagged) if flagged else b"{}",
                plan.to_latency,
                b"%d" % latency_ns,
                plan.to_missing,
                _DUMPS(missing) if missing else b"[]",
                b',"on":',
                _DUMPS(on),
                _origins_json(origins) if origins.gathered or origins.failed else b"",
                b',"outcome":',
                _OUTCOMES[outcome],
                _outputs_json(plan, values) if plan.outputs and outcome is _APPROVE else b"",
                b',"prev":"',
            )
        )
        tail = b"".join(
            (
                b',"time":',
                _DUMPS(now, option=OPTIONS),
                _V,
                values_json,
                plan.closing,
                b',"vouched":',
                _DUMPS(origins.vouched),
            )
        )
        return Unsealed(head, reasons, results, tail)

    @staticmethod
    def _masked(
        plan: _Plan, facts: Any, values: Mapping[str, Any], statuses: tuple[int, ...]
    ) -> tuple[bytes, bytes, bytes, bytes | None]:
        """Facts, values, results and reasons (if known) for a record that masks something."""
        if not plan.known:
            return lossless_json(mask_all(facts)), b"{}", b"[]", None
        if facts.__class__ is Oversized:  # the application was not read: the note is recorded
            shown = lossless_json(facts)
        else:
            shown = lossless_json(mask_application(facts, plan.tree))
        values_json = values_json_of(mask_values(values, plan.pii) if plan.pii else values)
        return (shown, values_json, *plan.results_of(statuses))

    def _plan_without_matter(self, matter: str, version: str | None) -> _Plan:
        """The plan of a decision with no loaded matter version (made and cached on first use)."""
        plan = self._unplanned.get((matter, version))
        if plan is None:
            plan = self._plan(matter, None, version)
            if len(self._unplanned) < _CACHED:
                self._unplanned[(matter, version)] = plan
        return plan


def _outputs_json(plan: _Plan, values: Mapping[str, Any]) -> bytes:
    """`,"outputs":{…}`: the values an approval carries, personal ones masked."""
    outputs = {p: values[p] for p in plan.outputs}
    return b',"outputs":' + values_json_of(mask_values(outputs, plan.pii) if plan.pii else outputs)


def _origins_json(origins: Origins) -> bytes:
    """`,"origins":{…}`: each gathered fact's provenance, each failed fact's failure."""
    members: dict[str, Any] = {p: v.to_dict() for p, v in origins.gathered.items()}
    members.update((p, f.to_dict()) for p, f in origins.failed.items())
    return b',"origins":' + _texts(members)


def values_json_of(values: Mapping[str, Any]) -> bytes:
    """Canonical JSON of fact values (decimals as strings, dates ISO); a value JSON cannot hold
    as it is (an int beyond 64 bits, a lone surrogate) in its lossless form."""
    try:
        return canonical(values)
    except TypeError:
        return lossless_json(jsonable(values))


def _texts(value: Any) -> bytes:
    """Canonical JSON of reason codes or messages, a lone surrogate in them written `\\udxxx`.

    They name paths of the application, and an undeclared key may hold any text.
    """
    try:
        return canonical(value)
    except TypeError:
        return canonical(_escaped(value))


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, Mapping):
        return {_escaped(str(k)): _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value
