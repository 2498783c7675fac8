"""The stand-in offices on the wire, asked with a plain HTTP client: records and not-found, the
request ids and counts, each fault as a client meets it, and the server runner.

What the http-json adapter makes of each fault is tests/test_source_http.py.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offices import ID, RECORDS, Stand, office_faults_fixture, offices_fixture  # noqa: F401
from secondapproval.standin import (
    Body,
    Endless,
    Hang,
    Huge,
    Latency,
    Malformed,
    Offices,
    Reset,
    Status,
    WrongType,
    serve,
    wrong_types,
)


def get(stand: Stand, path: str, timeout: float = 2.0) -> httpx.Response:
    return httpx.get(f"{stand.url}{path}", timeout=timeout)


def test_an_office_answers_the_record_it_holds_with_a_request_id(office_faults: Stand):
    """GET /office/key: 200, the record as JSON, an X-Request-Id naming the office and counting."""
    first, second = get(office_faults, f"/population/{ID}"), get(office_faults, f"/credit/{ID}")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == RECORDS["population"][ID]
    assert second.json() == RECORDS["credit"][ID]
    office, _, number = first.headers["x-request-id"].partition("-")
    assert office == "population"
    assert second.headers["x-request-id"] == f"credit-{int(number) + 1}"


@pytest.mark.parametrize("path", ["/population/nobody", "/registry/" + ID, f"/population/{ID}/x"])
def test_what_an_office_does_not_hold_is_404_not_found(office_faults: Stand, path: str):
    """An unknown key, or an office that is not there: 404 {"error": "not found"}, with an id."""
    answer = get(office_faults, path)
    assert (answer.status_code, answer.json()) == (404, {"error": "not found"})
    assert "x-request-id" in answer.headers


def test_a_post_asks_for_the_key_its_body_names(office_faults: Stand):
    """POST /office with a one-value JSON object asks for that value; another body is a 400."""
    asked = httpx.post(f"{office_faults.url}/population", json={"id_number": ID})
    assert asked.json() == RECORDS["population"][ID]
    for body in [b"[1]", b"{}", b'{"a": 1, "b": 2}', b"not json"]:
        refused = httpx.post(f"{office_faults.url}/population", content=body)
        assert refused.status_code == 400
    assert [s.key for s in office_faults.seen("population")] == [ID, None, None, None, None]


def test_other_methods_and_a_get_without_a_key_are_refused(office_faults: Stand):
    """PUT, DELETE, or a GET of /office alone: 405."""
    assert httpx.put(f"{office_faults.url}/population/{ID}").status_code == 405
    assert httpx.delete(f"{office_faults.url}/population/{ID}").status_code == 405
    assert get(office_faults, "/population").status_code == 405


def test_records_put_and_loaded_are_served(office_faults: Stand):
    """put() adds one record, load() replaces an office's records, and a new office appears."""
    office_faults.put("population", "k1", {"name": "王芳"})
    assert get(office_faults, "/population/k1").json() == {"name": "王芳"}
    office_faults.load("population", {"k2": {"name": "张伟"}})
    assert get(office_faults, "/population/k1").status_code == 404
    assert get(office_faults, "/population/k2").json() == {"name": "张伟"}
    office_faults.put("tax", "k3", {"paid": True})
    assert get(office_faults, "/tax/k3").json() == {"paid": True}


def test_requests_are_counted_per_office_and_key(office_faults: Stand):
    """count() and seen() tell which office was asked for which key, how often; reset() forgets."""
    for path in [f"/population/{ID}", f"/population/{ID}", "/population/other", f"/credit/{ID}"]:
        get(office_faults, path)
    assert office_faults.count("population") == 3
    assert office_faults.count("population", ID) == 2
    assert office_faults.count("credit", ID) == 1
    assert office_faults.count("degrees") == 0
    assert [s.method for s in office_faults.seen()] == ["GET"] * 4
    office_faults.reset()
    assert office_faults.seen() == []


def test_a_fault_for_the_next_n_requests_then_the_usual_answer(office_faults: Stand):
    """`times=2`: two 503s, then the record."""
    office_faults.fault("population", Status(503), times=2)
    statuses = [get(office_faults, f"/population/{ID}").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_faults_are_met_in_the_order_set_and_only_by_their_office(office_faults: Stand):
    """One 500, then 502 until cleared; the other offices answer as usual throughout."""
    office_faults.fault("population", Status(500), times=1)
    office_faults.fault("population", Status(502))
    statuses = [get(office_faults, f"/population/{ID}").status_code for _ in range(3)]
    assert statuses == [500, 502, 502]
    assert get(office_faults, f"/credit/{ID}").status_code == 200
    office_faults.clear_faults()
    assert get(office_faults, f"/population/{ID}").status_code == 200
    with pytest.raises(ValueError, match="one request or more"):
        office_faults.fault("population", Hang(), times=0)


def test_latency_delays_the_usual_answer(office_faults: Stand):
    """Latency(0.2): the record, no sooner than 0.2 s."""
    office_faults.fault("population", Latency(0.2))
    start = time.monotonic()
    assert get(office_faults, f"/population/{ID}").json() == RECORDS["population"][ID]
    assert time.monotonic() - start >= 0.2


def test_a_hang_never_answers_and_the_office_serves_on(office_faults: Stand):
    """Hang: the client times out; the next request, without the fault, is answered."""
    office_faults.fault("population", Hang(), times=1)
    with pytest.raises(httpx.ReadTimeout):
        get(office_faults, f"/population/{ID}", timeout=0.3)
    assert get(office_faults, f"/population/{ID}").status_code == 200


def test_a_reset_cuts_the_connection_in_the_body(office_faults: Stand):
    """Reset: the status and headers come, then the connection closes mid-body."""
    office_faults.fault("population", Reset())
    with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection"):
        get(office_faults, f"/population/{ID}")


def test_malformed_and_body_answer_bytes_that_are_not_a_record(office_faults: Stand):
    """Malformed: 200 and a body that does not parse; Body: exactly the bytes given."""
    office_faults.fault("population", Malformed(), times=1)
    office_faults.fault("population", Body(b'{"score": NaN}'), times=1)
    broken = get(office_faults, f"/population/{ID}")
    assert broken.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(broken.content)
    assert get(office_faults, f"/population/{ID}").content == b'{"score": NaN}'


def test_wrong_type_answers_the_record_with_every_value_of_another_type(office_faults: Stand):
    """WrongType: the same fields, each of another JSON type; a key it does not hold is 404."""
    office_faults.fault("population", WrongType())
    answer = get(office_faults, f"/population/{ID}").json()
    assert answer == wrong_types(RECORDS["population"][ID])
    assert answer["alive"] == "true"
    assert get(office_faults, "/population/nobody").status_code == 404


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def json_type(value: Any) -> str:
    return "number" if type(value) in {int, float} else type(value).__name__


def leaves(value: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(value, dict):
        return {p: v for k, inner in value.items() for p, v in leaves(inner, (*path, k)).items()}
    return {path: value}


@given(record=st.dictionaries(st.text(), JSON, max_size=6))
def test_wrong_types_keeps_every_field_and_changes_every_type(record: dict[str, Any]):
    """Each value but an object becomes one of another JSON type, at the same path."""
    before, after = leaves(record), leaves(wrong_types(record))
    assert before.keys() == after.keys()
    assert all(json_type(before[p]) != json_type(after[p]) for p in before if p)


def test_an_endless_body_keeps_coming(office_faults: Stand):
    """Endless: the body goes on past any size a record could have."""
    office_faults.fault("population", Endless(every=0.001), times=1)
    received = 0
    with httpx.stream("GET", f"{office_faults.url}/population/{ID}", timeout=2.0) as answer:
        assert "content-length" not in answer.headers
        for chunk in answer.iter_bytes():
            received += len(chunk)
            if received > 50_000:
                break
    assert received > 50_000
    assert get(office_faults, f"/population/{ID}").status_code == 200


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_answer_is_a_json_object_of_exactly_its_size(office_faults: Stand, chunked: bool):
    """Huge(n): n bytes of a JSON object, declared in Content-Length unless chunked."""
    office_faults.fault("population", Huge(300_000, chunked=chunked))
    answer = get(office_faults, f"/population/{ID}")
    assert len(answer.content) == 300_000
    assert isinstance(orjson.loads(answer.content), dict)
    assert ("content-length" in answer.headers) is not chunked


def test_two_servers_run_side_by_side_and_stop(offices: Stand):
    """serve() on port 0 takes a free port each time; stop() closes it; no state is shared."""
    first, second = Offices(["population"]), Offices(["population"])
    first.put("population", "k", {"office": "first"})
    second.put("population", "k", {"office": "second"})
    with serve(first.app) as one, serve(second.app) as other:
        assert len({one.port, other.port, offices.running.port}) == 3
        assert one.url == f"http://127.0.0.1:{one.port}"
        assert httpx.get(f"{one.url}/population/k").json() == {"office": "first"}
        assert httpx.get(f"{other.url}/population/k").json() == {"office": "second"}
    assert not one.thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", one.port), timeout=1.0)


def test_a_server_stops_even_with_a_request_hanging():
    """A request held by Hang does not keep the server from stopping (about a second)."""
    desk = Offices(["population"])
    desk.fault("population", Hang())
    running = serve(desk.app)
    with socket.create_connection(("127.0.0.1", running.port)) as held:
        held.sendall(b"GET /population/k HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 2.0
        while desk.count("population") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the request is held (a poll, not a pause)
        start = time.monotonic()
        running.stop()
        assert time.monotonic() - start < 3.0
    assert not running.thread.is_alive()


def test_a_port_in_use_is_an_error_not_a_hang():
    """serve() on a port another socket holds raises instead of waiting."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RuntimeError, match="stopped before it started"):
            serve(Offices().app, port=taken.getsockname()[1])
