"""Reading a request's body within the service's limits: size, media type, JSON, depth.

The JSON is read by the library's strict parser (`jsonfile.loads`): a key given twice keeps both
values (so the application refers, `INVALID:<path>`), a fraction is a Decimal read from its text.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..errors import FactError
from ..jsonfile import loads
from .config import Limits
from .problems import ProblemError


class BodyReader:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    async def json_body(self, request: Request, empty: Any = None) -> Any:
        """The request's JSON document; a ProblemError for a body too large, not JSON, of another
        media type or nested too deep. An empty body is `empty` (None: refused)."""
        limit = self.limits.body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            if empty is not None:
                return empty
            raise ProblemError(400, "malformed", "the request has no body: send a JSON object")
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media and media != "application/json" and not media.endswith("+json"):
            raise ProblemError(415, "media-type", f"send application/json, not {media}")
        try:
            doc = loads(raw, name="the body")
        except FactError as exc:
            raise ProblemError(400, "malformed", str(exc)) from None
        depth = self.limits.json_depth
        opened = raw.count(b"{") + raw.count(b"[")  # a bound on the nesting (brackets in texts too)
        if opened > depth and too_deep(doc, depth):
            raise ProblemError(
                400, "too-deep", f"the body nests deeper than {self.limits.json_depth} levels"
            )
        return doc


def too_deep(doc: Any, limit: int) -> bool:
    """Whether a JSON value nests objects and arrays more than `limit` levels deep."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, "too-large", f"the body is larger than {limit} bytes", limit=limit)
