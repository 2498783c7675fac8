"""The scenario runner: each case of a scenario file decided and compared with what it expects.

Decision scenario files are decided by an `Engine` (one per `Setting` — rules folder, vouched
sources, deployment — shared through an `EngineFactory`); any other scenario file is run by the
installed pack whose key marks it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..decision import Decision, jsonable
from ..engine import Engine
from ..errors import ConfigError, Problem, RuleSetError, ScenarioError, SecondApprovalError
from ..loader import Kind, document_kind
from ..packs import Pack, ScenarioCase
from ..yamlfile import Located, load_yaml
from .model import Case, CaseResult, Expect, Setting, as_date, load_scenario


def compare(expect: Expect, decision: Decision) -> str:
    """An empty string when the decision meets the expectation, else the differences."""
    lines = []
    if str(decision.outcome) != expect.outcome:
        lines.append(f"outcome: expected {expect.outcome}, got {decision.outcome}")
    actual = set(decision.codes)
    if expect.reasons is not None:
        want = set(expect.reasons)
        if want != actual:
            lines += [f"  - missing reason {c}" for c in sorted(want - actual)]
            lines += [f"  + unexpected reason {c}" for c in sorted(actual - want)]
    if expect.reasons_include is not None:
        lines += [f"  - missing reason {c}" for c in sorted(set(expect.reasons_include) - actual)]
    if expect.results is not None:
        got = {r.rule: str(r.status) for r in decision.results}
        for rule, status in sorted(expect.results.items()):
            if got.get(rule) != status:
                lines.append(f"  rule {rule}: expected {status}, got {got.get(rule, 'absent')}")
    if expect.outputs is not None:
        got_outputs = jsonable(decision.outputs)
        for name, value in sorted(expect.outputs.items()):
            if name not in got_outputs or not _same_value(value, got_outputs[name]):
                lines.append(f"  output {name}: expected {value!r}, got {got_outputs.get(name)!r}")
    if lines:
        lines.append(f"  actual reasons: {sorted(actual) or '(none)'}")
    return "\n".join(lines)


def _same_value(expected: Any, actual: Any) -> bool:
    """Whether an expected output (as YAML gives it) is the actual one: numbers by value
    (`300` is `"300.00"`), anything else as JSON."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    try:
        return Decimal(str(expected)) == Decimal(str(actual))
    except InvalidOperation:
        return str(expected) == str(actual)


EngineFactory = Callable[[Setting], Engine]


class EngineCache:
    """One Engine per setting (rules folder, vouched sources, deployment), so many scenario files
    share a load; `options` are further Engine keywords (an audit sink shared by all)."""

    def __init__(self, default_rules: Path, backend: str = "native", **options: Any) -> None:
        self.default_rules = default_rules
        self.backend = backend
        self.options = options
        self._engines: dict[Setting, Engine] = {}

    def __call__(self, setting: Setting) -> Engine:
        rules = (setting.rules or self.default_rules).resolve()
        deployment = setting.deployment.resolve() if setting.deployment else None
        key = Setting(rules, setting.vouch, deployment)
        if key not in self._engines:
            self._engines[key] = Engine(
                rules,
                backend=self.backend,
                vouch=setting.vouch,
                deployment=deployment,
                **self.options,
            )
        return self._engines[key]

    def close(self) -> None:
        """Close every engine (their adapters); an audit sink given in `options` stays open."""
        for engine in self._engines.values():
            engine.close_sources()
        self._engines.clear()


def _engine(doc: Located, setting: Setting, engines: EngineFactory) -> Engine:
    """The setting's engine; vouching the rule set contradicts is named at the file's `vouch:`."""
    try:
        return engines(setting)
    except ConfigError as exc:
        raise ScenarioError([doc.problem(("vouch",), str(exc))]) from None


def iter_cases(doc: Located, engines: EngineFactory) -> Iterator[ScenarioCase]:
    """(name, line, run) for each case of a decision scenario file, run lazily (for pytest)."""
    scenario = load_scenario(doc)
    setting = Setting.of(scenario, doc.file)
    gather = setting.deployment is not None
    file_on = as_date(scenario.on)
    for i, case in enumerate(scenario.cases):
        line, _ = doc.where(("cases", i))

        def run(case: Case = case, line: int | None = line) -> CaseResult:
            engine = _engine(doc, setting, engines)
            on = as_date(case.on) if case.on else file_on
            t0 = time.perf_counter()
            decision = engine.decide(scenario.matter, case.facts, on=on, gather=gather)
            seconds = time.perf_counter() - t0
            diff = compare(case.expect, decision)
            return CaseResult(
                doc.file,
                case.name,
                line,
                not diff,
                diff,
                "decision",
                scenario.matter,
                {r.rule: str(r.status) for r in decision.results},
                seconds,
            )

        yield case.name, line, run


def scenario_cases(
    doc: Located, engines: EngineFactory, rules_dir: Path, packs: Mapping[str, Pack]
) -> Iterator[ScenarioCase] | None:
    """The cases of a scenario document, each run lazily: a decision scenario's, or those of the
    installed pack whose key marks it (`packs` by file key); None for any other document."""
    found = document_kind(doc.data, packs)
    if found.kind in (Kind.SCENARIO, Kind.MATTER):  # a matter file here is reported by the model
        return iter_cases(doc, engines)
    if found.pack is not None:
        return found.pack.iter_cases(doc, rules_dir)
    return None


def run_file(
    path: Path,
    engines: EngineFactory,
    rules_dir: Path,
    packs: Mapping[str, Pack] | None = None,
) -> list[CaseResult]:
    """Run every case of one scenario file; load problems become one failed result."""
    try:
        doc = load_yaml(path)
        cases = scenario_cases(doc, engines, rules_dir, packs or {})
        if cases is not None:
            return [run() for _, _, run in cases]
        raise ScenarioError(
            [
                Problem(
                    "not a scenario file: no `matter:` (or a pack's key) at the top level",
                    str(path),
                    1,
                )
            ]
        )
    except (RuleSetError, SecondApprovalError) as exc:
        return [CaseResult(str(path), "(file)", None, False, str(exc), "load")]


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files under each folder (sorted), and each path that is a file."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml"))
        else:
            out.append(p)
    return out
