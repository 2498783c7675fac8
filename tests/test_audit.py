"""The audit trail: records, masking, the hash chain under mutation, replay and the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import REFERENCE, RULES, examples, write_matter
from secondapproval import AuditError, Engine
from secondapproval.audit import (
    GENESIS,
    AuditRecord,
    Head,
    MemorySink,
    RuleIndex,
    canonical,
    facts_hmac,
    json_schema,
    mask,
    open_log,
    replay_log,
    verify_lines,
    verify_log,
)
from secondapproval.audit.canonical import split_sealed
from secondapproval.audit.keys import AuditKey
from secondapproval.audit.lossless import lossless
from secondapproval.audit.record import utc_now
from secondapproval.cli import main
from secondapproval.decision import jsonable
from secondapproval.strategies import applications, bad_cn_ids, cn_ids

ON = dt.date(2024, 6, 1)
KEY = b"test-key-kept-outside-the-log"
SOURCES = """sources:
  - id: public-security
    office: {zh: 公安机关, en: Public security bureau}
    authoritative: true
"""
MATTER = """matter: audit-sample
title: {zh: 审计样例, en: Audit sample}
version: "1"
effective: {from: "2000-01-01"}
sources: [{id: T, status: third-party}]
facts:
  applicant.id_number: {type: cn_id, source: public-security, pii: true}
  applicant.age: {type: int, derive: "age_on(applicant.id_number, decision_date)"}
  applicant.phone: {type: str, source: applicant, pii: true, optional: true}
  degree: {type: enum, values: [associate, bachelor, master], source: applicant}
rules:
  - id: adult
    when: applicant.age >= 18
    says: {zh: 已成年, en: Adult}
    refer: {code: MINOR, zh: 未成年, en: Minor}
  - id: age-limit
    when: applicant.age <= LIMIT_YEARS
    says: {zh: 年龄不超过上限, en: Age within the limit}
    refer: {code: AGE_LIMIT, zh: 年龄超过上限, en: Age above the limit}
  - id: degree-level
    when: degree in ["bachelor", "master"]
    says: {zh: 本科及以上, en: Bachelor or higher}
    refer: {code: DEGREE_LEVEL, zh: 学历不足, en: Degree too low}
"""
PII_RULE = """  - id: not-blocked
    when: applicant.id_number != "110101199003070000"
    says: {zh: 未被列入名单, en: Not on the list}
    refer: {code: BLOCKED, zh: 已列入名单, en: On the list}
"""


def rules_folder(path: Path, age_limit: int = 35, pii_rule: bool = False, pii: bool = True) -> Path:
    """A rules folder holding the sample matter (with its age limit) and its sources."""
    text = MATTER.replace("LIMIT_YEARS", str(age_limit)) + (PII_RULE if pii_rule else "")
    if not pii:
        text = text.replace(", pii: true", "")
    return write_matter(path, text, "sample.yaml", sources=SOURCES)


def application(id_number: str, degree: str = "bachelor", phone: str | None = None) -> dict:
    applicant: dict = {"id_number": id_number}
    if phone is not None:
        applicant["phone"] = phone
    return {"applicant": applicant, "degree": degree}


def id_born(year: int, seq: int = 1) -> str:
    from secondapproval.idcodes import cn_id_check_character

    first17 = f"440301{year}0101{seq:03d}"
    return first17 + cn_id_check_character(first17)


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rules_folder(tmp_path_factory.mktemp("rules"))


def fixed_clock() -> dt.datetime:
    return dt.datetime(2024, 6, 1, 8, 30, tzinfo=dt.UTC)


def docs(lines: list[bytes]) -> list[dict]:
    return [orjson.loads(line) for line in lines]


# ---- records ------------------------------------------------------------------------------


def test_record_holds_the_decision_and_links_to_genesis(rules: Path) -> None:
    """A record names the decision, rule set, engine, results, reasons and links to genesis."""
    sink = MemorySink()
    engine = Engine(rules, audit=sink, audit_key=KEY, clock=fixed_clock, vouch="all")
    d = engine.decide("audit-sample", application(id_born(1990), "associate"), on=ON)
    (record,) = docs(sink.lines)
    assert record["decision_id"] == d.decision_id
    assert record["digest"] == d.digest
    assert record["version"] == "1"
    assert record["outcome"] == "refer"
    assert record["reasons"] == ["DEGREE_LEVEL"]
    assert record["time"] == "2024-06-01T08:30:00Z"
    assert record["on"] == "2024-06-01"
    assert record["values"]["applicant.age"] == 34
    assert [r["status"] for r in record["results"]] == ["passed", "passed", "failed"]
    assert record["prev"] == GENESIS
    assert record["seq"] == 1
    assert record["engine"].startswith("secondapproval ")
    assert record["backend"] == "native 1"
    assert record["latency_ns"] > 0
    AuditRecord.model_validate(record)


def test_line_is_canonical_json_and_hash_covers_the_rest(rules: Path) -> None:
    """A line is the canonical JSON of the record without `hash` and `mac`, then its SHA-256 and
    the HMAC of that under the chain key derived from the audit key."""
    sink = MemorySink()
    Engine(rules, audit=sink, audit_key=KEY, vouch="all").decide(
        "audit-sample", application(id_born(1990))
    )
    line = sink.lines[0]
    record = orjson.loads(line)
    claimed, mac = record.pop("hash"), record.pop("mac")
    body = canonical(record)
    assert hashlib.sha256(body).hexdigest() == claimed
    chain_key = hmac.digest(KEY, b"secondapproval audit v2 chain", "sha256")
    assert mac == hmac.digest(chain_key, b"record:" + claimed.encode(), "sha256").hex()
    sealed = b',"hash":"' + claimed.encode() + b'","mac":"' + mac.encode() + b'"}\n'
    assert line == body[:-1] + sealed
    independent = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert body == independent.encode("utf-8")


def test_records_chain_in_order_and_verify(rules: Path) -> None:
    """Each record's prev is the hash of the record before it; verify accepts the chain."""
    sink = MemorySink()
    engine = Engine(rules, audit=sink, audit_key=KEY, vouch="all")
    for year in range(1980, 2000):
        engine.decide("audit-sample", application(id_born(year)), on=ON)
    records = docs(sink.lines)
    assert [r["seq"] for r in records] == list(range(1, 21))
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(records))
    report = verify_lines(enumerate(sink.lines, 1), heads=[(sink.head, "head")], key=KEY)
    assert report.ok
    assert report.authenticated
    assert report.head == Head(20, records[-1]["hash"])


def test_no_version_is_recorded_with_facts_masked(rules: Path) -> None:
    """A decision with no version in force is recorded (NO_VERSION), its facts fully masked."""
    sink = MemorySink()
    engine = Engine(rules, audit=sink, audit_key=KEY, vouch="all")
    engine.decide("audit-sample", application(id_born(1990)), on=dt.date(1999, 1, 1))
    (record,) = docs(sink.lines)
    assert record["reasons"] == ["NO_VERSION"]
    assert record["digest"] is None
    assert id_born(1990) not in sink.lines[0].decode()


def test_time_is_recorded_in_utc(rules: Path) -> None:
    """A clock in another time zone is recorded as the same instant in UTC."""
    sink = MemorySink()
    beijing = dt.timezone(dt.timedelta(hours=8))
    clock = lambda: dt.datetime(2024, 6, 1, 16, 30, tzinfo=beijing)  # noqa: E731
    Engine(rules, audit=sink, audit_key=KEY, clock=clock, vouch="all").decide(
        "audit-sample", application(id_born(1990)), on=ON
    )
    assert docs(sink.lines)[0]["time"] == "2024-06-01T08:30:00Z"


def test_decide_is_the_class_method_audited_or_not(rules: Path) -> None:
    """No instance override of decide (issue 15): audited or not, `decide` is the class's own
    method; only the audited engine writes a record."""
    sink = MemorySink()
    plain = Engine(rules, vouch="all")
    audited = Engine(rules, audit=sink, audit_key=KEY, vouch="all")
    for engine in (plain, audited):
        assert "decide" not in vars(engine)
        assert "decide_many" not in vars(engine)
    plain.decide("audit-sample", application(id_born(1990)), on=ON)
    assert sink.lines == []
    audited.decide("audit-sample", application(id_born(1990)), on=ON)
    assert len(sink.lines) == 1


def test_schema_is_published() -> None:
    """The record schema is a JSON Schema naming every field of a record."""
    doc = json_schema()
    assert doc["$id"] == "urn:secondapproval:audit"
    assert {"prev", "hash", "facts_hmac", "digest", "latency_ns"} <= set(doc["properties"])


def test_facts_digest_is_hmac_of_the_canonical_application(rules: Path) -> None:
    """The facts digest is HMAC-SHA256 of the canonical application, under the engine's key."""
    sink = MemorySink()
    facts = application(id_born(1985), phone="13800138000")
    Engine(rules, audit=sink, audit_key=KEY, vouch="all").decide("audit-sample", facts, on=ON)
    (record,) = docs(sink.lines)
    assert record["facts_hmac"] == facts_hmac(KEY, facts)
    assert record["facts_hmac"] != facts_hmac(b"another key, sixteen bytes or more", facts)


# ---- personal data ------------------------------------------------------------------------


def test_mask_keeps_only_the_ends() -> None:
    """An ID number keeps its first three and last four characters."""
    assert mask("44030119900101123X") == "440***********123X"
    assert mask("13800138000") == "138****8000"
    assert mask("abc") == "***"


@settings(max_examples=examples(40))
@given(
    id_number=st.one_of(cn_ids(), bad_cn_ids().filter(lambda v: isinstance(v, str) and len(v) > 6)),
    phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    misplaced=st.booleans(),
)
def test_personal_data_never_appears_unmasked(
    rules: Path,
    tmp_path_factory: pytest.TempPathFactory,
    id_number: str,
    phone: str,
    misplaced: bool,
) -> None:
    """No pii value (valid, invalid or under an undeclared key) appears anywhere in a log file."""
    log = tmp_path_factory.mktemp("pii") / "audit.jsonl"
    facts = application(id_number, phone=phone)
    if misplaced:
        facts["applicant"]["id_numbr"] = id_number
    with Engine(rules, audit=open_log(log, fsync="none"), audit_key=KEY, vouch="all") as engine:
        engine.decide("audit-sample", facts, on=ON)
    text = b"".join(p.read_bytes() for p in log.parent.iterdir() if p.is_file())
    assert id_number.encode() not in text
    assert phone.encode() not in text
    assert mask(id_number).encode() in text


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=5)
"""Text that may hold lone surrogates, which JSON text cannot carry."""
ODD_VALUES = (
    st.integers()  # beyond 64 bits too
    | st.floats()  # NaN and the infinities too
    | st.binary(max_size=4)
    | ANY_TEXT
    | st.decimals()
    | st.dates()
    | st.builds(object)
)


CLOCKS = st.sampled_from(
    [
        utc_now,
        fixed_clock,
        lambda: dt.datetime(2024, 6, 1, 8, 30),  # naive: taken as UTC
        lambda: dt.datetime(2024, 6, 1, 16, 30, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    ]
)


class SettableClock:
    """A clock whose time source a test sets (the engines of a module-scoped fixture share it)."""

    def __init__(self) -> None:
        self.source: Callable[[], dt.datetime] = utc_now

    def __call__(self) -> dt.datetime:
        return self.source()


CLOCK = SettableClock()


@pytest.fixture(scope="module")
def varied_engines(
    rules: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[Engine, MemorySink]]:
    """Engines over matters with personal data or none, groups, derived facts, and flat ones."""
    folders = [
        rules,
        rules_folder(tmp_path_factory.mktemp("no-pii"), pii=False),
        RULES,
        REFERENCE,
    ]
    sinks = [MemorySink() for _ in folders]
    return [
        (Engine(folder, audit=sink, audit_key=KEY, clock=CLOCK, vouch="all"), sink)
        for folder, sink in zip(folders, sinks, strict=True)
    ]


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data(), clock=CLOCKS)
def test_every_record_is_canonical_json_hashed_and_valid(
    varied_engines: list[tuple[Engine, MemorySink]], data: st.DataObject, clock: object
) -> None:
    """Whatever the application (valid, missing, malformed, not an object), the line is the
    canonical JSON of its record with the SHA-256 of the rest as the last member, and fits the
    schema: records are built from byte pieces, so this holds that to the general definition."""
    engine, sink = data.draw(st.sampled_from(varied_engines))
    matter_id = data.draw(st.sampled_from(engine.matters))
    matter = engine.versions(matter_id)[-1]
    in_force = matter.spec.effective.from_
    on = data.draw(st.sampled_from([in_force, dt.date(1990, 1, 1)]))  # 1990: no version in force
    facts = data.draw(
        st.one_of(
            applications(matter, on=in_force),
            st.recursive(
                st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3)
                ),
                max_leaves=6,
            ),
            st.recursive(  # anything a Python caller may pass: recorded losslessly all the same
                ODD_VALUES,
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.tuples(inner, inner)
                    | st.dictionaries(ANY_TEXT | st.integers(), inner, max_size=3)
                ),
                max_leaves=6,
            ),
        )
    )
    CLOCK.source = clock
    decision = engine.decide(matter_id, facts, on=on)
    line = sink.lines[-1]
    split = split_sealed(line)
    assert split is not None
    body, claimed, mac = split
    record = orjson.loads(line)
    assert record.pop("hash") == claimed == hashlib.sha256(body).hexdigest()
    assert record.pop("mac") == mac
    assert canonical(record) == body
    AuditRecord.model_validate({**record, "hash": claimed, "mac": mac})
    assert record["outcome"] == decision.outcome
    assert record["reasons"] == list(decision.codes if not decision.approved else [])
    recorded = dt.datetime.fromisoformat(record["time"])
    expected = fixed_clock() if clock is not utc_now else dt.datetime.now(dt.UTC)
    assert record["time"].endswith("Z")
    assert abs(recorded - expected) < dt.timedelta(seconds=5)
    assert [r["status"] for r in record["results"]] == [r.status for r in decision.results]
    assert record["facts_hmac"] == facts_hmac(KEY, facts)
    if not engine.version_on(matter_id, on) or not any(f.pii for f in matter.spec.facts.values()):
        assert record["values"] == lossless(jsonable(dict(decision.values)))


def test_reasons_of_a_referral_with_an_undeclared_key_are_recorded(rules: Path) -> None:
    """Every rule decided, yet referred for an undeclared key: the record has INVALID:<key>."""
    sink = MemorySink()
    engine = Engine(rules, audit=sink, audit_key=KEY, vouch="all")
    engine.decide("audit-sample", application(id_born(1990), degree="associate"), on=ON)
    facts = {**application(id_born(1990), degree="associate"), "extra": 1}
    decision = engine.decide("audit-sample", facts, on=ON)
    assert decision.codes == ("INVALID:extra", "DEGREE_LEVEL")
    assert [orjson.loads(line)["reasons"] for line in sink.lines] == [
        ["DEGREE_LEVEL"],
        ["INVALID:extra", "DEGREE_LEVEL"],
    ]


# ---- mutations ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain(rules: Path) -> tuple[list[bytes], Head]:
    """A log of 1,000 records and its head."""
    sink = MemorySink()
    engine = Engine(rules, audit=sink, audit_key=KEY, vouch="all")
    for i in range(1000):
        engine.decide(
            "audit-sample",
            application(id_born(1960 + i % 50, i), "associate" if i % 7 == 0 else "master"),
            on=ON,
        )
    return list(sink.lines), sink.head


def reseal(record: dict, key: bytes = b"an attacker's own key") -> bytes:
    """A record re-serialized with a freshly computed hash and a MAC under `key` (an attacker's
    careful edit: without the audit key, the MAC is made with another one)."""
    record = {k: v for k, v in record.items() if k not in ("hash", "mac")}
    body = canonical(record)
    digest = hashlib.sha256(body).hexdigest()
    mac = AuditKey(key).record_mac(digest.encode())
    return body[:-1] + b',"hash":"' + digest.encode() + b'","mac":"' + mac + b'"}\n'


def edited(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, "x"]
    if isinstance(value, dict):
        return {**value, "x": 1}
    return "x"


def still_verifies(lines: list[bytes], head: Head) -> bool:
    return verify_lines(enumerate(lines, 1), heads=[(head, "head")], key=KEY).ok


FIELDS = sorted(AuditRecord.model_fields)
ADDED = {
    "origins": {"applicant.id_number": {"via": "adapter", "source": "public-security"}},
    "outputs": {"allowance": "100"},
    "calendar": "cn-mainland@sha256:" + "0" * 64,
}
"""What an edit adds for an optional member the chain's records lack (a gathered decision's
`origins`, an approval's `outputs`, a working-day matter's `calendar`): a value the schema
accepts, so only the hash and the MAC can tell."""


@settings(max_examples=examples(60))
@given(data=st.data(), rehash=st.booleans())
def test_any_edit_of_any_field_is_detected(
    chain: tuple[list[bytes], Head], data: st.DataObject, rehash: bool
) -> None:
    """Editing any field of any record (adding an optional one it lacks) is detected, even when
    its hash is recomputed."""
    lines, head = chain
    i = data.draw(st.integers(0, len(lines) - 1))
    field = data.draw(st.sampled_from(FIELDS))
    record = orjson.loads(lines[i])
    record[field] = edited(record[field]) if field in record else ADDED[field]
    if rehash or field == "hash":
        new = reseal(record) if field != "hash" else orjson.dumps(record) + b"\n"
    else:
        new = canonical(record) + b"\n"
    assert not still_verifies([*lines[:i], new, *lines[i + 1 :]], head)


@settings(max_examples=examples(25))
@given(data=st.data())
def test_deleting_a_record_is_detected(
    chain: tuple[list[bytes], Head], data: st.DataObject
) -> None:
    """Deleting any one record (first, last or between) is detected."""
    lines, head = chain
    i = data.draw(st.integers(0, len(lines) - 1))
    mutated = lines[:i] + lines[i + 1 :]
    report = verify_lines(enumerate(mutated, 1), heads=[(head, "head")], key=KEY)
    assert not report.ok
    assert report.first is not None
    assert report.first.kind in ("deleted", "truncated")


@settings(max_examples=examples(25))
@given(data=st.data(), forged=st.booleans())
def test_inserting_a_record_is_detected(
    chain: tuple[list[bytes], Head], data: st.DataObject, forged: bool
) -> None:
    """Inserting a copy of a record, or a forged record with a valid hash, is detected."""
    lines, head = chain
    i = data.draw(st.integers(0, len(lines)))
    j = data.draw(st.integers(0, len(lines) - 1))
    new = lines[j]
    if forged:
        record = orjson.loads(lines[j])
        record["outcome"] = "approve"
        record["reasons"] = []
        new = reseal(record)
    assert not still_verifies([*lines[:i], new, *lines[i:]], head)


@settings(max_examples=examples(25))
@given(data=st.data())
def test_swapping_two_records_is_detected(
    chain: tuple[list[bytes], Head], data: st.DataObject
) -> None:
    """Swapping any two records is detected."""
    lines, head = chain
    i, j = sorted(
        data.draw(st.lists(st.integers(0, len(lines) - 1), min_size=2, max_size=2, unique=True))
    )
    mutated = list(lines)
    mutated[i], mutated[j] = mutated[j], mutated[i]
    report = verify_lines(enumerate(mutated, 1), heads=[(head, "head")], key=KEY)
    assert not report.ok
    assert any(p.kind == "reordered" for p in report.problems)


@settings(max_examples=examples(25))
@given(data=st.data())
def test_truncation_is_detected_against_the_head(
    chain: tuple[list[bytes], Head], data: st.DataObject
) -> None:
    """Cutting whole records from the end leaves a valid chain that the head exposes."""
    lines, head = chain
    k = data.draw(st.integers(0, len(lines) - 1))
    assert verify_lines(enumerate(lines[:k], 1), key=KEY).ok
    report = verify_lines(enumerate(lines[:k], 1), heads=[(head, "head")], key=KEY)
    assert report.first is not None
    assert report.first.kind == "truncated"


def test_torn_last_line_is_reported(chain: tuple[list[bytes], Head]) -> None:
    """A last line without its newline is reported as torn."""
    lines, _ = chain
    report = verify_lines(enumerate([*lines[:5], lines[5][:40]], 1), key=KEY)
    assert report.first is not None
    assert report.first.kind == "torn"
    assert report.first.line == 6


def test_first_problem_names_line_and_kind(chain: tuple[list[bytes], Head]) -> None:
    """The first problem names the line of the edited record and says it was edited."""
    lines, head = chain
    line = lines[41].replace(b'"outcome":"approve"', b'"outcome":"refer"')
    assert line != lines[41]
    mutated = [*lines[:41], line, *lines[42:]]
    report = verify_lines(enumerate(mutated, 1), heads=[(head, "head")], key=KEY)
    assert report.first is not None
    assert (report.first.line, report.first.kind, report.first.seq) == (42, "edited", 42)


# ---- replay ---------------------------------------------------------------------------------


def decide_years(engine: Engine, years: range) -> dict[str, int]:
    """Decide one application per birth year; return each decision id's year."""
    out = {}
    for n, year in enumerate(years):
        d = engine.decide("audit-sample", application(id_born(year, n)), on=ON)
        out[d.decision_id] = year
    return out


def test_replay_under_the_recorded_rule_set_confirms_every_outcome(tmp_path: Path) -> None:
    """Replaying under the snapshot of the recorded rule set gives the same outcome everywhere."""
    rules = rules_folder(tmp_path / "rules")
    log = tmp_path / "audit.jsonl"
    with Engine(rules, audit=open_log(log), audit_key=KEY, vouch="all") as engine:
        decide_years(engine, range(1980, 2010))
    rules_folder(tmp_path / "rules", age_limit=20)  # the rules change afterwards
    kept = tmp_path / "audit.jsonl.rules"  # the library kept the rule texts beside the log
    report, replayed = replay_log(log, RuleIndex([kept]), key=KEY)
    assert report.ok
    assert replayed.ok
    assert replayed.counts == {"same": 30}


def test_replay_after_a_rule_change_reports_exactly_the_changed_records(tmp_path: Path) -> None:
    """Under a changed age limit, replay reports exactly the records whose outcome changes."""
    log = tmp_path / "audit.jsonl"
    with Engine(
        rules_folder(tmp_path / "v1"), audit=open_log(log), audit_key=KEY, vouch="all"
    ) as engine:
        years = decide_years(engine, range(1980, 2010))
    changed_rules = rules_folder(tmp_path / "v2", age_limit=28)
    report, replayed = replay_log(log, RuleIndex([changed_rules]), key=KEY)
    now = Engine(changed_rules, vouch="all")
    before = Engine(rules_folder(tmp_path / "v1"), vouch="all")
    expected = {
        did
        for did, year in years.items()
        if now.decide("audit-sample", application(id_born(year)), on=ON).outcome
        != before.decide("audit-sample", application(id_born(year)), on=ON).outcome
    }
    assert report.ok
    assert expected
    got = {r.decision_id for r in replayed.notable if r.verdict == "changed"}
    assert got == expected
    assert all(r.substituted for r in replayed.notable)
    assert not replayed.ok


def test_a_rule_reading_personal_data_needs_the_applications(tmp_path: Path) -> None:
    """Without the applications such records are not replayable; with them they replay."""
    rules = rules_folder(tmp_path / "rules", pii_rule=True)
    log = tmp_path / "audit.jsonl"
    apps = {}
    with Engine(rules, audit=open_log(log), audit_key=KEY, vouch="all") as engine:
        for n, year in enumerate(range(1990, 1995)):
            facts = application(id_born(year, n))
            apps[engine.decide("audit-sample", facts, on=ON).decision_id] = facts
    _, replayed = replay_log(log, RuleIndex([rules]), key=KEY)
    assert replayed.counts == {"not-replayable": 5}
    assert not replayed.ok
    _, replayed = replay_log(log, RuleIndex([rules]), applications=apps, key=KEY)
    assert replayed.counts == {"same": 5}
    assert replayed.ok
    wrong = {k: application(id_born(1970)) for k in apps}
    _, replayed = replay_log(log, RuleIndex([rules]), applications=wrong, key=KEY)
    assert replayed.counts == {"mismatch": 5}
    key_file, facts_file = tmp_path / "key", tmp_path / "apps.json"
    key_file.write_bytes(KEY)
    facts_file.write_text(json.dumps(apps), encoding="utf-8")
    verify = ["audit", "verify", str(log), "--rules", str(rules), "--audit-key", str(key_file)]
    assert main(verify) == 1
    assert main([*verify, "--facts", str(facts_file)]) == 0


# ---- CLI ------------------------------------------------------------------------------------


def test_cli_decide_audit_verify_show_and_detect_an_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`decide --audit` writes a log that `audit verify` accepts until one byte is edited."""
    rules = rules_folder(tmp_path / "rules")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(application(id_born(1990))), encoding="utf-8")
    log = tmp_path / "audit.jsonl"
    for _ in range(3):
        assert (
            main(
                [
                    "decide",
                    "audit-sample",
                    str(facts),
                    "--rules",
                    str(rules),
                    "--on",
                    "2024-06-01",
                    "--audit",
                    str(log),
                    "--vouch",
                    "all",
                ]
            )
            == 0
        )
    assert main(["audit", "verify", str(log), "--replay"]) == 0
    did = orjson.loads(log.read_bytes().splitlines()[1])["decision_id"]
    capsys.readouterr()
    assert main(["audit", "show", str(log), did]) == 0
    shown = capsys.readouterr().out
    assert did in shown
    assert "age-limit" in shown
    assert id_born(1990) not in shown
    assert main(["audit", "head", str(log)]) == 0
    head = capsys.readouterr().out.strip()
    assert main(["audit", "verify", str(log), "--expect-head", head]) == 0
    log.write_bytes(log.read_bytes().replace(b'"outcome":"approve"', b'"outcome":"refer"', 1))
    assert main(["audit", "verify", str(log)]) == 1
    assert "line 1 (record 1): edited" in capsys.readouterr().err


def test_cli_sqlite_log_and_rules_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .sqlite audit path gives a SQLite log; `rules snapshot` keeps rule texts by digest."""
    rules = rules_folder(tmp_path / "rules")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(application(id_born(1990))), encoding="utf-8")
    db = tmp_path / "audit.sqlite"
    assert (
        main(
            [
                "decide",
                "audit-sample",
                str(facts),
                "--rules",
                str(rules),
                "--audit",
                str(db),
                "--audit-key",
                str(facts),
                "--vouch",
                "all",
            ]
        )
        == 0
    )
    assert verify_log(db, key=facts.read_bytes()).ok
    store = tmp_path / "store"
    assert main(["rules", "snapshot", "--rules", str(rules), "--store", str(store)]) == 0
    digest = Engine(rules).versions("audit-sample")[0].digest
    assert (store / digest / "matter.yaml").read_text(encoding="utf-8") == (
        rules / "sample.yaml"
    ).read_text(encoding="utf-8")
    verify = ["audit", "verify", str(db), "--audit-key", str(facts)]
    assert main([*verify, "--rules", str(store)]) == 0
    assert main(["audit", "verify", str(db), "--rules", str(store)]) == 1  # no key: not vouched


def test_cli_test_audit_records_every_scenario_case(tmp_path: Path) -> None:
    """`test --audit` records each case's decision in one chain that replays the same."""
    rules = rules_folder(tmp_path / "rules")
    cases = "\n".join(
        f"  - name: born {year}\n    facts: {json.dumps(application(id_born(year)))}\n"
        f"    expect: {{outcome: {'approve' if 1989 <= year <= 2006 else 'refer'}}}"
        for year in (1980, 1995, 2010)
    )
    scenario = tmp_path / "sample.yaml"
    scenario.write_text(
        f"matter: audit-sample\non: 2024-06-01\nvouch: all\ncases:\n{cases}\n", "utf-8"
    )
    log = tmp_path / "audit.jsonl"
    assert main(["test", str(scenario), "--rules", str(rules), "--audit", str(log), "-q"]) == 0
    assert [orjson.loads(x)["outcome"] for x in log.read_bytes().splitlines()] == [
        "refer",
        "approve",
        "refer",
    ]
    assert main(["audit", "verify", str(log), "--replay"]) == 0


def test_an_application_that_is_not_json_is_referred_and_recorded(rules: Path) -> None:
    """An application holding a value JSON cannot carry is referred and recorded, losslessly."""
    sink = MemorySink()
    engine = Engine(rules, audit=sink, audit_key=KEY, vouch="all")
    facts = application(id_born(1990))
    facts["degree"] = object()
    decision = engine.decide("audit-sample", facts, on=ON)
    assert not decision.approved
    assert "INVALID:degree" in decision.codes
    (record,) = docs(sink.lines)
    assert record["facts"]["degree"] == {"$": "builtins.object", "v": None}
    assert record["facts_hmac"] == facts_hmac(KEY, facts)


def test_cli_show_finds_a_record_in_sqlite(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`audit show` finds a decision in a SQLite log through its decision-id index."""
    db = tmp_path / "audit.sqlite"
    with Engine(rules, audit=open_log(db), audit_key=KEY, vouch="all") as engine:
        ids = [
            engine.decide("audit-sample", application(id_born(y)), on=ON).decision_id
            for y in (1980, 1990, 2000)
        ]
    assert main(["audit", "show", str(db), ids[1], "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["seq"] == 2
    assert main(["audit", "show", str(db), "no-such-id"]) == 1


def test_verify_of_a_missing_log_is_an_error(tmp_path: Path) -> None:
    """Verifying a log that does not exist raises AuditError (exit 2 on the command line)."""
    with pytest.raises(AuditError):
        verify_log(tmp_path / "nope.jsonl")
    assert main(["audit", "verify", str(tmp_path / "nope.jsonl")]) == 2


def test_split_sealed_rejects_lines_without_a_final_hash() -> None:
    """A line whose last member is not a 64-digit hash is not a sealed record."""
    assert split_sealed(b'{"a":1}\n') is None
    assert split_sealed(b'{"a":1,"hash":"' + b"0" * 63 + b'"}\n') is None


def test_a_log_written_from_python_replays_from_the_command_line(tmp_path: Path) -> None:
    """The library keeps the rule texts beside the log, so `audit verify --replay` resolves every
    record of a log written from Python (it used to find none: only the CLI kept them)."""
    rules = rules_folder(tmp_path / "rules")
    log = tmp_path / "audit.jsonl"
    with Engine(rules, audit=open_log(log, key=KEY), vouch="all") as engine:
        decide_years(engine, range(1985, 1995))
    digest = Engine(rules).versions("audit-sample")[0].digest
    assert (tmp_path / "audit.jsonl.rules" / digest / "matter.yaml").exists()
    key_file = tmp_path / "elsewhere.key"
    key_file.write_bytes(KEY)
    verify = ["audit", "verify", str(log), "--replay", "--audit-key", str(key_file)]
    rules_folder(tmp_path / "rules", age_limit=20)  # the rules folder changes: the kept text holds
    assert main(verify) == 0


def test_matters_built_in_python_have_no_text_to_keep(tmp_path: Path) -> None:
    """A matter version built in Python has no file text: its records are written, and replay
    says it cannot resolve them rather than re-deciding under something else."""
    rules = rules_folder(tmp_path / "rules")
    built = [dataclasses.replace(m, text="") for m in Engine(rules).versions("audit-sample")]
    log = tmp_path / "audit.jsonl"
    with Engine(built, audit=open_log(log, key=KEY), vouch="all") as engine:
        decide_years(engine, range(1990, 1993))
    _, replayed = replay_log(log, RuleIndex([tmp_path / "audit.jsonl.rules"]), key=KEY)
    assert replayed.counts == {"unresolved": 3}
