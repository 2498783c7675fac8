"""The local stand-in for the connected offices: the demo's and the tests' population register,
degree office and credit bureau, over real HTTP.

`Offices` holds each office's records in memory and serves them (`Offices.app`, an ASGI app
over Starlette's requests and responses):

    GET  /{office}/{key}    200 and the record as JSON, or 404 {"error": "not found"}
    POST /{office}/{key}    the same (the body is kept with the request, for the tests)
    POST /{office}          the same for the key that is the JSON object body's only value

The key is the whole rest of the path, decoded: any text, slashes and newlines too (Starlette's
router would refuse a newline, so the app splits the path itself).

Each answer carries an `X-Request-Id` (`population-42`: the office and a counter of the app).
Each request is kept (`seen`, `count`) so that a test can tell how often an office was asked,
and for which key. A fault set for an office (`fault`: for its next N requests, or all of them)
changes how it answers: `Latency`, `Status`, `Hang`, `Reset`, `Malformed`, `Body`,
`WrongType`, `Endless`, `Huge`; faults set one after the other are met in that order.

`serve(app)` runs an ASGI app with uvicorn in a background thread on a free port and returns
when it accepts connections (`Running`: its `url`, `port`, `stop()`; a context manager).

Starlette and uvicorn are the `service` extra: only this module imports them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Latency:
    """Wait this long, then answer as usual."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Status:
    """Answer this HTTP status, with `{"error": ...}`, after `after` seconds."""

    code: int
    after: float = 0.0


@dataclass(frozen=True, slots=True)
class Hang:
    """Never answer: hold the request until the client goes away."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Send the status, the headers and part of the body, then close the connection: the client
    reads a body cut short (httpx: `RemoteProtocolError`)."""


@dataclass(frozen=True, slots=True)
class Malformed:
    """Answer 200 with a body that is not JSON (the record cut in the middle of a string)."""


@dataclass(frozen=True, slots=True)
class Body:
    """Answer 200 with exactly these bytes as the JSON body (`NaN`, `[1]`, invalid UTF-8…)."""

    content: bytes


@dataclass(frozen=True, slots=True)
class WrongType:
    """Answer the record with every value, at every depth, of another JSON type (`wrong_types`)."""


@dataclass(frozen=True, slots=True)
class Endless:
    """Answer 200 and a body that never ends: a piece every `every` seconds."""

    every: float = 0.01


@dataclass(frozen=True, slots=True)
class Huge:
    """Answer a JSON object of `size` bytes, with its Content-Length or (`chunked`) without."""

    size: int
    chunked: bool = False


Fault = Latency | Status | Hang | Reset | Malformed | Body | WrongType | Endless | Huge


@dataclass(frozen=True, slots=True)
class Seen:
    """A request an office received."""

    office: str
    key: str | None
    """The key asked for (None when a POST body named none)."""
    method: str
    headers: Mapping[str, str]
    """Its headers, names in lower case."""
    body: bytes


@dataclass(slots=True)
class _Pending:
    fault: Fault
    left: int | None
    """Requests it still applies to; None: all of them."""


class Offices:
    """The offices' records, faults and the requests they saw; `app` serves them."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Mapping[str, Any]]] = {name: {} for name in names}
        self._faults: defaultdict[str, deque[_Pending]] = defaultdict(deque)
        self._seen: list[Seen] = []
        self._ids = itertools.count(1)

    @property
    def names(self) -> tuple[str, ...]:
        """The offices, in the order they were made."""
        with self._lock:
            return tuple(self._records)

    def put(self, office: str, key: str, record: Mapping[str, Any]) -> None:
        """Hold `record` for `key` at `office` (made if new), in place of any before."""
        with self._lock:
            self._records.setdefault(office, {})[key] = record

    def load(self, office: str, records: Mapping[str, Mapping[str, Any]]) -> None:
        """Hold these records (key → record) at `office`, in place of all it held."""
        with self._lock:
            self._records[office] = dict(records)

    def record(self, office: str, key: str) -> Mapping[str, Any] | None:
        """What `office` holds for `key`, if anything."""
        with self._lock:
            return self._records.get(office, {}).get(key)

    def fault(self, office: str, fault: Fault, *, times: int | None = None) -> None:
        """Answer the next `times` requests to `office` (None: all) with `fault`, after the
        faults set before it have run their course."""
        if times is not None and times < 1:
            raise ValueError(f"a fault applies to one request or more, not {times}")
        with self._lock:
            self._faults[office].append(_Pending(fault, times))

    def clear_faults(self) -> None:
        """Every office answers as usual again."""
        with self._lock:
            self._faults.clear()

    def forget(self) -> None:
        """Forget the requests seen."""
        with self._lock:
            self._seen.clear()

    def reset(self) -> None:
        """No faults, no requests seen; the records stay."""
        self.clear_faults()
        self.forget()

    def seen(self, office: str | None = None) -> list[Seen]:
        """The requests received (by `office`), oldest first."""
        with self._lock:
            return [s for s in self._seen if office is None or s.office == office]

    def count(self, office: str, key: str | None = None) -> int:
        """How many requests `office` received (for `key`)."""
        return sum(1 for s in self.seen(office) if key is None or s.key == key)

    def _arrived(self, seen: Seen) -> tuple[Fault | None, str]:
        """Keep the request; its fault, if one is set; its request id."""
        with self._lock:
            self._seen.append(seen)
            ident = f"{seen.office}-{next(self._ids)}"
            pending = self._faults.get(seen.office)
            if not pending:
                return None, ident
            head = pending[0]
            if head.left is not None:
                head.left -= 1
                if head.left == 0:
                    pending.popleft()
            return head.fault, ident

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app of the offices (HTTP only: serve it with lifespan off)."""
        if scope["type"] != "http":
            raise RuntimeError(f"the offices answer HTTP, not {scope['type']}")
        request = Request(scope, receive)
        office, slash, key = scope["path"].removeprefix("/").partition("/")
        if request.method not in {"GET", "POST"} or not (slash or request.method == "POST"):
            response: Response = _json({"error": "GET /office/key or POST /office"}, 405, {})
        else:
            response = await self._answer(request, office, key if slash else None)
        await response(scope, receive, send)

    async def _answer(self, request: Request, office: str, key: str | None) -> Response:
        body = await request.body()
        if key is None:
            key = _key_in(body)
        seen = Seen(office, key, request.method, dict(request.headers), body)
        fault, ident = self._arrived(seen)
        headers = {"X-Request-Id": ident}
        record = None if key is None else self.record(office, key)
        match fault:
            case Latency(seconds):
                await asyncio.sleep(seconds)
            case Status(code, after):
                await asyncio.sleep(after)
                return _json({"error": f"HTTP {code}"}, code, headers)
            case Hang():
                await _until_gone(request)
                return Response(status_code=204)
            case Reset():
                return _CutShort(headers)
            case Malformed():
                return Response(b'{"name": "Li', media_type=JSON, headers=headers)
            case Body(content):
                return Response(content, media_type=JSON, headers=headers)
            case Endless(every):
                return StreamingResponse(_endless(every), media_type=JSON, headers=headers)
            case Huge(size, chunked):
                return _huge(size, chunked=chunked, headers=headers)
            case WrongType() if record is not None:
                record = wrong_types(record)
        if key is None:
            return _json({"error": "the body is not a JSON object of one value"}, 400, headers)
        if record is None:
            return _json({"error": "not found"}, 404, headers)
        return _json(record, 200, headers)


def _key_in(body: bytes) -> str | None:
    """The key a POST body gives: the only value of a JSON object, as text."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (only,) = value.values()
    return only if isinstance(only, str) else orjson.dumps(only).decode()


def wrong_types(value: Any) -> Any:
    """Every value of a JSON value replaced by one of another type, objects kept as objects:
    a boolean becomes its text, a number its text, a string the number 0, a list its JSON text,
    null the boolean false."""
    match value:
        case dict():
            return {name: wrong_types(inner) for name, inner in value.items()}
        case bool():
            return "true" if value else "false"
        case int() | float():
            return str(value)
        case str():
            return 0
        case list():
            return orjson.dumps(value).decode()
        case _:
            return False


def _json(value: Any, status: int, headers: Mapping[str, str]) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type=JSON, headers=headers)


async def _until_gone(request: Request) -> None:
    """Wait until the client disconnects (uvicorn answers `receive` then, not before)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _endless(every: float) -> AsyncIterator[bytes]:
    yield b'{"pad": ['
    while True:
        await asyncio.sleep(every)
        yield b"0, " * 64


def _huge(size: int, *, chunked: bool, headers: Mapping[str, str]) -> Response:
    frame = b'{"pad": ""}'
    body = b'{"pad": "' + b"x" * max(0, size - len(frame)) + b'"}'
    if not chunked:
        return Response(body, media_type=JSON, headers=headers)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    return StreamingResponse(pieces(), media_type=JSON, headers=headers)


class _ConnectionCutError(Exception):
    """Raised inside the app after the response began: uvicorn then closes the connection."""


class _CutShort(Response):
    """The status, the headers and a part of the body, then the connection closed."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__(headers={**headers, "Content-Length": "1000"}, media_type=JSON)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b'{"name": "Li', "more_body": True})
        raise _ConnectionCutError


def _not_a_cut(record: logging.LogRecord) -> bool:
    """Keep uvicorn's log free of the tracebacks of connections cut on purpose."""
    return not (record.exc_info and isinstance(record.exc_info[1], _ConnectionCutError))


@dataclass
class Running:
    """An app served by uvicorn in a background thread."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int
    stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        """The base URL (`http://127.0.0.1:PORT`), without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit and wait for its thread (a request held by `Hang` is cancelled
        after a second)."""
        if self.stopped:
            return
        self.server.should_exit = True
        self.thread.join(timeout)
        self.stopped = True

    def __enter__(self) -> Running:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def serve(app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, within: float = 10.0) -> Running:
    """Serve `app` on `host:port` (port 0: a free one) from a background thread; return once it
    accepts connections, or raise RuntimeError after `within` seconds."""
    error_log = logging.getLogger("uvicorn.error")
    if _not_a_cut not in error_log.filters:
        error_log.addFilter(_not_a_cut)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # uvicorn's records go to the logging already set up (pytest captures)
        log_level="warning",
        access_log=False,
        lifespan="off",
        interface="asgi3",
        proxy_headers=False,
        loop="asyncio",
        http="h11",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    exits: list[SystemExit] = []

    def run() -> None:
        try:
            server.run()
        except SystemExit as exit_:  # uvicorn's way to say it could not start (it logged why)
            exits.append(exit_)

    thread = threading.Thread(target=run, name=f"standin-{host}:{port}", daemon=True)
    thread.start()
    give_up = time.monotonic() + within
    while not server.started:
        if not thread.is_alive():
            why = f" (exit status {exits[0].code})" if exits else ""
            raise RuntimeError(f"the server on {host}:{port} stopped before it started{why}")
        if time.monotonic() > give_up:
            server.should_exit = True
            raise RuntimeError(f"the server on {host}:{port} did not start in {within:g} s")
        time.sleep(0.005)
    bound = server.servers[0].sockets[0].getsockname()[1]
    with socket.create_connection((host, bound), timeout=within):
        pass
    return Running(server, thread, host, bound)
