"""The `http-json` source adapter: an office that answers a lookup over HTTP with a JSON object.

The deployment entry gives a URL template whose `{placeholders}` are the lookup's parameters
(`https://registry.example/persons/{id_number}`); each value is percent-encoded whole, dots too
(a value `..` must not become a dot segment that the client folds away). A GET asks that URL; a
POST asks it with the key as a JSON object body.

One lookup keeps within the adapter's timeout, retries included: each attempt gets the time that
remains, a pause between attempts (full jitter: `uniform(0, backoff * 2**attempt)`) is never
slept when it would pass the deadline, and the whole lookup is cut at the deadline, so an office
that never answers, or answers without end, costs the timeout and no more. Only an idempotent
request is retried (a GET by default), and only for what may pass: a refused or reset
connection, HTTP 429 or 5xx. A 4xx, or an answer that is not a record, is final; so is a
timeout, since an attempt may use all the time left and one that times out leaves none. A
redirect is not followed: a 3xx is final too.

The body is read streaming up to `max_bytes`, parsed strictly with orjson (NaN and Infinity are
refused, so is invalid UTF-8), and the record is the JSON object at the `record` path. orjson
keeps the last of duplicate keys and reads an integer beyond 64 bits as a float: an office that
sends either gets no error for it. The answer's digest is that of the body's bytes as received
(after any content encoding is undone), its reference a field of the record or the
`X-Request-Id` header.

A circuit breaker (`sources.breaker`) stops asking an office whose lookups keep failing. A
lookup counts against the office when it ends with no usable answer from it — a connection or
timeout failure, 429, 5xx, a body too large, not JSON, not an object. A record, a not-found, or
another 4xx (the request was refused, the office is up) counts for it.

No failure message holds the URL (it holds the key, often a person's id number) or a credential.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import ssl
import string
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from secondapproval.sources.breaker import Breaker, Pass
from secondapproval.sources.contract import Answer, NotFound, Unavailable, raw_digest
from secondapproval.sources.secrets import Secret

HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
SET_BY_THE_ADAPTER = frozenset({"authorization", "host", "content-length", "transfer-encoding"})
"""Headers the deployment file may not set: the token is a secret given as `token`, the others
frame the request."""


def placeholders(template: str) -> tuple[str, ...]:
    """The parameter names of a URL template's `{name}` placeholders, in order (`{{` is a brace).
    ValueError when a brace is unmatched or a placeholder is not a plain name."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"the URL template is malformed: {exc}") from None
    names: list[str] = []
    for _text, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            whole = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(
                "a placeholder of the URL template is a parameter's name in braces, "
                f"like {{id_number}}, not {{{whole}}}"
            )
        names.append(name)
    return tuple(names)


def _quoted(value: Any) -> str:
    """A key value as one opaque piece of a URL: every reserved character and dot encoded."""
    return quote(str(value), safe="").replace(".", "%2E")


def _check_template(template: str) -> None:
    """A template of an http(s) URL whose placeholders lie in its path or query, never in its
    scheme or host (a key value must not choose where the request goes)."""
    names = placeholders(template)
    first, second = (template.format_map(dict.fromkeys(names, filler)) for filler in ("a", "b"))
    one, other = urlsplit(first), urlsplit(second)
    if one.scheme.lower() not in {"http", "https"}:
        raise ValueError(f"the URL's scheme is http or https, not {one.scheme or 'missing'!r}")
    if not one.hostname:
        raise ValueError("the URL names no host")
    if (one.scheme, one.netloc) != (other.scheme, other.netloc):
        raise ValueError(
            "a placeholder of the URL is in its scheme or host: only the path or query may hold one"
        )
    try:
        httpx.URL(first)
    except httpx.InvalidURL as exc:
        raise ValueError(f"the URL is not valid: {exc}") from None


def _check_path(path: str) -> str:
    if not all(part.strip() == part and part for part in path.split(".")):
        raise ValueError(f"a dotted path names fields, like data.person, not {path!r}")
    return path


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's roots), made once: making it takes tens of
    milliseconds, and every adapter can share it (no adapter changes it)."""
    return httpx.create_ssl_context()


class BreakerSettings(BaseModel):
    """When the circuit opens, and for how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failures: int = Field(default=5, ge=1)
    """Failed lookups in a row that open it."""
    reset: float = Field(default=30.0, gt=0)
    """Seconds it stays open before one trial lookup is let through."""


class Settings(BaseModel):
    """The options of an `adapter: http-json` entry of the deployment file."""

    # An error never echoes the entry (a header or the URL's userinfo may hold a credential).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str
    """The URL template: `{name}` placeholders, in the path or query, filled from the key."""
    method: Literal["GET", "POST"] = "GET"
    """GET, or POST with the key as a JSON object body."""
    idempotent: bool | None = None
    """Whether the request may be retried: None means true for GET, false for POST."""
    retries: int = Field(default=2, ge=0, le=5)
    """Attempts after the first, when idempotent and the failure may pass."""
    backoff: float = Field(default=0.05, ge=0)
    """The base of the pause between attempts (seconds, doubled each attempt, full jitter)."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Sent with each request (not Authorization: that is `token`)."""
    token: Secret | None = None
    """Sent as `Authorization: Bearer <token>`."""
    max_bytes: int = Field(default=1_048_576, ge=1)
    """The largest body read; a larger answer is Unavailable."""
    record: str | None = None
    """The dotted path of the record object in the body (`data.person`); None: the whole body."""
    reference: str | None = None
    """The dotted path, in the record, of the answer's reference; None: the X-Request-Id header."""
    not_found: list[int] = Field(default_factory=lambda: [404])
    """The statuses that mean the office holds nothing for the key."""
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    max_connections: int = Field(default=100, ge=1)
    """Connections kept to the office at most (lookups beyond wait for one, within their time)."""

    @property
    def parameters(self) -> frozenset[str]:
        """The key parameters the URL template needs (a POST sends the whole key)."""
        return frozenset(placeholders(self.url))

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        _check_template(url)
        return url

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in SET_BY_THE_ADAPTER:
                hint = (
                    " (a token is given as `token`, a secret)"
                    if name.lower() == "authorization"
                    else ""
                )
                raise ValueError(f"the adapter sets the {name} header itself{hint}")
            if not HEADER_VALUE.fullmatch(value):
                raise ValueError(f"the {name} header's value has characters a header cannot carry")
        return headers

    @field_validator("token")
    @classmethod
    def _token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not re.fullmatch(r"[\x21-\x7e]+", token.get_secret_value()):
            raise ValueError("the token is empty or has characters a header cannot carry")
        return token

    @field_validator("record", "reference")
    @classmethod
    def _path(cls, path: str | None) -> str | None:
        return None if path is None else _check_path(path)

    @field_validator("not_found")
    @classmethod
    def _statuses(cls, statuses: list[int]) -> list[int]:
        if wrong := [s for s in statuses if not 100 <= s <= 599]:
            raise ValueError(f"not HTTP statuses: {wrong}")
        return statuses

    @property
    def retried(self) -> bool:
        """Whether a failed attempt may be retried at all."""
        return self.method == "GET" if self.idempotent is None else self.idempotent


_Options = Settings
"""The module's `Settings` under a name the adapter's own `Settings` attribute does not hide."""


class _AttemptError(Exception):
    """One attempt's failure: whether another attempt may fare better, whether it is the
    office's fault (for the breaker)."""

    def __init__(self, why: str, *, retry: bool, blame: bool) -> None:
        super().__init__(why)
        self.why = why
        self.retry = retry
        self.blame = blame

    def after(self, attempts: int) -> _AttemptError:
        if attempts == 1:
            return self
        return _AttemptError(f"{self.why} after {attempts} attempts", retry=False, blame=self.blame)


def _at(value: Any, path: str | None) -> Any:
    """The value at a dotted path (None: the value itself); None where the path leads nowhere."""
    if path is None:
        return value
    for name in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


class HttpJson:
    """The `http-json` adapter: one office reached over HTTP(S), answering JSON objects."""

    Settings: ClassVar[type[_Options]] = _Options

    def __init__(
        self,
        source: str,
        settings: _Options,
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`timeout` bounds one whole lookup, retries included; `clock` is the breaker's."""
        if not timeout > 0:
            raise ValueError(f"a lookup's timeout is positive, not {timeout}")
        self.source = source
        self._settings = settings
        self._timeout = timeout
        self._names = placeholders(settings.url)
        self._not_found = frozenset(settings.not_found)
        self._breaker = Breaker(settings.breaker.failures, settings.breaker.reset, clock=clock)
        parts = urlsplit(settings.url)
        where = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        self._description = f"{settings.method} {where}"
        headers = {"Accept": "application/json", **settings.headers}
        if settings.token is not None:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        if settings.method == "POST":
            headers["Content-Type"] = "application/json"
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=settings.max_connections,
            ),
            verify=_tls(),
            follow_redirects=False,  # a redirect is an answer (3xx, final), never followed blindly
        )

    @property
    def settings(self) -> _Options:
        """Its options (the token prints as `**********`)."""
        return self._settings

    @property
    def breaker(self) -> Breaker:
        """The office's circuit."""
        return self._breaker

    def describe(self) -> str:
        """The method and the URL template, without any userinfo of the URL."""
        return self._description

    def __repr__(self) -> str:
        return f"HttpJson({self.source!r}, {self._description!r})"

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    async def lookup(self, key: Mapping[str, Any]) -> Answer:
        """The office's record for `key` (see the module's text); NotFound or Unavailable."""
        url = self._address(key)
        body = self._body(key)
        admitted = self._breaker.admit()
        if admitted is None:
            raise Unavailable("circuit open")
        try:
            answer = await self._ask(url, body)
        except NotFound:
            self._breaker.succeeded(admitted)
            raise
        except _AttemptError as failure:
            self._report(admitted, blame=failure.blame)
            raise Unavailable(failure.why) from None
        except BaseException:
            self._breaker.abandoned(admitted)
            raise
        self._breaker.succeeded(admitted)
        return answer

    def _report(self, admitted: Pass, *, blame: bool) -> None:
        if blame:
            self._breaker.failed(admitted)
        else:
            self._breaker.succeeded(admitted)

    def _address(self, key: Mapping[str, Any]) -> str:
        if missing := [name for name in self._names if name not in key]:
            raise Unavailable(f"the key has no {', '.join(missing)} for the URL")
        values = {name: _quoted(key[name]) for name in self._names}
        return self._settings.url.format_map(values)

    def _body(self, key: Mapping[str, Any]) -> bytes | None:
        if self._settings.method != "POST":
            return None
        try:
            return orjson.dumps(dict(key))
        except TypeError as exc:
            raise Unavailable(f"the key cannot be sent as JSON: {exc}") from None

    async def _ask(self, url: str, body: bytes | None) -> Answer:
        """Attempts until an answer, a final failure, or the deadline. Each attempt may take all
        the time left, so an attempt that times out leaves none to retry in: the lookup ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        settings = self._settings
        attempts = 0
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    attempts += 1
                    try:
                        return await self._attempt(url, body, deadline - loop.time())
                    except _AttemptError as failure:
                        if not (
                            failure.retry and settings.retried and attempts <= settings.retries
                        ):
                            raise failure.after(attempts) from None
                        pause = random.uniform(0, settings.backoff * 2 ** (attempts - 1))
                        if loop.time() + pause >= deadline:
                            raise failure.after(attempts) from None
                        await asyncio.sleep(pause)
        except TimeoutError:
            tries = f" ({attempts} attempts)" if attempts > 1 else ""
            raise _AttemptError(
                f"timeout after {self._timeout:g} s{tries}", retry=False, blame=True
            ) from None

    async def _attempt(self, url: str, body: bytes | None, remaining: float) -> Answer:
        """One request: an answer, NotFound, or `_AttemptError`."""
        if remaining <= 0:
            raise TimeoutError
        try:
            async with self._client.stream(
                self._settings.method, url, content=body, timeout=remaining
            ) as response:
                status = response.status_code
                if status in self._not_found:
                    raise NotFound(f"no record (HTTP {status})")
                if status == 429 or status >= 500:
                    raise _AttemptError(f"HTTP {status}", retry=True, blame=True)
                if not 200 <= status < 300:
                    raise _AttemptError(f"HTTP {status}", retry=False, blame=False)
                raw = await self._read(response)
                request_id = response.headers.get("X-Request-Id")
        except (httpx.TimeoutException, TimeoutError):
            # Each attempt has all the time left: its timeout is the lookup's (said in `_ask`).
            raise TimeoutError from None
        except httpx.ConnectError:
            raise _AttemptError("cannot connect", retry=True, blame=True) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            why = f"connection reset ({type(exc).__name__})"
            raise _AttemptError(why, retry=True, blame=True) from None
        except httpx.DecodingError:
            why = "the answer's content encoding is broken"
            raise _AttemptError(why, retry=False, blame=True) from None
        except httpx.HTTPError as exc:
            retry = isinstance(exc, httpx.NetworkError | httpx.ProxyError)
            raise _AttemptError(
                f"HTTP failure ({type(exc).__name__})", retry=retry, blame=True
            ) from None
        except httpx.InvalidURL:
            raise _AttemptError("the key makes an invalid URL", retry=False, blame=False) from None
        except OSError as exc:
            why = f"network failure ({exc.strerror or type(exc).__name__})"
            raise _AttemptError(why, retry=True, blame=True) from None
        return self._answer(raw, request_id)

    async def _read(self, response: httpx.Response) -> bytes:
        """The body, given up beyond `max_bytes` (the declared length is believed first)."""
        limit = self._settings.max_bytes
        too_large = _AttemptError(f"answer larger than {limit} bytes", retry=False, blame=True)
        declared = response.headers.get("Content-Length", "")
        encoded = "Content-Encoding" in response.headers
        if declared.isdigit() and int(declared) > limit and not encoded:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def _answer(self, raw: bytes, request_id: str | None) -> Answer:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _AttemptError("not JSON", retry=False, blame=True) from None
        path = self._settings.record
        record = _at(parsed, path)
        if not isinstance(record, dict):
            where = f" at {path}" if path else ""
            raise _AttemptError(f"no JSON object{where} in the answer", retry=False, blame=True)
        if self._settings.reference is None:
            reference = request_id
        else:
            found = _at(record, self._settings.reference)
            reference = None if found is None else str(found)
        return Answer(record, reference, raw_digest(raw))
