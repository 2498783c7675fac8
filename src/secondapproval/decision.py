"""Decisions: immutable values built lazily from the compact result of an evaluation.

A decision is made of the valid facts, the per-rule status codes and the validation problems; the
`RuleResult` and `Reason` objects are built only when read, so deciding stays fast while every
decision still carries its full trace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from .messages import zh as zh_of
from .paths import ROOT
from .provenance import NO_ORIGINS, Failure, Origins, Provenance
from .status import ERROR, FAILED, PASSED, STATUS_OF, UNKNOWN, Status

if TYPE_CHECKING:
    from .compiled import CompiledMatter


class Outcome(StrEnum):
    """The only two answers: approve now, or refer to a human."""

    APPROVE = "approve"
    REFER = "refer"


_APPROVE, _REFER = Outcome.APPROVE, Outcome.REFER  # a module global reads faster than Enum.X
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_STATUS_TEXT = tuple(str(status) for status in STATUS_OF)
"""Each compact status code's JSON text (`"passed"` …)."""
_PLAIN = frozenset({str, int, bool, float, type(None)})
"""The classes of fact values that are their own JSON value (the common case: no conversion)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an application is referred: a failed rule, a missing or invalid fact, an error."""

    code: str
    zh: str
    en: str
    rule: str | None = None
    fact: str | None = None
    legal: str | None = None
    facts_read: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "rule": self.rule,
            "fact": self.fact,
            "legal": self.legal,
            "facts_read": jsonable(self.facts_read),
        }


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's result and the fact values it read (None where a fact was unavailable)."""

    rule: str
    status: Status
    facts_read: Mapping[str, Any]

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": str(self.status),
            "facts_read": jsonable(self.facts_read),
        }


def _failure_reason(code: str, failure: Failure) -> Reason:
    """The reason of facts a source could not give (`UNAVAILABLE:`, `NOT_FOUND:`, a key's code)."""
    zh, en = failure.office if failure.office[0] else (failure.source, failure.source)
    if code.startswith("NOT_FOUND:"):
        en_text = f"{en} holds no record for the key ({failure.why})"
        return Reason(code, f"{zh}未查到相关记录", en_text, fact=None)
    if code.startswith("UNAVAILABLE:"):
        en_text = f"{en} could not be reached ({failure.why})"
        return Reason(code, f"暂时无法从{zh}获取信息", en_text)
    return Reason(code, f"无法向{zh}查询：{failure.why}", f"{en} was not asked: {failure.why}")


def jsonable(value: Any) -> Any:
    """Fact values as JSON values: dates as ISO strings, decimals as strings, tuples as lists."""
    if value.__class__ in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class DecisionParts(NamedTuple):
    """What an audit record is made of, read from a decision at once (`Decision.parts`)."""

    decision_id: str
    on: dt.date
    outcome: Outcome
    values: Mapping[str, Any]
    statuses: tuple[int, ...]
    invalid: Mapping[str, str]
    missing: tuple[str, ...]
    digest: str | None
    """The matter version's digest (None: no version in force)."""


_new_parts = tuple.__new__  # builds DecisionParts from a tuple without its Python-level __new__
_new = object.__new__


class Decision:
    """The answer to one application: outcome, reasons, per-rule results, and what decided it.

    Built by keyword (`Decision(compiled=…, decision_id=…, …)`), or by the named constructors:
    `Decision.decided` (the engine's, positional, on the hot path) and `Decision.no_version`.
    The outcome is computed — approve only if every rule passed on present, valid facts — unless
    it is given (a replayed record's).
    """

    __slots__ = (
        "_compiled",
        "_id",
        "_invalid",
        "_missing",
        "_on",
        "_origins",
        "_outcome",
        "_reasons",
        "_results",
        "_snapshot",
        "_statuses",
        "_values",
    )

    def __init__(
        self,
        *,
        compiled: CompiledMatter | None,
        decision_id: str,
        on: dt.date,
        values: dict[str, Any],
        statuses: tuple[int, ...],
        invalid: Mapping[str, str],
        missing: tuple[str, ...],
        outcome: Outcome | None = None,
        snapshot: str | None = None,
        origins: Origins = NO_ORIGINS,
    ) -> None:
        self._compiled = compiled
        self._id = decision_id
        self._on = on
        self._values = values
        self._statuses = statuses
        self._invalid = invalid
        self._missing = missing
        self._snapshot = snapshot
        self._origins = origins
        if outcome is None:
            clean = not invalid and not missing and statuses.count(PASSED) == len(statuses)
            outcome = _APPROVE if clean and compiled is not None else _REFER
        self._outcome = outcome
        self._results: tuple[RuleResult, ...] | None = None
        self._reasons: tuple[Reason, ...] | None = None

    @classmethod
    def decided(
        cls,
        compiled: CompiledMatter,
        decision_id: str,
        on: dt.date,
        values: dict[str, Any],
        statuses: tuple[int, ...],
        invalid: Mapping[str, str],
        missing: tuple[str, ...],
        snapshot: str | None,
        origins: Origins,
    ) -> Decision:
        """A decision of a matter version on validated facts and the rules' statuses.

        The engine's constructor: the slot stores of `__init__` written out again, without its
        keyword matching and defaults, because this runs once per decision on the hot path.
        """
        self = _new(cls)
        self._compiled = compiled
        self._id = decision_id
        self._on = on
        self._values = values
        self._statuses = statuses
        self._invalid = invalid
        self._missing = missing
        self._snapshot = snapshot
        self._origins = origins
        clean = not invalid and not missing and statuses.count(PASSED) == len(statuses)
        if clean and compiled.outputs:
            clean = values.keys() >= compiled.outputs  # an approval carries every output
        self._outcome = _APPROVE if clean else _REFER
        self._results = None
        self._reasons = None
        return self

    @classmethod
    def no_version(cls, decision_id: str, on: dt.date, snapshot: str | None) -> Decision:
        """A referral: no version of the matter is in force on the date (`NO_VERSION`)."""
        return cls(
            compiled=None,
            decision_id=decision_id,
            on=on,
            values={},
            statuses=(),
            invalid={},
            missing=(),
            snapshot=snapshot,
        )

    # ---- identity ----
    @property
    def outcome(self) -> Outcome:
        return self._outcome

    @property
    def decision_id(self) -> str:
        return self._id

    @property
    def on(self) -> dt.date:
        """The decision date: the version in force on it decided, and rules read it."""
        return self._on

    @property
    def approved(self) -> bool:
        return self._outcome is _APPROVE

    @property
    def matter(self) -> str | None:
        return self._compiled.matter.id if self._compiled else None

    @property
    def version(self) -> str | None:
        return self._compiled.matter.version if self._compiled else None

    @property
    def digest(self) -> str | None:
        return self._compiled.matter.digest if self._compiled else None

    @property
    def calendar(self) -> str | None:
        """The working-day calendar its matter version counts on, as `id@sha256:<digest>`."""
        cal = self._compiled.matter.calendar if self._compiled else None
        return cal.name if cal is not None else None

    @property
    def snapshot(self) -> str | None:
        """The digest of the rule-set snapshot it was decided under (`snapshot`)."""
        return self._snapshot

    @property
    def backend(self) -> str | None:
        return self._compiled.backend if self._compiled else None

    @property
    def values(self) -> Mapping[str, Any]:
        """Every valid fact, derived facts included, by dotted path."""
        return MappingProxyType(self._values)

    @property
    def outputs(self) -> Mapping[str, Any]:
        """The values an approval carries (the matter's `output: true` facts); empty for a
        referral — a referral carries no amount, whatever could be computed."""
        if self._outcome is not _APPROVE or self._compiled is None:
            return _EMPTY
        values = self._values
        return MappingProxyType({p: values[p] for p in self._compiled.output_roots})

    @property
    def statuses(self) -> tuple[int, ...]:
        """The compact per-rule status codes (see `status`)."""
        return self._statuses

    @property
    def invalid(self) -> Mapping[str, str]:
        """Paths that failed validation (facts, groups, undeclared keys) → why."""
        return MappingProxyType(self._invalid)

    @property
    def missing(self) -> tuple[str, ...]:
        """Facts that are absent: required ones, and any a source could not give."""
        return self._missing

    @property
    def origins(self) -> Origins:
        """Where its facts came from, and what the sources could not give (`provenance`)."""
        return self._origins

    @property
    def provenance(self) -> Mapping[str, Provenance]:
        """Where each valid input fact came from: the applicant, a source, a vouching caller."""
        declared, of = self._origins.declared, self._origins.of
        return MappingProxyType({p: of(p) for p in self._values if p in declared})

    def parts(self) -> DecisionParts:
        """Id, date, outcome, values, statuses, invalid, missing and rule-set digest in one read.

        For serializers on the hot path (audit records): the mappings are the decision's own,
        so they must be copied, never changed.
        """
        return _new_parts(
            DecisionParts,
            (
                self._id,
                self._on,
                self._outcome,
                self._values,
                self._statuses,
                self._invalid,
                self._missing,
                self._compiled.matter.digest if self._compiled else None,
            ),
        )

    # ---- the trace, built on first read ----
    @property
    def results(self) -> tuple[RuleResult, ...]:
        if self._results is None:
            self._results = self._build_results()
        return self._results

    @property
    def reasons(self) -> tuple[Reason, ...]:
        if self._reasons is None:
            self._reasons = self._build_reasons()
        return self._reasons

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in the order of `reasons`, without building the Reason objects."""
        return tuple(self._reason_keys())

    def _read(self, paths: tuple[str, ...]) -> Mapping[str, Any]:
        return MappingProxyType({p: self._values.get(p) for p in paths})

    def _build_results(self) -> tuple[RuleResult, ...]:
        if self._compiled is None:
            return ()
        rules = self._compiled.matter.rules
        return tuple(
            RuleResult(rule.id, STATUS_OF[code], self._read(rule.reads))
            for rule, code in zip(rules, self._statuses, strict=True)
        )

    def _reason_keys(self) -> dict[str, tuple[str, Any]]:
        """Each reason's code, in order, with its kind and what it is about (a path, a rule)."""
        if self._compiled is None:
            return {"NO_VERSION": ("no-version", None)}
        keys: dict[str, tuple[str, Any]] = {}
        invalid, failed = self._invalid, self._origins.failed
        for path in invalid:
            keys.setdefault(f"INVALID:{path}", ("invalid", path))
        for path in self._missing:
            keys.setdefault(*self._absent(path, failed))
        for rule, code in zip(self._compiled.matter.rules, self._statuses, strict=True):
            if code == FAILED:
                keys.setdefault(rule.spec.refer.code, ("rule", rule))
            elif code == UNKNOWN:
                if not self._causes(keys, rule.roots):
                    keys.setdefault(f"ERROR:{rule.id}", ("error", rule.id))
            elif code == ERROR:
                keys.setdefault(f"ERROR:{rule.id}", ("error", rule.id))
        self._uncomputed(keys)
        return keys

    def _uncomputed(self, keys: dict[str, tuple[str, Any]]) -> None:
        """Why each output without a value has none: its absent or invalid inputs, else its
        own error (`ERROR:<output>`)."""
        assert self._compiled is not None
        for output, roots in self._compiled.output_roots.items():
            if output not in self._values and not self._causes(keys, roots):
                keys.setdefault(f"ERROR:{output}", ("output-error", output))

    def _causes(self, keys: dict[str, tuple[str, Any]], roots: frozenset[str]) -> bool:
        """Add the codes of the input facts among `roots` that have no value (invalid, missing,
        or a source's failure); whether there was any."""
        invalid, values, failed = self._invalid, self._values, self._origins.failed
        causes = [p for p in sorted(roots) if p not in values]
        for path in causes:
            if path in invalid:
                keys.setdefault(f"INVALID:{path}", ("invalid", path))
            elif path in failed or not self._covered(path):  # else its group's INVALID
                keys.setdefault(*self._absent(path, failed))
        return bool(causes)

    @staticmethod
    def _absent(path: str, failed: Mapping[str, Failure]) -> tuple[str, tuple[str, Any]]:
        """The code of an absent fact: a source's failure, else `MISSING:<path>`."""
        failure = failed.get(path)
        if failure is not None:
            return failure.code, ("failed", failure)
        return f"MISSING:{path}", ("missing", path)

    def _build_reasons(self) -> tuple[Reason, ...]:
        return tuple(self._reason(code, *key) for code, key in self._reason_keys().items())

    def _reason(self, code: str, kind: str, about: Any) -> Reason:
        """The Reason behind one code of `_reason_keys`."""
        if kind == "rule":
            spec = about.spec
            return Reason(
                code,
                spec.refer.zh,
                spec.refer.en,
                rule=about.id,
                legal=spec.legal,
                facts_read=self._read(about.reads),
            )
        if kind == "error":
            return Reason(
                code, f"规则无法计算：{about}", f"rule could not be evaluated: {about}", rule=about
            )
        if kind == "output-error":
            return Reason(
                code,
                f"结果无法计算：{about}",
                f"output could not be computed: {about}",
                fact=about,
            )
        if kind == "failed":
            return _failure_reason(code, about)
        if kind == "no-version":
            return Reason(
                code,
                "该事项在此日期没有有效版本",
                "no version of the matter is in force on this date",
            )
        assert self._compiled is not None
        zh, en = self._compiled.labels.get(about, (about, about))
        if kind == "missing":
            return Reason(code, f"缺少信息：{zh}", f"missing: {en}", fact=about)
        why = self._invalid.get(about, "")
        if not why:
            return Reason(code, f"信息无效：{zh}", f"invalid: {en}", fact=about)
        return Reason(code, f"信息无效：{zh}（{zh_of(why)}）", f"invalid: {en} ({why})", fact=about)

    def _covered(self, path: str) -> bool:
        """Whether an invalid application (`$`) or an invalid group accounts for this fact."""
        if ROOT in self._invalid:
            return True
        parts = path.split(".")
        return any(".".join(parts[:i]) in self._invalid for i in range(1, len(parts)))

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (`--json`): outcome, reasons, results, matter, version, digest."""
        return {
            "decision_id": self.decision_id,
            "outcome": str(self.outcome),
            "matter": self.matter,
            "version": self.version,
            "digest": self.digest,
            "calendar": self.calendar,
            "backend": self.backend,
            "snapshot": self.snapshot,
            "on": self.on.isoformat(),
            "reasons": [r.to_dict() for r in self.reasons],
            "results": self._results_json(),
            "outputs": jsonable(self.outputs),
            "provenance": self._provenance_json(),
            "vouched": list(self._origins.vouched),
        }

    def _results_json(self) -> list[dict[str, Any]]:
        """`[r.to_dict() for r in self.results]`, read from the statuses when the results have
        not been built (a service answers thousands a second: no RuleResult objects)."""
        if self._results is not None or self._compiled is None:
            return [r.to_dict() for r in self.results]
        values = self._values
        return [
            {
                "rule": rule.id,
                "status": _STATUS_TEXT[code],
                "facts_read": {p: jsonable(values.get(p)) for p in rule.reads},
            }
            for rule, code in zip(self._compiled.matter.rules, self._statuses, strict=True)
        ]

    def _provenance_json(self) -> dict[str, Any]:
        """`{p: v.to_dict() for p, v in sorted(self.provenance.items())}`, without the view."""
        declared, of = self._origins.declared, self._origins.of
        return {p: of(p).to_dict() for p in sorted(self._values) if p in declared}

    def __repr__(self) -> str:
        codes = ", ".join(self.codes) if self.outcome is Outcome.REFER else ""
        return (
            f"<Decision {self.matter}@{self.version} {self.outcome}{' ' + codes if codes else ''}>"
        )

    def __eq__(self, other: object) -> bool:
        """Equal when the same matter version decided the same way for the same reasons."""
        if not isinstance(other, Decision):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return (
            self.matter,
            self.version,
            self.digest,
            self.on,
            self.outcome,
            tuple(sorted(self.codes)),
            self._statuses,
        )
