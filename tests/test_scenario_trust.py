"""Trust in scenario files (DESIGN, "Trust"): a file vouches for the offices whose facts its cases
give (`vouch:`), or gives a deployment whose adapters answer for them (`deployment:`, gathered);
otherwise a case's office fact is refused as the Engine refuses it. Run by the runner, by
`secondapproval test` and by the pytest plugin alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reference import write_matter
from secondapproval.cli import main
from secondapproval.scenarios.model import Setting
from secondapproval.scenarios.run import EngineCache, run_file

SOURCES = """sources:
  - id: credit-platform
    office: {zh: 信用中国, en: Credit platform}
    authoritative: true
  - id: public-security
    office: {zh: 公安机关, en: Public security bureau}
    authoritative: true
"""
MATTER = """matter: clean-credit
title: {zh: 信用良好, en: Clean credit}
version: "1"
effective: {from: "2000-01-01"}
sources: [{id: T, status: third-party}]
facts:
  applicant.id_number: {type: str, source: applicant}
  credit.untrustworthy: {type: bool, source: credit-platform}
  applicant.registered: {type: bool, source: public-security}
rules:
  - id: good-credit
    when: not credit.untrustworthy
    says: {zh: 无失信记录, en: No untrustworthy record}
    refer: {code: CREDIT, zh: 有失信记录, en: Untrustworthy}
  - id: registered
    when: applicant.registered
    says: {zh: 已登记, en: Registered}
    refer: {code: UNREGISTERED, zh: 未登记, en: Not registered}
"""
GIVEN = "{applicant: {id_number: A1, registered: true}, credit: {untrustworthy: false}}"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return write_matter(tmp_path / "rules", MATTER, "clean-credit.yaml", sources=SOURCES)


def scenario(folder: Path, head: str, cases: str, name: str = "s.yaml") -> Path:
    path = folder / "scenarios" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'matter: clean-credit\non: "2024-06-01"\n{head}cases:\n{cases}', "utf-8")
    return path


def results(path: Path, rules: Path) -> list[tuple[str, bool, str]]:
    engines = EngineCache(rules)
    try:
        return [(r.name, r.passed, r.diff) for r in run_file(path, engines, rules)]
    finally:
        engines.close()


APPROVED = f"""  - name: every office fact given
    facts: {GIVEN}
    expect: {{outcome: approve}}
"""


def test_a_file_that_vouches_for_nothing_sees_the_office_facts_refused(tmp_path, rules):
    refused = f"""  - name: the office facts are refused
    facts: {GIVEN}
    expect:
      outcome: refer
      reasons: [INVALID:credit.untrustworthy, INVALID:applicant.registered]
"""
    path = scenario(tmp_path, "", APPROVED + refused)
    (_, approved, diff), (_, refused, _) = results(path, rules)
    assert not approved
    assert (
        "actual reasons: ['INVALID:applicant.registered', 'INVALID:credit.untrustworthy']" in diff
    )
    assert refused


def test_a_file_vouching_for_each_office_decides_on_its_facts(tmp_path, rules):
    path = scenario(tmp_path, "vouch: [credit-platform, public-security]\n", APPROVED)
    assert results(path, rules) == [("every office fact given", True, "")]
    every = scenario(tmp_path, "vouch: all\n", APPROVED, "all.yaml")
    assert results(every, rules)[0][1]


def test_vouching_for_one_office_leaves_the_other_refused(tmp_path, rules):
    cases = f"""  - name: the registry's fact is refused
    facts: {GIVEN}
    expect: {{outcome: refer, reasons: [INVALID:applicant.registered]}}
"""
    path = scenario(tmp_path, "vouch: [credit-platform]\n", cases)
    assert results(path, rules)[0][1:] == (True, "")


def test_vouching_for_what_is_not_an_office_is_named_at_the_files_vouch_line(tmp_path, rules):
    path = scenario(tmp_path, "vouch: [credit-platfrom]\n", APPROVED)
    [(name, passed, diff)] = results(path, rules)
    assert (name, passed) == ("(file)", False)
    assert f"{path}:3" in diff
    assert "'credit-platfrom' is not an authoritative source" in diff
    assert "did you mean 'credit-platform'?" in diff


def test_a_malformed_vouch_is_a_located_problem(tmp_path, rules):
    path = scenario(tmp_path, "vouch: credit-platform\n", APPROVED)
    [(name, passed, diff)] = results(path, rules)
    assert (name, passed) == ("(file)", False)
    assert f"{path}:3" in diff


def _deployment(folder: Path) -> Path:
    (folder / "credit.jsonl").write_text(
        json.dumps({"id_number": "A1", "untrustworthy": False})
        + "\n"
        + json.dumps({"id_number": "B2", "untrustworthy": True})
        + "\n",
        encoding="utf-8",
    )
    deploy = folder / "deploy.yaml"
    deploy.write_text(
        """vouch: [public-security]
sources:
  credit-platform:
    adapter: table
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {credit.untrustworthy: untrustworthy}
    settings: {path: credit.jsonl, key: [id_number]}
""",
        encoding="utf-8",
    )
    return deploy


GATHERED = """  - name: the platform's record is clean
    facts: {applicant: {id_number: A1, registered: true}}
    expect: {outcome: approve}
  - name: the platform's record is not
    facts: {applicant: {id_number: B2, registered: true}}
    expect: {outcome: refer, reasons: [CREDIT]}
  - name: the platform holds nothing
    facts: {applicant: {id_number: C3, registered: true}}
    expect: {outcome: refer, reasons: [NOT_FOUND:credit-platform]}
  - name: the caller's own credit fact is refused even when the platform's is clean
    facts: {applicant: {id_number: A1, registered: true}, credit: {untrustworthy: false}}
    expect: {outcome: refer, reasons: [INVALID:credit.untrustworthy]}
"""


def test_a_file_with_a_deployment_gathers_from_its_adapters(tmp_path, rules):
    _deployment(tmp_path)
    path = scenario(tmp_path, "deployment: ../deploy.yaml\n", GATHERED)
    assert [(name, ok) for name, ok, _ in results(path, rules)] == [
        ("the platform's record is clean", True),
        ("the platform's record is not", True),
        ("the platform holds nothing", True),
        ("the caller's own credit fact is refused even when the platform's is clean", True),
    ]


def test_a_missing_deployment_file_fails_the_file_not_the_run(tmp_path, rules):
    path = scenario(tmp_path, "deployment: ../nowhere.yaml\n", GATHERED)
    [(name, passed, diff)] = results(path, rules)
    assert (name, passed) == ("(file)", False)
    assert "nowhere.yaml" in diff


def test_files_of_one_setting_share_an_engine(tmp_path, rules):
    engines = EngineCache(rules)
    one = engines(Setting(None, ("credit-platform",)))
    assert engines(Setting(rules, ("credit-platform",))) is one
    assert engines(Setting(None, "all")) is not one
    engines.close()


def test_the_test_command_and_the_pytest_plugin_take_the_files_trust(tmp_path, rules, capsys):
    _deployment(tmp_path)
    scenario(tmp_path, "vouch: all\n", APPROVED, "vouched.yaml")
    scenario(tmp_path, "deployment: ../deploy.yaml\n", GATHERED, "gathered.yaml")
    folder = tmp_path / "scenarios"
    assert main(["test", str(folder), "--rules", str(rules), "-q"]) == 0
    assert "5 passed, 0 failed" in capsys.readouterr().out
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder),
         "--sa-rules", str(rules), "--rootdir", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert plugin.returncode == 0, plugin.stdout + plugin.stderr
    assert "5 passed" in plugin.stdout
