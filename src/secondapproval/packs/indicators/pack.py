"""The indicator pack object registered under the entry-point group `secondapproval.packs`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...yamlfile import Located
from .. import ScenarioCase
from .cases import iter_cases as score_cases
from .cli import register as register_score
from .system import FILE_KEY, build_system


class IndicatorPack:
    """Indicator systems (`system:` files): scoring, rank equivalence, weak points, reports."""

    name = "indicators"
    file_key = FILE_KEY

    def check_file(self, doc: Located) -> None:
        """Validate one system file; a RuleSetError lists every problem."""
        build_system(doc)

    def iter_cases(self, doc: Located, rules_dir: Path) -> Iterator[ScenarioCase]:
        """The cases of one score scenario file."""
        yield from score_cases(doc, rules_dir)

    def register_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        """Add `secondapproval score`."""
        register_score(subparsers)
