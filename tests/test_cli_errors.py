"""Every bad input to the CLI is exit 2 with one located message, never a traceback (issue 13,
class 7), and the CLI shows values as JSON, never as Python reprs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from secondapproval.cli import main

ROOT = Path(__file__).parent.parent
RULES = ROOT / "rules"
MATTER = "graduate-hukou-shenzhen"

MATTER_FILE = """matter: m
title: {zh: 测试, en: test}
version: "1"
effective: {from: 2020-01-01}
facts:
  days: {type: list, of: date, source: applicant}
  name: {type: str, source: applicant}
rules:
  - id: r
    when: len(days) > 0 and name != ""
    says: {zh: 测, en: t}
    refer: {code: R, zh: 测, en: t}
"""

# bad files, by what is wrong with them
FILES: dict[str, Callable[[Path], None]] = {
    "a 5,000-digit integer": lambda p: p.write_text('{"a": ' + "1" * 5_000 + "}"),
    "10,000-level nesting": lambda p: p.write_text("[" * 10_000 + "]" * 10_000),
    "10,000-level objects": lambda p: p.write_text('{"a": ' * 10_000 + "1" + "}" * 10_000),
    "not UTF-8": lambda p: p.write_bytes(b"\xff\xfe{}"),
    "not JSON": lambda p: p.write_text("{'a': 1}"),
    "empty": lambda p: p.write_text(""),
    "a folder": lambda p: p.mkdir(),
}
MISSING = "does not exist"


def bad_file(tmp_path: Path, kind: str, suffix: str = ".json") -> Path:
    path = tmp_path / f"bad{suffix}"
    if kind != MISSING:
        FILES[kind](path)
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(err: str, *named: str) -> None:
    """One message naming the input; no traceback and no exception class names."""
    assert "Traceback" not in err
    assert "RecursionError" not in err
    assert "sys.set_int_max_str_digits" not in err
    assert err.startswith("error: "), err
    for name in named:
        assert name in err, err


KINDS = [*FILES, MISSING]


@pytest.mark.parametrize("kind", KINDS)
def test_decide_on_a_bad_facts_file_is_exit_2_or_a_referral(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`decide` on a bad facts file: exit 2 naming the file, or (beyond the limits) a referral."""
    facts = bad_file(tmp_path, kind)
    code, out, err = run(
        ["decide", MATTER, str(facts), "--rules", str(RULES), "--on", "2021-01-01"], capsys
    )
    assert "Traceback" not in err
    if code == 0:  # read, and beyond the engine's limits: referred, never approved
        assert out.startswith("REFER"), out
        assert "INVALID:$" in out
    else:
        assert code == 2
        assert_clean(err, str(facts))


@pytest.mark.parametrize("kind", KINDS)
def test_score_on_a_bad_values_file_is_exit_2(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`score` (a pack command) on a bad values file: exit 2 naming the file."""
    values = bad_file(tmp_path, kind)
    code, _, err = run(["score", "db17-20", str(values), "--rules", str(RULES)], capsys)
    assert code == 2
    assert_clean(err, str(values))


RULE_FILES = {
    "deep expression": MATTER_FILE.replace('name != ""', "not " * 1_000 + "true"),
    "alias": "a: &x 1\nb: *x\n",
    "not a matter": "hello: world\n",
    "huge integer": "a: " + "1" * 5_000 + "\n",
}


@pytest.mark.parametrize("command", ["decide", "guide", "bench", "rules"])
@pytest.mark.parametrize("kind", sorted(RULE_FILES))
def test_commands_on_bad_rules_are_exit_2(
    command: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Commands that load rules refuse a bad rule file with exit 2, naming file and line."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "m.yaml").write_text(RULE_FILES[kind], encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text("{}", encoding="utf-8")
    argv = {
        "decide": ["decide", "m", str(facts), "--rules", str(rules)],
        "guide": ["guide", "m", "--rules", str(rules), "--out", str(tmp_path / "g")],
        "bench": ["bench", "m", "--rules", str(rules)],
        "rules": ["rules", "snapshot", "--rules", str(rules), "--store", str(tmp_path / "s")],
    }[command]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert_clean(err, f"{rules / 'm.yaml'}:")


@pytest.mark.parametrize("kind", sorted(RULE_FILES))
def test_check_reports_bad_rules_located(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check` reports each bad rule file with its file and line (exit 1: the check failed)."""
    (tmp_path / "m.yaml").write_text(RULE_FILES[kind], encoding="utf-8")
    code, _, err = run(["check", str(tmp_path)], capsys)
    assert code == 1
    assert "Traceback" not in err
    assert f"{tmp_path / 'm.yaml'}:" in err


@pytest.mark.parametrize("kind", ["10,000-level nesting", "a 5,000-digit integer", "not JSON"])
def test_audit_commands_on_a_bad_log_say_where(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`audit verify` and `audit show` on a damaged log report, never raise."""
    log = bad_file(tmp_path, kind, ".jsonl")
    for argv in (["audit", "verify", str(log)], ["audit", "show", str(log), "some-id"]):
        code, _, err = run(argv, capsys)
        assert code in (1, 2)
        assert "Traceback" not in err
        assert str(log) in err


def test_a_failure_outside_any_typed_error_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever a command lets escape is one line naming its inputs, exit 2."""
    from secondapproval.commands import schema

    def boom(_: object) -> int:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(schema, "run", boom)
    out = tmp_path / "s.json"
    code, _, err = run(["schema", "matter", "--out", str(out)], capsys)
    assert code == 2
    assert_clean(err, str(out), "nested too deeply")


def test_values_are_shown_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`decide` and `audit show` print a list of dates as JSON, not `[datetime.date(…)]`."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "m.yaml").write_text(MATTER_FILE, encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"days": ["2020-12-31"], "name": "李"}), encoding="utf-8")
    log = tmp_path / "audit.jsonl"
    code, out, _ = run(
        [
            "decide",
            "m",
            str(facts),
            "--rules",
            str(rules),
            "--on",
            "2021-01-01",
            "--audit",
            str(log),
        ],
        capsys,
    )
    assert code == 0
    did = json.loads(log.read_text(encoding="utf-8").splitlines()[0])["decision_id"]
    code, shown, _ = run(["audit", "show", str(log), did], capsys)
    assert code == 0
    for text in (out, shown):
        assert "datetime" not in text
        assert "['" not in text
        assert '["2020-12-31"]' in text
