"""Gathering: facts looked up from the connected sources, concurrently, with their provenance.

The offices are in memory (`fake_sources`): the engine's side — planning, one call per source
and key, confirming keys, mapping, failures as reasons, provenance, the audit record, replay
with the sources down — is what is tested here; the real adapters have their own tests over a
real HTTP server and real databases.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_sources import Offices
from reference import RULES, engine_over, examples
from secondapproval import Engine, Outcome
from secondapproval.audit.jsonl import JsonLinesSink
from secondapproval.audit.replay import replay_log
from secondapproval.audit.rule_texts import RuleIndex, rules_store_of
from secondapproval.audit.sinks import MemorySink
from secondapproval.errors import DeploymentError
from secondapproval.provenance import Provenance
from secondapproval.sources.contract import Answer
from secondapproval.sources.deployment import parse_deployment
from secondapproval.sources.gather import Asked, TTLCache

ON = dt.date(2019, 9, 1)
ID = "440304199605121230"
OTHER_ID = "440304199508302187"
TALENT = "graduate-hukou-shenzhen"
NEWBORN = "newborn-one-thing-zhongshan"
MOTHER, FATHER = "442000199407180424", "442000199202030318"

DEPLOYMENT = """
vouch: [graduate-employment, criminal-records, civil-affairs, health-commission]
sources:
  public-security:
    adapter: memory
    timeout: 0.5
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {applicant.name: name}
      - key: {id_number: mother.id_number}
        facts: {mother.guangdong_hukou: guangdong_hukou}
      - key: {id_number: father.id_number}
        facts: {father.guangdong_hukou: guangdong_hukou}
      - key: {id_number: mother.id_number}
        facts: {registration.household_type: household_type}
    settings: {office: population}
  degree-registry:
    adapter: memory
    timeout: 0.5
    lookups:
      - key: {id_number: applicant.id_number}
        facts:
          education.level: degree.level
          education.full_time: degree.full_time
          education.regular_institution: degree.regular
          education.certificate_verified: degree.verified
          education.graduated_on: degree.graduated_on
    settings: {office: degrees}
  credit-platform:
    adapter: memory
    timeout: 0.5
    lookups:
      - key: {id_number: applicant.id_number}
        facts: {credit.untrustworthy: untrustworthy, credit.penalties: penalties}
    settings: {office: credit}
"""


def person(id_number: str = ID, **extra: Any) -> dict[str, Any]:
    return {"id_number": id_number, "name": "张三", **extra}


def offices_for(id_number: str = ID) -> Offices:
    offices = Offices()
    offices.put("population", id_number, person(id_number))
    offices.put(
        "degrees",
        id_number,
        {
            "id_number": id_number,
            "degree": {
                "level": "bachelor",
                "full_time": True,
                "regular": True,
                "verified": True,
                "graduated_on": "2019-06-30",
            },
        },
    )
    offices.put(
        "credit", id_number, {"id_number": id_number, "untrustworthy": False, "penalties": []}
    )
    return offices


def application(id_number: str = ID) -> dict[str, Any]:
    """What the applicant brings: the key and the applicant's own facts."""
    return {
        "applicant": {"id_number": id_number},
        "employment": {"report_certificate": "issued-to-shenzhen"},
        "declaration": {"good_health": True, "no_banned_organisations": True},
        "record": {"criminal": False},
        "settlement": {"address_type": "talent-collective", "file_moves_with_hukou": True},
    }


def engine_with(offices: Offices, text: str = DEPLOYMENT, **options: Any) -> Engine:
    deployment = parse_deployment(text, "deploy.yaml", adapters={"memory": offices.adapter})
    return Engine(snapshot=engine_over(RULES).snapshot, deployment=deployment, **options)


@pytest.fixture
def offices() -> Offices:
    return offices_for()


@pytest.fixture
def engine(offices: Offices) -> Any:
    with engine_with(offices) as e:
        yield e


def test_a_gathered_application_is_approved_with_the_provenance_of_every_fact(engine, offices):
    d = engine.decide(TALENT, application(), on=ON, gather=True)
    assert d.outcome is Outcome.APPROVE, d.codes
    prov = d.provenance
    assert prov["education.level"].via == "adapter"
    assert prov["education.level"].source == "degree-registry"
    assert prov["education.level"].reference == f"degrees-{ID}"
    assert len(prov["education.level"].digest or "") == 64
    assert prov["education.level"].retrieved_at is not None
    assert prov["applicant.id_number"].source == "public-security"  # confirmed by its office
    assert prov["record.criminal"].via == "vouched"
    assert prov["settlement.address_type"].via == "applicant"
    assert d.to_dict()["vouched"] == ["criminal-records", "graduate-employment"]


def test_each_source_is_asked_once_per_key_and_all_at_once(engine, offices):
    offices.latency = 0.02
    engine.decide(TALENT, application(), on=ON, gather=True)
    assert offices.calls == {("population", ID): 1, ("degrees", ID): 1, ("credit", ID): 1}
    assert offices.peak == 3  # concurrently: the latency is the slowest source's, not the sum


def test_the_newborn_matter_looks_up_both_parents_and_shares_the_mothers_answer(offices):
    offices.put("population", MOTHER, person(MOTHER, guangdong_hukou=True, household_type="family"))
    offices.put("population", FATHER, person(FATHER, guangdong_hukou=False))
    facts = {
        "mother": {"id_number": MOTHER},
        "father": {"id_number": FATHER},
        "parents": {"married": True},
        "newborn": {"name": "王小明", "born_on": "2026-10-15"},
        "birth": {"guangdong_qualified_institution": True, "certificate_issue": "first"},
        "registration": {"household_of": "mother"},
    }
    with engine_with(offices) as e:
        d = e.decide(NEWBORN, facts, on=dt.date(2026, 12, 1), gather=True)
    assert offices.calls == {("population", MOTHER): 1, ("population", FATHER): 1}
    assert d.values["registration.household_type"] == "family"
    assert d.values["father.guangdong_hukou"] is False
    assert d.provenance["father.guangdong_hukou"].reference == f"population-{FATHER}"


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("unavailable", "UNAVAILABLE:credit-platform"),
        ("crash", "UNAVAILABLE:credit-platform"),
        ("hang", "UNAVAILABLE:credit-platform"),
        ("not-found", "NOT_FOUND:credit-platform"),
    ],
)
def test_what_a_source_cannot_give_refers_with_its_reason(engine, offices, fault, code):
    offices.faults["credit"] = fault
    d = engine.decide(TALENT, application(), on=ON, gather=True)
    assert d.outcome is Outcome.REFER
    assert code in d.codes
    assert "credit.untrustworthy" in d.missing
    assert "credit.untrustworthy" not in d.values
    reason = next(r for r in d.reasons if r.code == code)
    assert "信用信息共享平台" in reason.zh


def test_a_field_missing_from_the_record_is_not_found(engine, offices):
    del offices.records["credit"][ID]["untrustworthy"]
    d = engine.decide(TALENT, application(), on=ON, gather=True)
    assert "NOT_FOUND:credit-platform" in d.codes


def test_a_value_of_the_wrong_type_from_a_source_is_invalid_and_says_who_gave_it(engine, offices):
    offices.records["credit"][ID]["untrustworthy"] = "false"
    d = engine.decide(TALENT, application(), on=ON, gather=True)
    assert "INVALID:credit.untrustworthy" in d.codes
    assert "credit-platform gave it" in d.invalid["credit.untrustworthy"]


def test_an_answer_about_someone_else_does_not_confirm_the_key(engine, offices):
    offices.records["population"][ID]["id_number"] = OTHER_ID
    d = engine.decide(TALENT, application(), on=ON, gather=True)
    assert d.outcome is Outcome.REFER
    assert "INVALID:applicant.id_number" in d.codes
    assert "applicant.id_number" not in d.values


def test_a_missing_or_invalid_key_is_never_sent(engine, offices):
    facts = application()
    del facts["applicant"]["id_number"]
    d = engine.decide(TALENT, facts, on=ON, gather=True)
    assert "MISSING:applicant.id_number" in d.codes
    bad = application("440304199605121231")  # a wrong check character
    d = engine.decide(TALENT, bad, on=ON, gather=True)
    assert "INVALID:applicant.id_number" in d.codes
    assert sum(offices.calls.values()) == 0


def test_a_connected_sources_fact_given_by_the_caller_is_refused(engine, offices):
    facts = {**application(), "credit": {"untrustworthy": False}}
    d = engine.decide(TALENT, facts, on=ON, gather=True)
    assert d.outcome is Outcome.REFER
    assert "INVALID:credit.untrustworthy" in d.codes
    assert "through its adapter" in d.invalid["credit.untrustworthy"]
    plain = engine.decide(TALENT, application(), on=ON)  # not gathering: nothing is believed
    assert "INVALID:applicant.id_number" in plain.codes


SOURCES = ("population", "degrees", "credit")
FAULTS = st.sampled_from([None, "unavailable", "not-found", "crash", "wrong-type", "unconfirmed"])
WRONG = {"population": "name", "degrees": "degree", "credit": "untrustworthy"}


@settings(max_examples=examples(60), deadline=None)
@given(st.fixed_dictionaries(dict.fromkeys(SOURCES, FAULTS)))
def test_no_approval_when_any_source_the_matter_needs_fails(faults):
    offices = offices_for()
    for office, fault in faults.items():
        record = offices.records[office][ID]
        if fault == "wrong-type":
            record[WRONG[office]] = 1
        elif fault == "unconfirmed":
            record["id_number"] = OTHER_ID
        elif fault is not None:
            offices.faults[office] = fault
    with engine_with(offices) as e:
        first = e.decide(TALENT, application(), on=ON, gather=True)
        again = e.decide(TALENT, application(), on=ON, gather=True)
    assert first == again  # the same answers always give the same decision
    assert first.approved == all(f is None for f in faults.values()), (faults, first.codes)


def test_a_hundred_applications_in_flight_at_once(offices):
    ids = [_id_number(n) for n in range(100)]
    for n, id_number in enumerate(ids):
        fresh = offices_for(id_number)
        for office in SOURCES:
            offices.put(office, id_number, fresh.records[office][id_number])
        if n % 3 == 0:
            offices.records["credit"][id_number]["untrustworthy"] = True
    offices.latency = 0.01

    async def decide_all(e: Engine) -> list[Any]:
        return await asyncio.gather(*(e.decide_async(TALENT, application(i), on=ON) for i in ids))

    with engine_with(offices) as e:
        decided = asyncio.run(decide_all(e))
        threaded: list[Any] = [None] * len(ids)

        def run(n: int) -> None:
            threaded[n] = e.decide(TALENT, application(ids[n]), on=ON, gather=True)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(ids))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for n, (d, t) in enumerate(zip(decided, threaded, strict=True)):
        assert d.approved == (n % 3 != 0), (n, d.codes)
        assert t == d
    assert offices.peak > 3  # more than one application's calls were in flight together


def _id_number(n: int) -> str:
    from secondapproval.idcodes import cn_id_check_character

    body = f"440304199{n % 10}0{1 + n % 9}{10 + n % 18:02d}{n:03d}"
    return body + cn_id_check_character(body)


def test_a_batch_asks_each_distinct_key_once(offices):
    with engine_with(offices) as e:
        decided = e.decide_many(TALENT, [application()] * 5, on=ON, gather=True)
    assert all(d.approved for d in decided)
    assert offices.calls == {("population", ID): 1, ("degrees", ID): 1, ("credit", ID): 1}


def test_a_cached_answer_is_marked_in_the_provenance(offices):
    cached = DEPLOYMENT.replace(
        "  credit-platform:\n    adapter: memory\n",
        "  credit-platform:\n    adapter: memory\n    cache: {ttl: 60, size: 10}\n",
    )
    with engine_with(offices, cached) as e:
        first = e.decide(TALENT, application(), on=ON, gather=True)
        second = e.decide(TALENT, application(), on=ON, gather=True)
    assert not first.provenance["credit.untrustworthy"].cached
    assert second.provenance["credit.untrustworthy"].cached
    assert second.provenance["credit.untrustworthy"].retrieved_at == (
        first.provenance["credit.untrustworthy"].retrieved_at
    )
    assert offices.calls[("credit", ID)] == 1
    assert offices.calls[("degrees", ID)] == 2  # no cache unless the deployment gives one


def test_the_cache_is_bounded_and_forgets_after_its_ttl():
    now = [0.0]
    cache = TTLCache(10, 2, clock=lambda: now[0])
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    answer = Answer({"id_number": ID}, "r", "0" * 64)
    asked = Asked(answer, at, Provenance("adapter", "credit-platform", at, "r", "0" * 64))
    for n in range(3):
        cache.put((("k", n),), asked)
    assert len(cache) == 2
    assert cache.get((("k", 0),)) is None  # the least recently used went out
    hit = cache.get((("k", 2),))
    assert hit is not None
    assert hit.answer is answer
    assert hit.provenance is not None
    assert hit.provenance.cached
    assert hit.at == at
    now[0] = 10.0
    assert cache.get((("k", 2),)) is None


def test_gathered_decisions_replay_the_same_with_the_sources_down(offices, tmp_path):
    log = tmp_path / "audit.jsonl"
    key = b"k" * 32
    with engine_with(offices, audit=JsonLinesSink(log, key=key)) as e:
        e.decide(TALENT, application(), on=ON, gather=True)
        offices.faults["credit"] = "unavailable"
        e.decide(TALENT, application(), on=ON, gather=True)
        e.decide(TALENT, {**application(), "credit": {"untrustworthy": False}}, on=ON, gather=True)
        offices.records["degrees"][ID]["degree"]["level"] = 7
        offices.faults = {}
        e.decide(TALENT, application(), on=ON, gather=True)
    offices.faults = dict.fromkeys(SOURCES, "crash")  # every office down from now on
    before = sum(offices.calls.values())
    verified, replayed = replay_log(log, RuleIndex([rules_store_of(log)]), key=key)
    assert verified.ok, verified.summary()
    assert replayed.ok, replayed.summary()
    assert replayed.counts == {"same": 4}
    assert sum(offices.calls.values()) == before  # replay asked no source
    import orjson

    records = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert records[0]["origins"]["credit.untrustworthy"]["source"] == "credit-platform"
    assert records[1]["origins"]["credit.untrustworthy"]["failed"] == "UNAVAILABLE:credit-platform"
    assert records[0]["vouched"] == ["criminal-records", "graduate-employment"]


def test_a_deployment_that_does_not_fit_the_rules_is_refused_with_lines(offices):
    text = DEPLOYMENT.replace(
        "facts: {credit.untrustworthy: untrustworthy,", "facts: {credit.score: s,"
    )
    with pytest.raises(DeploymentError) as err:
        engine_with(offices, text)
    message = str(err.value)
    assert "deploy.yaml:" in message
    assert "credit.score is not a fact of any matter" in message


def test_a_fact_no_lookup_gives_is_unobtainable_and_refers(offices):
    """A connected office whose lookups leave a fact out: the deployment loads (a folder of many
    matters may connect an office for some only), the fact is unobtainable, and the matter that
    reads it refers, even when the caller gives it."""
    from secondapproval.sources.report import routes

    text = DEPLOYMENT.replace(
        "        facts:\n          education.level: degree.level\n",
        "        facts:\n",
    )
    assert text != DEPLOYMENT
    with engine_with(offices, text) as e:
        matter = e.versions(TALENT)[-1]
        assert e.deployment is not None
        route = routes(matter, e.snapshot.registry, e.deployment)
        assert route["education.level"] == "unobtainable"
        assert route["education.full_time"] == "looked-up"
        given = {**application(), "education": {"level": "master"}}
        decision = e.decide(TALENT, given, on=ON, gather=True)
    assert decision.outcome.value == "refer"


def test_vouching_for_a_connected_source_is_refused(offices):
    text = DEPLOYMENT.replace(
        "vouch: [graduate-employment,", "vouch: [credit-platform, graduate-employment,"
    )
    with pytest.raises(DeploymentError, match="both connected and vouched"):
        engine_with(offices, text)


def test_a_swap_replans_the_lookups_and_refuses_rules_the_deployment_does_not_fit(offices):
    from secondapproval.snapshot import RuleSetSnapshot

    with engine_with(offices) as e:
        e.swap(RuleSetSnapshot.load(RULES))
        assert e.decide(TALENT, application(), on=ON, gather=True).approved
        reference = RuleSetSnapshot.load(RULES.parent / "benchmarks" / "matters")
        with pytest.raises(DeploymentError):
            e.swap(reference)  # its facts are no matter's: the deployment maps paths of none
        assert e.decide(TALENT, application(), on=ON, gather=True).approved


@pytest.mark.parametrize("backend", ["native", "durable"])
def test_gathered_decisions_are_the_same_on_both_backends(offices, backend):
    deployment = parse_deployment(DEPLOYMENT, "deploy.yaml", adapters={"memory": offices.adapter})
    with Engine(RULES, backend=backend, deployment=deployment) as e:
        d = e.decide(TALENT, application(), on=ON, gather=True)
        offices.faults["credit"] = "unavailable"
        down = e.decide(TALENT, application(), on=ON, gather=True)
    assert d.approved, d.codes
    assert "UNAVAILABLE:credit-platform" in down.codes
    assert d.backend == backend


class _SlowSink(MemorySink):
    """A sink whose every commit takes 0.2 s (an fsync on a slow disk)."""

    def _commit(self, lines: list[bytes], head: Any, durable: bool) -> None:
        time.sleep(0.2)
        super()._commit(lines, head, durable)


@pytest.mark.parametrize("gather", [True, False])
def test_an_audited_async_decision_writes_its_record_off_the_event_loop(offices, gather):
    """The loop keeps running while the sink commits; the decision returns after its record."""
    sink = _SlowSink(key=b"k" * 32)
    facts = application() if gather else {}

    async def decide_while_ticking(e: Engine) -> tuple[Any, int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0)
        decision = await e.decide_async(TALENT, facts, on=ON, gather=gather)
        recorded = len(sink.lines)
        ticker.cancel()
        return decision, ticks, recorded

    with engine_with(offices, audit=sink, audit_key=b"k" * 32) as e:
        decision, ticks, recorded = asyncio.run(decide_while_ticking(e))
    assert decision.approved is gather
    assert recorded == 1  # durable before it returned
    assert ticks >= 5  # the loop ran during the 0.2 s commit
