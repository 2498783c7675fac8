"""The texts of matter versions kept by digest, so every record's digest stays resolvable after
rules change.

A rules store is a folder with one sub-folder per digest holding the exact text of the matter
file (`matter.yaml`), of the data-source registry it was checked against (`sources.yaml`) and of
the working-day calendar it counts on, if any (`calendar.yaml`).
`RuleIndex` finds matter versions by digest in any folders — a rules folder, a rules store —
re-checking each file and indexing it under the digest of what it actually says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..calendars import Calendar, built_in_calendars, calendar_from, load_calendar
from ..errors import Problem, RuleSetError
from ..loader import Kind, document_kind, registry_file
from ..registry import REGISTRY_FILE, Registry, load_registry
from ..ruleset import Matter, check_matter
from ..yamlfile import Located, load_yaml

MATTER_FILE = "matter.yaml"
CALENDAR_FILE = "calendar.yaml"


def rules_store_of(log: str | os.PathLike[str]) -> Path:
    """Where the texts of the rule sets a log's records name are kept: `LOG.rules/`."""
    return Path(os.fspath(log) + ".rules")


def keep_texts(
    matters: Iterable[Matter], store: str | os.PathLike[str], registry_text: str | None = None
) -> list[Path]:
    """Store each matter version's exact text by digest (existing snapshots are kept as they are),
    with the registry's text: `registry_text` (the snapshot's), else the `sources.yaml` beside
    the matter's file (a snapshot opened from a bundle no longer has that folder).

    Returns the folders written now.
    """
    written: list[Path] = []
    for m in matters:
        if not m.text:
            raise RuleSetError([Problem("no text kept for this matter version", m.file)])
        folder = Path(store) / m.digest
        if (folder / MATTER_FILE).exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        if registry_text is not None:
            _write(folder / REGISTRY_FILE, registry_text)
        elif (sources := registry_file(m.file)) is not None:
            _write(folder / REGISTRY_FILE, sources.read_text(encoding="utf-8"))
        if m.calendar is not None:
            _write(folder / CALENDAR_FILE, m.calendar.text)
        _write(folder / MATTER_FILE, m.text)
        written.append(folder)
    return written


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _kind(doc: Located) -> Kind:
    return document_kind(doc.data, {}).kind


class RuleIndex:
    """Matter versions found under some folders, by digest and by matter id."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self.by_digest: dict[str, Matter] = {}
        self.by_matter: dict[str, list[Matter]] = {}
        self.problems: list[Problem] = []
        for raw in paths:
            root = Path(raw)
            files = sorted(root.rglob("*.y*ml")) if root.is_dir() else [root]
            docs = [d for f in files if (d := self._read(f)) is not None]
            calendars = self._calendars(d for d in docs if _kind(d) is Kind.CALENDAR)
            for doc in docs:
                if _kind(doc) is Kind.MATTER:
                    self._add(doc, calendars)

    def _read(self, path: Path) -> Located | None:
        if path.name == REGISTRY_FILE or path.suffix not in (".yaml", ".yml"):
            return None
        try:
            return load_yaml(path)
        except RuleSetError as exc:
            self.problems += exc.problems
            return None

    def _calendars(self, docs: Iterable[Located]) -> dict[str, Calendar]:
        """The calendars of a rules folder by id (the first of an id), then the built-in ones."""
        found: dict[str, Calendar] = {}
        for doc in docs:
            try:
                cal = calendar_from(doc)
            except RuleSetError as exc:
                self.problems += exc.problems
                continue
            found.setdefault(cal.id, cal)
        return {**built_in_calendars(), **found}

    def _add(self, doc: Located, calendars: dict[str, Calendar]) -> None:
        path = Path(doc.file)
        try:
            sources = registry_file(path)
            registry = load_registry(sources) if sources else Registry()
            kept = path.parent / CALENDAR_FILE
            if path.name == MATTER_FILE and kept.exists():  # a rules store's folder
                cal = load_calendar(kept)
                calendars = {**calendars, cal.id: cal}
            matter = check_matter(doc, registry, calendars)
        except RuleSetError as exc:
            self.problems += exc.problems
            return
        if matter.digest not in self.by_digest:
            self.by_digest[matter.digest] = matter
            self.by_matter.setdefault(matter.id, []).append(matter)

    def get(self, digest: str) -> Matter | None:
        return self.by_digest.get(digest)
