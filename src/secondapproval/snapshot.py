"""The rule-set snapshot: everything that can change a decision, compiled once, immutable.

A `RuleSetSnapshot` holds every matter version of a rule set compiled by one backend (validator
and evaluator), the engine's limits, and one digest over what it was built from (DESIGN, "Rule-set
snapshot"): SHA-256 of the canonical JSON of the sorted `(path, sha256)` list of its files — every
matter version, the registry, the pack files, the calendars its matters count working days on —
and of the limits. An `Engine` decides against its
current snapshot and can be handed another (`Engine.swap`); a snapshot itself never changes, so
many threads read it without a lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import orjson

from .backends import Backend, Evaluator, get_backend
from .compiled import CompiledMatter, compile_matter
from .errors import RuleSetError, UnknownMatterError
from .facts import FactValidator
from .fastfacts import Check
from .limits import DEFAULT, Limits
from .loader import checked_rules, version_problems
from .registry import Registry, load_registry
from .ruleset import Matter

PathLike = str | Path
RuleSource = PathLike | Iterable[PathLike] | Iterable[Matter]
"""What a rule set is built from: a folder or file, several, or matters checked in Python."""
ValidatorFactory = Callable[[Matter, Limits], FactValidator]
"""Builds the validator of one matter version under the snapshot's limits."""


def default_validator(matter: Matter, limits: Limits) -> FactValidator:
    """The library's validator: the generated fast path, the strict pydantic adapter behind it."""
    return FactValidator(matter, limits=limits)


class Span(NamedTuple):
    """A matter version in force from a date (to a date, or open), ready to decide: its compiled
    matter and the two functions the hot path calls, bound once."""

    start: dt.date
    end: dt.date | None
    compiled: CompiledMatter
    check: Check
    evaluate: Evaluator


@dataclass(frozen=True, slots=True, eq=False)
class RuleSetSnapshot:
    """Every matter version of a rule set, compiled; immutable and shared across threads."""

    digest: str
    """SHA-256 over the rule set's files and the limits (see the module's text)."""
    files: tuple[tuple[str, str], ...]
    """(path, SHA-256) of every file read, relative to the folder that holds them all, sorted."""
    limits: Limits
    backend: Backend
    spans: Mapping[str, tuple[Span, ...]]
    """Each matter's versions, oldest first."""
    registry: Registry = dataclasses.field(default_factory=Registry)
    """The data-source registry its matters name (who holds each fact; `trust`)."""

    @classmethod
    def load(
        cls,
        rules: RuleSource = "rules",
        *,
        backend: str | Backend = "native",
        sources: Registry | PathLike | None = None,
        limits: Limits = DEFAULT,
        validator: ValidatorFactory = default_validator,
    ) -> RuleSetSnapshot:
        """Load, check and compile a rule set: the folders or files under `rules` (and their
        `sources.yaml`, or `sources`), or matters already checked; RuleSetError lists every
        problem."""
        items = [rules] if isinstance(rules, str | Path) else list(rules)
        if items and all(isinstance(i, Matter) for i in items):
            matters = [i for i in items if isinstance(i, Matter)]
            problems = version_problems(matters)
            if problems:
                raise RuleSetError(problems)
            files = _files_of_matters(matters)
            registry = _registry_of(sources)
        else:
            given_registry = load_registry(sources) if isinstance(sources, str | Path) else sources
            loaded = checked_rules([i for i in items if isinstance(i, str | Path)], given_registry)
            matters, files = list(loaded.matters), _relative(loaded.files)
            registry = loaded.registry
            if isinstance(sources, str | Path) and Path(sources).exists():
                given = (str(Path(sources).resolve()), _sha256_of(Path(sources)))
                files = _relative((*loaded.files, given))
            elif isinstance(sources, Registry):
                files = (*files, ("<sources>", _registry_digest(sources)))
        files = tuple(sorted((*files, *_calendars_of(matters))))
        engine_backend = get_backend(backend) if isinstance(backend, str) else backend
        return cls.compile(matters, files, engine_backend, limits, validator, registry)

    @classmethod
    def compile(
        cls,
        matters: Sequence[Matter],
        files: tuple[tuple[str, str], ...],
        backend: Backend,
        limits: Limits = DEFAULT,
        validator: ValidatorFactory = default_validator,
        registry: Registry | None = None,
    ) -> RuleSetSnapshot:
        """Compile checked matters (whose versions do not overlap) read from `files`."""
        by_matter: dict[str, list[Span]] = {}
        for m in sorted(matters, key=lambda m: (m.id, m.spec.effective.from_)):
            compiled = compile_matter(m, backend, validator(m, limits))
            effective = m.spec.effective
            span = Span(
                effective.from_, effective.to, compiled, compiled.validator.check, compiled.evaluate
            )
            by_matter.setdefault(m.id, []).append(span)
        spans = MappingProxyType({k: tuple(v) for k, v in by_matter.items()})
        return cls(
            snapshot_digest(files, limits), files, limits, backend, spans, registry or Registry()
        )

    # ---- what it holds ----
    @property
    def matters(self) -> tuple[str, ...]:
        """The ids of its matters, sorted."""
        return tuple(sorted(self.spans))

    @property
    def backend_label(self) -> str:
        """The backend's name and version, as audit records name it."""
        return f"{self.backend.name} {self.backend.version}"

    def versions(self, matter: str) -> tuple[Matter, ...]:
        """Every version of a matter, oldest first (UnknownMatterError if it has none)."""
        return tuple(span.compiled.matter for span in self.spans_of(matter))

    def all_versions(self) -> tuple[Matter, ...]:
        """Every matter version of the rule set."""
        return tuple(span.compiled.matter for spans in self.spans.values() for span in spans)

    def spans_of(self, matter: str) -> tuple[Span, ...]:
        try:
            return self.spans[matter]
        except KeyError:
            raise UnknownMatterError(matter, self.spans) from None

    def span_on(self, matter: str, on: dt.date) -> Span | None:
        """The version in force on a date, ready to decide, or None."""
        for span in self.spans_of(matter):
            if span.start <= on and (span.end is None or on <= span.end):  # Effective.covers
                return span
        return None


def snapshot_digest(files: Iterable[tuple[str, str]], limits: Limits) -> str:
    """SHA-256 of the canonical JSON of the sorted `(path, sha256)` list and of the limits."""
    text = orjson.dumps(
        {"files": sorted(files), "limits": dataclasses.asdict(limits)},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(text).hexdigest()


def _relative(files: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Resolved paths made relative to the folder that holds them all, as POSIX paths, so the
    digest does not depend on where the rule set lies."""
    files = list(files)
    if not files:
        return ()
    root = os.path.commonpath([os.path.dirname(path) for path, _ in files])
    return tuple(sorted((Path(os.path.relpath(path, root)).as_posix(), h) for path, h in files))


def _files_of_matters(matters: Iterable[Matter]) -> tuple[tuple[str, str], ...]:
    """The files of matters checked in Python: the hash of their text where they have one, else
    of their content (`Matter.digest`), named by id and version."""
    return tuple(
        sorted(
            (m.file, hashlib.sha256(m.text.encode("utf-8")).hexdigest())
            if m.text
            else (f"<{m.id}@{m.version}>", m.digest)
            for m in matters
        )
    )


def _calendars_of(matters: Iterable[Matter]) -> tuple[tuple[str, str], ...]:
    """The working-day calendars the matters count on, named `<calendar ID>` with the SHA-256
    of their file: built-in ones are in no rules folder, yet they can change a decision."""
    used = {m.calendar for m in matters if m.calendar is not None}
    return tuple(sorted((f"<calendar {c.id}>", c.digest) for c in used))


def _registry_of(sources: Registry | PathLike | None) -> Registry:
    if isinstance(sources, Registry):
        return sources
    return load_registry(sources) if sources is not None else Registry()


def _registry_digest(registry: Registry) -> str:
    """The hash of a registry built in Python: its sources' canonical JSON."""
    sources = [registry[k].model_dump(mode="json") for k in sorted(registry)]
    return hashlib.sha256(orjson.dumps(sources, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
