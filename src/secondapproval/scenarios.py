"""Scenario files: executable expectations of decisions (DESIGN §7), a runner and rule coverage.

A scenario file names a matter, a date and cases; each case gives facts (the FACTS.json format)
and the expected outcome and reasons. Pack scenario files (`system:`, `plan:` …) are run by the
pack that owns their top-level key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .decision import Decision
from .engine import Engine
from .errors import Problem, RuleSetError, ScenarioError, SecondApprovalError
from .lang.parser import parse_iso_date
from .loader import Kind, document_kind
from .packs import Pack
from .status import Status
from .yamlfile import Located, load_yaml, problems_from_validation

_Model = ConfigDict(extra="forbid", frozen=True)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("a date is an ISO YYYY-MM-DD string")
    return parse_iso_date(value)


class Expect(BaseModel):
    """What a case expects: the outcome and the exact set (or a subset) of reason codes."""

    model_config = _Model
    outcome: Literal["approve", "refer"]
    reasons: list[str] | None = None
    reasons_include: list[str] | None = None
    results: dict[str, Literal["passed", "failed", "unknown", "error"]] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Expect:
        if self.outcome == "approve" and (self.reasons or self.reasons_include):
            raise ValueError("an approval has no reasons")
        if self.reasons is not None and self.reasons_include is not None:
            raise ValueError("give either reasons (the exact set) or reasons_include, not both")
        return self


class Case(BaseModel):
    model_config = _Model
    name: Annotated[str, Field(min_length=1)]
    facts: Any
    expect: Expect
    on: str | None = None
    note: str | None = None


class ScenarioFile(BaseModel):
    """A decision scenario file."""

    model_config = _Model
    matter: str
    on: str
    rules: str | None = None
    description: str | None = None
    cases: Annotated[list[Case], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The result of one case: passed, or a readable diff of expected and actual."""

    file: str
    name: str
    line: int | None
    passed: bool
    diff: str = ""
    kind: str = "decision"
    matter: str | None = None
    statuses: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


Cases = TypeVar("Cases", bound=BaseModel)


def validate_cases(doc: Located, model: type[Cases]) -> Cases:
    """A scenario document as `model` (whose `cases` have names); repeated case names refused.

    Packs load their own scenario files through this too, so every kind says the same.
    """
    try:
        scenario = model.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation(exc, doc)) from None
    names = [c.name for c in getattr(scenario, "cases", [])]
    dupes = [
        doc.problem(("cases", i, "name"), f"duplicate case name {n!r}")
        for i, n in enumerate(names)
        if names.index(n) != i
    ]
    if dupes:
        raise ScenarioError(dupes)
    return scenario


def load_scenario(doc: Located) -> ScenarioFile:
    scenario = validate_cases(doc, ScenarioFile)
    problems = []
    for path, text in [(("on",), scenario.on)] + [
        (("cases", i, "on"), c.on) for i, c in enumerate(scenario.cases) if c.on is not None
    ]:
        try:
            _date(text)
        except ValueError as exc:
            problems.append(doc.problem(path, str(exc)))
    if problems:
        raise ScenarioError(problems)
    return scenario


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
    if lines:
        lines.append(f"  actual reasons: {sorted(actual) or '(none)'}")
    return "\n".join(lines)


EngineFactory = Callable[[Path | None], Engine]


class EngineCache:
    """One Engine per rules folder, so many scenario files share a load."""

    def __init__(self, default_rules: Path, backend: str = "native") -> None:
        self.default_rules = default_rules
        self.backend = backend
        self._engines: dict[Path, Engine] = {}

    def __call__(self, rules: Path | None) -> Engine:
        folder = (rules or self.default_rules).resolve()
        if folder not in self._engines:
            self._engines[folder] = Engine(folder, backend=self.backend)
        return self._engines[folder]


def iter_cases(
    doc: Located, engines: EngineFactory
) -> Iterator[tuple[str, int | None, Callable[[], CaseResult]]]:
    """(name, line, run) for each case of a decision scenario file, run lazily (for pytest)."""
    scenario = load_scenario(doc)
    rules = (Path(doc.file).parent / scenario.rules) if scenario.rules else None
    file_on = _date(scenario.on)
    for i, case in enumerate(scenario.cases):
        line, _ = doc.where(("cases", i))

        def run(case: Case = case, line: int | None = line) -> CaseResult:
            import time

            engine = engines(rules)
            on = _date(case.on) if case.on else file_on
            t0 = time.perf_counter()
            decision = engine.decide(scenario.matter, case.facts, on=on)
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


ScenarioCases = Iterator[tuple[str, int | None, Callable[[], CaseResult]]]


def scenario_cases(
    doc: Located, engines: EngineFactory, rules_dir: Path, packs: Mapping[str, Pack]
) -> ScenarioCases | None:
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
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml"))
        else:
            out.append(p)
    return out


@dataclass
class Coverage:
    """Which outcomes of each rule the scenarios exercised, per matter."""

    seen: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def add(self, result: CaseResult) -> None:
        if result.matter is None:
            return
        per_rule = self.seen.setdefault(result.matter, {})
        for rule, status in result.statuses.items():
            per_rule.setdefault(rule, set()).add(status)

    def gaps(self, engine: Engine | None = None) -> dict[str, list[str]]:
        """Per matter, `rule: outcome` pairs (passed, failed, unknown) no case produced."""
        out: dict[str, list[str]] = {}
        for matter, per_rule in sorted(self.seen.items()):
            rules = list(per_rule)
            if engine is not None and matter in engine.matters:
                rules = list(dict.fromkeys(r.id for v in engine.versions(matter) for r in v.rules))
            missing = [
                f"{rule}: {status}"
                for rule in rules
                for status in (Status.PASSED, Status.FAILED, Status.UNKNOWN)
                if status not in per_rule.get(rule, set())
            ]
            out[matter] = missing
        return out

    def report(self, engine: Engine | None = None) -> str:
        lines = []
        gaps = self.gaps(engine)
        for matter, per_rule in sorted(self.seen.items()):
            lines.append(f"coverage of {matter}:")
            for rule, statuses in per_rule.items():
                marks = " ".join(
                    s if s in statuses else "-" * len(s)
                    for s in ("passed", "failed", "unknown", "error")
                )
                lines.append(f"  {rule:<32} {marks}")
            lines.append(f"  gaps: {', '.join(gaps[matter]) if gaps[matter] else 'none'}")
        return "\n".join(lines)


def junit_xml(results: list[CaseResult]) -> str:
    """JUnit XML of scenario results, one testsuite per file."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites")
    by_file: dict[str, list[CaseResult]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    for file, rs in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(rs)),
            failures=str(sum(not r.passed for r in rs)),
        )
        for r in rs:
            case = ET.SubElement(
                suite, "testcase", classname=file, name=r.name, time=f"{r.seconds:.6f}"
            )
            if not r.passed:
                failure = ET.SubElement(
                    case, "failure", message=r.diff.splitlines()[0] if r.diff else ""
                )
                failure.text = r.diff
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
