"""pytest plugin: scenario files (`scenarios/**/*.yaml`) collected as one test item per case.

Registered through the `pytest11` entry point, so `pytest scenarios/` runs every scenario file
of a project — decisions, and the cases of installed packs (scores, measure states).
Options: `--sa-rules DIR` (default ./rules) and `--sa-backend native|durable`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .errors import SecondApprovalError
from .loader import installed_packs
from .scenarios.model import CaseResult
from .scenarios.run import EngineCache, scenario_cases
from .yamlfile import load_yaml


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("secondapproval")
    group.addoption("--sa-rules", default="rules", help="rules folder for scenario files")
    group.addoption(
        "--sa-backend",
        default="native",
        choices=["native", "durable"],
        help="decision backend for scenario files",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or "scenarios" not in file_path.parts:
        return None
    collector: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return collector


class ScenarioMismatchError(Exception):
    """A scenario case whose decision differs from its expectation."""


class ScenarioFile(pytest.File):
    """One scenario file; its cases are the items."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            yield from self._collect()
        except SecondApprovalError as exc:  # a malformed file: its located problems, no traceback
            raise self.CollectError(str(exc)) from None

    def _collect(self) -> Iterator[pytest.Item]:
        config = self.config
        rules = Path(config.rootpath) / config.getoption("--sa-rules")
        engines = _engines(config, rules)
        cases = scenario_cases(load_yaml(self.path), engines, rules, installed_packs())
        if cases is None:
            return
        for name, line, run in cases:
            item: ScenarioItem = ScenarioItem.from_parent(self, name=name, run=run, line=line)
            yield item


def _engines(config: pytest.Config, rules: Path) -> EngineCache:
    key = "_secondapproval_engines"
    cache = getattr(config, key, None)
    if cache is None:
        cache = EngineCache(rules, backend=config.getoption("--sa-backend"))
        setattr(config, key, cache)
        config.add_cleanup(cache.close)
    return cache


class ScenarioItem(pytest.Item):
    """One scenario case."""

    def __init__(self, *, run: Callable[[], CaseResult], line: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._run = run
        self._line = line

    def runtest(self) -> None:
        result = self._run()
        if not result.passed:
            raise ScenarioMismatchError(result.diff)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,  # noqa: ARG002
    ) -> str:
        if isinstance(excinfo.value, ScenarioMismatchError | SecondApprovalError):
            return f"scenario case {self.name!r} failed:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self._line - 1) if self._line else None, f"scenario: {self.name}"
