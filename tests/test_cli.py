"""The command line: decide, test, check and schema, with their exit codes and outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reference import write_matter
from secondapproval.cli import main

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "benchmarks" / "matters"
FIXTURES = Path(__file__).parent / "fixtures" / "rules"


def write_facts(tmp_path: Path, facts: object) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts), encoding="utf-8")
    return path


def test_decide_json_is_stable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`decide --json` prints one object with the documented top-level keys and reason codes."""
    facts = write_facts(tmp_path, {"degree": "doctor", "age": 46})
    code = main(
        [
            "decide",
            "talent-reference",
            str(facts),
            "--rules",
            str(REFERENCE),
            "--on",
            "2020-01-01",
            "--vouch",
            "all",
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == "refer"
    assert {"reasons", "results", "matter", "version", "digest", "decision_id"} <= set(data)
    codes = {r["code"] for r in data["reasons"]}
    assert "AGE_LIMIT" in codes
    assert "MISSING:criminal_record" in codes


def test_decide_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The terminal output starts with the outcome and lists each rule."""
    facts = write_facts(
        tmp_path,
        {
            "degree": "doctor",
            "age": 45,
            "graduated_years_ago": 0,
            "has_degree_certificate": True,
            "social_insurance_months": 1,
            "criminal_record": False,
        },
    )
    assert (
        main(
            [
                "decide",
                "talent-reference",
                str(facts),
                "--rules",
                str(REFERENCE),
                "--on",
                "2020-01-01",
                "--vouch",
                "all",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("APPROVE")
    assert "age-limit" in out


def test_decide_bad_json_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A facts file that is not JSON exits 2 naming the file, line and column."""
    bad = tmp_path / "facts.json"
    bad.write_text('{"degree": "doctor",\n  "age": }', encoding="utf-8")
    assert main(["decide", "talent-reference", str(bad), "--rules", str(REFERENCE)]) == 2
    err = capsys.readouterr().err
    assert "facts.json:2:" in err


def test_decide_unknown_matter_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown matter id is a clear error with a suggestion, not a traceback."""
    facts = write_facts(tmp_path, {})
    assert main(["decide", "talent-referense", str(facts), "--rules", str(REFERENCE)]) == 2
    assert "did you mean 'talent-reference'" in capsys.readouterr().err


def test_check_reports_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check` lists every problem with file:line and exits 1."""
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURES, rules)
    f = rules / "allowance-v1.yaml"
    f.write_text(
        f.read_text()
        .replace("applicant.age >= 18", "applicant.age >= 'x'")
        .replace("hukou.kind ==", "hukou.knd ==")
    )
    assert main(["check", str(rules)]) == 1
    err = capsys.readouterr().err
    assert "cannot compare" in err
    assert "did you mean 'hukou.kind'" in err
    assert err.count("allowance-v1.yaml:") >= 2


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """`check` on valid rules says ok."""
    assert main(["check", str(FIXTURES)]) == 0
    *listed, last = capsys.readouterr().out.splitlines()
    assert last.startswith("ok: 1 matters (2 versions)")
    assert len(listed) == 1
    assert listed[0].startswith("  ")


POLICE = (
    "sources:\n  - {id: public-security, office: {zh: 公安, en: Police}, authoritative: true}\n"
)


def test_check_lists_each_matter_with_its_sources_and_partial_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line per matter: its latest version, its rules and how many are partial, its sources
    by status, and whether it has an online address."""
    folder = write_matter(
        tmp_path,
        """
matter: m
title: {zh: 事项, en: Matter}
version: "2"
effective: {from: "2025-01-01"}
service_url: "https://example.gov.cn/apply"
sources:
  - {id: S1, status: official, url: "https://example.gov.cn/1"}
  - {id: S2, status: news, url: "https://example.com/2"}
  - {id: S3, status: news, url: "https://example.com/3"}
facts:
  a: {type: bool, source: public-security}
  b: {type: bool, source: public-security}
rules:
  - {id: r1, when: a, says: {zh: 甲, en: A}, refer: {code: A, zh: 甲, en: A}, sources: [S1]}
  - id: r2
    when: b
    partial: true
    says: {zh: 乙, en: B}
    refer: {code: B, zh: 乙, en: B}
    sources: [S2]
""",
        sources=POLICE,
    )
    old = (folder / "m.yaml").read_text("utf-8").replace('version: "2"', 'version: "1"')
    old = old.replace("2025-01-01", "2024-01-01").replace("2025-01-01", "2024-01-01")
    (folder / "m-old.yaml").write_text(
        old.replace(
            'effective: {from: "2024-01-01"}', 'effective: {from: "2024-01-01", to: "2024-12-31"}'
        ),
        encoding="utf-8",
    )
    assert main(["check", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "  m 2: 2 rules (1 partial); sources: 2 news, 1 official; online",
        "ok: 1 matters (2 versions), 4 rules, 0 pack files",
    ]


def test_check_show_code_prints_the_generated_python(capsys: pytest.CaptureFixture[str]) -> None:
    """`check --show-code MATTER` prints the evaluator, validator and flattener and exits 0."""
    assert main(["check", str(REFERENCE), "--show-code", "talent-reference"]) == 0
    out = capsys.readouterr().out
    heads = [line for line in out.splitlines() if line.startswith("# ---- ")]
    assert heads == [
        "# ---- <secondapproval:talent-reference@bench.1>",
        "# ---- <secondapproval:facts talent-reference@bench.1>",
        "# ---- <secondapproval:flatten talent-reference@bench.1>",
    ]
    assert "def evaluate_talent_reference(v, on):\n" in out
    assert "    # rule age-limit\n" in out
    assert "\ndef partial(facts, " in out
    assert "\n    def check(facts, on, " in out
    assert "\ndef flatten(n):\n" in out
    assert "ok:" not in out


def test_check_show_code_of_an_unknown_matter_is_a_typed_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unknown matter is exit 2 with the did-you-mean message, no code printed."""
    assert main(["check", str(REFERENCE), "--show-code", "talent-referense"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error: unknown matter 'talent-referense' (did you mean 'talent-reference'?)" in (
        captured.err
    )


def test_test_command_fails_on_a_wrong_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`test` exits 1 with a diff when a case's expectation is wrong, and writes JUnit XML."""
    scenario = tmp_path / "scenarios" / "s.yaml"
    scenario.parent.mkdir()
    scenario.write_text(
        f"""matter: talent-reference
on: "2020-01-01"
rules: {REFERENCE}
vouch: [criminal-records, degree-registry, public-security, social-insurance]
cases:
  - name: wrong expectation
    facts: {{degree: doctor, age: 50}}
    expect: {{outcome: refer, reasons: [AGE_LIMIT]}}
  - name: right expectation
    facts: {{degree: doctor, age: 40, graduated_years_ago: 0, has_degree_certificate: true,
             social_insurance_months: 0, criminal_record: false}}
    expect: {{outcome: approve}}
""",
        encoding="utf-8",
    )
    junit = tmp_path / "junit.xml"
    code = main(
        ["test", str(scenario.parent), "--rules", str(REFERENCE), "--junit-xml", str(junit)]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "unexpected reason MISSING:criminal_record" in captured.err
    assert "1 passed, 1 failed" in captured.out
    assert 'failures="1"' in junit.read_text()


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`schema matter` prints a JSON Schema naming the matter file's fields."""
    assert main(["schema", "matter"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"matter", "facts", "rules", "effective"} <= set(schema["properties"])
    assert main(["schema", "scenario"]) == 0
    assert "cases" in json.loads(capsys.readouterr().out)["properties"]


def test_console_script_runs() -> None:
    """The installed `secondapproval` console script runs."""
    exe = Path(sys.executable).parent / "secondapproval"
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "secondapproval" in result.stdout


def test_readme_example_runs_as_written() -> None:
    """The README's embedding example runs from the repository root and prints what it says."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python", 1)[1].split("```", 1)[0]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "refer"
    assert lines[1] == "['MISSING:criminal_record', 'AGE_LIMIT']"


def test_readme_audit_example_runs_as_written(tmp_path: Path) -> None:
    """The README's audit-trail example runs (beside a copy of benchmarks/matters, so that its
    log is written outside the checkout) and prints what it says."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Audit trail", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    (tmp_path / "benchmarks").symlink_to(ROOT / "benchmarks")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["approve True"]
    assert (tmp_path / "audit.jsonl").stat().st_size > 0
