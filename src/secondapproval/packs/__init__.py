"""Rule packs: plug-ins found through the entry-point group `secondapproval.packs`.

A pack is an object satisfying `Pack`, exposed by an entry point of any installed distribution
(this project registers its own packs in its `pyproject.toml` exactly as a third party would).
Loading remembers which distribution each pack came from and refuses two packs of one name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import SecondApprovalError

if TYPE_CHECKING:
    from ..scenarios.model import CaseResult
    from ..yamlfile import Located

GROUP = "secondapproval.packs"

ScenarioCase = tuple[str, "int | None", "Callable[[], CaseResult]"]
"""A case of a scenario file: its name, its line, and a function that runs it."""


class PackError(SecondApprovalError, ImportError):
    """A pack could not be loaded, or two packs claim the same name or file key."""


@runtime_checkable
class Pack(Protocol):
    """What a rule pack provides.

    `file_key` is the top-level YAML key that marks the pack's files under `rules/` and its
    scenario files (e.g. `system` for indicator systems, `plan` for measure plans).
    """

    name: str
    file_key: str

    def check_file(self, doc: Located) -> None:
        """Validate one pack file; raise RuleSetError listing every problem."""

    def iter_cases(self, doc: Located, rules_dir: Path) -> Iterator[ScenarioCase]:
        """The cases of one of the pack's scenario files, each run lazily: (name, line, run).

        Raise ScenarioError (with located problems) if the file itself is malformed.
        """

    def register_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        """Add the pack's commands to the `secondapproval` CLI."""


@dataclass(frozen=True, slots=True)
class LoadedPack:
    """A pack and where it came from."""

    name: str
    distribution: str
    version: str
    entry_point: str
    pack: Pack


def _load(ep: EntryPoint) -> LoadedPack:
    try:
        obj = ep.load()
        pack = obj() if isinstance(obj, type) else obj
    except Exception as exc:
        raise PackError(f"pack entry point {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
    if not isinstance(pack, Pack):
        raise PackError(f"pack entry point {ep.name!r} ({ep.value}) is not a Pack")
    dist = ep.dist
    return LoadedPack(
        pack.name, dist.name if dist else "?", dist.version if dist else "?", ep.value, pack
    )


def discover(eps: Callable[[], Any] | None = None) -> dict[str, LoadedPack]:
    """Every installed pack by name; duplicate names or file keys are a PackError."""
    found = eps() if eps is not None else entry_points(group=GROUP)
    packs: dict[str, LoadedPack] = {}
    keys: dict[str, str] = {}
    for ep in sorted(found, key=lambda e: (e.name, e.value)):
        loaded = _load(ep)
        if loaded.name in packs:
            other = packs[loaded.name]
            raise PackError(
                f"two packs are named {loaded.name!r}: {other.entry_point} from "
                f"{other.distribution} and {loaded.entry_point} from {loaded.distribution}"
            )
        key = loaded.pack.file_key
        if key in keys or key in ("matter", "cases", "sources"):
            raise PackError(
                f"pack {loaded.name!r} claims file key {key!r}, already taken"
                f" by {keys.get(key, 'secondapproval')}"
            )
        packs[loaded.name] = loaded
        keys[key] = loaded.name
    return packs
