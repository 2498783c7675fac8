"""Loading a rule set from files: find them, read each once, tell what each document is, check it.

The one place that decides what a YAML document is (`document_kind`): a matter file, a decision
scenario file, a working-day calendar, or a file of an installed pack (marked by the pack's
top-level key). The engine,
`secondapproval check`, the snapshot index of the audit trail, the scenario runner and the pytest
plugin all ask it, so a file means the same thing to each of them.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from .calendars import Calendar, built_in_calendars, calendar_from, is_calendar_document
from .errors import Problem, RuleSetError
from .packs import Pack, discover
from .registry import REGISTRY_FILE, Registry, load_registry
from .ruleset import Matter, check_matter
from .yamlfile import Located, load_yaml

PathLike = str | Path
YAML_SUFFIXES = (".yaml", ".yml")
_REGISTRY_LEVELS = 5
"""How far up from a matter file (its folder and four above) its `sources.yaml` is looked for."""


class Kind(Enum):
    """What a YAML document is."""

    MATTER = "matter"
    """A matter version: `matter:` and `rules:` at the top level."""
    SCENARIO = "scenario"
    """A decision scenario file: `matter:` without `rules:` (its `cases:` name the matter)."""
    PACK = "pack"
    """A file of an installed pack: the pack's `file_key` at the top level."""
    CALENDAR = "calendar"
    """A working-day calendar: `calendar:` and `years:` at the top level (see `calendars`)."""
    UNKNOWN = "unknown"
    """None of these."""


@dataclass(frozen=True, slots=True)
class Document:
    """What a document is, and for a pack's file, the pack that reads it."""

    kind: Kind
    pack: Pack | None = None


def document_kind(data: Any, packs: Mapping[str, Pack]) -> Document:
    """What a parsed YAML document is; `packs` are the installed packs by file key."""
    if not isinstance(data, dict):
        return Document(Kind.UNKNOWN)
    if "matter" in data:
        return Document(Kind.MATTER if "rules" in data else Kind.SCENARIO)
    if is_calendar_document(data):
        return Document(Kind.CALENDAR)
    key = next((k for k in packs if k in data), None)
    return Document(Kind.PACK, packs[key]) if key is not None else Document(Kind.UNKNOWN)


def installed_packs() -> dict[str, Pack]:
    """The installed packs by the top-level key that marks their files."""
    return {lp.pack.file_key: lp.pack for lp in discover().values()}


def rule_files(paths: Iterable[PathLike]) -> list[Path]:
    """Every YAML file under the given files and folders, each folder's sorted, `sources.yaml`
    files left out. A path that does not exist is a RuleSetError."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found += sorted(
                f for f in p.rglob("*") if f.suffix in YAML_SUFFIXES and f.name != REGISTRY_FILE
            )
        elif p.exists():
            found.append(p)
        else:
            raise RuleSetError([Problem("no such file or folder", str(p))])
    return found


def registry_file(path: PathLike) -> Path | None:
    """The `sources.yaml` that governs a file or folder: in it (a folder), or in a folder above."""
    p = Path(path).resolve()
    for folder in ([p] if p.is_dir() else []) + list(p.parents)[:_REGISTRY_LEVELS]:
        if (folder / REGISTRY_FILE).exists():
            return folder / REGISTRY_FILE
    return None


def first_registry_file(paths: Iterable[PathLike]) -> Path | None:
    """The `sources.yaml` of the first given path that has one."""
    return next((f for f in map(registry_file, paths) if f is not None), None)


def find_registry(paths: Iterable[PathLike]) -> Registry:
    """The `sources.yaml` of the first given path that has one (else the built-in sources)."""
    found = first_registry_file(paths)
    return load_registry(found) if found is not None else Registry()


@dataclass(frozen=True, slots=True)
class LoadedRules:
    """Everything read from the rule files: the checked matters, every problem, and the files."""

    matters: tuple[Matter, ...]
    problems: tuple[Problem, ...]
    files: tuple[tuple[str, str], ...]
    """(resolved path, SHA-256 of its text) of every matter, pack and registry file read."""
    pack_files: int
    registry: Registry = field(default_factory=Registry)
    """The data-source registry the matters were checked against."""


def load_rules(paths: Iterable[PathLike], registry: Registry | None = None) -> LoadedRules:
    """Read and check every matter and pack file under `paths` (each file once).

    One check for `Engine()` and `secondapproval check`: a YAML file that is neither a matter
    nor claimed by an installed pack is a problem, and so are paths that hold no YAML file.
    """
    paths = list(paths)
    read: list[tuple[str, str]] = []
    try:
        if registry is None:
            found = first_registry_file(paths)
            registry = Registry()
            if found is not None:
                registry = load_registry(found)
                read.append((str(found), _sha256(found.read_bytes())))
        files = rule_files(paths)
    except RuleSetError as exc:
        return LoadedRules((), tuple(exc.problems), (), 0)
    if not files:
        where = ", ".join(str(p) for p in paths) or "<no paths>"
        return LoadedRules((), (Problem("no rule files (*.yaml) here", where),), (), 0)
    packs = installed_packs()
    matters: list[Matter] = []
    problems: list[Problem] = []
    pack_files = 0
    docs = []
    for f in files:
        try:
            doc = load_yaml(f)
        except RuleSetError as exc:
            problems += exc.problems
            continue
        docs.append((f, doc, document_kind(doc.data, packs)))
    calendars, calendar_problems = _calendars(d for _, d, k in docs if k.kind is Kind.CALENDAR)
    problems += calendar_problems
    for f, doc, found_kind in docs:
        try:
            if found_kind.kind is Kind.MATTER:
                matters.append(check_matter(doc, registry, calendars))
            elif found_kind.pack is not None:
                found_kind.pack.check_file(doc)
                pack_files += 1
            elif found_kind.kind is not Kind.CALENDAR:
                problems.append(
                    Problem(
                        "not a matter file (no `matter:` and `rules:`) and no "
                        "installed pack claims it",
                        str(f),
                        1,
                    )
                )
                continue
            read.append((str(f.resolve()), _sha256(doc.text.encode("utf-8"))))
        except RuleSetError as exc:
            problems += exc.problems
    problems += version_problems(matters)
    return LoadedRules(tuple(matters), tuple(problems), tuple(sorted(read)), pack_files, registry)


def check_files(
    paths: Iterable[PathLike], registry: Registry | None = None
) -> tuple[list[Matter], list[Problem], int]:
    """Check every matter and pack file under `paths`: the matters, all problems, the pack files."""
    loaded = load_rules(paths, registry)
    return list(loaded.matters), list(loaded.problems), loaded.pack_files


def load_matters(paths: Iterable[PathLike], registry: Registry | None = None) -> list[Matter]:
    """Load and check every file under `paths` as `check` does; one RuleSetError lists all
    problems, and paths that hold no matter at all are one too."""
    return list(checked_rules(paths, registry).matters)


def checked_rules(paths: Iterable[PathLike], registry: Registry | None = None) -> LoadedRules:
    """`load_rules`, raising one RuleSetError with every problem (none found: a problem too)."""
    paths = list(paths)
    loaded = load_rules(paths, registry)
    problems = loaded.problems
    if not loaded.matters and not problems:
        where = ", ".join(str(p) for p in paths)
        problems = (Problem("no matter file (`matter:` and `rules:`) here", where),)
    if problems:
        raise RuleSetError(list(problems))
    return loaded


def _calendars(docs: Iterable[Located]) -> tuple[dict[str, Calendar], list[Problem]]:
    """The calendars a rule set may name: the built-in ones, and its own calendar files (which
    take precedence); two files of one calendar id are a problem."""
    found: dict[str, Calendar] = {}
    problems: list[Problem] = []
    for doc in docs:
        try:
            cal = calendar_from(doc)
        except RuleSetError as exc:
            problems += exc.problems
            continue
        if cal.id in found:
            problems.append(
                doc.problem(("calendar",), f"calendar {cal.id!r} is also in {found[cal.id].file}")
            )
        found.setdefault(cal.id, cal)
    return {**built_in_calendars(), **found}, problems


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version_problems(matters: Sequence[Matter]) -> list[Problem]:
    """Versions of one matter must not overlap in time, nor repeat a version name."""
    problems: list[Problem] = []
    by_id: dict[str, list[Matter]] = {}
    for m in matters:
        by_id.setdefault(m.id, []).append(m)
    for versions in by_id.values():
        for a, b in itertools.combinations(versions, 2):
            if a.version == b.version:
                problems.append(
                    Problem(
                        f"matter {a.id!r} version {a.version!r} is also in {b.file}",
                        a.file,
                        1,
                        None,
                        "version",
                    )
                )
            elif a.spec.effective.overlaps(b.spec.effective):
                problems.append(
                    Problem(
                        f"versions {a.version!r} and {b.version!r} of {a.id!r} overlap in time "
                        f"(the other is in {b.file})",
                        a.file,
                        None,
                        None,
                        "effective",
                    )
                )
    return problems
