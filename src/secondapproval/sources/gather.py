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
import dataclasses
import datetime as dt
import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from ..errors import DeploymentError
from ..factchecks import plain_check
from ..log import get_logger
from ..provenance import Failure, Origins, Provenance
from ..registry import Registry
from ..ruleset import FactSpec, Matter
from ..trust import Guard, given, refused
from .contract import Adapter, Answer, LookupFailedError, Unavailable
from .deployment import Deployment

Key = tuple[tuple[str, Any], ...]
"""A lookup key as sent: (parameter, value) pairs, sorted by parameter."""
CallKey = tuple[str, Key]
"""One call: the adapter (`Lookup.via`) and the key."""
_T = TypeVar("_T")
_MEMO = 4096
"""Assemblies of cache hits kept for reuse (cleared when full)."""
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
    via: str
    """The adapter it is made through (`Connection.via`)."""
    params: tuple[Param, ...]
    fields: tuple[Field, ...]


@dataclass(frozen=True)
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

    @functools.cached_property
    def guards_by_group(self) -> Mapping[str, tuple[Guard, ...]]:
        """The guards by the top-level key of their path."""
        out: dict[str, list[Guard]] = {}
        for guard in self.guards:
            out.setdefault(guard.keys[0], []).append(guard)
        return {top: tuple(g) for top, g in out.items()}

    def gives_guarded(self, application: dict[str, Any]) -> bool:
        """Whether the application gives any guarded fact (`trust.refused`, faster)."""
        for top, guards in self.guards_by_group.items():
            if top in application and any(given(application, g.keys) for g in guards):
                return True
        return False

    @functools.cached_property
    def key_params(self) -> tuple[Param, ...]:
        """Each lookup key path once (the memo of cache hits is keyed by their values)."""
        seen: dict[str, Param] = {}
        for lookup in self.lookups:
            for param in lookup.params:
                seen.setdefault(param.path, param)
        return tuple(seen.values())


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
        for n, spec in enumerate(conn.spec.lookups):
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
            lookups.append(Lookup(sid, conn.via(n), params, fields))
    keys = {p.path for lk in lookups for p in lk.params}
    offices = {
        sid: (registry[sid].office.zh, registry[sid].office.en) if sid in registry else (sid, sid)
        for sid in deployment.connections
    }
    return Plan(tuple(lookups), tuple(g for g in guards if g.path not in keys), origins, offices)


def _key_check(spec: FactSpec | None) -> Callable[[Any], Any] | None:
    return plain_check(spec) if spec is not None else None


class Gathered(NamedTuple):
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
    """One call's result: the answer or why there is none, when, and the answer's provenance
    (built once per call: every lookup it serves shares it)."""

    answer: Answer | LookupFailedError
    at: dt.datetime
    provenance: Provenance | None


Made = list[CallKey | Failure]
"""Per lookup of a plan: the call it is made by, or why it cannot be made."""


def calls_of(plan: Plan, application: Any) -> tuple[Made, dict[CallKey, tuple[Param, ...]]]:
    """Per lookup, its call or why it cannot be made; and the distinct calls, in order, with
    the key parameters whose values are still to be checked before the call is sent."""
    made: Made = []
    calls: dict[CallKey, tuple[Param, ...]] = {}
    found: dict[str, Any] = {}  # each key path's value, or why it cannot be sent
    for lookup in plan.lookups:
        pairs = []
        failure = None
        for param in lookup.params:
            value = found.get(param.path, _UNCHECKED)
            if value is _UNCHECKED:
                value = found[param.path] = _key_value(param, application)
            if value.__class__ is _Unsent:
                office = plan.offices.get(lookup.source, ("", ""))
                failure = Failure(value.code, lookup.source, value.why, office)
                break
            pairs.append((param.name, value))
        if failure is not None:
            made.append(failure)
            continue
        call = (lookup.via, tuple(pairs))
        made.append(call)
        calls[call] = lookup.params
    return made, calls


_UNCHECKED = object()


class _Unsent(NamedTuple):
    """Why a lookup key is not sent: its reason code and what is wrong."""

    code: str
    why: str


class _KeyRefused(LookupFailedError):  # noqa: N818 (like the contract's)
    """A call not sent: its key is not a valid value of its fact's type (`INVALID:<key>`)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the lookup key {path} is not valid")
        self.code = f"INVALID:{path}"


def _key_value(param: Param, application: Any) -> Any:
    """A lookup key's value from the application, or why it cannot be sent (`_Unsent`)."""
    found, value = _at(application, param.keys)
    if not found or value is None:
        return _Unsent(f"MISSING:{param.path}", f"the lookup key {param.path} is missing")
    if value.__class__ not in (str, int):
        why = f"the lookup key {param.path} is not a text or an integer"
        return _Unsent(f"INVALID:{param.path}", why)
    return value


def unsendable(key: Key, params: tuple[Param, ...]) -> _KeyRefused | None:
    """Why a call's key may not be sent (a value its fact's type refuses), or None.

    Checked only for calls the cache does not answer: a cached answer was asked by a key that
    passed this check.
    """
    for (_, value), param in zip(key, params, strict=True):
        if param.check is not None:
            try:
                param.check(value)
            except (ValueError, TypeError):
                return _KeyRefused(param.path)
    return None


class Parts(NamedTuple):
    """What the answers give, before it is merged into the application."""

    overlay: dict[str, Any]
    """The gathered values, nested like an application."""
    gathered: Mapping[str, Provenance]
    failed: Mapping[str, Failure]
    drops: list[tuple[str, ...]]
    """Lookup keys no answer confirmed: taken out of the application."""


def assemble(plan: Plan, application: Any, asked: Mapping[CallKey, Asked], made: Made) -> Gathered:
    """The gathered application from the calls' results (pure: no I/O, no clock)."""
    caller_refused = refused(application, plan.guards) if plan.guards else _NONE
    return merged(plan, application, parts_of(plan, asked, made, caller_refused), caller_refused)


def merged(
    plan: Plan, application: Any, parts: Parts, caller_refused: Mapping[str, str]
) -> Gathered:
    """The application with the parts merged in, and its origins."""
    facts = _merged(application, parts.overlay) if parts.overlay else application
    if parts.drops:
        facts = _without(facts, parts.drops)
    origins = Origins(plan.origins.declared, plan.origins.vouched, parts.gathered, parts.failed)
    return Gathered(facts, origins, caller_refused)


def parts_of(
    plan: Plan, asked: Mapping[CallKey, Asked], made: Made, caller_refused: Mapping[str, str]
) -> Parts:
    """What the answers give (see `Parts`)."""
    overlay: dict[str, Any] = {}  # the gathered values, nested like an application
    gathered: dict[str, Provenance] = {}
    failed: dict[str, Failure] = {}
    keyed: dict[str, list[Provenance | Failure]] = {}  # each key path: what each lookup said
    for lookup, call in zip(plan.lookups, made, strict=True):
        outcome = call if call.__class__ is Failure else _answered(plan, lookup, call, asked)
        if outcome.__class__ is Failure:
            assert isinstance(outcome, Failure)
            for param in lookup.params:
                keyed.setdefault(param.path, []).append(outcome)
            for f in lookup.fields:
                failed.setdefault(f.path, outcome)
            continue
        record, provenance = outcome  # type: ignore[misc]
        for param in lookup.params:
            keyed.setdefault(param.path, []).append(provenance)
        for path, keys, field in lookup.fields:
            value = record.get(field[0]) if len(field) == 1 else _at(record, field)[1]
            if value is None:
                why = f"its record has no {'.'.join(field)}"
                office = plan.offices.get(lookup.source, ("", ""))
                code = f"NOT_FOUND:{lookup.source}"
                failed.setdefault(path, Failure(code, lookup.source, why, office))
            elif path not in caller_refused:
                node = overlay
                for key in keys[:-1]:
                    node = node.setdefault(key, {})
                node[keys[-1]] = value
                gathered[path] = provenance
    drops = _settle_keys(keyed, plan.origins.declared, gathered, failed)
    return Parts(overlay, gathered, failed, drops)


def _settle_keys(
    keyed: Mapping[str, list[Provenance | Failure]],
    declared: Mapping[str, str],
    gathered: dict[str, Provenance],
    failed: dict[str, Failure],
) -> list[tuple[str, ...]]:
    """Each lookup key a fact (confirmed) or failed; the paths of the failed ones, to drop."""
    drops = []
    for path, said in keyed.items():
        verdict = said[0] if len(said) == 1 else _key_verdict(said, declared.get(path))
        if isinstance(verdict, Provenance):
            gathered[path] = verdict
        else:
            failed.setdefault(path, verdict)
            drops.append(tuple(path.split(".")))
    return drops


_NONE: Mapping[str, str] = {}


def _answered(
    plan: Plan, lookup: Lookup, call: Any, asked: Mapping[CallKey, Asked]
) -> tuple[Mapping[str, Any], Provenance] | Failure:
    """A made lookup's record and provenance, or why it gave nothing."""
    result = asked[call]
    answer = result.answer
    if isinstance(answer, LookupFailedError):
        office = plan.offices.get(lookup.source, ("", ""))
        code = answer.code if isinstance(answer, _KeyRefused) else f"{answer.code}:{lookup.source}"
        return Failure(code, lookup.source, answer.why, office)
    record = answer.record
    for name, value in call[1]:  # the answer must echo the key it was asked by
        echoed = record.get(name, _UNCHECKED) if record.__class__ is dict else _UNCHECKED
        if echoed.__class__ is not value.__class__ or echoed != value:
            path = next(p.path for p in lookup.params if p.name == name)
            office = plan.offices.get(lookup.source, ("", ""))
            why = f"its answer does not confirm {path}"
            return Failure(f"INVALID:{path}", lookup.source, why, office)
    assert result.provenance is not None
    return record, result.provenance


def _key_verdict(said: list[Provenance | Failure], declared: str | None) -> Provenance | Failure:
    """A lookup key is a fact when some answer confirms it and none names someone else; its
    provenance is that of its declared source's answer when there is one, else the first."""
    if all(s is said[0] for s in said):
        return said[0]
    contradicted = [s for s in said if isinstance(s, Failure) and s.code.startswith("INVALID:")]
    confirmed = [s for s in said if isinstance(s, Provenance)]
    if contradicted or not confirmed:
        return (contradicted or [s for s in said if isinstance(s, Failure)])[0]
    return next((p for p in confirmed if p.source == declared), confirmed[0])


def _at(tree: Any, keys: tuple[str, ...]) -> tuple[bool, Any]:
    node = tree
    for key in keys:
        if node.__class__ is not dict or key not in node:
            return False, None
        node = node[key]
    return True, node


def _merged(tree: Any, overlay: dict[str, Any]) -> Any:
    """`_merged_deep`, with the common overlay (every path two keys deep) done in one pass."""
    if tree.__class__ is not dict:
        return tree
    out = dict(tree)
    for key, sub in overlay.items():
        if sub.__class__ is not dict:
            out[key] = sub
            continue
        for leaf in sub.values():
            if leaf.__class__ is dict:
                return _merged_deep(tree, overlay)
        base = tree.get(key, _UNCHECKED)
        if base is _UNCHECKED:
            out[key] = dict(sub)
        elif base.__class__ is dict:
            out[key] = {**base, **sub}
    return out


def _merged_deep(tree: Any, overlay: dict[str, Any]) -> Any:
    """The application with the overlay's values at their paths, copied along them only (the
    caller's application is never changed). Where a group on a path is not an object (the
    caller gave something else there), nothing is put: validation refuses the group."""
    if tree.__class__ is not dict:
        return tree
    out = dict(tree)
    for key, value in overlay.items():
        if value.__class__ is dict:
            base = tree.get(key, _UNCHECKED)
            if base is _UNCHECKED:
                out[key] = _merged_deep({}, value)  # a copy: an overlay may be reused
            elif base.__class__ is dict:
                out[key] = _merged_deep(base, value)
        else:
            out[key] = value
    return out


def _without(tree: Any, paths: list[tuple[str, ...]]) -> Any:
    """The application without the values at these paths (copied along them)."""
    for keys in paths:
        tree = _dropped(tree, keys)
    return tree


def _dropped(tree: Any, keys: tuple[str, ...]) -> Any:
    if tree.__class__ is not dict or keys[0] not in tree:
        return tree
    out = dict(tree)
    if len(keys) == 1:
        del out[keys[0]]
    else:
        out[keys[0]] = _dropped(tree[keys[0]], keys[1:])
    return out


class TTLCache:
    """A bounded cache of answers by key, each kept `ttl` seconds (the oldest out first).

    A read takes no lock (one dict read under the GIL); writes and evictions do.
    """

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._items: OrderedDict[Key, tuple[float, Asked]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Asked | None:
        """The cached result (its provenance marked `cached`), or None."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            with self._lock:
                self._items.pop(key, None)
            return None
        return item[1]

    def put(self, key: Key, asked: Asked) -> None:
        """Keep an answer; what is kept is marked as read from the cache."""
        provenance = asked.provenance
        if provenance is not None:
            asked = asked._replace(provenance=dataclasses.replace(provenance, cached=True))
        with self._lock:
            self._items[key] = (self._clock() + self._ttl, asked)
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
            opened.update(conn.open())
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
        self._adapters = dict(adapters) if adapters is not None else _opened(deployment)
        connections = deployment.connections
        self._sources = {via: via.split("#", 1)[0] for via in self._adapters}
        self._timeouts = {via: connections[s].spec.timeout for via, s in self._sources.items()}
        self._caches = {
            via: TTLCache(spec.cache.ttl, spec.cache.size)
            for via, s in self._sources.items()
            if (spec := connections[s].spec).cache is not None
        }
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._memo: dict[tuple[int, tuple[Any, ...]], tuple[Parts, Origins, tuple[Any, ...]]] = {}
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
        if self._caches:
            hit = self._memoized(plan, application)
            if hit is not None:
                return hit
        made, calls = calls_of(plan, application)
        asked, missed = self._from_caches(calls)
        if missed:
            asked.update(self._wait(self._ask_all(missed)))
        elif self._caches:
            return self._memoize(plan, application, made, asked)
        return assemble(plan, application, asked, made)

    # ---- every call answered by the caches: the assembled parts are reused ----
    def _memo_key(self, plan: Plan, application: Any) -> tuple[int, tuple[Any, ...]] | None:
        values = []
        for param in plan.key_params:
            value = _key_value(param, application)
            if value.__class__ is _Unsent:
                return None
            values.append(value)
        return id(plan), tuple(values)

    def _memoized(self, plan: Plan, application: Any) -> Gathered | None:
        """The gathered application when every call is answered by the caches with the very
        answers of the last assembly of these keys (no guarded fact given): its parts reused."""
        key = self._memo_key(plan, application)
        memo = self._memo.get(key) if key is not None else None
        if memo is None:
            return None
        parts, origins, hits = memo
        caches = self._caches
        for source, call_key, asked in hits:
            if caches[source].get(call_key) is not asked:
                return None
        if plan.guards and plan.gives_guarded(application):
            return None
        facts = _merged(application, parts.overlay) if parts.overlay else application
        if parts.drops:
            facts = _without(facts, parts.drops)
        return Gathered(facts, origins, _NONE)

    def _memoize(
        self, plan: Plan, application: Any, made: Made, asked: Mapping[CallKey, Asked]
    ) -> Gathered:
        caller_refused = refused(application, plan.guards) if plan.guards else _NONE
        parts = parts_of(plan, asked, made, caller_refused)
        key = self._memo_key(plan, application)
        cached = all(call[0] in self._caches for call in asked)
        if key is not None and cached and not caller_refused:
            if len(self._memo) >= _MEMO:
                self._memo.clear()
            hits = tuple((call[0], call[1], result) for call, result in asked.items())
            frozen = parts._replace(
                gathered=MappingProxyType(dict(parts.gathered)),
                failed=MappingProxyType(dict(parts.failed)),
            )
            origins = Origins(
                plan.origins.declared, plan.origins.vouched, frozen.gathered, frozen.failed
            )
            self._memo[key] = (frozen, origins, hits)
        return merged(plan, application, parts, caller_refused)

    async def gather_async(self, plan: Plan, application: Any) -> Gathered:
        """Gather for one application without blocking the caller's event loop."""
        made, calls = calls_of(plan, application)
        asked, missed = self._from_caches(calls)
        if missed:
            future = asyncio.run_coroutine_threadsafe(self._ask_all(missed), self._running())
            answered: dict[CallKey, Asked] = await asyncio.wrap_future(future)
            asked.update(answered)
        return assemble(plan, application, asked, made)

    def gather_many(self, plan: Plan, applications: Iterable[Any]) -> list[Gathered]:
        """Gather for many applications at once (every distinct call of the batch made once)."""
        applications = list(applications)
        every: dict[CallKey, tuple[Param, ...]] = {}
        needs = []
        for application in applications:
            made, calls = calls_of(plan, application)
            every.update(calls)
            needs.append(made)
        asked, missed = self._from_caches(every)
        if missed:
            asked.update(self._wait(self._ask_all(missed)))
        return [assemble(plan, a, asked, u) for a, u in zip(applications, needs, strict=True)]

    def _from_caches(
        self, calls: Mapping[CallKey, tuple[Param, ...]]
    ) -> tuple[dict[CallKey, Asked], list[CallKey]]:
        """The calls the caches answer, and the rest that may be sent (a key its fact's type
        refuses is answered here, by `_KeyRefused`: never sent)."""
        asked: dict[CallKey, Asked] = {}
        missed = []
        caches = self._caches
        for call, params in calls.items():
            cache = caches.get(call[0]) if caches else None
            hit = cache.get(call[1]) if cache is not None else None
            if hit is not None:
                asked[call] = hit
                continue
            refused_key = unsendable(call[1], params)
            if refused_key is None:
                missed.append(call)
            else:
                asked[call] = Asked(refused_key, self._clock(), None)
        return asked, missed

    async def _ask_all(self, calls: list[CallKey]) -> dict[CallKey, Asked]:
        results = await asyncio.gather(*(self._ask(source, key) for source, key in calls))
        return dict(zip(calls, results, strict=True))

    async def _ask(self, via: str, key: Key) -> Asked:
        adapter = self._adapters[via]
        source = self._sources[via]
        timeout = self._timeouts.get(via, 2.0)
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
            if not isinstance(answer.record, dict):
                return Asked(Unavailable("the adapter's record is not an object"), at, None)
            provenance = Provenance("adapter", source, at, answer.reference, answer.digest)
            asked = Asked(answer, at, provenance)
            cache = self._caches.get(via)
            if cache is not None:
                cache.put(key, asked)
            return asked
        if not isinstance(answer, LookupFailedError):
            answer = Unavailable(f"the adapter answered a {type(answer).__name__}")
        return Asked(answer, at, None)

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
