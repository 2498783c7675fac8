"""The rule-set snapshot and the Engine's swap: a digest, and one snapshot a decision.

A snapshot's digest covers every file that can change a decision and the engine's limits, and
nothing else (not where the files lie). A decision names the snapshot it was decided under, and
`Engine.swap` hands the engine a new snapshot atomically: under threads that decide while another
swaps, every decision — and its audit record — is wholly the old snapshot's or wholly the new's.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import GOOD_REF, ON, REFERENCE, examples
from secondapproval import Engine, Limits, Outcome, UnknownMatterError
from secondapproval.audit.files import open_log
from secondapproval.audit.jsonl import JsonLinesSink
from secondapproval.audit.sinks import MemorySink
from secondapproval.audit.verify import verify_log
from secondapproval.snapshot import RuleSetSnapshot

MATTER = REFERENCE / "talent-reference.yaml"
KEY = b"snapshot-test-key-kept-elsewhere"


def rules_with_age_limit(folder: Path, limit: int) -> Path:
    """The reference rule set with the master's age limit changed to `limit`."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REFERENCE / "sources.yaml", folder / "sources.yaml")
    text = MATTER.read_text(encoding="utf-8")
    changed = text.replace('"master": 40', f'"master": {limit}')
    assert changed != text or limit == 40
    (folder / "talent-reference.yaml").write_text(changed, encoding="utf-8")
    return folder


# ---- the digest ----------------------------------------------------------------------------------


def test_the_digest_does_not_depend_on_where_the_rules_lie(tmp_path: Path) -> None:
    a = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "a", 40))
    b = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "deep" / "er" / "b", 40))
    assert a.digest == b.digest == RuleSetSnapshot.load(REFERENCE).digest
    assert a.files == b.files
    assert [path for path, _ in a.files] == ["sources.yaml", "talent-reference.yaml"]


def test_the_digest_changes_with_any_file_and_with_the_limits(tmp_path: Path) -> None:
    base = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "a", 40))
    other_rule = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "b", 39))
    folder = rules_with_age_limit(tmp_path / "c", 40)
    registry = folder / "sources.yaml"
    registry.write_text(registry.read_text(encoding="utf-8") + "\n# a comment\n", "utf-8")
    other_registry = RuleSetSnapshot.load(folder)
    tighter = RuleSetSnapshot.load(tmp_path / "a", limits=Limits(max_keys=50))
    digests = {s.digest for s in (base, other_rule, other_registry, tighter)}
    assert len(digests) == 4
    assert RuleSetSnapshot.load(tmp_path / "a", limits=Limits()).digest == base.digest


def test_the_digest_is_the_sha256_of_the_sorted_files_and_the_limits(tmp_path: Path) -> None:
    import dataclasses
    import hashlib

    snap = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "a", 40))
    for path, digest in snap.files:
        assert hashlib.sha256((tmp_path / "a" / path).read_bytes()).hexdigest() == digest
    text = orjson.dumps(
        {"files": [list(f) for f in snap.files], "limits": dataclasses.asdict(Limits())},
        option=orjson.OPT_SORT_KEYS,
    )
    assert snap.digest == hashlib.sha256(text).hexdigest()


def test_matters_checked_in_python_have_a_digest_too() -> None:
    matters = Engine(REFERENCE).versions("talent-reference")
    snap = RuleSetSnapshot.load(matters)
    assert snap.matters == ("talent-reference",)
    assert snap.digest == RuleSetSnapshot.load(matters).digest


# ---- a decision names its snapshot -------------------------------------------------------------


def test_a_decision_names_its_snapshot_and_its_version() -> None:
    engine = Engine(REFERENCE, vouch="all")
    d = engine.decide("talent-reference", GOOD_REF, on=ON)
    assert d.snapshot == engine.snapshot.digest
    assert d.digest == engine.versions("talent-reference")[0].digest
    early = engine.decide("talent-reference", GOOD_REF, on=dt.date(1999, 1, 1))
    assert early.codes == ("NO_VERSION",)
    assert early.snapshot == engine.snapshot.digest


# ---- swap ---------------------------------------------------------------------------------------


def test_swap_decides_under_the_new_snapshot_and_returns_the_old(tmp_path: Path) -> None:
    old = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "a", 40))
    new = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "b", 29))
    engine = Engine(snapshot=old, vouch="all")
    assert engine.decide("talent-reference", GOOD_REF, on=ON).approved
    assert engine.swap(new) is old
    assert engine.snapshot is new
    d = engine.decide("talent-reference", GOOD_REF, on=ON)
    assert d.outcome is Outcome.REFER
    assert d.codes == ("AGE_LIMIT",)
    assert d.snapshot == new.digest
    assert engine.versions("talent-reference") == new.versions("talent-reference")


def test_swap_to_a_rule_set_without_the_matter_makes_it_unknown(tmp_path: Path) -> None:
    engine = Engine(REFERENCE, vouch="all")
    folder = tmp_path / "other"
    shutil.copytree(Path(__file__).parents[1] / "rules" / "newborn", folder)
    shutil.copy(Path(__file__).parents[1] / "rules" / "sources.yaml", folder / "sources.yaml")
    engine.swap(RuleSetSnapshot.load(folder))
    with pytest.raises(UnknownMatterError):
        engine.decide("talent-reference", GOOD_REF, on=ON)


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(st.sampled_from([29, 40, 50]) | st.none(), min_size=1, max_size=12))
def test_after_any_swaps_an_engine_decides_as_a_fresh_one(
    tmp_path_factory: pytest.TempPathFactory, steps: list[int | None]
) -> None:
    """Swapping (a limit) or deciding (None), in any order: each decision equals a fresh
    Engine's over the snapshot in force."""
    root = tmp_path_factory.mktemp("swaps")
    snaps = {
        limit: RuleSetSnapshot.load(rules_with_age_limit(root / str(limit), limit))
        for limit in (29, 40, 50)
    }
    fresh = {limit: Engine(snapshot=s, vouch="all") for limit, s in snaps.items()}
    engine, current = Engine(snapshot=snaps[40], vouch="all"), 40
    application = {**GOOD_REF, "age": 35}
    for step in steps:
        if step is not None:
            engine.swap(snaps[step])
            current = step
        else:
            got = engine.decide("talent-reference", application, on=ON)
            assert got == fresh[current].decide("talent-reference", application, on=ON)
            assert got.snapshot == snaps[current].digest


def test_under_threads_each_decision_and_its_record_are_wholly_one_snapshots(
    tmp_path: Path,
) -> None:
    """Four threads decide while the main thread swaps back and forth (200 times): a decision
    approved by the lenient snapshot names it, one referred names the strict one, and each audit
    record names the matter version of the decision's own snapshot."""
    lenient = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "lenient", 40))
    strict = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "strict", 29))
    version_of = {s.digest: s.versions("talent-reference")[0].digest for s in (lenient, strict)}
    sink = MemorySink()
    engine = Engine(snapshot=lenient, audit=sink, audit_key=KEY, vouch="all")
    stop = threading.Event()
    seen: list[tuple[str | None, bool, str | None]] = []
    failures: list[BaseException] = []

    def decide() -> None:
        try:
            while not stop.is_set():
                d = engine.decide("talent-reference", GOOD_REF, on=ON)
                seen.append((d.snapshot, d.approved, d.digest))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(examples(200)):  # few under the quick profile
        engine.swap(strict if i % 2 == 0 else lenient)
        decided = len(seen)
        while len(seen) < decided + 4 and not failures:  # let the threads decide under it
            time.sleep(0)
    stop.set()
    for t in threads:
        t.join()
    assert not failures
    assert {snapshot for snapshot, _, _ in seen} == {lenient.digest, strict.digest}
    for snapshot, approved, digest in seen:
        assert approved is (snapshot == lenient.digest)
        assert digest == version_of[snapshot]
    every = [orjson.loads(line) for line in sink.lines]
    swaps = [r for r in every if r.get("kind") == "swap"]
    records = [r for r in every if "kind" not in r]
    assert len(records) == len(seen)
    assert [(s["old"], s["new"]) for s in swaps] == [
        (
            lenient.digest if i % 2 == 0 else strict.digest,
            strict.digest if i % 2 == 0 else lenient.digest,
        )
        for i in range(len(swaps))
    ]
    assert len(swaps) == examples(200)
    for record in records:
        approved = record["outcome"] == "approve"
        assert record["digest"] == version_of[lenient.digest if approved else strict.digest]


def test_an_audited_swap_is_a_chained_swap_record_that_verify_accepts(tmp_path: Path) -> None:
    """Each swap writes a `swap` record (old and new digests), MACed and chained like a decision;
    the log verifies, and a swap record edited (its new digest) is caught."""
    lenient = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "lenient", 40))
    strict = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "strict", 29))
    log = tmp_path / "audit.jsonl"
    with Engine(snapshot=lenient, audit=open_log(log, key=KEY), vouch="all") as engine:
        engine.decide("talent-reference", GOOD_REF, on=ON)
        engine.swap(strict)
        engine.decide("talent-reference", GOOD_REF, on=ON)
    lines = log.read_bytes().splitlines(keepends=True)
    swap = orjson.loads(lines[1])
    assert (swap["kind"], swap["old"], swap["new"], swap["seq"]) == (
        "swap",
        lenient.digest,
        strict.digest,
        2,
    )
    assert "mac" in swap
    assert verify_log(log, key=KEY).ok
    log.write_bytes(
        lines[0] + lines[1].replace(strict.digest.encode(), lenient.digest.encode()) + lines[2]
    )
    assert not verify_log(log, key=KEY).ok


def test_an_audited_swap_keeps_the_new_rule_texts_beside_the_log(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    sink = JsonLinesSink(log, fsync="always")
    old = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "a", 40))
    new = RuleSetSnapshot.load(rules_with_age_limit(tmp_path / "b", 29))
    with Engine(snapshot=old, audit=sink, audit_key=KEY, vouch="all") as engine:
        engine.decide("talent-reference", GOOD_REF, on=ON)
        engine.swap(new)
        engine.decide("talent-reference", GOOD_REF, on=ON)
    kept = {p.name for p in (tmp_path / "audit.jsonl.rules").iterdir()}
    assert kept == {
        old.versions("talent-reference")[0].digest,
        new.versions("talent-reference")[0].digest,
    }
