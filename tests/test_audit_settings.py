"""Audit settings opened into a log (`audit.settings`): the key found or made, and what is said."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference import GOOD_REF, ON, REFERENCE
from secondapproval import Engine
from secondapproval.audit import (
    AuditSettings,
    SigningKey,
    log_secret,
    open_audit,
    open_checkpoints,
    verify_log,
)
from secondapproval.audit.keys import KEY_ENV


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_opening_a_new_log_makes_its_key_once_and_says_so(tmp_path: Path) -> None:
    """The first opening writes LOG.key and notes it; the next reads it and says nothing."""
    log = tmp_path / "audit.jsonl"
    said: list[str] = []
    opened = open_audit(AuditSettings(log, fsync="always"), note=said.append)
    with Engine(REFERENCE, **opened.engine_options()) as engine:
        engine.decide("talent-reference", GOOD_REF, on=ON)
    assert said == [f"note: new audit key written to {log}.key; keep it away from the log"]
    assert opened.key == (tmp_path / "audit.jsonl.key").read_bytes()
    again: list[str] = []
    reopened = open_audit(AuditSettings(log), note=again.append)
    reopened.sink.close()
    assert again == []
    assert reopened.key == opened.key
    assert verify_log(log, key=opened.key).ok


def test_a_key_is_never_made_where_none_is_asked_for(tmp_path: Path) -> None:
    """Without `create`, a log with no key file and no environment variable has no key."""
    said: list[str] = []
    assert log_secret(tmp_path / "a.jsonl", None, create=False, note=said.append) is None
    assert said == []
    assert not (tmp_path / "a.jsonl.key").exists()


def test_a_torn_record_and_a_torn_checkpoint_are_said_as_warnings(tmp_path: Path) -> None:
    """Reopening after a crash warns of the torn record set aside and the checkpoint dropped."""
    log, points, signer = tmp_path / "audit.jsonl", tmp_path / "cp", tmp_path / "sk"
    SigningKey.generate().write(signer)
    with Engine(REFERENCE, **open_audit(AuditSettings(log)).engine_options()) as engine:
        engine.decide("talent-reference", GOOD_REF, on=ON)
    with log.open("ab") as f:
        f.write(b'{"torn')
    points.write_bytes(b"torn-checkpoint")
    said: list[str] = []
    anchor = open_checkpoints(points, signer, note=said.append)
    open_audit(AuditSettings(log, anchor=anchor), note=said.append).sink.close()
    assert said[0] == f"warning: {points}: 15 bytes of a checkpoint torn by a crash dropped"
    assert said[1].startswith(f"warning: {log}: ")
    assert "torn" in said[1]
    assert len(said) == 2
