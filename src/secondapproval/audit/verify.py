"""Verifying a log: every hash, link and MAC, the order, and the end against heads and checkpoints.

`verify_lines` checks a sequence of sealed lines; `verify_log` reads a JSON Lines or SQLite log,
or one chain of a PostgreSQL log, and also checks it against the head kept beside it, a head the
user stored elsewhere and signed checkpoints. Each problem names the line (or database row), the
record and what is wrong: `edited`, `deleted`, `inserted`, `reordered`, `truncated`, `torn`,
`damaged`, `head`, `forged` (a MAC that the key does not vouch for) or `unauthenticated` (records
no key or checkpoint vouches for).

What vouches for a record: its MAC under the audit key (`key=`), or a signed checkpoint at or
after it (`checkpoints=`, already checked against the public key: `checkpoints.read_checkpoints`).
A record nothing vouches for could have been written by anyone who can write the file, so it is
a problem unless the caller asks for the chain alone (`chain_only=True`, the format v1 promise).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import orjson
from pydantic import ValidationError

from ..errors import AuditError
from .canonical import GENESIS, canonical, sha256_hex, split_sealed
from .files import LogTarget, log_name
from .head import Head, head_path, read_head_file
from .jsonl import torn_path
from .keys import AuditKey
from .postgres import (
    Target,
    is_postgres,
    postgres_chains,
    postgres_has_chain,
    postgres_head,
    postgres_lines,
    with_chain,
)
from .schema import record_model
from .sqlite import is_sqlite, sqlite_head, sqlite_lines

Kind = Literal[
    "edited",
    "deleted",
    "inserted",
    "reordered",
    "truncated",
    "torn",
    "damaged",
    "head",
    "forged",
    "unauthenticated",
    "checkpoint",
]
OnRecord = Callable[[int, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One thing wrong with a log, located by line (or row) and record number."""

    line: int | None
    kind: Kind
    message: str
    seq: int | None = None
    unit: str = "line"
    """What `line` counts: lines of a JSON Lines file, or rows of a SQLite log."""

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}" if self.line is not None else "end of log"
        record = f" (record {self.seq})" if self.seq is not None else ""
        return f"{where}{record}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of verifying a log."""

    source: str
    records: int
    head: Head
    problems: tuple[AuditProblem, ...]
    stored_head: Head | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    authenticated: bool = False
    """Every record was vouched for by the key or a checkpoint (False with `chain_only`)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> AuditProblem | None:
        """The first bad record (or end-of-log problem), if any."""
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            how = "authenticated" if self.authenticated else "chain only, not authenticated"
            return (
                f"ok: {self.source}: {self.records} records, one valid chain ({how}), "
                f"head {self.head}"
            )
        n = len(self.problems)
        return f"FAILED: {self.source}: {n} problem{'s' if n != 1 else ''}; first: {self.first}"


class _Checker:
    def __init__(
        self,
        targets: Iterable[int],
        on_record: OnRecord | None,
        unit: str = "line",
        key: AuditKey | None = None,
    ) -> None:
        self.unit = unit
        self.key = key
        self.unkeyed: list[int] = []
        """Records no MAC vouches for (no key given, or no MAC on them)."""
        self.expected = 1
        self.prev = GENESIS
        self.head = Head()
        self.records = 0
        self.problems: list[AuditProblem] = []
        self.skipped: list[tuple[int, int]] = []
        self.hash_at: dict[int, str] = {0: GENESIS}
        self.targets = set(targets)
        self.on_record = on_record

    def problem(self, line: int, kind: Kind, message: str, seq: int | None = None) -> None:
        self.problems.append(AuditProblem(line, kind, message, seq, self.unit))

    def line(self, number: int, raw: bytes) -> None:
        self.records += 1
        if not raw.endswith(b"\n"):
            self.problem(
                number,
                "torn",
                f"the last line ({len(raw)} bytes) has no newline: a "
                "record torn by a crash (reopening the log moves it aside)",
            )
            return
        parts = split_sealed(raw)
        if parts is None:
            self.unsealed(number, raw)
            return
        body, claimed, mac = parts
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            self.problem(number, "damaged", f"not JSON: {exc}")
            return
        if not isinstance(doc, dict):
            self.problem(number, "damaged", "not a JSON object")
            return
        seq = doc.get("seq")
        seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        if sha256_hex(body) != claimed:
            self.problem(number, "edited", "the hash does not match the content", seq)
            return
        if canonical(doc) != body:
            self.problem(number, "edited", "not in canonical form: the line was rewritten", seq)
            return
        sealed = {**doc, "hash": claimed} if mac is None else {**doc, "hash": claimed, "mac": mac}
        try:
            record_model(doc.get("v"), doc.get("kind")).model_validate(sealed)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            self.problem(number, "damaged", f"not an audit record: {where}: {first['msg']}", seq)
            return
        assert seq is not None  # the schema requires it
        self.authenticate(number, seq, claimed, mac)
        self.accept(number, seq, doc, claimed)

    def authenticate(self, number: int, seq: int, claimed: str, mac: str | None) -> None:
        key = self.key
        if key is None or mac is None:
            self.unkeyed.append(seq)
        elif not key.vouches_for_record(claimed, mac):
            self.problem(
                number,
                "forged",
                f"the MAC is not the one key {key.id} gives: the record was written or "
                "rewritten without the key",
                seq,
            )

    def unsealed(self, number: int, raw: bytes) -> None:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and "hash" in doc:
            seq = doc.get("seq") if isinstance(doc.get("seq"), int) else None
            self.problem(number, "edited", "rewritten: the hash is not its last member", seq)
        else:
            self.problem(number, "damaged", "not a sealed record (no hash as its last member)")

    def accept(self, number: int, seq: int, doc: dict[str, Any], digest: str) -> None:
        expected = self.expected
        if seq < expected:
            if any(lo <= seq <= hi for lo, hi in self.skipped):
                self.problem(
                    number,
                    "reordered",
                    f"record {seq} comes after record {expected - 1}: records were moved",
                    seq,
                )
            else:
                self.problem(
                    number,
                    "inserted",
                    f"a second record {seq} after record "
                    f"{expected - 1}: a record was inserted or copied",
                    seq,
                )
            return
        if seq > expected:
            self.skipped.append((expected, seq - 1))
            gap = f"record {expected}" if seq == expected + 1 else f"records {expected}–{seq - 1}"
            self.problem(
                number, "deleted", f"{gap} missing before this line (deleted or moved)", seq
            )
        elif doc["prev"] != self.prev:
            self.problem(
                number,
                "edited",
                "prev does not match the hash of the record before it: one of the two was replaced",
                seq,
            )
        self.prev = digest
        self.expected = seq + 1
        self.head = Head(seq, digest)
        if seq in self.targets:
            self.hash_at[seq] = digest
        if self.on_record is not None:
            self.on_record(number, doc)

    def against(self, head: Head, name: str) -> bool:
        """Check the chain against a head; whether it holds that head's record."""
        if head.count > self.head.count:
            self.problems.append(
                AuditProblem(
                    None,
                    "truncated",
                    f"the log ends at record "
                    f"{self.head.count} but {name} names record {head.count}: "
                    "records were cut from the end",
                )
            )
            return False
        if self.hash_at.get(head.count) != head.hash:
            self.problems.append(
                AuditProblem(
                    None,
                    "head",
                    f"record {head.count} does not have the hash {name} names ({head.hash[:12]}…)",
                    head.count,
                )
            )
            return False
        return True

    def unvouched(self, vouched_to: int) -> None:
        """A problem for each run of records after `vouched_to` that no MAC vouches for."""
        runs: list[list[int]] = []
        for seq in self.unkeyed:
            if seq <= vouched_to:
                continue
            if runs and seq == runs[-1][1] + 1:
                runs[-1][1] = seq
            else:
                runs.append([seq, seq])
        why = (
            "no audit key was given to check their MACs"
            if self.key is None
            else "they carry no MAC (written without a key)"
        )
        for lo, hi in runs:
            which = f"record {lo}" if lo == hi else f"records {lo}–{hi}"
            self.problems.append(
                AuditProblem(
                    None,
                    "unauthenticated",
                    f"{which}: no key or checkpoint vouches for them ({why}); anyone who can "
                    "write the log could have written them",
                    None,
                    self.unit,
                )
            )


def verify_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    heads: Iterable[tuple[Head, str]] = (),
    key: AuditKey | bytes | None = None,
    checkpoints: Iterable[Head] = (),
    chain_only: bool = False,
    on_record: OnRecord | None = None,
    source: str = "<lines>",
    unit: str = "line",
) -> VerifyReport:
    """Verify (line number, line) pairs as one chain, its end against each (head, name), and
    every record against the key or the checkpoints (unless `chain_only`)."""
    heads = list(heads)
    points = list(checkpoints)
    audit_key = None if key is None else AuditKey.of(key)
    targets = [h.count for h, _ in heads] + [p.count for p in points]
    checker = _Checker(targets, on_record, unit, audit_key)
    for number, raw in lines:
        checker.line(number, raw)
    for head, name in heads:
        checker.against(head, name)
    vouched_to = 0
    for point in points:
        if checker.against(point, f"the checkpoint of record {point.count}"):
            vouched_to = max(vouched_to, point.count)
    if not chain_only:
        checker.unvouched(vouched_to)
    authenticated = not chain_only and not any(
        p.kind in ("unauthenticated", "forged") for p in checker.problems
    )
    return VerifyReport(
        source,
        checker.records,
        checker.head,
        tuple(checker.problems),
        authenticated=authenticated,
    )


def file_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, line with its newline) of a JSON Lines file."""
    try:
        with open(path, "rb") as f:
            yield from enumerate(f, start=1)
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the log: {exc}") from None


def log_lines(path: LogTarget) -> Iterator[tuple[int, bytes]]:
    """The lines of a JSON Lines log, or the rows of a SQLite log or of a PostgreSQL chain."""
    if is_postgres(path):
        return postgres_lines(path)
    return sqlite_lines(path) if is_sqlite(path) else file_lines(path)


def stored_head(path: LogTarget) -> Head | None:
    """The head kept beside a log (in a SQLite log, its head table; in PostgreSQL, the chain's
    head row)."""
    if is_postgres(path):
        return postgres_head(path)
    return sqlite_head(path) if is_sqlite(path) else read_head_file(head_path(path))


def log_targets(path: LogTarget) -> list[LogTarget]:
    """The logs a target stands for: a PostgreSQL URL that names no chain, one URL per chain
    in its database (`with_chain`); any other target, itself."""
    if not is_postgres(path) or Target.parse(path).chain is not None:
        return [path]
    return [with_chain(path, chain) for chain in postgres_chains(path)]


@runtime_checkable
class CheckedCheckpoints(Protocol):
    """Checkpoints read and checked against a public key (`checkpoints.read_checkpoints`)."""

    @property
    def heads(self) -> tuple[Head, ...]: ...

    @property
    def problems(self) -> tuple[AuditProblem, ...]: ...

    @property
    def ok(self) -> bool: ...

    def summary(self) -> str: ...


def verify_log(
    path: LogTarget,
    *,
    key: AuditKey | bytes | None = None,
    checkpoints: CheckedCheckpoints | Iterable[Head] = (),
    expect_head: Head | None = None,
    chain_only: bool = False,
    no_head: bool = False,
    on_record: OnRecord | None = None,
) -> VerifyReport:
    """Verify a JSON Lines or SQLite log, or a chain of a PostgreSQL log (the one its URL names,
    else `main`): its chain, its MACs under `key` (or the `checkpoints` that vouch for it), its
    end against its own head and `expect_head`.

    A log without a head is a problem unless `no_head` says it never had one (records cut from
    its end could then go unseen, unless `expect_head` or a checkpoint names its end). Given the
    result of `read_checkpoints`, the checkpoint file's own problems come first in the report.
    """
    source = log_name(path)
    if not (postgres_has_chain(path) if is_postgres(path) else Path(path).exists()):
        raise AuditError(f"{source}: no such log")
    audit_key = None if key is None else AuditKey.of(key)
    checked: CheckedCheckpoints | None = None
    if isinstance(checkpoints, CheckedCheckpoints):
        checked, heads_signed = checkpoints, checkpoints.heads
    else:
        heads_signed = tuple(checkpoints)
    stored = stored_head(path)
    heads = [(stored, "the head kept beside the log")] if stored is not None else []
    if expect_head is not None:
        heads.append((expect_head, "the expected head"))
    unit = "row" if is_postgres(path) or is_sqlite(path) else "line"
    report = verify_lines(
        log_lines(path),
        heads=heads,
        key=audit_key,
        checkpoints=heads_signed,
        chain_only=chain_only,
        on_record=on_record,
        source=source,
        unit=unit,
    )
    problems = [*(checked.problems if checked is not None else ()), *report.problems]
    if stored is None and not no_head:
        problems.append(
            AuditProblem(
                None,
                "head",
                "no head beside the log (missing or emptied): records cut from its end would go "
                "unseen; if the log never had one, say so (--no-head)",
            )
        )
    if (
        stored is not None
        and (stored.count or report.head.count)
        and audit_key is not None
        and not audit_key.vouches_for_head(stored.count, stored.hash, stored.mac)
    ):
        problems.append(
            AuditProblem(
                None,
                "head",
                f"the head kept beside the log is not authenticated by key {audit_key.id}: "
                "it was rewritten by someone without the key",
            )
        )
    notes = []
    if stored is not None and report.head.count > stored.count:
        notes.append(
            f"{report.head.count - stored.count} records after the head kept beside the log "
            "(written since its last update: a live log, or a crash before the head was updated)"
        )
    torn = None if is_postgres(path) else Path(torn_path(path))
    if torn is not None and torn.exists() and torn.stat().st_size:
        notes.append(
            f"{torn.stat().st_size} bytes of torn records were moved aside to {torn} "
            "when the log was reopened after a crash"
        )
    if checked is not None:
        notes.append(checked.summary())
    if chain_only:
        notes.append(
            "chain only: hashes and links were checked, not MACs; whoever can write the log "
            "could have rewritten it consistently"
        )
    return VerifyReport(
        source,
        report.records,
        report.head,
        tuple(problems),
        stored,
        tuple(notes),
        authenticated=report.authenticated and not problems,
    )
