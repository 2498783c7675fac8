"""Loading an indicator-system file into a checked, immutable `System`.

`load_system(path)` validates the file (pydantic), compiles every transform, resolves `extends:`
against the other system files of the same folder, and checks the tree: unique ids, known
transforms, weights naming real parts, `index_sum` over components only. Every problem is
reported at once as a `RuleSetError` with file, line and field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from ...errors import Problem, RuleSetError
from ...yamlfile import Located, Path_, load_yaml, problems_from_validation
from .formula import Formula, compile_formula
from .model import (
    ComponentDef,
    DatasetDef,
    GroupDef,
    OverallDef,
    SpecialValueDef,
    SystemFile,
    Title,
)

FILE_KEY = "system"


def _placeholder() -> Formula:
    formula, _ = compile_formula("invalid", "value")
    assert formula is not None
    return formula


_PLACEHOLDER = _placeholder()
"""Stands in for an unknown transform while the remaining problems are collected."""


@dataclass(frozen=True, slots=True)
class Component:
    """A measured indicator: frontiers, formula, and where the dataset publishes it."""

    id: str
    title: Title
    unit: str
    best: Decimal
    worst: Decimal
    formula: Formula
    rounding: Literal["exact", "last_digit"]
    column: str | None
    score_column: str | None
    line: int | None

    @property
    def direction(self) -> str:
        return "lower_is_better" if self.best < self.worst else "higher_is_better"

    def score(self, value: Decimal) -> Decimal:
        """The 0-100 score of a measured value."""
        return self.formula(value, self.best, self.worst)


@dataclass(frozen=True, slots=True)
class Group:
    """A topic, a sub-index or the overall score: parts with normalised weights."""

    id: str
    title: Title
    kind: Literal["overall", "topic", "group"]
    aggregate: str
    parts: tuple[Component | Group, ...]
    weights: tuple[float, ...]
    column: str | None
    line: int | None

    def components(self) -> Iterator[Component]:
        for part in self.parts:
            if isinstance(part, Component):
                yield part
            else:
                yield from part.components()


@dataclass(frozen=True, slots=True)
class Dataset:
    """Where the published rows are (absolute paths) and which columns hold what."""

    file: Path
    code: str
    year: str
    name: str
    rank: str | None
    ranked_in: int | None
    two_city: Path | None


@dataclass(frozen=True, slots=True, eq=False)
class System:
    """A checked indicator system (compared and hashed by identity)."""

    id: str
    title: Title
    path: str
    source: str | None
    example: bool
    overall: Group
    special_values: dict[str, SpecialValueDef]
    dataset: Dataset | None
    editions: dict[str, int]
    components: dict[str, Component] = field(default_factory=dict)
    ranked_as: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    """Published score column of each node, including those of an extended system's overall."""
    edition_notes: dict[str, str] = field(default_factory=dict)
    """What each edition's table is (which year, as revised in which release), as the file says."""

    @property
    def rank_node(self) -> str:
        """The node whose rank table the overall score is placed in."""
        return self.ranked_as or self.overall.id

    @property
    def topics(self) -> tuple[Group, ...]:
        return tuple(p for p in self.overall.parts if isinstance(p, Group))


def _validate(doc: Located) -> SystemFile:
    try:
        return SystemFile.model_validate(doc.data)
    except ValidationError as exc:
        raise RuleSetError(problems_from_validation(exc, doc)) from None


class _Builder:
    """Turns validated file models into the compiled tree, collecting located problems."""

    def __init__(self, doc: Located, formulas: dict[str, Formula]) -> None:
        self.doc = doc
        self.formulas = formulas
        self.problems: list[Problem] = []
        self.seen: dict[str, Path_] = {}

    def claim(self, ident: str, path: Path_) -> None:
        if ident in self.seen:
            line = self.doc.where(self.seen[ident])[0]
            self.problems.append(
                self.doc.problem(path, f"duplicate id {ident!r} (first on line {line})")
            )
        self.seen[ident] = path

    def inherit(self, base: System) -> None:
        """Claim the ids of an extended system's components and topics."""
        for c in base.components.values():
            self.seen[c.id] = ("extends",)
        for t in base.topics:
            self.seen[t.id] = ("extends",)

    def component(self, c: ComponentDef, path: Path_) -> Component:
        self.claim(c.id, (*path, "id"))
        formula = self.formulas.get(c.transform)
        if formula is None:
            known = ", ".join(sorted(self.formulas)) or "none"
            self.problems.append(
                self.doc.problem(
                    (*path, "transform"), f"unknown transform {c.transform!r} (known: {known})"
                )
            )
            formula = _PLACEHOLDER
        return Component(
            c.id,
            c.title,
            c.unit,
            c.best,
            c.worst,
            formula,
            c.rounding,
            c.column,
            c.score_column,
            self.doc.where(path)[0],
        )

    def group(self, g: GroupDef, path: Path_, kind: Literal["topic", "group"]) -> Group:
        self.claim(g.id, (*path, "id"))
        parts: list[Component | Group] = []
        for i, p in enumerate(g.parts):
            where = (*path, "parts", i)
            parts.append(
                self.component(p, where)
                if isinstance(p, ComponentDef)
                else self.group(p, where, "group")
            )
        weights = self.weights(g.aggregate, g.weights, parts, path)
        return Group(
            g.id,
            g.title,
            kind,
            g.aggregate,
            tuple(parts),
            weights,
            g.column,
            self.doc.where(path)[0],
        )

    def weights(
        self,
        aggregate: str,
        declared: dict[str, Decimal] | None,
        parts: list[Component | Group],
        path: Path_,
    ) -> tuple[float, ...]:
        ids = [p.id for p in parts]
        if aggregate == "weighted_mean":
            if not declared:
                self.problems.append(
                    self.doc.problem((*path, "aggregate"), "weighted_mean needs `weights`")
                )
                return tuple(1.0 for _ in parts)
            for name in declared:
                if name not in ids:
                    self.problems.append(
                        self.doc.problem((*path, "weights", name), f"{name!r} is not a part here")
                    )
            for name in ids:
                if name not in declared:
                    self.problems.append(
                        self.doc.problem((*path, "weights"), f"no weight for part {name!r}")
                    )
            return tuple(float(declared.get(name, 0)) for name in ids)
        if declared:
            self.problems.append(
                self.doc.problem(
                    (*path, "weights"), f"`weights` only go with weighted_mean, not {aggregate}"
                )
            )
        if aggregate == "index_sum":
            out = []
            for p in parts:
                if isinstance(p, Component):
                    out.append(float(abs(p.best - p.worst)))
                else:
                    self.problems.append(
                        self.doc.problem(
                            (*path, "aggregate"), f"index_sum needs components, {p.id!r} is a group"
                        )
                    )
                    out.append(1.0)
            return tuple(out)
        return tuple(1.0 for _ in parts)


def find_system(rules_dir: Path, system_id: str) -> Path:
    """The file under `rules_dir` declaring `system: <system_id>` (two such files are an error)."""
    candidates = sorted(rules_dir.rglob("*.y*ml")) if rules_dir.is_dir() else []
    found = []
    for f in candidates:
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if system_id not in text or "system:" not in text:
            continue
        try:
            data = load_yaml(f).data
        except RuleSetError:
            continue
        if isinstance(data, dict) and data.get(FILE_KEY) == system_id and "cases" not in data:
            found.append(f)
    if len(found) > 1:
        raise RuleSetError(
            [Problem(f"indicator system {system_id!r} is declared twice", str(f)) for f in found]
        )
    if found:
        return found[0]
    raise RuleSetError(
        [Problem(f"no indicator system {system_id!r} under {rules_dir}", str(rules_dir))]
    )


def resolve(system: str | Path, rules_dir: Path) -> Path:
    """A system given as a file path or as an id under `rules_dir`."""
    p = Path(system)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return find_system(rules_dir, str(system))


def load_system(path: str | Path, _chain: tuple[str, ...] = ()) -> System:
    """Load and check one system file (and the system it extends)."""
    doc = load_yaml(path)
    return build_system(doc, _chain)


def build_system(doc: Located, _chain: tuple[str, ...] = ()) -> System:
    """Check a parsed system document and compile it."""
    model = _validate(doc)
    base, extends_problems = _base(doc, model, _chain)
    formulas, transform_problems = _formulas(doc, model.transforms, base)
    builder = _Builder(doc, formulas)
    if base is not None:
        builder.inherit(base)
    topics = [builder.group(t, ("topics", i), "topic") for i, t in enumerate(model.topics)]
    _refuse([*extends_problems, *transform_problems, *builder.problems])
    chosen = _overall_topics(doc, model.overall.topics, [*(base.topics if base else ()), *topics])
    return _system(doc, model, _overall(doc, model.overall, chosen, builder), base)


def _refuse(problems: list[Problem]) -> None:
    """Raise every problem found so far at once (none: carry on)."""
    if problems:
        raise RuleSetError(problems)


def _base(
    doc: Located, model: SystemFile, chain: tuple[str, ...]
) -> tuple[System | None, list[Problem]]:
    """The system `model` extends, found beside it (None: it extends none, or a problem says why).

    A circle of `extends:` (`chain` names the systems extending this one) is refused at once.
    """
    if model.extends is None:
        return None, []
    if model.extends in (*chain, model.system):
        raise RuleSetError([doc.problem(("extends",), f"circular extends: {model.extends!r}")])
    try:
        found = find_system(Path(doc.file).parent, model.extends)
        return load_system(found, (*chain, model.system)), []
    except RuleSetError as exc:
        return None, [doc.problem(("extends",), f"cannot load {model.extends!r}: {exc}")]


def _formulas(
    doc: Located, transforms: dict[str, str], base: System | None
) -> tuple[dict[str, Formula], list[Problem]]:
    """The transforms a component may name: the base's, then this file's (compiled), by name."""
    formulas: dict[str, Formula] = {}
    if base is not None:
        formulas.update({c.formula.name: c.formula for c in base.components.values()})
    problems: list[Problem] = []
    for name, text in transforms.items():
        formula, errs = compile_formula(name, text)
        problems += [doc.problem(("transforms", name), f"transform {name!r}: {e}") for e in errs]
        if formula is not None:
            formulas[name] = formula
    return formulas, problems


def _overall_topics(doc: Located, chosen: list[str] | None, topics: list[Group]) -> list[Group]:
    """The topics the overall score is over: those `overall.topics` names, else every one."""
    if chosen is None:
        return topics
    by_id = {t.id: t for t in topics}
    unknown = [t for t in chosen if t not in by_id]
    if unknown:
        raise RuleSetError(
            [doc.problem(("overall", "topics"), f"unknown topics: {', '.join(unknown)}")]
        )
    return [by_id[t] for t in chosen]


def _overall(doc: Located, ov: OverallDef, topics: list[Group], builder: _Builder) -> Group:
    """The overall score's node over `topics`, its weights checked."""
    parts: list[Component | Group] = list(topics)
    weights = builder.weights(ov.aggregate, ov.weights, parts, ("overall",))
    _refuse(builder.problems)
    line = doc.where(("overall",))[0]
    return Group(ov.id, ov.title, "overall", ov.aggregate, tuple(parts), weights, ov.column, line)


def _system(doc: Located, model: SystemFile, overall: Group, base: System | None) -> System:
    """The checked system: this file's tree, and what it does not say taken from its base."""
    here = Path(doc.file).parent
    dataset = _dataset(model.dataset, here) if model.dataset else (base.dataset if base else None)
    editions = {k: e.year for k, e in model.editions.items()} or (
        dict(base.editions) if base else {}
    )
    notes = {k: e.note for k, e in model.editions.items() if e.note} or (
        dict(base.edition_notes) if base and not model.editions else {}
    )
    specials = {**(base.special_values if base else {}), **model.special_values}
    columns = dict(base.columns) if base else {}
    columns.update(_columns(overall))
    return System(
        model.system,
        model.title,
        doc.file,
        model.source,
        model.example,
        overall,
        specials,
        dataset,
        editions,
        {c.id: c for c in overall.components()},
        model.overall.ranked_as or (base.rank_node if base else None),
        columns,
        notes,
    )


def _columns(g: Group) -> dict[str, str]:
    out = {g.id: g.column} if g.column else {}
    for p in g.parts:
        if isinstance(p, Group):
            out.update(_columns(p))
        elif p.score_column:
            out[p.id] = p.score_column
    return out


def _dataset(d: DatasetDef, here: Path) -> Dataset:
    return Dataset(
        here / d.file,
        d.code,
        d.year,
        d.name,
        d.rank,
        d.ranked_in,
        here / d.two_city if d.two_city else None,
    )
