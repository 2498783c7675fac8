"""The audit trail against whoever can write its files (issue 14): each attack class, on disk.

The attacker here can read and write the log and its head but holds no audit key: every
rewrite they make (recomputed hashes, MACs under a key of their own, a head for a shortened log,
a deleted or emptied head, records appended, reordered or stripped of their MACs) fails `verify`
with the key and is refused when the log is reopened. What the key does not protect against —
a head *copied* earlier and put back, or an attacker who holds the key — is shown too, with what
catches it (a head kept elsewhere; signed checkpoints, tests/test_audit_checkpoints.py).
Applications that JSON cannot carry as they are, and the keyed digest that tells every
application apart, are tested here as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import GOOD_REF, ON, REFERENCE, examples
from secondapproval import AuditError, Engine, Outcome
from secondapproval.audit import (
    AuditKey,
    Head,
    MemorySink,
    facts_hmac,
    lossless,
    lossless_json,
    open_log,
    verify_lines,
    verify_log,
)
from secondapproval.audit.canonical import canonical
from secondapproval.audit.head import head_path, read_head_file

KEY = b"the-audit-key-kept-elsewhere"
THEIRS = b"an-attacker-s-own-key-0123456789"
MATTER = "talent-reference"
RECORDS = 40


def _good(i: int) -> dict[str, object]:
    return {**GOOD_REF, "age": 20 + i % 30, "social_insurance_months": i}


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a keyed JSON Lines log of 40 records and its head."""
    folder = tmp_path_factory.mktemp("log")
    with Engine(REFERENCE, audit=open_log(folder / "audit.jsonl", key=KEY), vouch="all") as engine:
        for i in range(RECORDS):
            engine.decide(MATTER, _good(i), on=ON)
    return folder


@pytest.fixture
def copy_of(original: Path) -> Iterator[Callable[[], Path]]:
    """Fresh copies of the original log (one per Hypothesis example), removed afterwards."""
    made: list[Path] = []

    def fresh() -> Path:
        folder = Path(tempfile.mkdtemp())
        made.append(folder)
        for f in original.iterdir():
            if f.is_file():
                shutil.copy2(f, folder / f.name)
        return folder / "audit.jsonl"

    yield fresh
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


# ---- what an attacker without the key can do to the files ----------------------------------


def records(log: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines()]


def seal(record: dict[str, object], key: bytes | None = THEIRS) -> bytes:
    """A record sealed from scratch: hash recomputed, MACed under `key` (None: no MAC)."""
    body = canonical({k: v for k, v in record.items() if k not in ("hash", "mac")})
    digest = hashlib.sha256(body).hexdigest()
    record["hash"] = digest
    tail = b',"hash":"' + digest.encode() + b'"'
    if key is not None:
        tail += b',"mac":"' + AuditKey(key).record_mac(digest.encode()) + b'"'
    return body[:-1] + tail + b"}\n"


def rechain(docs: list[dict[str, object]], key: bytes | None = THEIRS) -> bytes:
    """Records renumbered and relinked into a chain that holds, sealed under `key`."""
    prev, out = "0" * 64, []
    for seq, original in enumerate(docs, 1):
        doc = {**original, "seq": seq, "prev": prev}
        out.append(seal(doc, key))
        prev = str(doc["hash"])
    return b"".join(out)


def write_head(log: Path, head: Head | None, key: bytes | None = THEIRS) -> None:
    """Rewrite the head file for `head` (MACed under `key`); None deletes it."""
    path = Path(head_path(log))
    if head is None:
        path.unlink()
        return
    mac = AuditKey(key).head_mac(head.count, head.hash) if key is not None else None
    path.write_bytes(Head(head.count, head.hash, mac).to_bytes())


def end_of(data: bytes) -> Head:
    last = orjson.loads(data.splitlines()[-1]) if data else None
    return Head(int(last["seq"]), str(last["hash"])) if last else Head()


def edit(doc: dict[str, object]) -> dict[str, object]:
    """The edit an attacker wants: a referral turned into an approval (or the reverse)."""
    approve = doc["outcome"] == "approve"
    return {
        **doc,
        "outcome": "refer" if approve else "approve",
        "reasons": ["X"] if approve else [],
    }


ATTACKS = [
    "edit-and-reseal",
    "append-forgery",
    "truncate-rewrite-head",
    "truncate-delete-head",
    "truncate-empty-head",
    "reorder-and-rechain",
    "rewrite-all-under-own-key",
    "strip-macs",
    "drop-one-and-rechain",
]


def attack(log: Path, kind: str, i: int) -> None:
    """Apply one attack to the log at `log` (and its head), using record index `i`."""
    docs = records(log)
    i %= len(docs)
    if kind == "edit-and-reseal":
        lines = log.read_bytes().splitlines(keepends=True)
        doc = edit(docs[i])
        lines[i] = seal(doc)
        log.write_bytes(b"".join(lines))
    elif kind == "append-forgery":
        last = docs[-1]
        forged = {**last, "seq": last["seq"] + 1, "prev": last["hash"], "decision_id": "x-1"}
        data = log.read_bytes() + seal(edit(forged))
        log.write_bytes(data)
        write_head(log, end_of(data))
    elif kind.startswith("truncate"):
        data = b"".join(log.read_bytes().splitlines(keepends=True)[: max(i, 1)])
        log.write_bytes(data)
        if kind == "truncate-rewrite-head":
            write_head(log, end_of(data))
        elif kind == "truncate-delete-head":
            write_head(log, None)
        else:
            Path(head_path(log)).write_bytes(b"")
    elif kind == "reorder-and-rechain":
        j = (i + 1) % len(docs)
        docs[i], docs[j] = docs[j], docs[i]
        data = rechain(docs)
        log.write_bytes(data)
        write_head(log, end_of(data))
    elif kind == "rewrite-all-under-own-key":
        data = rechain([edit(d) if n == i else d for n, d in enumerate(docs)])
        log.write_bytes(data)
        write_head(log, end_of(data))
    elif kind == "strip-macs":
        data = rechain([edit(d) if n == i else d for n, d in enumerate(docs)], key=None)
        log.write_bytes(data)
        write_head(log, end_of(data), key=None)
    elif kind == "drop-one-and-rechain":
        data = rechain(docs[:i] + docs[i + 1 :])
        log.write_bytes(data)
        write_head(log, end_of(data))
    else:  # pragma: no cover - the list above is the whole set
        raise AssertionError(kind)


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kind=st.sampled_from(ATTACKS), i=st.integers(0, RECORDS - 1))
def test_no_attack_without_the_key_passes_verify_or_reopening(
    copy_of: Callable[[], Path], kind: str, i: int
) -> None:
    """Every rewrite by someone without the key fails verify with the key. Reopening checks
    the end of the log (its last record's MAC and the head), so every attack that changes the end
    is refused there too and the log is never continued as if nothing happened; an edit further
    back is verify's to find."""
    log = copy_of()
    attack(log, kind, i)
    report = verify_log(log, key=KEY)
    assert not report.ok, (kind, i, report.summary())
    assert not report.authenticated
    if kind == "edit-and-reseal" and i != RECORDS - 1:
        return
    with pytest.raises(AuditError):
        open_log(log, key=KEY).close()


def test_the_untouched_log_verifies_and_reopens(copy_of: Callable[[], Path]) -> None:
    """The control: the same log, untouched, verifies authenticated and continues."""
    log = copy_of()
    report = verify_log(log, key=KEY)
    assert report.ok, report.summary()
    assert report.authenticated
    with Engine(REFERENCE, audit=open_log(log, key=KEY), vouch="all") as engine:
        engine.decide(MATTER, _good(1), on=ON)
    assert verify_log(log, key=KEY).records == RECORDS + 1


def test_without_the_key_verify_fails_unless_asked_for_the_chain_alone(
    copy_of: Callable[[], Path],
) -> None:
    """No key: nothing vouches for the records, so verify fails; `chain_only` checks the rest."""
    log = copy_of()
    report = verify_log(log)
    assert not report.ok
    assert [p.kind for p in report.problems] == ["unauthenticated"]
    assert "records 1–40" in report.problems[0].message
    chain = verify_log(log, chain_only=True)
    assert chain.ok
    assert not chain.authenticated
    assert "chain only" in chain.summary()


def test_a_log_reopened_without_its_key_refuses_records(copy_of: Callable[[], Path]) -> None:
    """A keyed log cannot be continued without its key, nor under another key."""
    log = copy_of()
    sink = open_log(log)
    with pytest.raises(AuditError, match="written with an audit key"):
        Engine(REFERENCE, audit=sink)
    sink.close()
    with pytest.raises(AuditError, match="not authenticated by key"):
        open_log(log, key=b"another-key-of-sixteen-bytes").close()


@pytest.mark.parametrize("how", ["delete", "empty"])
def test_a_missing_head_is_refused_until_rebuilt_on_purpose(
    copy_of: Callable[[], Path], how: str
) -> None:
    """Head laundering: without its head a shortened log would look whole, so it is refused
    (verify: a `head` problem; reopening: AuditError) until the caller says to rebuild it."""
    log = copy_of()
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:25]))
    head = Path(head_path(log))
    head.unlink() if how == "delete" else head.write_bytes(b"")
    report = verify_log(log, key=KEY)
    assert [p.kind for p in report.problems] == ["head"]
    with pytest.raises(AuditError, match="no head"):
        open_log(log, key=KEY)
    assert verify_log(log, key=KEY, no_head=True).ok  # the caller says it never had one
    with open_log(log, key=KEY, rebuild_head=True) as sink:
        assert sink.head.count == 25
    rebuilt = read_head_file(head_path(log))
    assert rebuilt is not None
    assert rebuilt.count == 25
    assert rebuilt.mac is not None
    assert verify_log(log, key=KEY).ok


def test_a_head_copied_earlier_is_caught_only_by_a_head_kept_elsewhere(
    copy_of: Callable[[], Path],
) -> None:
    """The limit of the key: cutting the log back to a head the attacker copied earlier passes
    verify; the head the owner kept elsewhere (`expect_head`) exposes it."""
    log = copy_of()
    lines = log.read_bytes().splitlines(keepends=True)
    kept_elsewhere = verify_log(log, key=KEY).head
    sink = open_log(log, key=KEY)
    sink.close()
    early = Path(head_path(log)).read_bytes()
    with Engine(REFERENCE, audit=open_log(log, key=KEY), vouch="all") as engine:  # the log grows
        engine.decide(MATTER, _good(3), on=ON)
    kept_elsewhere = verify_log(log, key=KEY).head
    log.write_bytes(b"".join(lines))  # cut back to 40 records …
    Path(head_path(log)).write_bytes(early)  # … and the head copied at 40 put back
    assert verify_log(log, key=KEY).ok
    report = verify_log(log, key=KEY, expect_head=kept_elsewhere)
    assert [p.kind for p in report.problems] == ["truncated"]


def test_whoever_holds_the_key_is_caught_by_a_head_kept_elsewhere(
    copy_of: Callable[[], Path],
) -> None:
    """With the key an attacker can rewrite log and head consistently: verify with the key
    passes, a head kept elsewhere does not."""
    log = copy_of()
    kept_elsewhere = verify_log(log, key=KEY).head
    docs = records(log)
    data = rechain([edit(d) if n == 7 else d for n, d in enumerate(docs)], key=KEY)
    log.write_bytes(data)
    write_head(log, end_of(data), key=KEY)
    assert verify_log(log, key=KEY).ok
    report = verify_log(log, key=KEY, expect_head=kept_elsewhere)
    assert [p.kind for p in report.problems] == ["head"]


def test_in_memory_chains_are_authenticated_the_same_way() -> None:
    """verify_lines with the key flags a record MACed under another key as forged."""
    sink = MemorySink(key=KEY)
    engine = Engine(REFERENCE, audit=sink, vouch="all")
    for i in range(5):
        engine.decide(MATTER, _good(i), on=ON)
    lines = list(sink.lines)
    lines[2] = seal(edit(orjson.loads(lines[2])))
    report = verify_lines(enumerate(lines, 1), key=KEY)
    assert "forged" in [p.kind for p in report.problems]


# ---- applications JSON cannot carry as they are (class 1) ----------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=6)
ODD = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.binary(max_size=4)
    | ANY_TEXT
    | st.decimals()
    | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.frozensets(st.integers(), max_size=3)
        | st.dictionaries(ANY_TEXT | st.integers(), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=examples(150), deadline=None)
@given(key=st.sampled_from(sorted(GOOD_REF)) | ANY_TEXT, value=ODD)
def test_any_application_is_decided_alike_with_and_without_audit_and_recorded(
    key: str, value: object
) -> None:
    """A value under a declared or an undeclared key — a 100-digit int, bytes, a lone surrogate,
    NaN, a tuple — never makes an audited decide() raise: it decides as the unaudited engine does
    (never an approval on such a value) and is recorded, losslessly digested, in a valid chain."""
    facts = {**GOOD_REF, key: value}
    plain = Engine(REFERENCE, vouch="all").decide(MATTER, facts, on=ON)
    sink = MemorySink(key=KEY)
    audited = Engine(REFERENCE, audit=sink, vouch="all").decide(MATTER, facts, on=ON)
    assert (audited.outcome, audited.codes) == (plain.outcome, plain.codes)
    if audited.outcome is Outcome.APPROVE:  # only a declared key with a value of its type
        assert key in GOOD_REF
        assert type(value) is type(GOOD_REF[key])
    (line,) = sink.lines
    assert orjson.loads(line)["facts_hmac"] == facts_hmac(KEY, facts)
    assert verify_lines(enumerate(sink.lines, 1), key=KEY).ok


def test_a_deep_application_is_referred_and_recorded_with_a_bounded_note() -> None:
    """Nesting far beyond the limits: INVALID:$, and the record holds a note, not the value."""
    deep: object = 1
    for _ in range(10_000):
        deep = [deep]
    sink = MemorySink(key=KEY)
    decision = Engine(REFERENCE, audit=sink, vouch="all").decide(
        MATTER, {**GOOD_REF, "x": deep}, on=ON
    )
    assert decision.codes == ("INVALID:$",)
    (line,) = sink.lines
    assert len(line) < 4000
    assert orjson.loads(line)["facts"]["$"] == "omitted"


# ---- the keyed facts digest tells every application apart (class 3) -------------------------

PAIRS = {
    "undeclared-null": ({}, {"x": None}),  # an undeclared null
    "int-float": ({"a": 1}, {"a": 1.0}),
    "int-bool": ({"a": 1}, {"a": True}),
    "int-text": ({"a": 1}, {"a": "1"}),
    "text-decimal": ({"a": "1.0"}, {"a": Decimal("1.0")}),
    "decimal-scale": ({"a": Decimal("1.0")}, {"a": Decimal("1.00")}),
    "text-date": ({"a": "2020-01-01"}, {"a": dt.date(2020, 1, 1)}),
    "list-tuple": ({"a": [1, 2]}, {"a": (1, 2)}),
    "list-order": ({"a": [1, 2]}, {"a": [2, 1]}),
    "bytes-text": ({"a": b"x"}, {"a": "x"}),
    "text-key-int-key": ({"1": 1}, {1: 1}),
    "tag-like-object": ({"$": "int", "v": "5"}, {"a": 5}),
    "tag-like-group": ({"x": {"$": "int", "v": "5"}}, {"x": 5}),
    "nan-null": ({"x": float("nan")}, {"x": None}),
    "surrogate-escape": ({"x": "\ud800"}, {"x": "\\ud800"}),
    "big-int-text": ({"x": 2**64}, {"x": str(2**64)}),
}


@pytest.mark.parametrize(("one", "other"), PAIRS.values(), ids=PAIRS.keys())
def test_applications_the_validator_can_tell_apart_have_different_digests(
    one: object, other: object
) -> None:
    """Each pair differs in a way a validator can see; their lossless forms and keyed digests
    differ too (the v1 digest, over plain canonical JSON, confused several of them)."""
    assert lossless_json(one) != lossless_json(other)
    assert facts_hmac(KEY, one) != facts_hmac(KEY, other)


@settings(max_examples=examples(300), deadline=None)
@given(one=ODD, other=ODD)
def test_equal_lossless_forms_mean_equal_values(one: object, other: object) -> None:
    """The lossless form is a function of the value's exact type and content: equal forms come
    only from values equal in type and content (NaN aside, which equals nothing)."""
    if lossless_json(one) == lossless_json(other):
        assert _same(one, other), (one, other)


def _same(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a != a:
        return b != b
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)  # type: ignore[attr-defined,index]
    if isinstance(a, Decimal):
        return str(a) == str(b)
    return a == b


def test_the_lossless_form_leaves_plain_json_alone_and_tags_the_rest() -> None:
    """Plain JSON is its own lossless form; other values become `{"$": type, "v": …}`."""
    plain = {"a": [1, "x", None, True, 2.5], "b": {"c": {}}}
    assert lossless(plain) == plain
    assert lossless(2**70) == {"$": "int", "v": str(2**70)}
    assert lossless(b"\x00") == {"$": "bytes", "v": "AA=="}
    assert lossless((1,)) == {"$": "tuple", "v": [1]}
    assert lossless({"$": 1}) == {"$": "dict", "v": [["$", 1]]}
    assert lossless(float("-inf")) == {"$": "float", "v": "-inf"}
    assert lossless("\udc80") == {"$": "str", "v": '"\\udc80"'}


def test_the_deepest_application_the_limits_allow_is_recorded() -> None:
    """At `Limits.max_depth = MAX_DEPTH`, an application nested that deep in tuples under
    non-string keys (three levels of lossless form per level) is still recorded and verifies."""
    from secondapproval.limits import MAX_DEPTH, Limits

    deep: object = 1
    for level in range(MAX_DEPTH - 1):  # with the application itself: MAX_DEPTH levels
        deep = {1: deep} if level % 2 else (deep,)
    sink = MemorySink(key=KEY)
    engine = Engine(REFERENCE, audit=sink, limits=Limits(max_depth=MAX_DEPTH), vouch="all")
    decision = engine.decide(MATTER, {**GOOD_REF, "x": deep}, on=ON)
    assert decision.codes == ("INVALID:x",)
    assert verify_lines(enumerate(sink.lines, 1), key=KEY).ok
    with pytest.raises(ValueError, match="at most 64"):
        Limits(max_depth=MAX_DEPTH + 1)


def test_a_head_naming_no_record_does_not_launder_a_cut_log(copy_of: Callable[[], Path]) -> None:
    """Cut records and write a head of count 0: without the key's MAC on it, verify and
    reopening refuse it (a new log's head is MACed as soon as its key is known)."""
    log = copy_of()
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:10]))
    Path(head_path(log)).write_bytes(Head().to_bytes())
    assert [p.kind for p in verify_log(log, key=KEY).problems] == ["head"]
    with pytest.raises(AuditError, match="head kept beside the log is not authenticated"):
        open_log(log, key=KEY)


def test_a_crash_before_the_first_head_update_leaves_a_log_that_reopens(tmp_path: Path) -> None:
    """A new keyed log's head (count 0) is MACed at once, so records committed before a crash
    that left that head behind are simply records after the head: the log reopens and continues."""
    log = tmp_path / "audit.jsonl"
    open_log(log, key=KEY).close()
    fresh_head = Path(head_path(log)).read_bytes()
    with Engine(REFERENCE, audit=open_log(log, key=KEY), vouch="all") as engine:
        engine.decide(MATTER, _good(1), on=ON)
    Path(head_path(log)).write_bytes(fresh_head)  # as if the head update never reached the disk
    report = verify_log(log, key=KEY)
    assert report.ok, report.summary()
    assert "1 records after the head" in report.notes[0]
    with Engine(REFERENCE, audit=open_log(log, key=KEY), vouch="all") as engine:
        engine.decide(MATTER, _good(2), on=ON)
    assert verify_log(log, key=KEY).records == 2
