"""The guide of one matter version as plain values: built from the matter file, nothing else.

`build_guide(matter, registry, lang, on)` is pure: the same matter version, registry, language and
date always give the same `Guide`, so the page can never drift from the rules that decide. Given
a deployment's routes (`sources.report.routes`), it says "looked up by the office" only for the
facts of connected sources; the other offices' facts are supplied by the platform that vouches for
them, or checked by a reviewer where the deployment neither connects nor vouches for their source.
What an approval is and the figures after the reform come from the matter's `automatic:` block
only (`after_measures`): a figure no source gives stays unknown, never a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..errors import SecondApprovalError
from ..registry import Registry
from ..ruleset import Automatic, Baseline, FactSpec, Matter
from ..text import Text
from .texts import Form, Lang

AUTOMATIC_STEPS: dict[str, int] = {"miaopi": 1, "no-application": 0}
"""Steps on the automatic path by `automatic.form` (as the measures pack counts them): on a 秒批
path the application is the only step; nobody applies for a no-application matter; a check is
followed by an office's own steps, which no source counts (unknown)."""
RESULT_TRIPS: dict[str, int] = {"online": 0, "post": 0, "counter": 1}
"""Trips to get the result in hand, by how it reaches the applicant (`automatic.result`)."""


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
    """One of the four reductions (or trips): before (`baseline`) and on the automatic path
    (`automatic`); None where the matter file says nothing."""

    name: str
    before: Decimal | None
    after: Decimal | None


@dataclass(frozen=True, slots=True)
class Output:
    """A value an approval carries (a derived fact with `output: true`), e.g. the allowance."""

    path: str
    label: str
    derive: str
    """The expression the rules compute it by, as the matter file writes it."""


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
    form: Form = "miaopi"
    """What an approval is, as the sources describe it (`automatic.form`): the page's wording
    follows it, so it says 秒批 only where a source does."""
    outputs: tuple[Output, ...] = ()
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


def after_measures(automatic: Automatic, brought: int) -> dict[str, Decimal | None]:
    """The figures on the automatic path, from the matter's `automatic:` block and the facts the
    applicant still brings; None where the block (and so no source) says nothing. The decision's
    latency is never a service time, so days are the block's days or unknown."""
    trips = RESULT_TRIPS.get(automatic.result or "")
    steps = AUTOMATIC_STEPS.get(automatic.form)
    return {
        "materials": Decimal(brought),
        "steps": None if steps is None else Decimal(steps),
        "days": automatic.days,
        "trips": None if trips is None else Decimal(trips),
        "fees": automatic.fees,
    }


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
    after = after_measures(spec.automatic, len(brings))
    measures = tuple(
        Measure(name, _number(getattr(base, name)), after[name])
        for name in ("materials", "steps", "days", "trips", "fees")
    )
    outputs = tuple(
        Output(p, _label(p, spec.facts[p], lang), spec.facts[p].derive or "")
        for p in matter.outputs
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
        form=spec.automatic.form,
        outputs=outputs,
        platform_supplies=_lookups(groups["vouched"]),
        reviewer_checks=_lookups(groups["unobtainable"]),
    )


def _lookups(offices: dict[str, list[str]]) -> tuple[Lookup, ...]:
    return tuple(Lookup(o, tuple(items)) for o, items in offices.items())
