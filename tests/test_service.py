"""The decision service against a real server: uvicorn on 127.0.0.1, driven with httpx.

Most tests serve `create_app(...)` from a thread (`standin.serve`); the tests of several workers
start `secondapproval serve` itself (`service_server.ServiceProcess`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_openapi

from reference import GOOD_REF, ON, REFERENCE, RULES, examples
from secondapproval import Engine
from secondapproval.errors import ServiceConfigError
from secondapproval.service import create_app
from secondapproval.service.body import too_deep
from secondapproval.service.config import load_config
from secondapproval.service.keys import KeyRing, Principal, hash_key, matches, new_key
from secondapproval.standin import Running, serve
from service_server import Keys, bearer, write_config

REF_SOURCES = ["criminal-records", "degree-registry", "public-security", "social-insurance"]
PROBLEM = "application/problem+json"
DECIDE = "/v1/matters/talent-reference/decisions"


@pytest.fixture(scope="module")
def ref_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Keys, Path]]:
    """The reference matter served by one process; keys vouch for its sources; audited."""
    folder = tmp_path_factory.mktemp("service")
    config, keys = write_config(folder, vouch=REF_SOURCES, narrow_matter="graduate-hukou-shenzhen")
    app = create_app(REFERENCE, config=config)
    running = serve(app)
    try:
        yield running, keys, folder
    finally:
        running.stop()
        app.state.runtime.close()


@pytest.fixture(scope="module")
def client(ref_service: tuple[Running, Keys, Path]) -> Iterator[httpx.Client]:
    running, _, _ = ref_service
    with httpx.Client(base_url=running.url, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def keys(ref_service: tuple[Running, Keys, Path]) -> Keys:
    return ref_service[1]


def body_of(facts: dict[str, Any], on: str = ON.isoformat()) -> dict[str, Any]:
    return {"facts": facts, "on": on}


# ---- keys ------------------------------------------------------------------------------------


@settings(max_examples=examples(20), deadline=None)
@given(st.integers(min_value=0, max_value=60), st.sampled_from("AZaz09_-"))
def test_a_key_matches_its_hash_and_no_key_one_character_away(position: int, char: str) -> None:
    _, key = new_key()
    stored = hash_key(key, n=2**4)  # a cheap cost: the property, not scrypt's strength
    assert matches(key, stored)
    changed = key[:position] + char + key[position + 1 :] if position < len(key) else key + char
    assert matches(changed, stored) is (changed == key)


def test_the_keyring_refuses_unknown_ids_and_remembers_a_checked_key() -> None:
    key_id, key = new_key()
    who = Principal("portal", key_id, frozenset({"*"}))
    ring = KeyRing([(hash_key(key, n=2**4), who)])
    assert ring.check(key) == who
    assert ring.check(key) == who  # from memory
    _, other = new_key()
    assert ring.check(other) is None
    assert ring.check(f"sa_{key_id}_{other.split('_', 2)[2]}") is None
    assert ring.check("not a key") is None


def test_keys_add_prints_the_key_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    from secondapproval.cli import main

    config = tmp_path / "service.yaml"
    assert main(["keys", "add", "portal", "--config", str(config), "--matters", "*"]) == 0
    assert main(["keys", "add", "ops", "--config", str(config), "--admin"]) == 0
    text = config.read_text(encoding="utf-8")
    loaded = load_config(config)
    assert [k.name for k in loaded.settings.keys] == ["portal", "ops"]
    assert "sa_" not in text
    assert config.stat().st_mode & 0o077 == 0
    assert main(["keys", "remove", "portal", "--config", str(config)]) == 0
    assert [k.name for k in load_config(config).settings.keys] == ["ops"]


def test_a_bad_configuration_is_located(tmp_path: Path) -> None:
    config = tmp_path / "service.yaml"
    config.write_text(
        "keys:\n"
        "  - {name: a, id: 0000000a, hash: 'scrypt$16384$8$1$AA==$AA=='}\n"
        "  - {name: a, id: 0000000b, hash: plain-text}\n"
        "limits: {batch: 0}\n",
        encoding="utf-8",
    )
    with pytest.raises(ServiceConfigError) as caught:
        load_config(config)
    text = str(caught.value)
    assert "service.yaml:3" in text
    assert "keys.1.hash" in text
    assert "limits.batch" in text


# ---- authentication --------------------------------------------------------------------------


def test_a_missing_a_wrong_and_a_malformed_key_are_refused(client: httpx.Client) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer sa_00000000_" + "A" * 43},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ):
        r = client.post(DECIDE, json=body_of(GOOD_REF), headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["type"] == "urn:secondapproval:problem:unauthenticated"
        assert "Bearer" in r.headers["www-authenticate"]


def test_a_key_for_another_matter_and_an_admin_key_may_not_decide(
    client: httpx.Client, keys: Keys
) -> None:
    r = client.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.narrow))
    assert r.status_code == 403
    assert "talent-reference" in r.json()["detail"]
    r = client.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.admin))
    assert r.status_code == 403
    r = client.post("/v1/admin/reload", json={}, headers=bearer(keys.platform))
    assert r.status_code == 403


def test_a_service_without_keys_refuses_every_decision_and_says_how_to_add_one(
    tmp_path: Path,
) -> None:
    app = create_app(REFERENCE)
    running = serve(app)
    try:
        r = httpx.post(running.url + DECIDE, json=body_of(GOOD_REF), headers=bearer("x"))
        assert r.status_code == 401
        assert "keys add" in r.json()["detail"]
    finally:
        running.stop()
        app.state.runtime.close()


def test_no_response_reveals_a_key(client: httpx.Client, keys: Keys) -> None:
    bodies = [
        client.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.platform)).text,
        client.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.narrow)).text,
        client.get("/metrics").text,
        client.get("/readyz").text,
    ]
    for text in bodies:
        for key in (keys.platform, keys.narrow, keys.admin):
            assert key not in text
            assert key.split("_", 2)[2] not in text


# ---- decisions -------------------------------------------------------------------------------


def test_a_decision_is_the_engines_and_names_its_snapshot(client: httpx.Client, keys: Keys) -> None:
    engine = Engine(REFERENCE, vouch=REF_SOURCES)
    for facts in (GOOD_REF, {**GOOD_REF, "age": 50}, {}):
        r = client.post(DECIDE, json=body_of(facts), headers=bearer(keys.platform))
        assert r.status_code == 200
        got = r.json()
        expected = engine.decide("talent-reference", facts, on=ON).to_dict()
        del got["decision_id"], expected["decision_id"]
        assert got == expected
        assert r.headers["x-snapshot"] == engine.snapshot.digest


def test_a_referral_is_a_decision_and_a_fact_the_key_does_not_vouch_for_is_refused(
    tmp_path: Path,
) -> None:
    """The narrow key vouches for nothing: every office fact it sends is INVALID (refer, 200)."""
    config, keys = write_config(tmp_path, vouch=[], narrow_matter="talent-reference", audit=None)
    app = create_app(REFERENCE, config=config)
    running = serve(app)
    try:
        r = httpx.post(running.url + DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.narrow))
        assert r.status_code == 200
        doc = r.json()
        assert doc["outcome"] == "refer"
        assert "INVALID:age" in [reason["code"] for reason in doc["reasons"]]
        assert doc["vouched"] == []
    finally:
        running.stop()
        app.state.runtime.close()


def test_a_key_given_twice_in_the_facts_refers(client: httpx.Client, keys: Keys) -> None:
    raw = json.dumps(body_of(GOOD_REF)).replace('"age": 30', '"age": 30, "age": 30')
    assert raw.count('"age"') == 2
    r = client.post(
        DECIDE,
        content=raw.encode(),
        headers={**bearer(keys.platform), "Content-Type": "application/json"},
    )
    assert r.status_code == 200
    assert r.json()["outcome"] == "refer"
    assert "INVALID:age" in [reason["code"] for reason in r.json()["reasons"]]


def test_a_batch_has_one_result_each_in_order(client: httpx.Client, keys: Keys) -> None:
    apps = [{"facts": GOOD_REF, "id": "a"}, {"facts": {**GOOD_REF, "age": 50}}, {"facts": {}}]
    r = client.post(
        DECIDE + ":batch",
        json={"on": ON.isoformat(), "applications": apps},
        headers=bearer(keys.platform),
    )
    assert r.status_code == 200
    doc = r.json()
    assert [d["outcome"] for d in doc["results"]] == ["approve", "refer", "refer"]
    assert doc["results"][0]["id"] == "a"
    assert "id" not in doc["results"][1]
    assert {d["snapshot"] for d in doc["results"]} == {doc["snapshot"]}


@pytest.mark.parametrize(
    ("content", "headers", "status", "kind"),
    [
        (b"{", {}, 400, "malformed"),
        (b"[]", {}, 400, "malformed"),
        (b'{"facts": []}', {}, 400, "malformed"),
        (b'{"facts": {}, "on": "2021-02-30"}', {}, 400, "malformed"),
        (b'{"facts": {}, "extra": 1}', {}, 400, "malformed"),
        (b"", {}, 400, "malformed"),
        (b'{"facts": ' + b'{"a": ' * 40 + b"1" + b"}" * 41, {}, 400, "too-deep"),
        (b'{"facts": {"x": "' + b"a" * 300_000 + b'"}}', {}, 413, "too-large"),
        (b'{"facts": {}}', {"Content-Type": "text/plain"}, 415, "media-type"),
    ],
)
def test_a_request_that_is_not_a_decision_is_a_problem(
    client: httpx.Client,
    keys: Keys,
    content: bytes,
    headers: dict[str, str],
    status: int,
    kind: str,
) -> None:
    r = client.post(
        DECIDE,
        content=content,
        headers={"Content-Type": "application/json", **headers, **bearer(keys.platform)},
    )
    assert r.status_code == status
    assert r.headers["content-type"] == PROBLEM
    doc = r.json()
    assert doc["type"] == f"urn:secondapproval:problem:{kind}"
    assert doc["status"] == status
    assert "Traceback" not in r.text


def test_unknown_matters_routes_and_methods_are_problems(client: httpx.Client, keys: Keys) -> None:
    r = client.post("/v1/matters/nope/decisions", json={"facts": {}}, headers=bearer(keys.platform))
    assert (r.status_code, r.json()["type"]) == (404, "urn:secondapproval:problem:unknown-matter")
    r = client.get("/v1/nothing")
    assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM)
    r = client.get(DECIDE, headers=bearer(keys.platform))
    assert (r.status_code, r.headers["content-type"]) == (405, PROBLEM)


def test_a_batch_beyond_the_limit_is_refused(client: httpx.Client, keys: Keys) -> None:
    apps = [{"facts": {}}] * 101
    r = client.post(DECIDE + ":batch", json={"applications": apps}, headers=bearer(keys.platform))
    assert r.status_code == 413
    assert r.json()["type"] == "urn:secondapproval:problem:too-many"


@settings(max_examples=examples(50), deadline=None)
@given(
    st.recursive(st.none() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c))
)
def test_depth_is_measured_as_json_nesting(doc: Any) -> None:
    def depth(node: Any) -> int:
        if isinstance(node, dict):
            return 1 + max((depth(v) for v in node.values()), default=0)
        if isinstance(node, list):
            return 1 + max((depth(v) for v in node), default=0)
        return 0

    for limit in (1, 2, 3, 5):
        assert too_deep(doc, limit) is (depth(doc) > limit)


# ---- personal data ---------------------------------------------------------------------------


def test_personal_facts_are_masked_in_every_answer(tmp_path: Path) -> None:
    """The bundled matters read ID numbers (pii): the caller's own value never comes back."""
    config, keys = write_config(tmp_path, vouch=["public-security"], audit="audit/d.sqlite")
    app = create_app(RULES, config=config)
    running = serve(app)
    id_number = "440301199001011234"
    try:
        with httpx.Client(base_url=running.url, timeout=10) as c:
            for matter in app.state.runtime.engine.matters:
                facts = {"applicant": {"id_number": id_number, "name": "张三"}}
                r = c.post(
                    f"/v1/matters/{matter}/decisions", json={"facts": facts}, headers=c_auth(keys)
                )
                assert r.status_code == 200
                assert id_number not in r.text
                assert "张三" not in r.text
                record = c.get(f"/v1/decisions/{r.json()['decision_id']}", headers=c_auth(keys))
                assert record.status_code == 200
                assert id_number not in record.text
                assert record.json()["decision_id"] == r.json()["decision_id"]
    finally:
        running.stop()
        app.state.runtime.close()


def c_auth(keys: Keys) -> dict[str, str]:
    return bearer(keys.platform)


def test_an_audit_record_needs_audit_read_and_an_existing_decision(
    client: httpx.Client, keys: Keys
) -> None:
    decided = client.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.platform)).json()
    path = f"/v1/decisions/{decided['decision_id']}"
    assert client.get(path, headers=bearer(keys.narrow)).status_code == 403
    r = client.get(path, headers=bearer(keys.platform))
    assert r.status_code == 200
    assert r.json()["outcome"] == decided["outcome"]
    r = client.get("/v1/decisions/nope", headers=bearer(keys.platform))
    assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM)


# ---- the matters, OpenAPI, operations --------------------------------------------------------


def test_the_matters_are_listed_and_described(client: httpx.Client, keys: Keys) -> None:
    listed = client.get("/v1/matters", headers=bearer(keys.platform)).json()
    assert [m["matter"] for m in listed["matters"]] == ["talent-reference"]
    version = listed["matters"][0]["versions"][0]
    assert set(version) == {"version", "effective_from", "effective_to", "digest"}
    described = client.get("/v1/matters/talent-reference", headers=bearer(keys.platform)).json()
    schema = described["versions"][0]["facts"]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(GOOD_REF, schema)
    assert described["versions"][0]["rules"][0]["says"]["zh"]
    assert client.get("/v1/matters", headers={}).status_code == 401
    narrow = client.get("/v1/matters", headers=bearer(keys.narrow)).json()
    assert narrow["matters"] == []  # its one matter is not served here
    r = client.get("/v1/matters/talent-reference", headers=bearer(keys.narrow))
    assert r.status_code == 404


def test_the_openapi_document_is_valid_and_describes_every_answer(
    client: httpx.Client, keys: Keys
) -> None:
    doc = client.get("/openapi.json").json()
    validate_openapi(doc)
    assert doc["openapi"] == "3.1.0"
    operation = doc["paths"][DECIDE]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    jsonschema.validate(body_of(GOOD_REF), request)
    decision = client.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.platform)).json()
    components = {"components": doc["components"]}
    jsonschema.validate(decision, {**components, "$ref": "#/components/schemas/Decision"})
    problem = client.post(DECIDE, content=b"{", headers=bearer(keys.platform)).json()
    jsonschema.validate(problem, {**components, "$ref": "#/components/schemas/Problem"})


def test_health_readiness_and_metrics(client: httpx.Client, keys: Keys) -> None:
    client.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.platform))
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["ready"] is True
    assert ready["workers"][0]["snapshot"] == ready["snapshot"]
    text = client.get("/metrics").text
    assert 'secondapproval_decisions_total{matter="talent-reference",outcome="approve"}' in text
    assert "secondapproval_decision_seconds_bucket" in text
    assert f'snapshot="{ready["snapshot"]}"' in text


# ---- reload in one process -------------------------------------------------------------------


def test_a_reload_swaps_and_a_bad_rule_set_is_refused_while_the_old_keeps_serving(
    tmp_path: Path,
) -> None:
    strict = tmp_path / "strict"
    shutil.copytree(REFERENCE, strict)
    matter = strict / "talent-reference.yaml"
    matter.write_text(matter.read_text().replace('"master": 40', '"master": 29'))
    broken = tmp_path / "broken"
    shutil.copytree(REFERENCE, broken)
    (broken / "talent-reference.yaml").write_text("matter: [")
    config, keys = write_config(tmp_path, vouch=REF_SOURCES, audit="audit/d.jsonl")
    app = create_app(REFERENCE, config=config)
    running = serve(app)
    try:
        with httpx.Client(base_url=running.url, timeout=20) as c:
            before = c.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.platform)).json()
            assert before["outcome"] == "approve"
            r = c.post("/v1/admin/reload", json={"rules": str(broken)}, headers=bearer(keys.admin))
            assert r.status_code == 422
            assert r.json()["type"] == "urn:secondapproval:problem:reload-refused"
            same = c.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.platform)).json()
            assert same["snapshot"] == before["snapshot"]
            r = c.post("/v1/admin/reload", json={"rules": str(strict)}, headers=bearer(keys.admin))
            assert r.status_code == 200
            assert r.json()["previous"] == before["snapshot"]
            after = c.post(DECIDE, json=body_of(GOOD_REF), headers=bearer(keys.platform)).json()
            assert after["snapshot"] == r.json()["snapshot"] != before["snapshot"]
            assert after["outcome"] == "refer"
            assert c.get("/openapi.json").headers["x-snapshot"] == after["snapshot"]
    finally:
        running.stop()
        app.state.runtime.close()
    lines = [
        orjson.loads(line) for line in (tmp_path / "audit" / "d.jsonl").read_bytes().splitlines()
    ]
    swaps = [line for line in lines if line.get("kind") == "swap"]
    assert [(s["old"], s["new"]) for s in swaps] == [(before["snapshot"], after["snapshot"])]


def test_an_answer_holds_integers_beyond_64_bits(client: httpx.Client, keys: Keys) -> None:
    """Found by schemathesis: a fact read of 10**30 made the JSON encoder fail (a 500)."""
    for path, body in (
        (DECIDE, body_of({**GOOD_REF, "social_insurance_months": 10**30})),
        (DECIDE + ":batch", {"applications": [{"facts": {"age": -(10**25)}}]}),
    ):
        r = client.post(path, json=body, headers=bearer(keys.platform))
        assert r.status_code == 200
        assert str(10**30) in r.text or str(-(10**25)) in r.text


@contextlib.contextmanager
def gathering_service(
    tmp_path: Path, *, timeout: float | None = None, **config: Any
) -> Iterator[tuple[Any, httpx.Client, str, dict[str, Any]]]:
    """A service that gathers from stand-in offices over http-json: yields the offices' stand,
    a client holding the platform's key, the talent matter's decisions path and an application
    that approves while the offices answer."""
    from test_gather_real import BROUGHT, TALENT, Stand, http_deployment
    from test_gather_real import ON as TALENT_ON

    stand = Stand()
    deployment = tmp_path / "deploy.yaml"
    at = {} if timeout is None else {"timeout": timeout}
    deployment.write_text(http_deployment(stand.running.url, **at), encoding="utf-8")
    config_file, keys = write_config(tmp_path, vouch=[], **config)
    app = create_app(RULES, config=config_file, deployment=deployment)
    running = serve(app)
    body = {"facts": BROUGHT, "on": TALENT_ON.isoformat()}
    try:
        with httpx.Client(base_url=running.url, timeout=10, headers=bearer(keys.platform)) as c:
            yield stand, c, f"/v1/matters/{TALENT}/decisions", body
    finally:
        stand.running.stop()
        running.stop()
        app.state.runtime.close()


def test_the_service_gathers_from_sources_and_a_source_down_refers_and_shows_in_healthz(
    tmp_path: Path,
) -> None:
    """With a deployment the service looks facts up (http-json against stand-in offices): the
    application approves with the offices' provenance; with the offices gone it refers
    (UNAVAILABLE), /healthz shows the source down, /readyz stays ready, the metrics count it."""
    with gathering_service(tmp_path, audit="audit/d.sqlite") as (stand, c, path, body):
        approved = c.post(path, json=body).json()
        assert approved["outcome"] == "approve", approved["reasons"]
        assert approved["provenance"]["credit.untrustworthy"]["via"] == "adapter"
        assert c.get("/healthz").json()["sources"]["credit-platform"]["state"] == "up"
        stand.running.stop()
        referred = c.post(path, json=body).json()
        assert referred["outcome"] == "refer"
        assert "UNAVAILABLE:credit-platform" in [r["code"] for r in referred["reasons"]]
        health = c.get("/healthz").json()["sources"]["credit-platform"]
        assert health["state"] == "down"
        assert health["error"]
        assert c.get("/readyz").status_code == 200
        metrics = c.get("/metrics").text
        assert (
            'secondapproval_source_errors_total{code="UNAVAILABLE",source="credit-platform"}'
            in metrics
        )


def test_a_decision_beyond_the_request_time_limit_is_a_504_and_the_next_is_decided(
    tmp_path: Path,
) -> None:
    """An office that never answers (its adapter would wait 5 s) against a 1 s request limit:
    a 504 problem within about the limit, the service unharmed — the office back, the same
    request is decided. (The limit is 1 s, not less, so that the decision after it, eleven
    look-ups over HTTP, stays within it on a machine busy with the rest of the suite.)"""
    import time

    from secondapproval.standin import Hang

    limits = {"request_seconds": 1.0}
    with gathering_service(tmp_path, timeout=5, limits=limits) as (stand, c, path, body):
        stand.offices.fault("credit", Hang(), times=1)
        began = time.monotonic()
        late = c.post(path, json=body)
        took = time.monotonic() - began
        assert late.status_code == 504
        assert late.headers["content-type"] == PROBLEM
        assert late.json()["type"] == "urn:secondapproval:problem:timeout"
        assert 1.0 <= took < 3.0
        after = c.post(path, json=body)
        assert after.status_code == 200, after.text
        assert after.json()["outcome"] == "approve"


def test_deadlines_cancel_only_the_late_and_an_outer_cancel_stays_a_cancel() -> None:
    """Of three requests on one loop, the one past its limit gets TimeoutError, the one within
    its limit its value, one cancelled from outside CancelledError; then no timer is left."""
    import asyncio

    from secondapproval.service.deadlines import Deadlines

    deadlines = Deadlines(tick=0.01)

    async def run() -> list[Any]:
        late = asyncio.ensure_future(deadlines.within(asyncio.sleep(5, "late"), 0.05))
        quick = asyncio.ensure_future(deadlines.within(asyncio.sleep(0.01, "quick"), 1))
        dropped = asyncio.ensure_future(deadlines.within(asyncio.sleep(5, "dropped"), 0.05))
        await asyncio.sleep(0.001)
        dropped.cancel()
        done = await asyncio.gather(late, quick, dropped, return_exceptions=True)
        await asyncio.sleep(0.03)
        return [*done, deadlines._timer]

    late, quick, dropped, timer = asyncio.run(run())
    assert isinstance(late, TimeoutError)
    assert quick == "quick"
    assert isinstance(dropped, asyncio.CancelledError)
    assert timer is None
