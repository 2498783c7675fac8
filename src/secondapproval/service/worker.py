"""The application each uvicorn worker builds (`uvicorn.run("…worker:app", factory=True)`).

`serve` puts the service's settings in the environment (`SETTINGS_ENV`, JSON) before uvicorn
starts its workers; each worker process calls `app()` once and so builds its own Engine.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import orjson
from starlette.applications import Starlette

SETTINGS_ENV = "SECONDAPPROVAL_SERVICE"


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    rules: str
    state: str
    config: str | None = None
    deployment: str | None = None
    audit: str | None = None
    audit_key: str | None = None
    backend: str = "native"

    def to_env(self) -> str:
        return orjson.dumps(asdict(self)).decode()


def app() -> Starlette:
    from .app import create_app

    settings = WorkerSettings(**orjson.loads(os.environ[SETTINGS_ENV]))
    return create_app(
        settings.rules,
        config=settings.config,
        deployment=settings.deployment,
        audit=settings.audit,
        audit_key=settings.audit_key,
        state=settings.state,
        backend=settings.backend,
    )
