"""Schemathesis against the service's own OpenAPI document, on a real server (uvicorn, httpx).

Every operation is called with requests generated from the document (the per-matter request
schemas included), with a key that may do everything a platform may: no answer is a 5xx, every
answer's status is documented, its media type and body match their schemas.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from reference import REFERENCE, RULES, examples
from secondapproval.service import create_app
from secondapproval.standin import Running, serve
from service_server import Keys, bearer, write_config

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Keys]]:
    folder = tmp_path_factory.mktemp("schema")
    both = folder / "rules"
    both.mkdir()
    for source in (RULES, REFERENCE):  # the bundled matters and the reference one, together
        for path in source.glob("*.yaml"):
            if path.name != "sources.yaml":
                (both / path.name).write_bytes(path.read_bytes())
    (both / "sources.yaml").write_bytes((RULES / "sources.yaml").read_bytes())
    config, keys = write_config(folder, vouch=["public-security"], audit="audit/d.sqlite")
    app = create_app(both, config=config)
    running = serve(app)
    try:
        yield running, keys
    finally:
        running.stop()
        app.state.runtime.close()


@pytest.fixture(scope="module")
def operations(served: tuple[Running, Keys]) -> list[Any]:
    running, _ = served
    api = schemathesis.openapi.from_url(running.url + "/openapi.json")
    return [result.ok() for result in api.get_all_operations()]


def test_the_document_has_every_operation(operations: list[Any]) -> None:
    names = {f"{op.method.upper()} {op.path}" for op in operations}
    assert "POST /v1/matters/talent-reference/decisions" in names
    assert "POST /v1/matters/talent-reference/decisions:batch" in names
    assert {"GET /v1/matters", "GET /v1/matters/{matter}", "POST /v1/admin/reload"} <= names


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(st.data())
def test_every_answer_matches_the_document(
    operations: list[Any], served: tuple[Running, Keys], data: st.DataObject
) -> None:
    running, keys = served
    operation = data.draw(st.sampled_from(operations))
    case = data.draw(operation.as_strategy())
    key = keys.admin if case.path.startswith("/v1/admin") else keys.platform
    if case.path == "/v1/admin/reload":
        case.body = {}  # reload the rules it serves (a path would be the server's file system)
    case.call_and_validate(base_url=running.url, headers=bearer(key), checks=CHECKS)
