"""The texts of matter versions kept by digest, so every record's digest stays resolvable after
rules change.

A rules store is a folder with one sub-folder per digest holding the exact text of the matter
file (`matter.yaml`) and of the data-source registry it was checked against (`sources.yaml`).
`RuleIndex` finds matter versions by digest in any folders — a rules folder, a rules store —
re-checking each file and indexing it under the digest of what it actually says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import Problem, RuleSetError
from ..loader import Kind, document_kind, registry_file
from ..registry import REGISTRY_FILE, Registry, load_registry
from ..ruleset import Matter, check_matter
from ..yamlfile import load_yaml

MATTER_FILE = "matter.yaml"


def rules_store_of(log: str | os.PathLike[str]) -> Path:
    """Where the texts of the rule sets a log's records name are kept: `LOG.rules/`."""
    return Path(os.fspath(log) + ".rules")


def keep_texts(matters: Iterable[Matter], store: str | os.PathLike[str]) -> list[Path]:
    """Store each matter version's exact text by digest (existing snapshots are kept as they are).

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
        sources = registry_file(m.file)
        if sources is not None:
            _write(folder / REGISTRY_FILE, sources.read_text(encoding="utf-8"))
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


class RuleIndex:
    """Matter versions found under some folders, by digest and by matter id."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self.by_digest: dict[str, Matter] = {}
        self.by_matter: dict[str, list[Matter]] = {}
        self.problems: list[Problem] = []
        for raw in paths:
            root = Path(raw)
            files = sorted(root.rglob("*.y*ml")) if root.is_dir() else [root]
            for f in files:
                if f.name != REGISTRY_FILE and f.suffix in (".yaml", ".yml"):
                    self._add(f)

    def _add(self, path: Path) -> None:
        try:
            doc = load_yaml(path)
            if document_kind(doc.data, {}).kind is not Kind.MATTER:
                return
            sources = registry_file(path)
            registry = load_registry(sources) if sources else Registry()
            matter = check_matter(doc, registry)
        except RuleSetError as exc:
            self.problems += exc.problems
            return
        if matter.digest not in self.by_digest:
            self.by_digest[matter.digest] = matter
            self.by_matter.setdefault(matter.id, []).append(matter)

    def get(self, digest: str) -> Matter | None:
        return self.by_digest.get(digest)
