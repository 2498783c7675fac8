"""Signed checkpoints: keys, the checkpoint file, and what they detect that the MAC key cannot."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import orjson
import pytest

from reference import GOOD_REF, ON, REFERENCE
from secondapproval import AuditError, Engine
from secondapproval.audit import AuditKey, Head, canonical, open_log, verify_log
from secondapproval.audit.checkpoints import (
    CheckpointFile,
    PublicKey,
    SigningKey,
    checkpoint_line,
    read_checkpoints,
)
from secondapproval.audit.head import head_path
from secondapproval.audit.sinks import FsyncPolicy
from secondapproval.cli import main

KEY = b"test-key-kept-outside-the-log"
MATTER = "talent-reference"


@pytest.fixture(scope="module")
def signer() -> SigningKey:
    return SigningKey.generate()


def heads(n: int) -> list[Head]:
    return [Head(i, hashlib.sha256(b"%d" % i).hexdigest()) for i in range(1, n + 1)]


def decide_into(
    log: Path,
    n: int,
    anchor: CheckpointFile | None = None,
    every: float = 0.0,
    fsync: FsyncPolicy = "always",
) -> None:
    """Decide `n` applications into a keyed log, anchoring heads to `anchor`."""
    sink = open_log(log, key=KEY, fsync=fsync, anchor=anchor, anchor_every=every)
    with Engine(REFERENCE, audit=sink, vouch="all") as engine:
        for _ in range(n):
            engine.decide(MATTER, GOOD_REF, on=ON)


def rewrite(log: Path, keep: int, key: bytes = KEY, edit: int | None = None) -> None:
    """What someone holding the audit key can do: keep the first `keep` records (editing record
    `edit`), recompute every hash, prev and MAC, and write a head with its MAC beside the log."""
    audit_key = AuditKey(key)
    prev = "0" * 64
    out = []
    for raw in log.read_bytes().splitlines()[:keep]:
        doc = {k: v for k, v in orjson.loads(raw).items() if k not in ("hash", "mac")}
        doc["prev"] = prev
        if doc["seq"] == edit:
            doc["outcome"] = "refer" if doc["outcome"] == "approve" else "approve"
        body = canonical(doc)
        prev = hashlib.sha256(body).hexdigest()
        mac = audit_key.record_mac(prev.encode())
        out.append(body[:-1] + b',"hash":"' + prev.encode() + b'","mac":"' + mac + b'"}\n')
    log.write_bytes(b"".join(out))
    head = Head(keep, prev, audit_key.head_mac(keep, prev))
    Path(head_path(log)).write_bytes(head.to_bytes())


# ---- keys ---------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_only_its_owner_reads_and_a_public_key(
    tmp_path: Path,
) -> None:
    """A written key reads back with the same id; the private file is mode 0600."""
    key = SigningKey.generate()
    pub = key.write(tmp_path / "signing.pem")
    assert pub == tmp_path / "signing.pem.pub"
    assert stat.S_IMODE((tmp_path / "signing.pem").stat().st_mode) == 0o600
    assert SigningKey.read(tmp_path / "signing.pem").id == key.id
    assert PublicKey.read(pub).id == key.id


def test_a_key_is_never_overwritten(tmp_path: Path) -> None:
    """Writing a key where one exists is refused and leaves the old one."""
    first = SigningKey.generate()
    first.write(tmp_path / "k")
    with pytest.raises(AuditError, match="already exists"):
        SigningKey.generate().write(tmp_path / "k")
    assert SigningKey.read(tmp_path / "k").id == first.id


@pytest.mark.parametrize(
    ("content", "match"),
    [(None, "cannot read"), (b"not a key", "not an unencrypted PEM"), (b"", "not an")],
)
def test_a_missing_or_bad_key_file_is_an_error_naming_it(
    tmp_path: Path, content: bytes | None, match: str
) -> None:
    """Reading a missing or damaged key file raises AuditError with the file name."""
    path = tmp_path / "bad.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AuditError, match=match) as info:
        SigningKey.read(path)
    assert str(path) in str(info.value)
    with pytest.raises(AuditError) as info:
        PublicKey.read(path)
    assert str(path) in str(info.value)


def test_a_private_key_given_as_the_public_key_is_refused(tmp_path: Path) -> None:
    """The verifier is told to use FILE.pub, not the private key."""
    SigningKey.generate().write(tmp_path / "k")
    with pytest.raises(AuditError, match=r"k\.pub"):
        PublicKey.read(tmp_path / "k")


# ---- the checkpoint file ------------------------------------------------------------------


def test_checkpoints_round_trip(tmp_path: Path, signer: SigningKey) -> None:
    """Every anchored head reads back, signed, in order; each line is canonical JSON."""
    points = tmp_path / "log.checkpoints"
    anchor = CheckpointFile(points, signer)
    for head in heads(5):
        anchor.anchor(head)
    found = read_checkpoints(points, signer.public)
    assert found.ok
    assert found.heads == tuple(heads(5))
    assert found.last == heads(5)[-1]
    line = orjson.loads(points.read_bytes().splitlines()[0])
    assert set(line) == {"v", "count", "hash", "time", "key", "sig"}
    assert line["key"] == signer.id
    assert line["time"].endswith("Z")
    assert canonical(line) + b"\n" == points.read_bytes().splitlines(keepends=True)[0]


def test_a_reopened_checkpoint_file_continues_after_its_last_head(
    tmp_path: Path, signer: SigningKey
) -> None:
    """Reopened, it knows its last head: the same head adds nothing, an earlier one is refused."""
    points = tmp_path / "log.checkpoints"
    anchor = CheckpointFile(points, signer)
    for head in heads(3):
        anchor.anchor(head)
    again = CheckpointFile(points, signer)
    assert again.last == heads(3)[-1]
    again.anchor(heads(3)[-1])
    assert len(points.read_bytes().splitlines()) == 3
    with pytest.raises(AuditError, match="record 2"):
        again.anchor(heads(2)[-1])
    with pytest.raises(AuditError, match="record 3"):
        again.anchor(Head(3, "f" * 64))
    again.anchor(heads(4)[-1])
    assert read_checkpoints(points, signer.public).heads == tuple(heads(4))


def test_a_checkpoint_file_of_another_key_is_not_continued(
    tmp_path: Path, signer: SigningKey
) -> None:
    """A file whose checkpoints the signing key does not vouch for is refused on opening."""
    points = tmp_path / "log.checkpoints"
    CheckpointFile(points, SigningKey.generate()).anchor(heads(1)[0])
    with pytest.raises(AuditError, match="forged"):
        CheckpointFile(points, signer)


def test_a_checkpoint_torn_by_a_crash_is_dropped_on_reopening(
    tmp_path: Path, signer: SigningKey
) -> None:
    """A last line without its newline is reported by the reader, and dropped by the writer."""
    points = tmp_path / "log.checkpoints"
    CheckpointFile(points, signer).anchor(heads(1)[0])
    whole = points.read_bytes()
    points.write_bytes(whole + checkpoint_line(heads(2)[1], signer)[:40])
    assert [p.kind for p in read_checkpoints(points, signer.public).problems] == ["torn"]
    anchor = CheckpointFile(points, signer)
    assert anchor.repaired == 40
    assert points.read_bytes() == whole
    anchor.anchor(heads(2)[1])
    assert read_checkpoints(points, signer.public).ok


def _edit_count(doc: dict[str, object]) -> None:
    doc["count"] = 9


def _edit_hash(doc: dict[str, object]) -> None:
    doc["hash"] = "f" * 64


def _edit_time(doc: dict[str, object]) -> None:
    doc["time"] = "2000-01-01T00:00:00Z"


def _edit_key(doc: dict[str, object]) -> None:
    doc["key"] = "0" * 16


def _edit_sig(doc: dict[str, object]) -> None:
    doc["sig"] = "AAAA" + str(doc["sig"])[4:]


@pytest.mark.parametrize("edit", [_edit_count, _edit_hash, _edit_time, _edit_key, _edit_sig])
def test_an_edited_checkpoint_is_forged(tmp_path: Path, signer: SigningKey, edit: object) -> None:
    """Changing any member of a signed checkpoint breaks its signature: it vouches for nothing."""
    points = tmp_path / "log.checkpoints"
    anchor = CheckpointFile(points, signer)
    for head in heads(3):
        anchor.anchor(head)
    lines = points.read_bytes().splitlines(keepends=True)
    doc = orjson.loads(lines[1])
    edit(doc)  # type: ignore[operator]
    lines[1] = canonical(doc) + b"\n"
    points.write_bytes(b"".join(lines))
    found = read_checkpoints(points, signer.public)
    assert [(p.line, p.kind) for p in found.problems] == [(2, "forged")]
    assert found.heads == (heads(3)[0], heads(3)[2])
    assert f"{points}, line 2" in str(found.problems[0])


def test_a_checkpoint_signed_with_another_key_is_forged(tmp_path: Path, signer: SigningKey) -> None:
    """A checkpoint the attacker signed with a key of their own, naming ours, is refused."""
    points = tmp_path / "log.checkpoints"
    CheckpointFile(points, signer).anchor(heads(1)[0])
    mine = orjson.loads(checkpoint_line(heads(2)[1], SigningKey.generate()))
    mine["key"] = signer.id
    with points.open("ab") as f:
        f.write(canonical(mine) + b"\n")
    found = read_checkpoints(points, signer.public)
    assert [(p.line, p.kind) for p in found.problems] == [(2, "forged")]
    assert found.heads == (heads(1)[0],)


@pytest.mark.parametrize("junk", [b"{not json\n", b"[1, 2]\n", b'{"v": 1}\n', b"\n"])
def test_a_damaged_checkpoint_line_is_a_problem(
    tmp_path: Path, signer: SigningKey, junk: bytes
) -> None:
    """A line that is not a checkpoint is reported by its number; the others still count."""
    points = tmp_path / "log.checkpoints"
    first, second = (checkpoint_line(h, signer) for h in heads(2))
    points.write_bytes(first + junk + second)
    found = read_checkpoints(points, signer.public)
    assert [(p.line, p.kind) for p in found.problems] == [(2, "damaged")]
    assert found.heads == tuple(heads(2))


def test_checkpoints_that_go_backwards_are_a_problem(tmp_path: Path, signer: SigningKey) -> None:
    """Validly signed checkpoints whose count goes back (or that disagree) are reported."""
    points = tmp_path / "log.checkpoints"
    five = heads(5)
    points.write_bytes(
        b"".join(checkpoint_line(h, signer) for h in (five[2], five[4], five[3], Head(5, "e" * 64)))
    )
    found = read_checkpoints(points, signer.public)
    assert [(p.line, p.kind, p.seq) for p in found.problems] == [
        (3, "checkpoint", 4),
        (4, "checkpoint", 5),
    ]


def test_a_missing_checkpoint_file_is_an_error(tmp_path: Path, signer: SigningKey) -> None:
    """Verifying against checkpoints that are not there raises, naming the file."""
    with pytest.raises(AuditError, match="nope"):
        read_checkpoints(tmp_path / "nope", signer.public)


# ---- the checkpoints of a log -------------------------------------------------------------


def test_the_sink_writes_a_final_checkpoint_on_close(tmp_path: Path, signer: SigningKey) -> None:
    """Anchoring hourly, only the first commit is anchored until close anchors the last."""
    log, points = tmp_path / "audit.jsonl", tmp_path / "audit.checkpoints"
    anchor = CheckpointFile(points, signer)
    sink = open_log(log, key=KEY, fsync="group", anchor=anchor, anchor_every=3600)
    engine = Engine(REFERENCE, audit=sink, vouch="all")
    for _ in range(4):
        engine.decide(MATTER, GOOD_REF, on=ON)
    assert [h.count for h in read_checkpoints(points, signer.public).heads] == [1]
    engine.close()
    found = read_checkpoints(points, signer.public)
    assert [h.count for h in found.heads] == [1, 4]
    assert found.last == sink.head
    assert verify_log(log, checkpoints=found.heads).authenticated


@pytest.mark.parametrize("name", ["audit.jsonl", "audit.sqlite"])
def test_checkpoints_alone_vouch_for_the_log(tmp_path: Path, signer: SigningKey, name: str) -> None:
    """With only the public key, every record up to the last checkpoint is authenticated."""
    log, points = tmp_path / name, tmp_path / "audit.checkpoints"
    decide_into(log, 5, CheckpointFile(points, signer))
    found = read_checkpoints(points, signer.public)
    assert [h.count for h in found.heads] == [1, 2, 3, 4, 5]
    report = verify_log(log, checkpoints=found.heads)
    assert report.ok
    assert report.authenticated
    both = verify_log(log, key=KEY, checkpoints=found.heads)
    assert both.ok
    assert both.authenticated


def test_a_log_cut_and_rewritten_with_the_audit_key_fails_against_the_checkpoints(
    tmp_path: Path, signer: SigningKey
) -> None:
    """Whoever holds the MAC key can cut a log and rewrite its head unseen by the key, not by the
    checkpoints: they name records the log no longer holds."""
    log, points = tmp_path / "audit.jsonl", tmp_path / "audit.checkpoints"
    decide_into(log, 6, CheckpointFile(points, signer))
    rewrite(log, keep=4, edit=2)
    assert verify_log(log, key=KEY).ok
    found = read_checkpoints(points, signer.public)
    report = verify_log(log, key=KEY, checkpoints=found.heads)
    assert not report.ok
    kinds = {p.kind for p in report.problems}
    assert "truncated" in kinds
    assert "head" in kinds  # checkpoints 2–4 name hashes the rewritten records no longer have
    alone = verify_log(log, checkpoints=found.heads)
    assert not alone.ok
    assert not alone.authenticated


def test_a_log_rewritten_without_cutting_fails_against_the_checkpoints(
    tmp_path: Path, signer: SigningKey
) -> None:
    """Editing one record and recomputing everything after it with the key changes the hashes
    every later checkpoint names."""
    log, points = tmp_path / "audit.jsonl", tmp_path / "audit.checkpoints"
    decide_into(log, 4, CheckpointFile(points, signer))
    rewrite(log, keep=4, edit=3)
    assert verify_log(log, key=KEY).ok
    report = verify_log(log, checkpoints=read_checkpoints(points, signer.public).heads)
    assert [(p.kind, p.seq) for p in report.problems if p.kind == "head"] == [
        ("head", 3),
        ("head", 4),
    ]


def test_records_after_the_last_checkpoint_are_unauthenticated_with_the_public_key_alone(
    tmp_path: Path, signer: SigningKey
) -> None:
    """Records appended without checkpoints are vouched for by the MAC key only."""
    log, points = tmp_path / "audit.jsonl", tmp_path / "audit.checkpoints"
    decide_into(log, 3, CheckpointFile(points, signer))
    decide_into(log, 2)
    found = read_checkpoints(points, signer.public)
    report = verify_log(log, checkpoints=found.heads)
    assert [p.kind for p in report.problems] == ["unauthenticated"]
    assert "records 4–5" in report.problems[0].message
    assert not report.authenticated
    assert verify_log(log, key=KEY, checkpoints=found.heads).authenticated


def test_a_checkpoint_file_of_a_longer_log_refuses_a_cut_one(
    tmp_path: Path, signer: SigningKey
) -> None:
    """Continuing a cut (and rewritten) log with its old checkpoint file fails the sink at once."""
    log, points = tmp_path / "audit.jsonl", tmp_path / "audit.checkpoints"
    decide_into(log, 4, CheckpointFile(points, signer))
    rewrite(log, keep=2)
    with pytest.raises(AuditError, match="checkpoint of record 3"):
        decide_into(log, 1, CheckpointFile(points, signer))


# ---- CLI ----------------------------------------------------------------------------------


def test_cli_keygen_decide_with_checkpoints_and_verify_with_the_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """keygen, decide with checkpoints, verify with the public key; then a cut log fails."""
    monkeypatch.delenv("SECONDAPPROVAL_AUDIT_KEY", raising=False)
    keys, logs = tmp_path / "keys", tmp_path / "logs"
    keys.mkdir()
    logs.mkdir()
    (keys / "audit.key").write_bytes(KEY)
    signing = keys / "checkpoints.pem"
    assert main(["audit", "keygen", str(signing)]) == 0
    assert main(["audit", "keygen", str(signing)]) == 2
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(GOOD_REF), encoding="utf-8")
    log, points = logs / "audit.jsonl", tmp_path / "audit.checkpoints"
    decide = ["decide", MATTER, str(facts), "--rules", str(REFERENCE), "--on", ON.isoformat()]
    decide += ["--vouch", "all"]  # GOOD_REF gives the offices' facts as the caller
    audit = ["--audit", str(log), "--audit-key", str(keys / "audit.key")]
    signed = ["--audit-checkpoints", str(points), "--audit-signing-key", str(signing)]
    for _ in range(3):
        assert main([*decide, *audit, *signed]) == 0
    assert main([*decide, *audit, "--audit-checkpoints", str(points)]) == 2
    assert main([*decide, *signed]) == 2
    capsys.readouterr()

    verify = ["audit", "verify", str(log), "--checkpoints", str(points)]
    assert main([*verify, "--public-key", str(signing) + ".pub"]) == 0
    out = capsys.readouterr().out
    assert "ok:" in out
    assert "(authenticated)" in out
    assert out.count("3 checkpoints signed by key") == 1
    assert main([*verify, "--public-key", str(signing) + ".pub", "--replay"]) == 0
    assert "3 checkpoints signed by key" in capsys.readouterr().out
    both = [*verify, "--public-key", str(signing) + ".pub", "--audit-key", str(keys / "audit.key")]
    assert main(both) == 0
    assert main(verify) == 2  # --checkpoints without --public-key
    assert main([*verify, "--public-key", str(signing)]) == 2  # the private key
    capsys.readouterr()

    rewrite(log, keep=2)
    assert main(["audit", "verify", str(log), "--audit-key", str(keys / "audit.key")]) == 0
    assert main(both) == 1
    err = capsys.readouterr().err
    assert "truncated" in err

    lines = points.read_bytes().splitlines(keepends=True)
    doc = orjson.loads(lines[0])
    doc["time"] = "2000-01-01T00:00:00Z"
    points.write_bytes(canonical(doc) + b"\n" + b"".join(lines[1:]))
    assert main(both) == 1
    assert f"checkpoint file {points}, line 1 (record 1): forged" in capsys.readouterr().err
