"""The http-json adapter against the real stand-in offices over HTTP: records, not-found, every
fault the offices can show, retries within one deadline, the circuit breaker, secrets kept out
of what the adapter says, its settings, and many lookups in flight at once.

The bounds in seconds are correctness bounds (a lookup keeps within its timeout), not benchmarks:
SLACK is generous so that a loaded machine does not fail them.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import socket
import struct
import time
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError

from offices import (  # noqa: F401
    CERTIFICATE,
    ID,
    RECORDS,
    Stand,
    ask,
    fail,
    office_faults_fixture,
    offices_fixture,
)
from reference import examples
from secondapproval.sources import http
from secondapproval.sources.breaker import Breaker
from secondapproval.sources.contract import Adapter, NotFound, Unavailable, raw_digest
from secondapproval.sources.http import HttpJson
from secondapproval.standin import (
    Body,
    Endless,
    Hang,
    Huge,
    Latency,
    Malformed,
    Reset,
    Status,
    WrongType,
)

SLACK = 0.4
"""Seconds a lookup may take beyond its timeout (the event loop, a loaded machine)."""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def timed(adapter: HttpJson, key: dict[str, Any] | None = None) -> tuple[Exception, float]:
    """The failure of one lookup and the seconds it took."""
    start = time.monotonic()
    failure = fail(adapter, key)
    return failure, time.monotonic() - start


# --- answers ----------------------------------------------------------------------------------


def test_a_record_comes_with_the_request_id_and_the_digest_of_its_bytes(office_faults: Stand):
    """The record is the body's object, the reference the X-Request-Id, the digest the SHA-256
    of the body's bytes as the office sent them."""
    raw = httpx.get(f"{office_faults.url}/population/{ID}").content
    answer = ask(office_faults.adapter("population"))
    assert answer.record == RECORDS["population"][ID]
    assert answer.digest == raw_digest(raw) == raw_digest(orjson.dumps(RECORDS["population"][ID]))
    assert answer.reference is not None
    assert answer.reference.startswith("population-")
    assert (
        answer.reference
        != httpx.get(f"{office_faults.url}/population/{ID}").headers["X-Request-Id"]
    )


def test_the_record_and_its_reference_are_found_by_dotted_path(office_faults: Stand):
    """`record: data.person` takes the object inside the body; `reference` a field of it."""
    person = {"name": "李伟", "certificate": {"number": 4711}}
    office_faults.put("population", ID, {"data": {"person": person}, "meta": {"v": 1}})
    adapter = office_faults.adapter(
        "population", record="data.person", reference="certificate.number"
    )
    answer = ask(adapter)
    assert answer.record == person
    assert answer.reference == "4711"


def test_a_reference_path_that_leads_nowhere_gives_no_reference(office_faults: Stand):
    """A `reference` path absent from the record gives None (the header is not used then)."""
    adapter = office_faults.adapter("degrees", path="{certificate}", reference="serial")
    answer = ask(adapter, {"certificate": CERTIFICATE})
    assert answer.record == RECORDS["degrees"][CERTIFICATE]
    assert answer.reference is None


@pytest.mark.parametrize(
    ("stored", "path"),
    [
        ({"data": {"person": [1, 2]}}, "data.person"),
        ({"data": {"person": None}}, "data.person"),
        ({"data": "person"}, "data.person"),
        ({"other": {}}, "data.person"),
    ],
)
def test_a_record_path_that_holds_no_object_is_unavailable(
    office_faults: Stand, stored: dict[str, Any], path: str
):
    """The thing at the record path must be a JSON object."""
    office_faults.put("population", ID, stored)
    failure = fail(office_faults.adapter("population", record=path))
    assert isinstance(failure, Unavailable)
    assert failure.why == "no JSON object at data.person in the answer"


def test_an_office_that_holds_nothing_answers_not_found(office_faults: Stand):
    """HTTP 404 is NotFound, asked once (a not-found is an answer, never retried)."""
    failure = fail(office_faults.adapter("population"), {"id_number": "nobody"})
    assert isinstance(failure, NotFound)
    assert failure.why == "no record (HTTP 404)"
    assert office_faults.count("population", "nobody") == 1


def test_the_statuses_that_mean_not_found_are_settings(office_faults: Stand):
    """`not_found: [404, 410]` makes a 410 NotFound; without it a 410 is Unavailable."""
    office_faults.fault("population", Status(410))
    assert isinstance(fail(office_faults.adapter("population", not_found=[404, 410])), NotFound)
    failure = fail(office_faults.adapter("population"))
    assert isinstance(failure, Unavailable)
    assert failure.why == "HTTP 410"


def test_of_duplicate_keys_the_last_is_kept(office_faults: Stand):
    """orjson keeps the last value of a key given twice (the module's text says so)."""
    office_faults.fault("population", Body(b'{"alive": false, "alive": true}'))
    assert ask(office_faults.adapter("population")).record == {"alive": True}


def test_the_adapter_does_not_judge_the_types_of_a_record(office_faults: Stand):
    """A record with every value of the wrong type is still an answer: validating values
    against the fact types is the engine's job, the same for every adapter."""
    office_faults.fault("population", WrongType())
    answer = ask(office_faults.adapter("population"))
    assert answer.record["alive"] == "true"
    assert answer.record["name"] == 0
    assert answer.record["hukou"]["city"] == 0


def test_a_post_sends_the_key_as_a_json_object(office_faults: Stand):
    """POST: the key is the JSON body, with its content type; the record comes back as usual."""
    key = {"id_number": ID}
    answer = ask(office_faults.adapter("population", path="", method="POST"), key)
    assert answer.record == RECORDS["population"][ID]
    (seen,) = office_faults.seen("population")
    assert (seen.method, seen.key, orjson.loads(seen.body)) == ("POST", ID, key)
    assert seen.headers["content-type"] == "application/json"


def test_the_adapter_is_the_entry_point_http_json_and_meets_the_contract(offices: Stand):
    """`adapter: http-json` names this class, and what it builds is an Adapter."""
    (entry,) = importlib.metadata.entry_points(group="secondapproval.sources", name="http-json")
    assert entry.load() is HttpJson
    adapter = offices.adapter("population")
    assert isinstance(adapter, Adapter)
    asyncio.run(adapter.aclose())


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        (Status(500), "HTTP 500"),
        (Status(503), "HTTP 503"),
        (Status(429), "HTTP 429"),
        (Status(400), "HTTP 400"),
        (Status(302), "HTTP 302"),
        (Reset(), "connection reset (RemoteProtocolError)"),
        (Malformed(), "not JSON"),
        (Huge(5000), "answer larger than 4096 bytes"),
        (Huge(5000, chunked=True), "answer larger than 4096 bytes"),
        (Body(b"NaN"), "not JSON"),
        (Body(b'{"score": Infinity}'), "not JSON"),
        (Body(b'{"score": -Infinity}'), "not JSON"),
        (Body(b'{"name": "\xff"}'), "not JSON"),
        (Body(b'{"name": "Li"} {}'), "not JSON"),
        (Body(b""), "not JSON"),
        (Body(b"[1, 2]"), "no JSON object in the answer"),
        (Body(b'"Li"'), "no JSON object in the answer"),
        (Body(b"null"), "no JSON object in the answer"),
        (Body(b"[" * 2000), "not JSON"),
    ],
)
def test_each_fault_of_an_office_is_unavailable_with_its_why(
    office_faults: Stand, fault: Any, why: str
):
    """A server error, a refusal, a redirect, a cut connection, a body that is not JSON, too
    large, or not an object: Unavailable, saying which."""
    office_faults.fault("population", fault)
    failure, took = timed(office_faults.adapter("population", retries=0, max_bytes=4096))
    assert isinstance(failure, Unavailable)
    assert failure.why == why
    assert took < 2.0 + SLACK


@pytest.mark.parametrize("fault", [Hang(), Endless()])
def test_an_office_that_never_answers_or_never_ends_costs_the_timeout_and_no_more(
    office_faults: Stand, fault: Any
):
    """A request never answered, or a body that never ends, is cut at the deadline."""
    office_faults.fault("population", fault)
    failure, took = timed(office_faults.adapter("population", timeout=0.5))
    assert isinstance(failure, Unavailable)
    assert failure.why == "timeout after 0.5 s"
    assert 0.5 <= took < 0.5 + SLACK


def test_a_slow_office_within_the_timeout_answers(office_faults: Stand):
    """Latency below the timeout is no failure."""
    office_faults.fault("population", Latency(0.1))
    assert ask(office_faults.adapter("population", timeout=1.0)).record["alive"] is True


def test_a_port_nobody_listens_on_cannot_connect():
    """A refused connection is Unavailable, after the retries (each refused at once)."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    settings = HttpJson.Settings(url=f"http://127.0.0.1:{port}/population/{{id_number}}")
    failure = fail(HttpJson("population", settings, timeout=2.0))
    assert isinstance(failure, Unavailable)
    assert failure.why == "cannot connect after 3 attempts"


def test_a_connection_reset_by_the_peer_is_unavailable():
    """A TCP reset (SO_LINGER 0) right after the request is a reset connection, retried."""
    resets = 0

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal resets
        await reader.readuntil(b"\r\n\r\n")
        resets += 1
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def main() -> Exception:
        server = await asyncio.start_server(reset, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        settings = HttpJson.Settings(url=f"http://127.0.0.1:{port}/{{id_number}}", backoff=0)
        adapter = HttpJson("population", settings, timeout=2.0)
        try:
            with pytest.raises(Unavailable) as failed:
                await adapter.lookup({"id_number": ID})
            return failed.value
        finally:
            await adapter.aclose()
            server.close()
            await server.wait_closed()

    failure = asyncio.run(main())
    assert isinstance(failure, Unavailable)
    assert failure.why.startswith("connection reset (")
    assert failure.why.endswith(") after 3 attempts")
    assert resets == 3


def test_a_lookup_cancelled_from_outside_is_cancelled_not_unavailable(office_faults: Stand):
    """The adapter never swallows a cancellation: the caller's timeout wins, as CancelledError."""
    office_faults.fault("population", Hang())

    async def main() -> None:
        adapter = office_faults.adapter("population", timeout=5.0)
        try:
            task = asyncio.ensure_future(adapter.lookup({"id_number": ID}))
            done, _ = await asyncio.wait({task}, timeout=0.2)
            assert not done
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await adapter.aclose()

    asyncio.run(main())


def test_a_key_without_a_parameter_of_the_url_is_unavailable_and_asks_nobody(
    office_faults: Stand,
):
    """The URL's placeholder missing from the key: Unavailable, saying which; no request."""
    failure = fail(office_faults.adapter("population"), {"name": "李伟"})
    assert isinstance(failure, Unavailable)
    assert failure.why == "the key has no id_number for the URL"
    assert office_faults.count("population") == 0


# --- retries ----------------------------------------------------------------------------------


def test_a_get_is_retried_on_503_until_it_answers(office_faults: Stand):
    """Two 503s then the record: three requests, one answer."""
    office_faults.fault("population", Status(503), times=2)
    answer = ask(office_faults.adapter("population", retries=2, backoff=0.001))
    assert answer.record == RECORDS["population"][ID]
    assert office_faults.count("population", ID) == 3


def test_retries_stop_at_their_number(office_faults: Stand):
    """One retry allowed, 503 each time: two requests, and the why says so."""
    office_faults.fault("population", Status(503))
    failure = fail(office_faults.adapter("population", retries=1, backoff=0.001))
    assert failure.why == "HTTP 503 after 2 attempts"
    assert office_faults.count("population") == 2


@pytest.mark.parametrize("fault", [Status(400), Status(403), Status(404), Malformed(), Huge(9000)])
def test_what_cannot_pass_is_never_retried(office_faults: Stand, fault: Any):
    """A 4xx (but 429), a not-found, a body that is not a record: one request only."""
    office_faults.fault("population", fault)
    fail(office_faults.adapter("population", retries=5, backoff=0, max_bytes=8000))
    assert office_faults.count("population") == 1


def test_a_post_is_not_retried_unless_it_is_said_idempotent(office_faults: Stand):
    """POST: one 503 is final; with `idempotent: true` the retry gets the record."""
    office_faults.fault("population", Status(503), times=1)
    failure = fail(office_faults.adapter("population", method="POST", backoff=0))
    assert failure.why == "HTTP 503"
    assert office_faults.count("population") == 1
    office_faults.restore()
    office_faults.fault("population", Status(503), times=1)
    adapter = office_faults.adapter("population", method="POST", idempotent=True, backoff=0)
    assert ask(adapter).record == RECORDS["population"][ID]
    assert office_faults.count("population") == 2


def test_a_get_said_not_idempotent_is_not_retried(office_faults: Stand):
    """`idempotent: false` holds for a GET too."""
    office_faults.fault("population", Status(503), times=1)
    fail(office_faults.adapter("population", idempotent=False))
    assert office_faults.count("population") == 1


def test_the_pause_between_attempts_is_full_jitter(
    office_faults: Stand, monkeypatch: pytest.MonkeyPatch
):
    """Before retry n (from 0) the pause is drawn from [0, backoff * 2**n]."""
    drawn: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        drawn.append((low, high))
        return 0.0

    monkeypatch.setattr(http.random, "uniform", uniform)
    office_faults.fault("population", Status(503))
    fail(office_faults.adapter("population", retries=3, backoff=0.01))
    assert drawn == [(0, 0.01), (0, 0.02), (0, 0.04)]
    assert office_faults.count("population") == 4


def test_retries_never_sleep_past_the_deadline(
    office_faults: Stand, monkeypatch: pytest.MonkeyPatch
):
    """A pause that would pass the deadline is not slept: the lookup gives up at once."""
    monkeypatch.setattr(http.random, "uniform", lambda low, high: high)
    office_faults.fault("population", Status(503))
    failure, took = timed(office_faults.adapter("population", timeout=0.5, retries=5, backoff=1.0))
    assert failure.why == "HTTP 503"
    assert took < 0.5
    assert office_faults.count("population") == 1


def test_slow_failures_and_retries_keep_within_one_deadline(office_faults: Stand):
    """Attempts of 0.2 s each, retried at once: the last is cut at 0.5 s, and the lookup too."""
    office_faults.fault("population", Status(503, after=0.2))
    failure, took = timed(office_faults.adapter("population", timeout=0.5, retries=5, backoff=0))
    attempts = office_faults.count("population")
    assert attempts in {2, 3}
    assert failure.why == f"timeout after 0.5 s ({attempts} attempts)"
    assert 0.5 <= took < 0.5 + SLACK


# --- the circuit breaker ----------------------------------------------------------------------


def test_the_circuit_opens_after_failures_in_a_row_and_stops_the_requests(office_faults: Stand):
    """Three failed lookups open it: the fourth and fifth reach no office; after `reset`
    seconds one trial goes, and its success closes the circuit."""
    clock = Clock()
    office_faults.fault("population", Status(503), times=3)

    async def main() -> list[str]:
        adapter = office_faults.adapter(
            "population", retries=0, breaker={"failures": 3, "reset": 10.0}, clock=clock
        )
        whys = []
        try:
            for _ in range(5):
                with pytest.raises(Unavailable) as failed:
                    await adapter.lookup({"id_number": ID})
                whys.append(failed.value.why)
            assert office_faults.count("population") == 3
            clock.now += 9.9
            with pytest.raises(Unavailable, match="circuit open"):
                await adapter.lookup({"id_number": ID})
            clock.now += 0.1
            assert adapter.breaker.state == "half-open"
            assert (await adapter.lookup({"id_number": ID})).record["alive"] is True
            assert adapter.breaker.state == "closed"
        finally:
            await adapter.aclose()
        return whys

    assert asyncio.run(main()) == ["HTTP 503"] * 3 + ["circuit open"] * 2
    assert office_faults.count("population") == 4


def test_a_failed_trial_opens_the_circuit_again(office_faults: Stand):
    """Half-open, the trial fails: open again for another `reset`, one request more."""
    clock = Clock()
    office_faults.fault("population", Status(500))

    async def main() -> None:
        adapter = office_faults.adapter(
            "population", retries=0, breaker={"failures": 1, "reset": 5.0}, clock=clock
        )
        try:
            for why in ["HTTP 500", "circuit open"]:
                with pytest.raises(Unavailable, match=why):
                    await adapter.lookup({"id_number": ID})
            clock.now += 5.0
            for why in ["HTTP 500", "circuit open", "circuit open"]:
                with pytest.raises(Unavailable, match=why):
                    await adapter.lookup({"id_number": ID})
            assert adapter.breaker.state == "open"
        finally:
            await adapter.aclose()

    asyncio.run(main())
    assert office_faults.count("population") == 2


def test_half_open_lets_exactly_one_trial_through(office_faults: Stand):
    """Many lookups at once on a half-open circuit: one reaches the office, the rest are told
    the circuit is open."""
    clock = Clock()
    office_faults.fault("population", Status(503), times=1)
    office_faults.fault("population", Latency(0.1))

    async def main() -> list[Any]:
        adapter = office_faults.adapter(
            "population", retries=0, breaker={"failures": 1, "reset": 1.0}, clock=clock
        )
        try:
            with pytest.raises(Unavailable):
                await adapter.lookup({"id_number": ID})
            clock.now += 1.0
            lookups = [adapter.lookup({"id_number": ID}) for _ in range(10)]
            return await asyncio.gather(*lookups, return_exceptions=True)
        finally:
            await adapter.aclose()

    outcomes = asyncio.run(main())
    assert outcomes[0].record["alive"] is True
    assert {str(o) for o in outcomes[1:]} == {"circuit open"}
    assert office_faults.count("population") == 2


def test_not_found_and_refusals_count_for_the_office(office_faults: Stand):
    """Not-founds and 4xx answers are answers: they never open the circuit."""
    office_faults.fault("population", Status(400), times=3)
    office_faults.fault("population", Status(404), times=3)

    async def main() -> None:
        adapter = office_faults.adapter("population", breaker={"failures": 2})
        try:
            for key in ["a", "b", "c", ID, ID, ID]:
                with pytest.raises((NotFound, Unavailable)) as failed:
                    await adapter.lookup({"id_number": key})
                assert failed.value.why != "circuit open"
            assert adapter.breaker.state == "closed"
        finally:
            await adapter.aclose()

    asyncio.run(main())


def test_the_breaker_alone():
    """Closed → open after N → half-open after reset with one trial; an abandoned trial is given
    back; a failure let through before it opened does not extend it."""
    clock = Clock()
    breaker = Breaker(2, 10.0, clock=clock)
    first, second = breaker.admit(), breaker.admit()
    assert first is not None
    assert second is not None
    breaker.failed(first)
    assert breaker.state == "closed"
    breaker.failed(second)
    assert breaker.state == "open"
    assert breaker.admit() is None
    clock.now += 10.0
    trial = breaker.admit()
    assert trial is not None
    assert trial.trial
    assert breaker.admit() is None
    breaker.abandoned(trial)
    again = breaker.admit()
    assert again is not None
    assert again.trial
    breaker.failed(again)
    assert breaker.state == "open"
    clock.now += 5.0
    breaker.failed(first)  # late news from a call admitted while closed
    clock.now += 5.0
    assert breaker.state == "half-open"
    trial = breaker.admit()
    assert trial is not None
    breaker.succeeded(trial)
    assert breaker.state == "closed"
    with pytest.raises(ValueError, match="at least one"):
        Breaker(0, 1.0)


# --- secrets and what the adapter says --------------------------------------------------------


def test_the_token_is_sent_as_bearer_and_never_said(
    office_faults: Stand, monkeypatch: pytest.MonkeyPatch
):
    """`token: {env: NAME}` goes out as `Authorization: Bearer`; describe(), repr and the
    settings' repr never hold it, nor does a failure's why."""
    monkeypatch.setenv("POPULATION_TOKEN", "s3cr3t-t0ken")
    adapter = office_faults.adapter("population", token={"env": "POPULATION_TOKEN"})
    said = [adapter.describe(), repr(adapter), repr(adapter.settings), str(adapter.settings)]
    assert ask(adapter).record["alive"] is True
    (seen,) = office_faults.seen("population")
    assert seen.headers["authorization"] == "Bearer s3cr3t-t0ken"
    office_faults.fault("population", Status(401))
    failed = office_faults.adapter("population", token={"env": "POPULATION_TOKEN"})
    said.append(str(fail(failed)))
    assert not [text for text in said if "s3cr3t" in text]


def test_a_token_written_in_the_file_is_refused(offices: Stand):
    """A literal token is refused when the settings are read (secrets come from env or file)."""
    with pytest.raises(ValidationError, match="never written in the file"):
        HttpJson.Settings(url=offices.at("population"), token="s3cr3t")


def test_describe_gives_the_method_and_the_template_without_userinfo():
    """describe() strips a URL's user and password."""
    settings = HttpJson.Settings(url="https://user:pa55@registry.example:8443/p/{id_number}?v=2")
    adapter = HttpJson("population", settings, timeout=1.0)
    assert adapter.describe() == "GET https://registry.example:8443/p/{id_number}?v=2"
    assert "pa55" not in repr(adapter)
    asyncio.run(adapter.aclose())


def test_the_headers_of_the_settings_are_sent(office_faults: Stand):
    """Headers of the settings go with each request, beside `Accept: application/json`."""
    ask(office_faults.adapter("population", headers={"X-Office-Client": "secondapproval"}))
    (seen,) = office_faults.seen("population")
    assert seen.headers["x-office-client"] == "secondapproval"
    assert seen.headers["accept"] == "application/json"


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://office.example/{id_number}"}, "scheme is http or https, not 'ftp'"),
        ({"url": "office.example/{id_number}"}, "scheme is http or https"),
        ({"url": "http:///{id_number}"}, "names no host"),
        ({"url": "http://{host}/records"}, "in its scheme or host"),
        ({"url": "http://office.example:{port}/x"}, "in its scheme or host"),
        ({"url": "http://office.example/{id_number"}, "malformed"),
        ({"url": "http://office.example/id_number}"}, "malformed"),
        ({"url": "http://office.example/{}"}, "not {}"),
        ({"url": "http://office.example/{0}"}, "not {0}"),
        ({"url": "http://office.example/{a.b}"}, "not {a.b}"),
        ({"url": "http://office.example/{a!r}"}, "not {a!r}"),
        ({"url": "http://office.example/{a:>9}"}, "not {a:>9}"),
        ({"url": "http://o.example/{id_number}", "timeout": 3}, "Extra inputs"),
        ({"url": "http://o.example/{id_number}", "retries": 6}, "less than or equal to 5"),
        ({"url": "http://o.example/{id_number}", "retries": -1}, "greater than or equal"),
        ({"url": "http://o.example/{id_number}", "method": "PUT"}, "'GET' or 'POST'"),
        ({"url": "http://o.example/{id_number}", "breaker": {"open": 3}}, "Extra inputs"),
        ({"url": "http://o.example/{id_number}", "breaker": {"failures": 0}}, "greater than"),
        ({"url": "http://o.example/{id_number}", "not_found": [404, 1000]}, "not HTTP statuses"),
        ({"url": "http://o.example/{id_number}", "record": "data..person"}, "dotted path"),
        ({"url": "http://o.example/{id_number}", "headers": {"Bad Name": "x"}}, "header name"),
        ({"url": "http://o.example/{id_number}", "headers": {"X-A": "a\r\nb"}}, "cannot carry"),
    ],
)
def test_settings_that_cannot_work_are_refused_when_read(options: dict[str, Any], message: str):
    """A URL template that is not an http(s) URL with placeholders in its path or query, an
    unknown option, an option out of range: a pydantic error that says which."""
    with pytest.raises(ValidationError, match=message):
        HttpJson.Settings(**options)


def test_a_credential_in_the_headers_is_refused_without_being_echoed():
    """An Authorization header is refused (a token is a secret), and the error does not show it."""
    with pytest.raises(ValidationError) as refused:
        HttpJson.Settings(
            url="http://o.example/{id_number}", headers={"authorization": "Bearer s3cr3t"}
        )
    assert "token" in str(refused.value)
    assert "s3cr3t" not in str(refused.value)


def test_a_timeout_must_be_positive(offices: Stand):
    """The constructor refuses a lookup timeout that is not positive."""
    with pytest.raises(ValueError, match="positive"):
        offices.adapter("population", timeout=0)


# --- many at once, and any key ----------------------------------------------------------------


def test_a_hundred_lookups_in_flight_on_one_adapter_all_get_their_own_record(
    office_faults: Stand,
):
    """100 lookups gathered at once: each gets its key's record, each key asked once."""
    keys = [f"31010119900101{n:04d}" for n in range(100)]
    office_faults.load("credit", {k: {"id_number": k, "score": n} for n, k in enumerate(keys)})
    office_faults.fault("credit", Latency(0.05))

    async def main() -> list[Any]:
        adapter = office_faults.adapter("credit", timeout=5.0)
        try:
            return await asyncio.gather(*(adapter.lookup({"id_number": k}) for k in keys))
        finally:
            await adapter.aclose()

    answers = asyncio.run(main())
    assert [(a.record["id_number"], a.record["score"]) for a in answers] == [
        (k, n) for n, k in enumerate(keys)
    ]
    assert len({a.reference for a in answers}) == 100
    assert {k: office_faults.count("credit", k) for k in keys} == dict.fromkeys(keys, 1)


@hypothesis_settings(max_examples=examples(60))
@given(key=st.text(max_size=30))
@example(key=".")
@example(key="..")
@example(key="../credit")
@example(key="a/b?c=d#e")
@example(key="%2F%20{id_number}")
@example(key="")
def test_any_key_text_reaches_the_office_as_it_is(offices: Stand, key: str):
    """Whatever a key holds — slashes, dots, percent signs, braces, any script — the office is
    asked for that key and no other (each value is encoded whole, dots too)."""
    offices.put("degrees", key, {"certificate": key})
    try:
        answer = ask(offices.adapter("degrees", path="{certificate}"), {"certificate": key})
    finally:
        offices.load("degrees", RECORDS["degrees"])
    assert answer.record == {"certificate": key}


def test_a_key_value_that_is_not_text_is_sent_as_its_text(office_faults: Stand):
    """A number in the key is put in the URL as its text."""
    office_faults.put("degrees", "1002812021", {"certificate": 1002812021})
    answer = ask(office_faults.adapter("degrees", path="{n}"), {"n": 1002812021})
    assert answer.record == {"certificate": 1002812021}
