"""The guide of one matter version as plain values: built from the matter file, nothing else.

`build_guide(matter, registry, lang, on)` is pure: the same matter version, registry, language and
date always give the same `Guide`, so the page can never drift from the rules that decide. Given
a deployment's routes (`sources.report.routes`), it says "looked up by the office" only for the
facts of connected sources; the other offices' facts are supplied by the platform that vouches for
them, or checked by a reviewer where the deployment neither connects nor vouches for their source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..errors import SecondApprovalError
from ..registry import Registry
from ..ruleset import Baseline, FactSpec, Matter
from ..text import Text
from .texts import Lang

AUTOMATIC_STEPS = 1
"""On the automatic path the application is the only step: it is decided when it is submitted."""
AUTOMATIC_DAYS = Decimal(0)


class GuideError(SecondApprovalError, ValueError):
    """A guide cannot be made: no version in force on the date, or a bad request."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A rule as the citizen reads it."""

    number: int
    rule: str
    says: str
    refer: str
    code: str
    legal: str | None
    fixable: bool
    """The rule reads a fact the applicant supplies, so the applicant can avoid its referral."""
    clause: str | None = None
    """The clause the rule enforces, as its note quotes it."""
    partial: bool = False
    """The sources name the condition but leave its content out (the office's data settle it)."""


@dataclass(frozen=True, slots=True)
class Material:
    """A fact the applicant still brings (its source is not authoritative)."""

    path: str
    label: str
    optional: bool


@dataclass(frozen=True, slots=True)
class Lookup:
    """What one office supplies from its own records."""

    office: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Measure:
    """One of the four reductions (or trips): before 秒批 and on the automatic path."""

    name: str
    before: Decimal | None
    after: Decimal | None


@dataclass(frozen=True, slots=True)
class Legal:
    """An official text the matter rests on, and the conditions that cite it."""

    ref: str
    title: str | None
    url: str | None
    cited_by: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Guide:
    """Everything a one-page guide of a matter version says, in one language."""

    matter: str
    version: str
    digest: str
    lang: Lang
    on: dt.date
    effective_from: dt.date
    effective_to: dt.date | None
    title: str
    office: str | None
    service_url: str | None
    conditions: tuple[Condition, ...]
    brings: tuple[Material, ...]
    looked_up: tuple[Lookup, ...]
    measures: tuple[Measure, ...]
    legal: tuple[Legal, ...]
    platform_supplies: tuple[Lookup, ...] = ()
    """Offices' facts the platform applied through supplies itself (it vouches for the source)."""
    reviewer_checks: tuple[Lookup, ...] = ()
    """Offices' facts this deployment can neither look up nor take: a reviewer checks them."""

    @property
    def fixable(self) -> tuple[Condition, ...]:
        """The conditions whose referral the applicant can avoid by what they supply."""
        return tuple(c for c in self.conditions if c.fixable)


def pick(text: Text, lang: Lang) -> str:
    return text.zh if lang == "zh" else text.en


def _number(value: int | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _label(path: str, spec: FactSpec, lang: Lang) -> str:
    """A fact as the guide names it; a list of records with its fields: 从业人员（岗位、…）."""
    text = pick(spec.label, lang) if spec.label else path
    if not spec.fields:
        return text
    fields = [pick(f.label, lang) if f.label else name for name, f in spec.fields.items()]
    return f"{text}（{'、'.join(fields)}）" if lang == "zh" else f"{text} ({', '.join(fields)})"


def build_guide(
    matter: Matter,
    registry: Registry,
    lang: Lang,
    on: dt.date,
    routes: Mapping[str, str] | None = None,
) -> Guide:
    """The guide of one matter version, in one language, as of a date within its validity.

    `routes`: how each input fact reaches the decision under a deployment (`looked-up`, `vouched`,
    `applicant`, `unobtainable`: `sources.report.routes`); None: every fact of an authoritative
    source is the office's to look up, as the registry says."""
    spec = matter.spec
    if not spec.effective.covers(on):
        raise GuideError(
            f"{matter.file}: version {spec.version!r} of {matter.id!r} is not in "
            f"force on {on.isoformat()}"
        )
    inputs = matter.inputs
    supplied = {p for p, f in inputs.items() if not registry.authoritative(f.source or "")}
    label = {p: _label(p, f, lang) for p, f in inputs.items()}
    numbers = {r.id: i for i, r in enumerate(matter.rules, start=1)}
    conditions = tuple(
        Condition(
            numbers[r.id],
            r.id,
            pick(r.spec.says, lang),
            r.spec.refer.zh if lang == "zh" else r.spec.refer.en,
            r.spec.refer.code,
            r.spec.legal,
            bool(r.roots & supplied),
            r.spec.note,
            r.spec.partial,
        )
        for r in matter.rules
    )
    brings = tuple(Material(p, label[p], inputs[p].optional) for p in inputs if p in supplied)
    groups: dict[str, dict[str, list[str]]] = {"looked-up": {}, "vouched": {}, "unobtainable": {}}
    for p, f in inputs.items():
        if p not in supplied and f.source is not None:
            route = "looked-up" if routes is None else routes.get(p, "unobtainable")
            office = pick(registry[f.source].office, lang) if f.source in registry else f.source
            groups.get(route, groups["unobtainable"]).setdefault(office, []).append(label[p])
    base = spec.baseline or Baseline()
    measures = (
        Measure("materials", _number(base.materials), Decimal(len(brings))),
        Measure("steps", _number(base.steps), Decimal(AUTOMATIC_STEPS)),
        Measure("days", _number(base.days), AUTOMATIC_DAYS),
        Measure("trips", _number(base.trips), Decimal(0) if spec.service_url else None),
        Measure("fees", _number(base.fees), _number(base.fees)),
    )
    legal = tuple(
        Legal(
            lr.ref,
            lr.title,
            str(lr.url) if lr.url else None,
            tuple(c.number for c in conditions if c.legal == lr.ref),
        )
        for lr in spec.legal_basis
    )
    return Guide(
        matter=matter.id,
        version=spec.version,
        digest=matter.digest,
        lang=lang,
        on=on,
        effective_from=spec.effective.from_,
        effective_to=spec.effective.to,
        title=pick(spec.title, lang),
        office=pick(spec.office, lang) if spec.office else None,
        service_url=str(spec.service_url) if spec.service_url else None,
        conditions=conditions,
        brings=brings,
        looked_up=_lookups(groups["looked-up"]),
        measures=measures,
        legal=legal,
        platform_supplies=_lookups(groups["vouched"]),
        reviewer_checks=_lookups(groups["unobtainable"]),
    )


def _lookups(offices: dict[str, list[str]]) -> tuple[Lookup, ...]:
    return tuple(Lookup(o, tuple(items)) for o, items in offices.items())
