"""The floor of the decision service's transport: the same framework answering a constant JSON
body (what uvicorn and Starlette cost before any decision), and FastAPI doing the same, to show
what choosing it would have cost. Served by `benchmarks.service_load` under uvicorn."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"outcome":"approve","decision_id":"constant"}'


async def _constant(request: Request) -> Response:
    await request.body()  # read the request as the service does
    return Response(BODY, media_type="application/json")


def starlette() -> Starlette:
    return Starlette(routes=[Route("/v1/matters/{matter}/decisions", _constant, methods=["POST"])])


def fastapi() -> object:
    from fastapi import FastAPI  # its Request is Starlette's (the annotation must be global)

    app = FastAPI()

    @app.post("/v1/matters/{matter}/decisions")
    async def constant(matter: str, request: Request) -> Response:
        await request.body()
        return Response(BODY, media_type="application/json")

    return app
