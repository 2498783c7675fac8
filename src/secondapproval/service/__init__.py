"""The decision service (`secondapproval serve`): 秒批 over HTTP. Needs the `service` extra.

`create_app(...)` is the ASGI application (Starlette) for uvicorn or for mounting; `app` the
routes, `runtime` one worker's Engine and board, `board` what the workers share, `keys` and
`config` the API keys and settings, `openapi` the generated document, `problems` RFC 9457.
"""

from .app import create_app

__all__ = ["create_app"]
