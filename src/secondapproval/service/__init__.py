"""The decision service (`secondapproval serve`): 秒批 over HTTP. Needs the `service` extra.

`create_app(...)` is the ASGI application (Starlette) for uvicorn or for mounting; `app` the
routes, `runtime` one worker's Engine and board, `board` what the workers share, `keys` and
`config` the API keys and settings, `openapi` the generated document, `problems` RFC 9457.
Importing the package needs nothing beyond the core install (`keys` and `config` serve
`secondapproval keys` there); `create_app` loads Starlette when it is first used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
