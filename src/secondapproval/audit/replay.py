"""Replay: re-decide recorded decisions and compare outcome and reasons with what was recorded.

Each record is re-decided under the matter version its digest names (found in a `RuleIndex`);
when that digest is not found, under the version of the same matter in force on the record's
date, and the result says so. Rules are evaluated by the IR interpreter (not the backend that
decided) over the values the record holds: input facts as recorded, derived facts recomputed —
except those derived from personal data, whose recorded values are used. A rule that reads a
personal fact itself needs the original application (checked against the record's keyed digest);
without it the record is `not-replayable`, never passed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from ..backends import get_backend
from ..compiled import CompiledMatter, compile_matter
from ..decision import Decision
from ..lang.interpret import Interpreter
from ..lang.kleene import ERROR_VALUE, UNKNOWN_VALUE, status_code
from ..lang.parser import parse_iso_date
from ..lang.types import ANY, Type
from ..provenance import Failure, Origins, Provenance
from ..ruleset import Matter
from .head import Head
from .keys import AuditKey
from .lossless import lossless_json, restore
from .rule_texts import RuleIndex
from .schema import is_decision
from .verify import CheckedCheckpoints, VerifyReport, verify_log

Verdict = Literal[
    "same", "changed", "reasons-changed", "not-replayable", "unresolved", "mismatch", "no-version"
]
FAILING: frozenset[Verdict] = frozenset(
    {"changed", "reasons-changed", "not-replayable", "unresolved", "mismatch"}
)


@dataclass(frozen=True, slots=True)
class Replayed:
    """What replaying one record gave."""

    line: int
    decision_id: str
    verdict: Verdict
    detail: str = ""
    substituted: str | None = None
    """The digest replayed under when the recorded one was not found."""

    def __str__(self) -> str:
        sub = f" [replayed under {self.substituted[:12]}…]" if self.substituted else ""
        return f"line {self.line} ({self.decision_id}): {self.verdict}{sub}: {self.detail}"


def _typed(value: Any, t: Type) -> Any:
    value = restore(value)
    if value is None:
        return None
    if t.kind == "date" and isinstance(value, str):
        return parse_iso_date(value)
    if t.kind == "decimal" and isinstance(value, str | int | float):
        return Decimal(str(value))
    if t.kind == "list" and isinstance(value, list) and t.elem is not None:
        return [_typed(v, t.elem) for v in value]
    if t.kind == "record" and isinstance(value, dict):
        return {k: _typed(v, t.field(k) or ANY) for k, v in value.items()}
    return value


REFUSED = "given only by "
"""How the message of a fact the trust boundary refused begins (`trust.Trust.guards`)."""


def origins_of(doc: Mapping[str, Any], matter: Matter) -> Origins:
    """A record's origins: its gathered and failed facts, its vouched sources (the trust
    decisions are taken as recorded: replay never asks a source again)."""
    declared = {path: spec.source or "applicant" for path, spec in matter.inputs.items()}
    gathered: dict[str, Provenance] = {}
    failed: dict[str, Failure] = {}
    for path, entry in dict(doc.get("origins") or {}).items():
        if entry.get("failed"):
            failed[path] = Failure(str(entry["failed"]), str(entry["source"]), str(entry["why"]))
        else:
            at = entry.get("retrieved_at")
            gathered[path] = Provenance(
                "adapter",
                str(entry["source"]),
                dt.datetime.fromisoformat(at) if at else None,
                entry.get("reference"),
                entry.get("digest"),
                bool(entry.get("cached")),
            )
    vouched = tuple(doc.get("vouched") or ())
    return Origins(declared, vouched, gathered, failed)


@dataclass(frozen=True, slots=True)
class Undecided:
    """Why a record could not be decided afresh: its verdict and the detail."""

    verdict: Verdict
    detail: str


@dataclass(frozen=True, slots=True)
class _Prepared:
    compiled: CompiledMatter
    pii: frozenset[str]
    pii_rooted: frozenset[str]
    reads_pii: bool


def _prepare(matter: Matter) -> _Prepared:
    facts = matter.spec.facts
    pii = frozenset(p for p, f in facts.items() if f.pii and f.derive is None)
    rooted: set[str] = set()
    for d in matter.derived:
        if d.inputs & (pii | rooted):
            rooted.add(d.path)
    reads_pii = any(set(r.reads) & pii for r in matter.rules)
    return _Prepared(
        compile_matter(matter, get_backend("native")), pii, frozenset(rooted), reads_pii
    )


class Replayer:
    """Re-decides records under the rule sets of an index (and, if given, the applications)."""

    def __init__(
        self,
        index: RuleIndex,
        *,
        applications: Mapping[str, Any] | None = None,
        key: AuditKey | bytes | None = None,
    ) -> None:
        self.index = index
        self.applications = applications or {}
        self._key = None if key is None else AuditKey.of(key)
        self._prepared: dict[str, _Prepared] = {}

    def _digest_of(self, application: Any, v: object) -> str | None:
        """The `facts_hmac` a record of format `v` would hold for an application."""
        if self._key is None:
            return None
        if v == 1:
            return self._key.v1_facts(application)
        return self._key.facts.of_canonical(lossless_json(application))

    def _matter_for(self, doc: Mapping[str, Any], on: dt.date) -> tuple[Matter | None, bool]:
        found = self.index.get(str(doc["digest"]))
        if found is not None:
            return found, False
        candidates = [
            m
            for m in self.index.by_matter.get(str(doc["matter"]), [])
            if m.spec.effective.covers(on)
        ]
        candidates.sort(key=lambda m: m.version != doc["version"])
        return (candidates[0] if candidates else None), True

    def replay(self, line: int, doc: Mapping[str, Any]) -> Replayed:
        """Re-decide one verified record."""
        did = str(doc["decision_id"])
        if doc["digest"] is None:
            return Replayed(line, did, "no-version", "no version was in force: nothing to decide")
        on = parse_iso_date(str(doc["on"]))
        matter, substituted = self._matter_for(doc, on)
        if matter is None:
            return Replayed(
                line,
                did,
                "unresolved",
                f"rule set sha256:{doc['digest']} not found "
                "(keep versions with `secondapproval rules snapshot`)",
            )
        sub = matter.digest if substituted else None
        decision = self.decide_under(matter, doc, on)
        if isinstance(decision, Undecided):
            return Replayed(line, did, decision.verdict, decision.detail, sub)
        return self._compare(line, did, doc, decision, sub)

    def decide_under(
        self, matter: Matter, doc: Mapping[str, Any], on: dt.date
    ) -> Decision | Undecided:
        """A verified record's application decided afresh under `matter` on `on`: from its
        recorded values, or from the original application when one was given (checked against
        the record's facts digest). `impact` decides records under a candidate rule set with it."""
        prep = self._prepared.get(matter.digest)
        if prep is None:
            prep = self._prepared[matter.digest] = _prepare(matter)
        did = str(doc["decision_id"])
        if did in self.applications:
            decision = self._from_application(prep, did, on, self.applications[did], doc)
            return Undecided("mismatch", decision) if isinstance(decision, str) else decision
        if prep.reads_pii:
            return Undecided(
                "not-replayable",
                "a rule reads personal data itself: give the original application (--facts)",
            )
        return self._from_values(prep, did, on, doc)

    def _from_application(
        self, prep: _Prepared, did: str, on: dt.date, application: Any, doc: Mapping[str, Any]
    ) -> Decision | str:
        digest = self._digest_of(application, doc.get("v"))
        if digest is None:
            return "an application was given but no audit key to check it against the record"
        if digest != doc["facts_hmac"]:
            return "the application given does not match the record's facts digest"
        compiled = prep.compiled
        validated = compiled.validator.validate(application, on)
        values, invalid, missing = validated.values, validated.invalid, validated.missing
        origins = origins_of(doc, compiled.matter)
        for path, why in dict(doc["invalid"]).items():  # the trust boundary's, as recorded
            if str(why).startswith(REFUSED):
                values.pop(path, None)
                invalid.setdefault(path, str(why))
        for path in origins.failed:
            values.pop(path, None)
        missing += tuple(p for p in origins.failed if p not in missing and p not in invalid)
        statuses, _ = compiled.evaluate(values, on)
        return Decision.decided(
            compiled, did, on, values, statuses, invalid, missing, None, origins
        )

    def _from_values(
        self, prep: _Prepared, did: str, on: dt.date, doc: Mapping[str, Any]
    ) -> Decision:
        matter = prep.compiled.matter
        types = matter.types
        recorded: Mapping[str, Any] = doc["values"]
        values = {p: _typed(v, types[p]) for p, v in recorded.items() if p in types}
        errors: set[str] = set()
        for d in matter.derived:
            if d.path in prep.pii_rooted:
                if d.path not in values and all(i in values or i in errors for i in d.inputs):
                    errors.add(d.path)
                continue
            x = Interpreter(values, on, frozenset(errors)).eval(d.expr)
            if isinstance(x, Fraction):  # no exact decimal value: see `numbers.settled`
                x = ERROR_VALUE
            values.pop(d.path, None)
            if x is ERROR_VALUE:
                errors.add(d.path)
            elif x is not UNKNOWN_VALUE:
                values[d.path] = x
        frozen = frozenset(errors)
        statuses = tuple(
            status_code(Interpreter(values, on, frozen).eval(r.expr)) for r in matter.rules
        )
        return Decision.decided(
            prep.compiled,
            did,
            on,
            values,
            statuses,
            dict(doc["invalid"]),
            tuple(doc["missing"]),
            None,
            origins_of(doc, matter),
        )

    @staticmethod
    def _compare(
        line: int, did: str, doc: Mapping[str, Any], decision: Decision, sub: str | None
    ) -> Replayed:
        was, now = str(doc["outcome"]), str(decision.outcome)
        old, new = set(doc["reasons"]), set(decision.codes)
        if was != now:
            return Replayed(
                line,
                did,
                "changed",
                f"{was} → {now}; reasons {sorted(old) or '—'} → {sorted(new) or '—'}",
                sub,
            )
        if old != new:
            return Replayed(
                line, did, "reasons-changed", f"{was}; reasons {sorted(old)} → {sorted(new)}", sub
            )
        return Replayed(line, did, "same", was, sub)


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """Counts per verdict, and every record that did not replay the same."""

    counts: Mapping[Verdict, int]
    notable: tuple[Replayed, ...]

    @property
    def ok(self) -> bool:
        return not any(self.counts.get(v, 0) for v in FAILING)

    @property
    def substituted(self) -> int:
        return sum(1 for r in self.notable if r.substituted)

    def summary(self) -> str:
        parts = ", ".join(f"{n} {v}" for v, n in sorted(self.counts.items()))
        return f"replay {'ok' if self.ok else 'FAILED'}: {parts or 'no records'}"


def replay_log(
    path: str | os.PathLike[str],
    index: RuleIndex,
    *,
    applications: Mapping[str, Any] | None = None,
    key: AuditKey | bytes | None = None,
    checkpoints: CheckedCheckpoints | Iterable[Head] = (),
    expect_head: Head | None = None,
    chain_only: bool = False,
    no_head: bool = False,
) -> tuple[VerifyReport, ReplayReport]:
    """Verify a log and replay each of its intact records."""
    replayer = Replayer(index, applications=applications, key=key)
    counts: Counter[Verdict] = Counter()
    notable: list[Replayed] = []

    def on_record(line: int, doc: dict[str, Any]) -> None:
        if not is_decision(doc):
            return  # a swap decides nothing: nothing to replay
        result = replayer.replay(line, doc)
        counts[result.verdict] += 1
        if result.verdict in FAILING or result.substituted:
            notable.append(result)

    report = verify_log(
        path,
        key=key,
        checkpoints=checkpoints,
        expect_head=expect_head,
        chain_only=chain_only,
        no_head=no_head,
        on_record=on_record,
    )
    return report, ReplayReport(dict(counts), tuple(notable))
