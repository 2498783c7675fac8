"""Matter files: their pydantic model and the load-time checks.

`check_matter(doc, registry)` turns a parsed matter document (`yamlfile.Located`) into a checked
`Matter` — every expression parsed and typed, derived facts ordered — or raises one `RuleSetError`
listing every problem of the file. `loader` finds the files and reads each once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .calendars import Calendar, built_in_calendars
from .errors import Problem, RuleSetError
from .lang import ir
from .lang.check import check
from .lang.functions import CALENDAR_FUNCTIONS
from .lang.parser import MAX_LENGTH, SyntaxProblem, parse
from .lang.types import BOOL, CN_ID, DATE, DECIMAL, INT, STR, USCC, Type, list_of, record_of
from .registry import Registry
from .text import Text
from .yamlfile import Located, problems_from_validation

FACT_PATH = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")
ID = r"^[a-z0-9][a-z0-9-]*$"
REFER_CODE = r"^[A-Z][A-Z0-9_]*$"
RESERVED_CODES = ("MISSING", "INVALID", "ERROR", "NO_VERSION")
MAX_RULES = 1_000
MAX_FACTS = 1_000
MAX_EXPRESSION_TEXT = 50_000
"""Bounds on one matter, so that loading ends quickly (docs/language.md, "Limits")."""

FactKind = Literal[
    "bool", "int", "decimal", "money", "str", "enum", "date", "list", "cn_id", "uscc"
]
ItemKind = Literal[
    "bool", "int", "decimal", "money", "str", "enum", "date", "cn_id", "uscc", "record"
]
FieldKind = Literal["bool", "int", "decimal", "money", "str", "enum", "date", "cn_id", "uscc"]
FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")
MAX_FIELDS = 100

_Model = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Effective(BaseModel):
    """The dates a version is in force: `from` to `to`, inclusive (`to` open if absent)."""

    model_config = _Model
    from_: dt.date = Field(alias="from")
    to: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Effective:
        if self.to is not None and self.to < self.from_:
            raise ValueError("effective.to is before effective.from")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)

    def overlaps(self, other: Effective) -> bool:
        end_a = self.to or dt.date.max
        end_b = other.to or dt.date.max
        return self.from_ <= end_b and other.from_ <= end_a


class LegalRef(BaseModel):
    """An official legal text the matter rests on."""

    model_config = _Model
    ref: Annotated[str, Field(min_length=1)]
    title: str | None = None
    url: AnyHttpUrl | None = None


class SourceRef(BaseModel):
    """Where a condition was taken from, and how much weight that source carries."""

    model_config = _Model
    id: Annotated[str, Field(min_length=1)]
    status: Literal["official", "news", "third-party"]
    url: str | None = None
    title: str | None = None


class Baseline(BaseModel):
    """Before 秒批: materials, steps, days, fees (CNY) and trips; `null` where no source says."""

    model_config = _Model
    materials: Annotated[int, Field(ge=0)] | None = None
    steps: Annotated[int, Field(ge=0)] | None = None
    days: Annotated[Decimal, Field(ge=0)] | None = None
    fees: Annotated[Decimal, Field(ge=0)] | None = None
    trips: Annotated[int, Field(ge=0)] | None = None
    sources: list[str] = []


class Automatic(BaseModel):
    """The automatic path as its sources describe it: what the decision is, what it costs, how the
    result reaches the applicant. `null` where no source says; nothing here is measured."""

    model_config = _Model
    form: Literal["miaopi", "check", "no-application"] = "miaopi"
    """`miaopi`: an approval is the office's decision (秒批); `check`: the rules check the published
    conditions, but no source calls the matter 秒批, so an approval is a check an office acts on;
    `no-application`: the office decides from its own data and nobody applies (免申即享)."""
    fees: Annotated[Decimal, Field(ge=0)] | None = None
    """What the applicant pays (CNY), as a source states it."""
    result: Literal["online", "post", "counter"] | None = None
    """How the result reaches the applicant: online (an electronic result), by post, or collected
    at a counter (a trip)."""
    days: Annotated[Decimal, Field(ge=0)] | None = None
    """Service days until the result is in hand, as a source states it (a decision's latency is
    not a service time)."""
    sources: list[str] = []


class FieldSpec(BaseModel):
    """A field of the items of a list of records (`of: record`): a scalar, required unless
    `optional`. Personal data is marked on the list (`pii: true` masks every item)."""

    model_config = _Model
    type: FieldKind
    optional: bool = False
    values: list[str] | None = None
    pattern: str | None = None
    label: Text | None = None
    description: str | None = None


class FactSpec(BaseModel):
    """A typed fact of the application."""

    model_config = _Model
    type: FactKind
    source: str | None = None
    pii: bool = False
    optional: bool = False
    derive: str | None = None
    output: bool = False
    """A derived value an approval carries (`Decision.outputs`, the audit record's `outputs`)."""
    values: list[str] | None = None
    of: ItemKind | None = None
    """The type of a list's items; `enum` takes the `values`, `record` the `fields`."""
    fields: Annotated[dict[str, FieldSpec], Field(max_length=MAX_FIELDS)] | None = None
    pattern: str | None = None
    label: Text | None = None
    description: str | None = None


def item_spec(spec: FactSpec) -> FactSpec:
    """The spec of one item of a list fact of scalars or enums (its `of`, its `values`)."""
    return FactSpec(type=spec.of or "str", values=spec.values, source=spec.source)


def field_spec(field: FieldSpec) -> FactSpec:
    """A record's field as the spec of a fact of its type, to check and generate its values."""
    return FactSpec(
        type=field.type,
        values=field.values,
        pattern=field.pattern,
        optional=field.optional,
        source="applicant",
    )


class Refer(BaseModel):
    """What a failed rule tells the reviewer and the applicant."""

    model_config = _Model
    code: Annotated[str, Field(pattern=REFER_CODE)]
    zh: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


class RuleSpec(BaseModel):
    """One condition of the matter: it must be true for an automatic approval."""

    model_config = _Model
    id: Annotated[str, Field(pattern=ID)]
    when: Annotated[str, Field(min_length=1)]
    says: Text
    refer: Refer
    sources: list[str] = []
    legal: str | None = None
    note: str | None = None
    """The clause the rule enforces, quoted briefly from its source (with the source's id)."""
    partial: bool = False
    """The sources name this condition but leave its content out (e.g. "other conditions set by
    the city"): the rule refers unless an office's own data settle it, and says so in the guide."""


class MatterFile(BaseModel):
    """One version of a matter, as written in its YAML file."""

    model_config = _Model
    matter: Annotated[str, Field(pattern=ID)]
    title: Text
    version: Annotated[str, Field(min_length=1)]
    effective: Effective
    note: str | None = None
    legal_basis: list[LegalRef] = []
    sources: list[SourceRef] = []
    baseline: Baseline | None = None
    automatic: Automatic = Automatic()
    service_url: AnyHttpUrl | None = None
    office: Text | None = None
    calendar: Annotated[str, Field(pattern=ID)] | None = None
    """The working-day calendar its `add_working_days`/`working_days_between` count on."""
    facts: Annotated[dict[str, FactSpec], Field(max_length=MAX_FACTS)]
    rules: Annotated[list[RuleSpec], Field(min_length=1, max_length=MAX_RULES)]


_SCALAR_TYPES: dict[str, Type] = {
    "bool": BOOL,
    "int": INT,
    "decimal": DECIMAL,
    "money": Type("decimal", domain="money"),
    "str": STR,
    "date": DATE,
    "cn_id": CN_ID,
    "uscc": USCC,
}


def fact_type(spec: FactSpec) -> Type:
    """The expression-language type of a declared fact."""
    if spec.type == "enum":
        return Type("str", values=frozenset(spec.values or ()))
    if spec.type == "list":
        if spec.of == "record":
            fields = {name: fact_type(field_spec(f)) for name, f in (spec.fields or {}).items()}
            return list_of(record_of(fields))
        return list_of(fact_type(item_spec(spec)))
    return _SCALAR_TYPES[spec.type]


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived fact and the typed expression that computes it."""

    path: str
    expr: ir.Node
    inputs: frozenset[str]


@dataclass(frozen=True, slots=True)
class Rule:
    """A checked rule: its spec, its typed expression and the facts it reads."""

    spec: RuleSpec
    expr: ir.Node
    reads: tuple[str, ...]
    roots: frozenset[str]
    """The declared input facts the rule depends on, through derived facts."""

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True, slots=True)
class Matter:
    """One checked version of a matter: ready to be compiled by a backend."""

    spec: MatterFile
    file: str
    digest: str
    types: dict[str, Type]
    derived: tuple[Derived, ...]
    rules: tuple[Rule, ...]
    text: str
    calendar: Calendar | None = None
    """The working-day calendar it names (`calendar:`), checked; part of its digest."""

    @property
    def id(self) -> str:
        return self.spec.matter

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def inputs(self) -> dict[str, FactSpec]:
        """The facts an application supplies (declared and not derived)."""
        return {p: f for p, f in self.spec.facts.items() if f.derive is None}

    @property
    def outputs(self) -> tuple[str, ...]:
        """The derived facts an approval carries (`output: true`), in declaration order."""
        return tuple(p for p, f in self.spec.facts.items() if f.output)

    def roots_of(self, path: str) -> frozenset[str]:
        """The input facts a fact depends on (itself, for an input), through derived facts."""
        by_path = {d.path: d for d in self.derived}
        roots: set[str] = set()
        todo = [path]
        while todo:
            p = todo.pop()
            if p in by_path:
                todo.extend(by_path[p].inputs)
            else:
                roots.add(p)
        return frozenset(roots)


def canonical_digest(spec: MatterFile, calendar: Calendar | None = None) -> str:
    """SHA-256 of the canonical JSON of a matter file's content (not its formatting) and of the
    calendar it counts working days on (its file's SHA-256)."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=False)
    if calendar is not None:
        data["calendar_sha256"] = calendar.digest
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


_FactProblem = tuple[tuple[str, ...], str]
"""A problem of one declared fact: where under the fact (`()` for the fact itself), and what."""


def _group_members(facts: dict[str, FactSpec]) -> dict[str, list[str]]:
    """Each group (a dotted prefix of a declared fact's path) → the facts under it."""
    members: dict[str, list[str]] = {}
    for path in facts:
        parts = path.split(".")
        for i in range(1, len(parts)):
            members.setdefault(".".join(parts[:i]), []).append(path)
    return members


def _path_problems(path: str, members: dict[str, list[str]]) -> Iterator[_FactProblem]:
    """A fact's path is lower-case dotted names, and no other fact lives under it."""
    if not FACT_PATH.fullmatch(path):
        yield (), f"fact path {path!r} must be lower-case dotted names"
    for other in members.get(path, ()):
        yield (), f"fact {path!r} is also a group (of {other!r})"


def _origin_problems(f: FactSpec, registry: Registry) -> Iterator[_FactProblem]:
    """An input fact names a known data source; a derived one has none and is never optional."""
    if f.derive is None:
        if f.output:
            yield ("output",), "an output is a derived value: give it `derive:`"
        if f.source is None:
            yield (), "a fact needs a source (an id of the data-source registry)"
        elif f.source not in registry:
            yield ("source",), f"unknown data source {f.source!r}"
        return
    if f.source is not None:
        yield ("source",), "a derived fact has no source of its own"
    if f.optional:
        yield ("optional",), "a derived fact cannot be optional"


def _values_problems(f: FactSpec | FieldSpec) -> Iterator[_FactProblem]:
    """An enum (or a list of enums) has values, each once; no other type has any."""
    if f.type == "enum" or (isinstance(f, FactSpec) and f.of == "enum"):
        if not f.values:
            yield (), "an enum needs values"
        elif len(set(f.values)) != len(f.values):
            yield ("values",), "enum values repeat"
    elif f.values is not None:
        yield ("values",), "values are only for enums (and lists of enums)"


def _item_type_problems(f: FactSpec) -> Iterator[_FactProblem]:
    """A list, and only a list, says the type of its items (`of`); a list of records, and only
    one, has fields."""
    if (f.of is not None) != (f.type == "list"):
        yield (), "a list needs `of` (its item type); only lists have one"
    if (f.fields is not None) != (f.of == "record"):
        yield (), "a list of records needs `fields`; nothing else has them"
    elif f.fields is not None and not f.fields:
        yield ("fields",), "a record needs at least one field"


def _field_problems(f: FactSpec) -> Iterator[_FactProblem]:
    """Each field of a record: a lower-case name, its values and pattern as for a fact."""
    for name, field in (f.fields or {}).items():
        if not FIELD_NAME.fullmatch(name):
            yield ("fields", name), f"field name {name!r} must be a lower-case name"
        for where, message in (*_values_problems(field), *_pattern_problems(field)):
            yield ("fields", name, *where), message


def _pattern_problems(f: FactSpec | FieldSpec) -> Iterator[_FactProblem]:
    """A pattern belongs to a str fact (or field) and is a valid regular expression."""
    if f.pattern is None:
        return
    if f.type != "str":
        yield ("pattern",), "pattern is only for str facts"
    try:
        re.compile(f.pattern)
    except re.error as exc:
        yield ("pattern",), f"bad regular expression: {exc}"


class _MatterChecker:
    def __init__(
        self, doc: Located, spec: MatterFile, registry: Registry, calendar: Calendar | None
    ) -> None:
        self.doc = doc
        self.spec = spec
        self.registry = registry
        self.calendar = calendar
        self.problems: list[Problem] = []
        self.spent = 0
        """Characters of expression text checked so far (bounded by MAX_EXPRESSION_TEXT)."""

    def add(self, path: tuple[Any, ...], message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def expr_problem(self, path: tuple[Any, ...], column: int, message: str) -> None:
        line, col = self.doc.where(path)
        self.problems.append(
            Problem(
                message,
                self.doc.file,
                line,
                (col or 1) + column - 1 if col else None,
                ".".join(str(p) for p in path),
            )
        )

    def check_facts(self) -> dict[str, Type]:
        types: dict[str, Type] = {}
        members = _group_members(self.spec.facts)
        for path, f in self.spec.facts.items():
            at = ("facts", path)
            for problems in (
                _path_problems(path, members),
                _origin_problems(f, self.registry),
                _values_problems(f),
                _item_type_problems(f),
                _field_problems(f),
                _pattern_problems(f),
            ):
                for where, message in problems:
                    self.add((*at, *where), message)
            types[path] = fact_type(f)
        return types

    def check_derived(self, types: dict[str, Type]) -> tuple[Derived, ...]:
        derived: dict[str, Derived] = {}
        for path, f in self.spec.facts.items():
            if f.derive is None:
                continue
            at = ("facts", path, "derive")
            typed = self.expression(f.derive, at, types, types[path])
            if typed is not None:
                derived[path] = Derived(path, typed, ir.facts_of(typed))
        return self.order_derived(derived)

    def order_derived(self, derived: dict[str, Derived]) -> tuple[Derived, ...]:
        """Derived facts, each after the ones it reads; every cycle is a problem.

        A depth-first walk with its own stack: a chain of thousands of derived facts cannot
        overflow Python's.
        """
        order: list[Derived] = []
        done: set[str] = set()
        for start, first in derived.items():
            if start in done:
                continue
            chain: list[str] = [start]
            on_chain = {start}
            pending = [iter(sorted(d for d in first.inputs if d in derived))]
            while pending:
                dep = next(pending[-1], None)
                if dep is None:
                    path = chain.pop()
                    on_chain.discard(path)
                    pending.pop()
                    done.add(path)
                    order.append(derived[path])
                elif dep in on_chain:
                    cycle = " → ".join((*chain, dep))
                    self.add(("facts", dep, "derive"), f"derived facts form a cycle: {cycle}")
                elif dep not in done:
                    chain.append(dep)
                    on_chain.add(dep)
                    pending.append(iter(sorted(d for d in derived[dep].inputs if d in derived)))
        return tuple(order)

    def expression(
        self, text: str, at: tuple[Any, ...], types: dict[str, Type], expect: Type
    ) -> ir.Node | None:
        self.spent += min(len(text), MAX_LENGTH)  # a longer one is refused by parse itself
        if self.spent > MAX_EXPRESSION_TEXT:
            if self.spent - len(text) <= MAX_EXPRESSION_TEXT:
                self.expr_problem(
                    at,
                    1,
                    f"the matter's expressions exceed {MAX_EXPRESSION_TEXT} characters in all",
                )
            return None
        node, problems = parse(text)
        if not problems:
            node, problems = check(node, types, expect)
        if not problems:
            problems = self.presence_problems(node) + self.calendar_problems(node)
        for p in problems:
            self.expr_problem(at, p.column, p.message)
        return None if problems else with_calendar(node, self.calendar)

    def calendar_problems(self, node: ir.Node) -> list[SyntaxProblem]:
        """Working-day arithmetic in a matter that names no calendar (an unknown one is reported
        once, at its `calendar:`)."""
        if self.calendar is not None or self.spec.calendar is not None:
            return []
        calls = {  # a chained comparison repeats its middle term: one problem per call written
            (n.pos, n.func): n
            for n in ir.walk(node)
            if isinstance(n, ir.Call) and n.func in CALENDAR_FUNCTIONS
        }
        return [
            SyntaxProblem(
                pos + 1,
                f"{func}() counts working days, but the matter names no `calendar:` "
                "(e.g. calendar: cn-mainland)",
            )
            for pos, func in calls
        ]

    def presence_problems(self, node: ir.Node) -> list[SyntaxProblem]:
        """`present()`/`absent()` of a required input: always present when a decision can
        approve (a missing required fact refers), so the test says nothing — an author's slip."""
        return [
            SyntaxProblem(
                n.pos + 1,
                f"{n.fact.path!r} is required, so present() is true whenever the matter can "
                "approve; declare it `optional: true` to test whether it is given",
            )
            for n in ir.walk(node)
            if isinstance(n, ir.Presence)
            and isinstance(n.fact, ir.Fact)
            and (spec := self.spec.facts.get(n.fact.path)) is not None
            and spec.derive is None
            and not spec.optional
        ]

    def check_rules(self, types: dict[str, Type], derived: tuple[Derived, ...]) -> tuple[Rule, ...]:
        source_ids = {s.id for s in self.spec.sources}
        legal_refs = {lr.ref for lr in self.spec.legal_basis}
        roots_of: dict[str, frozenset[str]] = {}
        for d in derived:
            roots_of[d.path] = frozenset().union(
                *(roots_of.get(i, frozenset({i})) for i in d.inputs)
            )
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for i, r in enumerate(self.spec.rules):
            at = ("rules", i)
            if r.id in seen:
                self.add((*at, "id"), f"duplicate rule id {r.id!r} (also rule {seen[r.id] + 1})")
            if r.id in self.spec.facts and self.spec.facts[r.id].output:
                self.add(
                    (*at, "id"), f"rule id {r.id!r} is also an output (ERROR:{r.id} names both)"
                )
            seen.setdefault(r.id, i)
            if r.refer.code.startswith(RESERVED_CODES):
                self.add((*at, "refer", "code"), f"refer code {r.refer.code!r} is reserved")
            for j, s in enumerate(r.sources):
                if s not in source_ids:
                    self.add(
                        (*at, "sources", j), f"unknown source {s!r} (not in the matter's sources)"
                    )
            if r.legal is not None and r.legal not in legal_refs:
                self.add((*at, "legal"), f"legal reference {r.legal!r} is not in legal_basis")
            typed = self.expression(r.when, (*at, "when"), types, BOOL)
            if typed is None:
                continue
            reads = tuple(sorted(ir.facts_of(typed)))
            roots = frozenset().union(*(roots_of.get(p, frozenset({p})) for p in reads))
            rules.append(Rule(r, typed, reads, roots))
        self.check_cited(("baseline",), self.spec.baseline.sources if self.spec.baseline else [])
        self.check_cited(("automatic",), self.spec.automatic.sources)
        return tuple(rules)

    def check_cited(self, at: tuple[str, ...], cited: list[str]) -> None:
        """Each source a block cites is one of the matter's `sources`."""
        known = {s.id for s in self.spec.sources}
        for j, s in enumerate(cited):
            if s not in known:
                self.add((*at, "sources", j), f"unknown source {s!r}")


def check_matter(
    doc: Located, registry: Registry, calendars: Mapping[str, Calendar] | None = None
) -> Matter:
    """Validate a loaded matter document; raise RuleSetError with every problem.

    `calendars` are the working-day calendars it may name, by id (the built-in ones if None)."""
    try:
        spec = MatterFile.model_validate(doc.data)
    except ValidationError as exc:
        raise RuleSetError(problems_from_validation(exc, doc)) from None
    known = built_in_calendars() if calendars is None else calendars
    calendar = known.get(spec.calendar) if spec.calendar else None
    checker = _MatterChecker(doc, spec, registry, calendar)
    if spec.calendar and calendar is None:
        choices = ", ".join(sorted(known)) or "none"
        checker.add(("calendar",), f"unknown calendar {spec.calendar!r} (known: {choices})")
    types = checker.check_facts()
    derived = checker.check_derived(types)
    rules = checker.check_rules(types, derived)
    if checker.problems:
        raise RuleSetError(checker.problems)
    digest = canonical_digest(spec, calendar)
    return Matter(spec, doc.file, digest, types, derived, rules, doc.text, calendar)


def with_calendar(node: ir.Node, calendar: Calendar | None) -> ir.Node:
    """A typed expression whose working-day calls carry the calendar and `decision_date` (see
    `lang.functions.CALENDAR_FUNCTIONS`); other expressions are returned as they are."""
    if calendar is None or not any(
        isinstance(n, ir.Call) and n.func in CALENDAR_FUNCTIONS for n in ir.walk(node)
    ):
        return node
    return _bind(node, ir.Const(calendar), ir.DecisionDate(ty=DATE))


def _bind(node: ir.Node, calendar: ir.Const, on: ir.DecisionDate) -> ir.Node:
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, ir.Node):
            changes[f.name] = _bind(value, calendar, on)
        elif isinstance(value, tuple) and value and isinstance(value[0], ir.Node):
            changes[f.name] = tuple(_bind(v, calendar, on) for v in value)
    if isinstance(node, ir.Call) and node.func in CALENDAR_FUNCTIONS:
        changes["args"] = (*changes["args"], calendar, on)
    return dataclasses.replace(node, **changes) if changes else node


def date_paths(matter: Matter) -> tuple[str, ...]:
    """The input facts of a matter that hold dates (a date, or a list of dates) and the date
    fields of its lists of records (`path[].field`): where a Python caller's `datetime.date` is
    taken as its ISO string (`paths.with_iso_dates`)."""
    found: list[str] = []
    for p, s in matter.inputs.items():
        if s.type == "date" or (s.type == "list" and s.of == "date"):
            found.append(p)
        found += [f"{p}[].{n}" for n, f in (s.fields or {}).items() if f.type == "date"]
    return tuple(found)
