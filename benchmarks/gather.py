"""Gathering from sources (DESIGN §8): the overhead on a cache hit, three slow sources at once,
and throughput against the local stand-in of the offices.

`python -m benchmarks.gather [--seconds S]` (a line of `make bench`) measures, in one run:

1. **overhead on a cache hit**: `decide(gather=True)` of the bundled talent matter when every
   source's answer is in its cache, minus `decide()` of the same facts given by a caller that
   vouches for every source — alternated, the minimum of several rounds each (target ≤ 5 µs);
2. **three sources of 20 ms each**: the talent matter gathering from three in-memory offices
   that each take 20 ms (an asyncio sleep) to answer: the p50 and max decision time (target
   ≤ 25 ms: concurrent, not 60);
3. **throughput with 64 in flight**: `decide_async` of distinct applications against the local
   stand-in (`secondapproval.standin`, http-json adapters, in a process of its own as the demo
   runs it), 64 at a time, for S seconds: gathered decisions/s — beside bare httpx GETs to the
   same stand-in with as many requests in flight, the ceiling that server and client allow.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import statistics
import time
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from secondapproval import Engine
from secondapproval.idcodes import cn_id_check_character
from secondapproval.sources.contract import Answer, NotFound, raw_digest
from secondapproval.sources.deployment import parse_deployment
from secondapproval.timing import machine

from .conftest import RULES

TALENT = "graduate-hukou-shenzhen"
ON = dt.date(2019, 9, 1)
ID = "440304199605121230"
VOUCH = "vouch: [graduate-employment, criminal-records, civil-affairs, health-commission]"
TARGET_OVERHEAD_US = 5.0
TARGET_THREE_MS = 25.0


def person(id_number: str) -> dict[str, dict[str, Any]]:
    """What the three offices hold for one person."""
    return {
        "population": {"id_number": id_number, "name": "张三"},
        "degrees": {
            "id_number": id_number,
            "level": "bachelor",
            "full_time": True,
            "regular_institution": True,
            "certificate_verified": True,
            "graduated_on": "2019-06-30",
        },
        "credit": {"id_number": id_number, "untrustworthy": False, "penalties": []},
    }


def brought(id_number: str) -> dict[str, Any]:
    """What the applicant brings: the key and the applicant's own facts."""
    return {
        "applicant": {"id_number": id_number},
        "employment": {"report_certificate": "issued-to-shenzhen"},
        "declaration": {"good_health": True, "no_banned_organisations": True},
        "record": {"criminal": False},
        "settlement": {"address_type": "talent-collective", "file_moves_with_hukou": True},
    }


def vouched_facts(id_number: str) -> dict[str, Any]:
    """The same application with every source's facts in it (for the vouching engine)."""
    facts = copy.deepcopy(brought(id_number))
    held = person(id_number)
    facts["applicant"]["name"] = held["population"]["name"]
    facts["education"] = {k: v for k, v in held["degrees"].items() if k != "id_number"}
    facts["credit"] = {"untrustworthy": False, "penalties": []}
    return facts


def deployment_text(
    adapter: str, where: dict[str, str], cache: str = "", timeout: float = 2
) -> str:
    """A deployment of the three sources the talent matter gathers (and the newborn's)."""

    def settings(office: str) -> str:
        return where[office]

    return f"""{VOUCH}
sources:
  public-security:
    adapter: {adapter}
    timeout: {timeout}{cache}
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts: {{applicant.name: name}}
      - key: {{id_number: mother.id_number}}
        facts: {{mother.guangdong_hukou: guangdong_hukou, registration.household_type: household}}
      - key: {{id_number: father.id_number}}
        facts: {{father.guangdong_hukou: guangdong_hukou}}
    settings: {settings("population")}
  degree-registry:
    adapter: {adapter}
    timeout: {timeout}{cache}
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts:
          education.level: level
          education.full_time: full_time
          education.regular_institution: regular_institution
          education.certificate_verified: certificate_verified
          education.graduated_on: graduated_on
    settings: {settings("degrees")}
  credit-platform:
    adapter: {adapter}
    timeout: {timeout}{cache}
    lookups:
      - key: {{id_number: applicant.id_number}}
        facts: {{credit.untrustworthy: untrustworthy, credit.penalties: penalties}}
    settings: {settings("credit")}
"""


class Memory:
    """An office in memory that answers after `latency` seconds (an asyncio sleep)."""

    class Settings(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        office: str
        latency: float = 0.0

    held: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, source: str, settings: Any, *, timeout: float) -> None:
        self.source, self.settings = source, settings

    async def lookup(self, key: dict[str, Any]) -> Answer:
        if self.settings.latency:
            await asyncio.sleep(self.settings.latency)
        record = self.held.get(f"{self.settings.office}:{key['id_number']}")
        if record is None:
            raise NotFound("no record")
        return Answer(dict(record), None, raw_digest(repr(record).encode()))

    async def aclose(self) -> None:
        return None

    def describe(self) -> str:
        return "memory"


def memory_engine(latency: float = 0.0, cache: bool = False) -> Engine:
    for office, record in person(ID).items():
        Memory.held[f"{office}:{ID}"] = record
    where = {o: f"{{office: {o}, latency: {latency}}}" for o in ("population", "degrees", "credit")}
    text = deployment_text("memory", where, "\n    cache: {ttl: 3600}" if cache else "")
    deployment = parse_deployment(text, "<benchmark>", adapters={"memory": Memory})
    return Engine(RULES, deployment=deployment)


def _loop_ns(fn: Any, n: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - start) / n


def overhead(rounds: int = 7, n: int = 5_000) -> tuple[float, float]:
    """(vouched decide µs, gathered decide on a cache hit µs): alternated, minimum of rounds."""
    gathered = memory_engine(cache=True)
    vouching = Engine(RULES, vouch="all")
    app, full = brought(ID), vouched_facts(ID)
    assert gathered.decide(TALENT, app, on=ON, gather=True).approved
    assert (
        gathered.decide(TALENT, app, on=ON, gather=True).provenance["credit.untrustworthy"].cached
    )
    assert vouching.decide(TALENT, full, on=ON).approved
    plain, hit = [], []
    for _ in range(rounds):
        plain.append(_loop_ns(lambda: vouching.decide(TALENT, full, on=ON), n))
        hit.append(_loop_ns(lambda: gathered.decide(TALENT, app, on=ON, gather=True), n))
    gathered.close()
    return min(plain) / 1000, min(hit) / 1000


def three_slow_sources(n: int = 40) -> list[float]:
    """Decision times (ms) gathering from three offices of 20 ms each."""
    engine = memory_engine(latency=0.02)
    app = brought(ID)
    times = []
    engine.decide(TALENT, app, on=ON, gather=True)  # the loop and the first calls warm
    for _ in range(n):
        start = time.perf_counter()
        decision = engine.decide(TALENT, app, on=ON, gather=True)
        times.append((time.perf_counter() - start) * 1000)
        assert decision.approved, decision.codes
    engine.close()
    return times


def _id(n: int) -> str:
    body = f"440304{1992 + n % 6}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + cn_id_check_character(body)


def throughput(seconds: float, in_flight: int = 64) -> tuple[float, int, float]:
    """Gathered decisions/s against the stand-in (http-json), `in_flight` at a time."""
    from secondapproval.demo import _Offices

    ids = [_id(n) for n in range(2_000)]
    records: dict[str, dict[str, dict[str, Any]]] = {}
    for id_number in ids:
        for office, record in person(id_number).items():
            records.setdefault(office, {})[id_number] = record
    offices = _Offices(records)
    where = {o: f'{{url: "{offices.url}/{o}/{{id_number}}"}}' for o in records}
    text = deployment_text("http-json", where, timeout=10)
    deployment = parse_deployment(text, "<benchmark>")
    engine = Engine(RULES, deployment=deployment)

    async def run() -> int:
        done, n = 0, 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            batch = [brought(ids[(n + i) % len(ids)]) for i in range(in_flight)]
            n += in_flight
            decided = await asyncio.gather(*(engine.decide_async(TALENT, a, on=ON) for a in batch))
            bad = [d for d in decided if not d.approved]
            assert not bad, (done, [r.en for r in bad[0].reasons])
            done += len(decided)
        return done

    async def raw(urls: list[str]) -> int:
        import httpx

        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as client:
            done = 0
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                await asyncio.gather(*(client.get(u) for u in urls))
                done += len(urls)
        return done

    try:
        start = time.perf_counter()
        done = asyncio.run(run())
        rate = done / (time.perf_counter() - start)
        urls = [f"{offices.url}/{o}/{ids[n]}" for n in range(in_flight) for o in records]
        start = time.perf_counter()
        requests = asyncio.run(raw(urls))
        ceiling = requests / (time.perf_counter() - start)
    finally:
        engine.close()
        offices.stop()
    return rate, done, ceiling


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=5.0, help="the throughput run's length")
    args = p.parse_args(argv)
    print(f"# gathering — {machine()}")
    plain, hit = overhead()
    extra = hit - plain
    mark = "ok" if extra <= TARGET_OVERHEAD_US else "MISSED"
    print(
        f"cache hit: decide(gather=True) {hit:.2f} µs, decide() vouched {plain:.2f} µs: "
        f"overhead {extra:.2f} µs (target ≤ {TARGET_OVERHEAD_US:g} µs: {mark})"
    )
    times = three_slow_sources()
    p50 = statistics.median(times)
    mark = "ok" if p50 <= TARGET_THREE_MS else "MISSED"
    print(
        f"three sources of 20 ms each: p50 {p50:.1f} ms, max {max(times):.1f} ms "
        f"(sequential would be 60; target ≤ {TARGET_THREE_MS:g} ms: {mark})"
    )
    rate, done, ceiling = throughput(args.seconds)
    print(
        f"stand-in over HTTP, 64 in flight: {rate:,.0f} gathered decisions/s "
        f"({done} decisions, 3 lookups each: {3 * rate:,.0f} requests/s); bare httpx GETs to "
        f"the same stand-in, {3 * 64} in flight: {ceiling:,.0f} requests/s "
        f"(gathering reaches {3 * rate / ceiling:.0%} of it)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
