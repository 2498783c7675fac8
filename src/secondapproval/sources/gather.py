"""Gathering: the facts a matter version needs, asked of its connected sources, concurrently.

Per matter version a `Plan` is made once: the deployment's lookups that give a fact the version
declares, with the keys they are made by. For one application `Gatherer.gather` (or
`gather_async`):

1. reads each lookup's key from the application — a key that is absent or not a valid value of
   its fact's type is not sent: the lookup's facts fail with the key's `MISSING:`/`INVALID:` code;
2. asks each source once per distinct key (two lookups of one office by the same key share an
   answer; the newborn matter's mother and father are two keys), all at once on the gatherer's
   event loop, the cache first when the source has one — so the time is the slowest source's;
3. assembles the answers (`assemble`, pure): each key must be echoed by the answer under its
   parameter's name (else `INVALID:<key>`, not confirmed), each mapped field is put at its fact
   path, and each fact gets its `Provenance`; what a source could not give (`Unavailable`,
   `NotFound`, a field absent from the record) becomes a `Failure` of its facts.

The result (`Gathered`) is the application with the gathered facts in it, their origins, and the
guarded facts the caller gave (refused). Validation of the gathered values against the matter's
fact types is the matter's own validator's, run by the engine on `Gathered.facts` like on any
application. Nothing here raises for a bad answer: an adapter that raises something else, or
overruns its timeout, is `Unavailable` too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from ..errors import DeploymentError
from ..factchecks import plain_check
from ..log import get_logger
from ..provenance import Failure, Origins, Provenance
from ..registry import Registry
from ..ruleset import FactSpec, Matter
from ..trust import Guard, refused
from .contract import Adapter, Answer, LookupFailedError, Unavailable
from .deployment import Deployment

Key = tuple[tuple[str, Any], ...]
"""A lookup key as sent: (parameter, value) pairs, sorted by parameter."""
CallKey = tuple[str, Key]
"""One call: the source and the key."""
_T = TypeVar("_T")
_SLACK = 0.05
"""Seconds an adapter may overrun its own timeout before the gatherer stops waiting."""


class Param(NamedTuple):
    name: str
    path: str
    keys: tuple[str, ...]
    check: Callable[[Any], Any] | None
    """The key fact's plain check (its declared type), or None for a type with none."""


class Field(NamedTuple):
    path: str
    keys: tuple[str, ...]
    field: tuple[str, ...]


class Lookup(NamedTuple):
    """One lookup of the deployment, as one matter version uses it."""

    source: str
    params: tuple[Param, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """What one matter version gathers."""

    lookups: tuple[Lookup, ...]
    guards: tuple[Guard, ...]
    """The facts the caller may not give while gathering (lookup keys are the caller's)."""
    origins: Origins
    """The version's declared sources and vouched sources (gathered ones are added per call)."""
    offices: Mapping[str, tuple[str, str]]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(p.path for lk in self.lookups for p in lk.params)


def plan_of(
    matter: Matter,
    deployment: Deployment,
    guards: tuple[Guard, ...],
    origins: Origins,
    registry: Registry,
) -> Plan:
    """The plan of one matter version under a deployment."""
    inputs = matter.inputs
    lookups = []
    for sid, conn in deployment.connections.items():
        for spec in conn.spec.lookups:
            fields = tuple(
                Field(path, tuple(path.split(".")), tuple(name.split(".")))
                for path, name in spec.facts.items()
                if path in inputs and inputs[path].source == sid
            )
            if not fields:
                continue
            params = tuple(
                Param(name, path, tuple(path.split(".")), _key_check(inputs.get(path)))
                for name, path in sorted(spec.key.items())
            )
            lookups.append(Lookup(sid, params, fields))
    keys = {p.path for lk in lookups for p in lk.params}
    offices = {
        sid: (registry[sid].office.zh, registry[sid].office.en) if sid in registry else (sid, sid)
        for sid in deployment.connections
    }
    return Plan(tuple(lookups), tuple(g for g in guards if g.path not in keys), origins, offices)


def _key_check(spec: FactSpec | None) -> Callable[[Any], Any] | None:
    return plain_check(spec) if spec is not None else None


@dataclass(frozen=True, slots=True)
class Gathered:
    """An application with what its sources gave (`facts`), and where each fact came from."""

    facts: Any
    """The application with the gathered facts put at their paths (the caller's is not changed)."""
    origins: Origins
    refused: Mapping[str, str]
    """Guarded facts the caller gave, and why each is refused (`INVALID:<path>`)."""

    @property
    def failed(self) -> Mapping[str, Failure]:
        return self.origins.failed


class Asked(NamedTuple):
    """One call's result: the answer or why there is none, when, and from the cache or not."""

    answer: Answer | LookupFailedError
    at: dt.datetime
    cached: bool


def calls_of(plan: Plan, application: Any) -> tuple[dict[CallKey, None], dict[int, Failure]]:
    """The distinct calls an application needs, and the lookups that cannot be made (by index)."""
    calls: dict[CallKey, None] = {}
    unmade: dict[int, Failure] = {}
    for i, lookup in enumerate(plan.lookups):
        key, failure = _key_of(lookup, application, plan.offices)
        if failure is not None:
            unmade[i] = failure
        else:
            calls[(lookup.source, key)] = None
    return calls, unmade


def _key_of(
    lookup: Lookup, application: Any, offices: Mapping[str, tuple[str, str]]
) -> tuple[Key, Failure | None]:
    pairs = []
    office = offices.get(lookup.source, ("", ""))
    for param in lookup.params:
        found, value = _at(application, param.keys)
        if not found or value is None:
            why = f"the lookup key {param.path} is missing"
            return (), Failure(f"MISSING:{param.path}", lookup.source, why, office)
        if param.check is not None:
            try:
                param.check(value)
            except (ValueError, TypeError):
                why = f"the lookup key {param.path} is not valid"
                return (), Failure(f"INVALID:{param.path}", lookup.source, why, office)
        if value.__class__ not in (str, int, bool):
            why = f"the lookup key {param.path} is not a text or number"
            return (), Failure(f"INVALID:{param.path}", lookup.source, why, office)
        pairs.append((param.name, value))
    return tuple(pairs), None


def assemble(
    plan: Plan,
    application: Any,
    asked: Mapping[CallKey, Asked],
    unmade: Mapping[int, Failure],
) -> Gathered:
    """The gathered application from the calls' results (pure: no I/O, no clock)."""
    caller_refused = refused(application, plan.guards)
    facts = application
    gathered: dict[str, Provenance] = {}
    failed: dict[str, Failure] = {}
    keyed: dict[str, list[Provenance | Failure]] = {}  # each key path: what each lookup said
    for i, lookup in enumerate(plan.lookups):
        office = plan.offices.get(lookup.source, ("", ""))
        outcome = unmade.get(i) or _answered(lookup, application, asked, plan.offices)
        if isinstance(outcome, Failure):
            for param in lookup.params:
                keyed.setdefault(param.path, []).append(outcome)
            for f in lookup.fields:
                failed.setdefault(f.path, outcome)
            continue
        answer, result = outcome
        provenance = Provenance(
            "adapter", lookup.source, result.at, answer.reference, answer.digest, result.cached
        )
        for param in lookup.params:
            keyed.setdefault(param.path, []).append(provenance)
        for f in lookup.fields:
            if f.path in caller_refused:
                continue
            found, value = _at(answer.record, f.field)
            if not found or value is None:
                why = f"its record has no {'.'.join(f.field)}"
                code = f"NOT_FOUND:{lookup.source}"
                failed.setdefault(f.path, Failure(code, lookup.source, why, office))
                continue
            facts = _put(facts, f.keys, value)
            gathered[f.path] = provenance
    for path, said in keyed.items():
        verdict = _key_verdict(said, plan.origins.declared.get(path))
        if isinstance(verdict, Provenance):
            gathered[path] = verdict
        else:
            failed.setdefault(path, verdict)
            facts = _drop(facts, tuple(path.split(".")))
    origins = Origins(plan.origins.declared, plan.origins.vouched, gathered, failed)
    return Gathered(facts, origins, caller_refused)


def _answered(
    lookup: Lookup,
    application: Any,
    asked: Mapping[CallKey, Asked],
    offices: Mapping[str, tuple[str, str]],
) -> tuple[Answer, Asked] | Failure:
    """A made lookup's answer (and its call), or why it gave nothing."""
    key, _ = _key_of(lookup, application, offices)
    result = asked[(lookup.source, key)]
    answer = result.answer
    office = offices.get(lookup.source, ("", ""))
    if isinstance(answer, LookupFailedError):
        return Failure(f"{answer.code}:{lookup.source}", lookup.source, answer.why, office)
    return _unconfirmed(lookup, answer, key, office) or (answer, result)


def _key_verdict(said: list[Provenance | Failure], declared: str | None) -> Provenance | Failure:
    """A lookup key is a fact when some answer confirms it and none names someone else; its
    provenance is that of its declared source's answer when there is one, else the first."""
    contradicted = [s for s in said if isinstance(s, Failure) and s.code.startswith("INVALID:")]
    confirmed = [s for s in said if isinstance(s, Provenance)]
    if contradicted or not confirmed:
        return (contradicted or [s for s in said if isinstance(s, Failure)])[0]
    return next((p for p in confirmed if p.source == declared), confirmed[0])


def _unconfirmed(
    lookup: Lookup, answer: Answer, key: Key, office: tuple[str, str]
) -> Failure | None:
    """The failure of an answer that does not echo every key parameter, or None."""
    for name, value in key:
        found, echoed = _at(answer.record, (name,))
        if not found or echoed != value or echoed.__class__ is not value.__class__:
            path = next(p.path for p in lookup.params if p.name == name)
            why = f"its answer does not confirm {path}"
            return Failure(f"INVALID:{path}", lookup.source, why, office)
    return None


def _at(tree: Any, keys: tuple[str, ...]) -> tuple[bool, Any]:
    node = tree
    for key in keys:
        if node.__class__ is not dict or key not in node:
            return False, None
        node = node[key]
    return True, node


def _put(tree: Any, keys: tuple[str, ...], value: Any) -> Any:
    """The tree with `value` at the nested path, copied along it (the input is never changed).

    Where a group on the path is not an object (the caller gave something else there), the tree
    is left as it is: validation refuses that group.
    """
    if tree.__class__ is not dict:
        return tree
    head, rest = keys[0], keys[1:]
    out = dict(tree)
    if not rest:
        out[head] = value
        return out
    child = tree.get(head, {})
    if child.__class__ is not dict:
        return tree
    out[head] = _put(child, rest, value)
    return out


def _drop(tree: Any, keys: tuple[str, ...]) -> Any:
    """The tree without the value at the nested path (copied along it)."""
    found, _ = _at(tree, keys)
    if not found:
        return tree
    out = dict(tree)
    if len(keys) == 1:
        del out[keys[0]]
    else:
        out[keys[0]] = _drop(tree[keys[0]], keys[1:])
    return out


class TTLCache:
    """A bounded cache of answers by key, each kept `ttl` seconds (least recently used out)."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._items: OrderedDict[Key, tuple[float, Answer, dt.datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> tuple[Answer, dt.datetime] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, answer, at = item
            if expires <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return answer, at

    def put(self, key: Key, answer: Answer, at: dt.datetime) -> None:
        with self._lock:
            self._items[key] = (self._clock() + self._ttl, answer, at)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _opened(deployment: Deployment) -> dict[str, Adapter]:
    """Every connected source's adapter (a file that cannot be read, a bad statement: a
    DeploymentError at the source's entry)."""
    opened: dict[str, Adapter] = {}
    problems = []
    for sid, conn in deployment.connections.items():
        try:
            opened[sid] = conn.open()
        except (ValueError, OSError) as exc:
            problems.append(deployment.problem(("sources", sid, "settings"), str(exc)))
    if problems:
        raise DeploymentError(problems)
    return opened


class Gatherer:
    """The adapters of one Engine's deployment, their caches, and the event loop they run on.

    The loop runs in a daemon thread started on first use; `gather` (from any thread) and
    `gather_async` (from any event loop) hand it the calls a cache could not answer and wait.
    `close()` closes the adapters and stops the loop.
    """

    def __init__(
        self,
        deployment: Deployment,
        clock: Callable[[], dt.datetime] | None = None,
        adapters: Mapping[str, Adapter] | None = None,
    ) -> None:
        self.deployment = deployment
        self._adapters = (
            dict(adapters)
            if adapters is not None
            else {sid: conn.open() for sid, conn in deployment.connections.items()}
        )
        self._timeouts = {sid: c.spec.timeout for sid, c in deployment.connections.items()}
        self._caches = {
            sid: TTLCache(c.spec.cache.ttl, c.spec.cache.size)
            for sid, c in deployment.connections.items()
            if c.spec.cache is not None
        }
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._log = get_logger(component="gather")

    @property
    def adapters(self) -> Mapping[str, Adapter]:
        return self._adapters

    # ---- gathering ----
    def gather(self, plan: Plan, application: Any) -> Gathered:
        """Gather for one application, waiting in this thread."""
        calls, unmade = calls_of(plan, application)
        asked, missed = self._from_caches(calls)
        if missed:
            asked.update(self._wait(self._ask_all(missed)))
        return assemble(plan, application, asked, unmade)

    async def gather_async(self, plan: Plan, application: Any) -> Gathered:
        """Gather for one application without blocking the caller's event loop."""
        calls, unmade = calls_of(plan, application)
        asked, missed = self._from_caches(calls)
        if missed:
            future = asyncio.run_coroutine_threadsafe(self._ask_all(missed), self._running())
            answered: dict[CallKey, Asked] = await asyncio.wrap_future(future)
            asked.update(answered)
        return assemble(plan, application, asked, unmade)

    def gather_many(self, plan: Plan, applications: Iterable[Any]) -> list[Gathered]:
        """Gather for many applications at once (every distinct call of the batch made once)."""
        applications = list(applications)
        every: dict[CallKey, None] = {}
        needs = []
        for application in applications:
            calls, unmade = calls_of(plan, application)
            every.update(calls)
            needs.append(unmade)
        asked, missed = self._from_caches(every)
        if missed:
            asked.update(self._wait(self._ask_all(missed)))
        return [assemble(plan, a, asked, u) for a, u in zip(applications, needs, strict=True)]

    def _from_caches(self, calls: Iterable[CallKey]) -> tuple[dict[CallKey, Asked], list[CallKey]]:
        asked: dict[CallKey, Asked] = {}
        missed = []
        caches = self._caches
        for call in calls:
            cache = caches.get(call[0]) if caches else None
            hit = cache.get(call[1]) if cache is not None else None
            if hit is None:
                missed.append(call)
            else:
                asked[call] = Asked(hit[0], hit[1], True)
        return asked, missed

    async def _ask_all(self, calls: list[CallKey]) -> dict[CallKey, Asked]:
        results = await asyncio.gather(*(self._ask(source, key) for source, key in calls))
        return dict(zip(calls, results, strict=True))

    async def _ask(self, source: str, key: Key) -> Asked:
        adapter = self._adapters[source]
        timeout = self._timeouts.get(source, 2.0)
        try:
            answer: Answer | LookupFailedError = await asyncio.wait_for(
                adapter.lookup(dict(key)), timeout + _SLACK
            )
        except LookupFailedError as exc:
            answer = exc
        except TimeoutError:
            answer = Unavailable(f"no answer within {timeout:g} s")
        except Exception as exc:  # a plug-in's bug is a source that could not answer
            self._log.error("adapter.failed", source=source, error=repr(exc))
            answer = Unavailable(f"the adapter failed: {type(exc).__name__}")
        at = self._clock()
        if isinstance(answer, Answer):
            cache = self._caches.get(source)
            if cache is not None:
                cache.put(key, answer, at)
        elif not isinstance(answer, LookupFailedError):
            answer = Unavailable(f"the adapter answered a {type(answer).__name__}")
        return Asked(answer, at, False)

    # ---- the loop ----
    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="secondapproval-gather", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _wait(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self._running()).result()

    def close(self) -> None:
        """Close every adapter and stop the loop (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None:
            if self._adapters:
                asyncio.run(self._close_adapters())
            self._adapters = {}
            return
        asyncio.run_coroutine_threadsafe(self._close_adapters(), loop).result()
        self._adapters = {}
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join()
        loop.close()

    async def _close_adapters(self) -> None:
        for source, adapter in self._adapters.items():
            try:
                await adapter.aclose()
            except Exception as exc:  # closing must close the rest
                self._log.error("adapter.close_failed", source=source, error=repr(exc))
