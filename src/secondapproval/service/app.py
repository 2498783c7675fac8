"""The decision service: an ASGI application (Starlette) over one Engine per worker process.

`create_app(...)` builds it — `serve` runs it under uvicorn, an embedding mounts it. It adds
transport, authentication and limits; it decides nothing itself (DESIGN §11): every answer to a
decision request is the Engine's `Decision` (a referral is a decision, 200), every other answer is
an RFC 9457 problem (`problems`). Routes:

    POST /v1/matters/{matter}/decisions        {"facts": {…}, "on": "YYYY-MM-DD"?}
    POST /v1/matters/{matter}/decisions:batch  {"on"?, "applications": [{"facts": {…}, "id"?}…]}
    GET  /v1/matters · /v1/matters/{matter} · /v1/decisions/{decision_id}
    POST /v1/admin/reload                      {"rules": PATH?}   (admin key)
    GET  /healthz · /readyz · /metrics · /openapi.json

Keys are Bearer tokens (`keys`); a service configured with none refuses every decision (401).
The application's personal facts are masked in every answer as in the audit trail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..audit.mask import mask_all
from ..decision import Decision
from ..errors import UnknownMatterError
from ..factschema import facts_schema
from ..log import get_logger
from ..ruleset import Matter
from ..sources.deployment import Deployment
from .config import ServiceConfig, load_config
from .deadlines import Deadlines
from .keys import Principal
from .openapi import openapi_document
from .problems import ProblemError, problem_response
from .runtime import Runtime

JSON = "application/json"
Handler = Callable[[Request], Awaitable[Response]]


def create_app(
    rules: str | Path = "rules",
    *,
    config: ServiceConfig | str | Path | None = None,
    deployment: str | Path | Deployment | None = None,
    audit: str | None = None,
    audit_key: str | Path | None = None,
    state: str | Path | None = None,
    backend: str = "native",
    runtime: Runtime | None = None,
) -> Starlette:
    """The ASGI application deciding the matters of `rules` (a folder or a bundle).

    `config`: the service's settings (a `ServiceConfig` or its file: keys, limits, audit);
    `deployment`: the sources' deployment file; `audit`, `audit_key`: a log (path or
    `postgresql://` URL) and its key file, overriding the config's;
    `state`: the board folder the workers of one service share (`board`; None: one process that
    reloads itself). The Engine is built here, in the calling process; mounted in another
    application, close it with `app.state.runtime.close()` (a mounted app gets no lifespan).
    """
    if runtime is None:
        if config is not None and not isinstance(config, ServiceConfig):
            config = load_config(config)
        runtime = Runtime.start(
            rules,
            config=config,
            deployment=deployment,
            audit=audit,
            audit_key=audit_key,
            state=state,
            backend=backend,
        )
    api = _Api(runtime)
    routes = [
        Route("/v1/matters/{matter}/decisions", api.guarded(api.decide), methods=["POST"]),
        Route("/v1/matters/{matter}/decisions:batch", api.guarded(api.batch), methods=["POST"]),
        Route("/v1/matters", api.guarded(api.matters), methods=["GET"]),
        Route("/v1/matters/{matter}", api.guarded(api.matter), methods=["GET"]),
        Route("/v1/decisions/{decision_id}", api.guarded(api.record), methods=["GET"]),
        Route("/v1/admin/reload", api.guarded(api.reload), methods=["POST"]),
        Route("/healthz", api.guarded(api.healthz), methods=["GET"]),
        Route("/readyz", api.guarded(api.readyz), methods=["GET"]),
        Route("/metrics", api.guarded(api.metrics), methods=["GET"]),
        Route("/openapi.json", api.guarded(api.openapi), methods=["GET"]),
    ]

    async def not_routed(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        kind = {404: "not-found", 405: "method"}.get(status, "malformed")
        detail = {
            404: f"no such resource: {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }.get(status, "the request could not be read")
        runtime.metrics.problems.labels(kind).inc()
        return problem_response(status, kind, detail, request.url.path)

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_routed},
        lifespan=runtime.lifespan,
    )
    app.state.runtime = runtime
    return app


class _Api:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self._log = get_logger(component="service")
        self._openapi: tuple[str, bytes] | None = None
        self._deadlines = Deadlines()

    def guarded(self, handler: Handler) -> Handler:
        """The handler, its ProblemErrors answered as problems, any other failure as a 500 that
        says nothing of its cause (the log has it)."""

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ProblemError as p:
                self.rt.metrics.problems.labels(p.kind).inc()
                return problem_response(p.status, p.kind, p.detail, request.url.path, **p.extra)
            except Exception as exc:
                self._log.error("request.failed", path=request.url.path, error=repr(exc))
                self.rt.metrics.problems.labels("internal").inc()
                return problem_response(
                    500, "internal", "the service failed on this request", request.url.path
                )

        return run

    # ---- authentication ----
    def principal(self, request: Request) -> Principal:
        if len(self.rt.keyring) == 0:
            raise ProblemError(
                401,
                "unauthenticated",
                "this service has no API key configured, so it decides nothing: add one with "
                "`secondapproval keys add NAME --matters … --config FILE`",
            )
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(
                401, "unauthenticated", "send the API key as `Authorization: Bearer <key>`"
            )
        principal = self.rt.keyring.check(token.strip())
        if principal is None:
            raise ProblemError(401, "unauthenticated", "the API key is not one this service knows")
        return principal

    def platform(self, request: Request) -> Principal:
        who = self.principal(request)
        if who.admin:
            raise ProblemError(403, "forbidden", "an admin key reaches /v1/admin only")
        return who

    def allowed(self, who: Principal, matter: str) -> None:
        if not who.may_decide(matter):
            raise ProblemError(403, "forbidden", f"the key {who.name!r} may not decide {matter!r}")
        if matter not in self.rt.engine.snapshot.spans:
            raise ProblemError(404, "unknown-matter", f"no matter {matter!r} is served here")

    # ---- decisions ----
    async def decide(self, request: Request) -> Response:
        who = self.platform(request)
        matter = request.path_params["matter"]
        self.allowed(who, matter)
        body = await self.rt.reader.json_body(request)
        facts, on = _application(body, ("facts", "on"))
        started = time.perf_counter()
        decision = await self._within(
            self.rt.engine.decide_async(matter, facts, on=on, vouched=self.rt.vouched_for(who))
        )
        self.rt.metrics.decided(matter, decision, time.perf_counter() - started)
        self.rt.observe(decision)
        return _json(self.shown(decision), decision.snapshot)

    async def batch(self, request: Request) -> Response:
        who = self.platform(request)
        matter = request.path_params["matter"]
        self.allowed(who, matter)
        body = await self.rt.reader.json_body(request)
        limits = self.rt.config.limits
        if not isinstance(body, dict) or set(body) - {"on", "applications"}:
            raise ProblemError(400, "malformed", 'the body is {"on"?, "applications": [...]}')
        on = _date(body.get("on"))
        items = body.get("applications")
        if not isinstance(items, list) or not items:
            raise ProblemError(400, "malformed", "applications is a non-empty list")
        if len(items) > limits.batch:
            raise ProblemError(
                413,
                "too-many",
                f"a batch holds at most {limits.batch} applications",
                limit=limits.batch,
            )
        ids, facts = [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or set(item) - {"facts", "id"}:
                raise ProblemError(
                    400, "malformed", f'applications[{i}] is {{"facts": {{…}}, "id"?}}'
                )
            if not isinstance(item.get("facts", {}), dict):
                raise ProblemError(400, "malformed", f"applications[{i}].facts is an object")
            if "id" in item and not isinstance(item["id"], str):
                raise ProblemError(400, "malformed", f"applications[{i}].id is a string")
            ids.append(item.get("id"))
            facts.append(item.get("facts", {}))
        started = time.perf_counter()
        engine = self.rt.engine
        decisions = await self._within(
            asyncio.to_thread(
                engine.decide_many,
                matter,
                facts,
                on=on,
                gather=True,
                vouched=self.rt.vouched_for(who),
            )
        )
        each = (time.perf_counter() - started) / len(decisions)
        results = []
        for ref, decision in zip(ids, decisions, strict=True):
            self.rt.metrics.decided(matter, decision, each)
            self.rt.observe(decision)
            shown = self.shown(decision)
            if ref is not None:
                shown["id"] = ref
            results.append(shown)
        snapshot = decisions[0].snapshot
        return _json({"snapshot": snapshot, "results": results}, snapshot)

    async def _within(self, work: Awaitable[Any]) -> Any:
        seconds = self.rt.config.limits.request_seconds
        try:
            return await self._deadlines.within(work, seconds)
        except TimeoutError:
            raise ProblemError(
                504, "timeout", f"no decision within {seconds:g} s; nothing was acknowledged"
            ) from None
        except UnknownMatterError as exc:
            raise ProblemError(404, "unknown-matter", str(exc)) from None

    def shown(self, decision: Decision) -> dict[str, Any]:
        """The decision as `decide --json` prints it, its personal facts masked."""
        out = decision.to_dict()
        pii = self.rt.pii_of(decision.matter or "", decision.version)
        if pii:
            for item in (*out["reasons"], *out["results"]):
                _mask_read(item["facts_read"], pii)
            _mask_read(out["outputs"], pii)
        return out

    # ---- the matters ----
    async def matters(self, request: Request) -> Response:
        who = self.principal(request)
        snapshot = self.rt.engine.snapshot
        listed = []
        for matter in snapshot.matters:
            if not who.admin and not who.may_decide(matter):
                continue
            versions = [_version_summary(span.compiled.matter) for span in snapshot.spans[matter]]
            title = snapshot.spans[matter][-1].compiled.matter.spec.title.model_dump()
            listed.append({"matter": matter, "title": title, "versions": versions})
        return _json({"snapshot": snapshot.digest, "matters": listed}, snapshot.digest)

    async def matter(self, request: Request) -> Response:
        who = self.principal(request)
        matter = request.path_params["matter"]
        snapshot = self.rt.engine.snapshot
        if matter not in snapshot.spans or not (who.admin or who.may_decide(matter)):
            raise ProblemError(404, "unknown-matter", f"no matter {matter!r} is served here")
        versions = []
        for span in snapshot.spans[matter]:
            m = span.compiled.matter
            versions.append(
                {
                    **_version_summary(m),
                    "facts": facts_schema(m),
                    "rules": [
                        {
                            "id": r.id,
                            "says": r.spec.says.model_dump(),
                            "refer": r.spec.refer.model_dump(),
                            "legal": r.spec.legal,
                        }
                        for r in m.rules
                    ],
                    "guide": _guide_of(m),
                }
            )
        doc = {"snapshot": snapshot.digest, "matter": matter, "versions": versions}
        return _json(doc, snapshot.digest)

    # ---- the audit trail ----
    async def record(self, request: Request) -> Response:
        who = self.platform(request)
        if not who.audit_read:
            raise ProblemError(403, "forbidden", f"the key {who.name!r} may not read audit records")
        decision_id = request.path_params["decision_id"]
        found = await asyncio.to_thread(self.rt.find_record, decision_id)
        if found is None:
            raise ProblemError(404, "not-found", f"no audit record of decision {decision_id!r}")
        if not who.may_decide(str(found.get("matter"))):
            raise ProblemError(404, "not-found", f"no audit record of decision {decision_id!r}")
        return _json(found, None)

    # ---- administration ----
    async def reload(self, request: Request) -> Response:
        who = self.principal(request)
        if not who.admin:
            raise ProblemError(403, "forbidden", "reloading the rules needs an admin key")
        body = await self.rt.reader.json_body(request, empty={})
        if not isinstance(body, dict) or set(body) - {"rules", "wait"}:
            raise ProblemError(400, "malformed", 'the body is {"rules": PATH?, "wait": SECONDS?}')
        rules = body.get("rules")
        wait = body.get("wait", 10)
        if rules is not None and not isinstance(rules, str):
            raise ProblemError(400, "malformed", "rules is the path of a folder or a bundle")
        if isinstance(wait, bool) or not isinstance(wait, int | Decimal) or not 0 < wait <= 120:
            raise ProblemError(400, "malformed", "wait is a number of seconds in (0, 120]")
        outcome = await self.rt.reload(Path(rules) if rules else None, float(wait))
        return _json(outcome, outcome["snapshot"])

    # ---- operations ----
    async def healthz(self, request: Request) -> Response:  # noqa: ARG002
        return _json({"status": "ok", "sources": self.rt.source_health()}, None)

    async def readyz(self, request: Request) -> Response:  # noqa: ARG002
        ready = await asyncio.to_thread(self.rt.readiness)
        return Response(orjson.dumps(ready), 200 if ready["ready"] else 503, media_type=JSON)

    async def metrics(self, request: Request) -> Response:  # noqa: ARG002
        from .metrics import CONTENT_TYPE

        return Response(self.rt.metrics.exposition(), media_type=CONTENT_TYPE)

    async def openapi(self, request: Request) -> Response:  # noqa: ARG002
        snapshot = self.rt.engine.snapshot
        cached = self._openapi
        if cached is None or cached[0] != snapshot.digest:
            cached = (snapshot.digest, orjson.dumps(openapi_document(snapshot)))
            self._openapi = cached
        return Response(cached[1], media_type=JSON, headers={"X-Snapshot": snapshot.digest})


# ---- helpers (pure) ----
def _application(body: Any, members: tuple[str, ...]) -> tuple[dict[str, Any], dt.date | None]:
    if not isinstance(body, dict) or set(body) - set(members):
        raise ProblemError(400, "malformed", 'the body is {"facts": {…}, "on": "YYYY-MM-DD"?}')
    facts = body.get("facts", {})
    if not isinstance(facts, dict):
        raise ProblemError(400, "malformed", "facts is a JSON object (nested along dotted paths)")
    return facts, _date(body.get("on"))


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ProblemError(400, "malformed", "on is a date, YYYY-MM-DD")


def _mask_read(read: dict[str, Any], pii: frozenset[str]) -> None:
    for path, value in read.items():
        if path in pii and value is not None:
            read[path] = mask_all(value)


def _version_summary(m: Matter) -> dict[str, Any]:
    effective = m.spec.effective
    return {
        "version": m.version,
        "effective_from": effective.from_.isoformat(),
        "effective_to": effective.to.isoformat() if effective.to else None,
        "digest": m.digest,
    }


def _guide_of(m: Matter) -> dict[str, Any]:
    spec = m.spec
    return {
        "title": spec.title.model_dump(),
        "office": spec.office.model_dump() if spec.office else None,
        "service_url": str(spec.service_url) if spec.service_url else None,
        "legal_basis": [ref.model_dump(mode="json") for ref in spec.legal_basis],
        "sources": [ref.model_dump(mode="json") for ref in spec.sources],
    }


def _json(doc: Mapping[str, Any], snapshot: str | None) -> Response:
    headers = {"X-Snapshot": snapshot} if snapshot else None
    return Response(_dumps(doc), media_type=JSON, headers=headers)


def _dumps(doc: Mapping[str, Any]) -> bytes:
    """JSON bytes; orjson, else (an integer beyond 64 bits, a lone surrogate) the standard
    library's encoder, which writes any integer and escapes any text."""
    try:
        return orjson.dumps(doc)
    except TypeError:
        return json.dumps(doc, separators=(",", ":")).encode()
