"""RFC 9457 problem details: the answer to a request that is not a decision.

A referral is a decision (200, `outcome: refer`); a problem is for a request the service cannot
decide — no key or a wrong one, a matter the key may not decide or that does not exist, a body
that is malformed, too large or too deep. `type` is a stable URN per kind of problem; `detail`
says what to fix and never holds a key, a fact's value or a stack trace.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
KINDS = (
    "unauthenticated",
    "forbidden",
    "unknown-matter",
    "not-found",
    "malformed",
    "too-large",
    "too-deep",
    "too-many",
    "media-type",
    "method",
    "timeout",
    "unavailable",
    "reload-refused",
    "reload-incomplete",
    "internal",
)
"""Every problem `type` the service answers with (`urn:secondapproval:problem:<kind>`)."""


class ProblemError(Exception):
    """Raised inside a handler: answered as one problem response."""

    def __init__(self, status: int, kind: str, detail: str, **extra: Any) -> None:
        assert kind in KINDS, kind
        super().__init__(detail)
        self.status, self.kind, self.detail, self.extra = status, kind, detail, extra


def problem_response(
    status: int, kind: str, detail: str, instance: str | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:secondapproval:problem:{kind}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="secondapproval"'} if status == 401 else None
    return Response(orjson.dumps(body), status, headers=headers, media_type=MEDIA_TYPE)
