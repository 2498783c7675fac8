"""What one worker of the service runs: its Engine, keys, limits, audit chain, board and metrics.

`Runtime.start(...)` builds it in the worker process (an Engine is never shared between
processes): it takes a worker slot on the board (and with it the audit chain `w<slot>`), loads
the rule set the board publishes (else the one it was given), opens its chain and makes the
Engine, vouching for what the configured keys vouch for. A watcher thread keeps the worker on the
published rule set: it heartbeats on the board, and when a new bundle is published it opens,
checks and compiles it off the request path, then swaps the Engine's snapshot (atomic: a request
is decided wholly under one digest). `reload(...)` is the admin call: the new rule set is loaded
and checked first (a bad one is refused and the old one keeps serving), written as a bundle and
published; the call answers once every live worker serves it, or says which did not.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from starlette.applications import Starlette

from ..audit.canonical import split_sealed
from ..audit.postgres import is_postgres, postgres_record, with_chain
from ..audit.settings import AuditSettings, log_secret, open_audit
from ..audit.sinks import ChainSink
from ..audit.sqlite import is_sqlite, sqlite_record
from ..decision import Decision
from ..engine import Engine
from ..errors import SecondApprovalError
from ..log import get_logger
from ..snapshot import RuleSetSnapshot
from ..sources.deployment import Deployment, load_deployment
from .board import Board, Publication, WorkerState
from .body import BodyReader
from .config import ServiceConfig
from .keys import KeyRing, Principal
from .metrics import Metrics
from .problems import ProblemError

THREADS = 128
"""Threads a worker decides audited applications in (each waits for its record's commit)."""
POLL_SECONDS = 0.1
"""How often a worker looks at the board (a reload reaches every worker within about this)."""
BEAT_SECONDS = 0.5
"""How often a worker tells the board it is alive."""


def chain_of(target: str, slot: int | None) -> str:
    """The audit chain of worker slot `slot` for a configured target (None: the target itself):
    `audit.sqlite` → `audit.w0.sqlite`, `audit.jsonl` → `audit.w0.jsonl`, a PostgreSQL URL →
    the same database, chain `w0`."""
    if slot is None:
        return target
    if is_postgres(target):
        return with_chain(target, f"w{slot}")
    path = Path(target)
    return str(path.with_name(f"{path.stem}.w{slot}{path.suffix}"))


def chains_of(target: str) -> list[Path]:
    """Every worker chain written for a target so far (and the target itself, if it exists)."""
    path = Path(target)
    found = sorted(path.parent.glob(f"{path.stem}.w*{path.suffix}"))
    return [*found, path] if path.exists() else found


class Runtime:
    def __init__(
        self,
        *,
        engine: Engine,
        config: ServiceConfig,
        rules: Path,
        board: Board | None,
        slot: int | None,
        audit_target: str | None,
        stack: contextlib.ExitStack,
    ) -> None:
        self.engine = engine
        self.config = config
        self.rules = rules
        self.board = board
        self.slot = slot
        self.worker = f"w{slot}" if slot is not None else "w0"
        self.audit_target = audit_target
        self.keyring: KeyRing = config.keyring()
        self.metrics = Metrics()
        self._reader = BodyReader(config.limits)
        self._stack = stack
        self._log = get_logger(component="service", worker=self.worker)
        self._pii: dict[tuple[str, str | None], frozenset[str]] = {}
        self._pii_digest = ""
        self._sources: dict[str, tuple[str, float | None, str | None]] = {}
        self._failed_seq = 0
        self._error: str | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.metrics.swapped(self.worker, None, engine.snapshot.digest)

    # ---- start and stop ----
    @classmethod
    def start(
        cls,
        rules: str | Path,
        *,
        config: ServiceConfig | None = None,
        deployment: str | Path | Deployment | None = None,
        audit: str | None = None,
        audit_key: str | Path | None = None,
        state: str | Path | None = None,
        backend: str = "native",
    ) -> Runtime:
        """A worker's runtime (see the module's text). `audit` and `audit_key` override the
        configuration's target and key file; `state` is the board folder the workers of one
        service share (None: a service of one process that reloads itself)."""
        config = (config or ServiceConfig()).with_audit(audit, audit_key)
        stack = contextlib.ExitStack()
        try:
            board = Board(state) if state is not None else None
            slot = stack.enter_context(board.slot()) if board is not None else None
            snapshot, error = _first_loadable(board, Path(rules), backend, config)
            target = config.audit_target()
            options: dict[str, Any] = {}
            if target is not None:
                prepare_audit(target, config)
                sink, key = _open_chain(target, slot, config)
                stack.callback(_close_quietly, sink)
                options = {"audit": sink, "audit_key": key}
            keyring = config.keyring()
            vouch = sorted({s for p in keyring.principals for s in p.vouch})
            if deployment is not None and not isinstance(deployment, Deployment):
                deployment = load_deployment(deployment)
            engine = Engine(snapshot=snapshot, vouch=vouch, deployment=deployment, **options)
            stack.callback(engine.close_sources)
        except BaseException:
            stack.close()
            raise
        runtime = cls(
            engine=engine,
            config=config,
            rules=Path(rules),
            board=board,
            slot=slot,
            audit_target=target,
            stack=stack,
        )
        runtime._error = error
        if len(keyring) == 0:
            runtime._log.warning(
                "service.no_keys",
                note="no API key is configured: every decision request is refused (401). "
                "Add one with `secondapproval keys add NAME --matters … --config FILE`",
            )
        if board is not None:
            runtime._watch()
        return runtime

    @staticmethod
    def check(
        rules: str | Path,
        *,
        config: ServiceConfig,
        deployment: str | Path | None = None,
        audit: str | None = None,
        audit_key: str | Path | None = None,
        backend: str = "native",
    ) -> RuleSetSnapshot:
        """What a worker will do at start, done once before any starts (`serve`): the rules
        load, the keys' vouching fits them and the deployment, the audit key can be had.
        Raises the error a worker would (a worker that cannot start is restarted forever by
        uvicorn's supervisor); the snapshot loaded."""
        config = config.with_audit(audit, audit_key)
        snapshot = _load(Path(rules), backend, config)
        vouch = sorted({s for p in config.keyring().principals for s in p.vouch})
        loaded = load_deployment(deployment) if deployment is not None else None
        Engine(snapshot=snapshot, vouch=vouch, deployment=loaded).close_sources()
        target = config.audit_target()
        if target is not None:
            prepare_audit(target, config)
            if is_postgres(target):
                log_secret(target, _key_file(target, config), create=True)
        return snapshot

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        self._stack.close()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:  # noqa: ARG002
        # audited decisions wait in a thread for their record to be durable (group commit):
        # the default pool (cores + 4 threads) would cap the decisions in flight per commit
        loop = asyncio.get_running_loop()
        pool = ThreadPoolExecutor(THREADS, thread_name_prefix="decide")
        loop.set_default_executor(pool)
        try:
            yield
        finally:
            await asyncio.to_thread(self.close)

    @property
    def reader(self) -> BodyReader:
        """Reads request bodies within the configured limits."""
        return self._reader

    # ---- the rule set ----
    def swap(self, snapshot: RuleSetSnapshot) -> str:
        """Serve `snapshot` from now on; the digest replaced."""
        old = self.engine.swap(snapshot)
        self.metrics.swapped(self.worker, old.digest, snapshot.digest)
        self.metrics.reloads.labels("swapped").inc()
        self._log.info("rules.swapped", old=old.digest, new=snapshot.digest)
        return old.digest

    async def reload(self, rules: Path | None, wait: float) -> dict[str, Any]:
        """Load and check a rule set (a folder or a bundle), publish it to every worker and wait
        until they serve it (see the module's text)."""
        source = rules or self.rules
        started = time.monotonic()
        try:
            snapshot = await asyncio.to_thread(_load, source, self.engine.backend, self.config)
        except (SecondApprovalError, OSError) as exc:
            self.metrics.reloads.labels("refused").inc()
            raise ProblemError(
                422, "reload-refused", f"{source}: not loaded, the old rules keep serving: {exc}"
            ) from None
        previous = self.engine.snapshot.digest
        if self.board is None:
            self.swap(snapshot)
            workers = [{"worker": self.worker, "pid": os.getpid(), "snapshot": snapshot.digest}]
            return _reloaded(snapshot.digest, previous, workers, started)
        board = self.board
        await asyncio.to_thread(_publish, board, source, snapshot)
        deadline = started + wait
        while True:
            live = await asyncio.to_thread(board.live_workers)
            behind = [w for w in live if w.digest != snapshot.digest]
            if not behind and live:
                return _reloaded(snapshot.digest, previous, [w.to_dict() for w in live], started)
            if time.monotonic() >= deadline:
                raise ProblemError(
                    504,
                    "reload-incomplete",
                    f"published {snapshot.digest[:12]}…, but not every worker serves it within "
                    f"{wait:g} s: "
                    + ", ".join(f"w{w.slot} ({w.error or w.digest})" for w in behind),
                    snapshot=snapshot.digest,
                    workers=[w.to_dict() for w in live],
                )
            await asyncio.sleep(POLL_SECONDS / 2)

    def _watch(self) -> None:
        self._watcher = threading.Thread(target=self._watch_loop, name="rules-watcher", daemon=True)
        self._watcher.start()

    def _watch_loop(self) -> None:
        assert self.board is not None
        assert self.slot is not None
        board, beat = self.board, 0.0
        while not self._stop.is_set():
            try:
                published = board.current()
                if (
                    published is not None
                    and published.digest != self.engine.snapshot.digest
                    and published.seq != self._failed_seq
                ):
                    self._take(published)
                    beat = 0.0
                now = time.time()
                if now - beat >= BEAT_SECONDS:
                    board.report(
                        WorkerState(
                            self.slot, os.getpid(), self.engine.snapshot.digest, now, self._error
                        )
                    )
                    beat = now
            except Exception as exc:  # the watcher must outlive a bad board read
                self._log.error("board.failed", error=repr(exc))
            self._stop.wait(POLL_SECONDS)

    def _take(self, publication: Publication) -> None:
        seq, digest, bundle = publication.seq, publication.digest, Path(publication.bundle)
        try:
            snapshot = _load(bundle, self.engine.backend, self.config)
            if snapshot.digest != digest:
                raise SecondApprovalError(
                    f"{bundle}: its snapshot is {snapshot.digest[:12]}…, "
                    f"published as {digest[:12]}…"
                )
            self.swap(snapshot)
            self._error = None
            assert self.board is not None
            self.board.mark_good(publication)
        except Exception as exc:
            self._failed_seq = seq
            self._error = f"refused {digest[:12]}…: {exc}"
            self.metrics.reloads.labels("refused").inc()
            self._log.error("rules.refused", bundle=str(bundle), error=str(exc))

    # ---- what the routes read ----
    def pii_of(self, matter: str, version: str | None) -> frozenset[str]:
        snapshot = self.engine.snapshot
        if snapshot.digest != self._pii_digest:
            self._pii = {
                (m.id, m.version): frozenset(p for p, f in m.spec.facts.items() if f.pii)
                for m in snapshot.all_versions()
            }
            self._pii_digest = snapshot.digest
        return self._pii.get((matter, version), frozenset())

    def find_record(self, decision_id: str) -> dict[str, Any] | None:
        """The audit record of a decision in any worker's chain (as the log holds it: masked)."""
        if self.audit_target is None:
            return None
        if is_postgres(self.audit_target):
            found = postgres_record(_any_chain(self.audit_target), decision_id)
            return _record_doc(found[2]) if found is not None else None
        for chain in chains_of(self.audit_target):
            line = _record_in(chain, decision_id)
            if line is not None:
                return _record_doc(line)
        return None

    def readiness(self) -> dict[str, Any]:
        digest = self.engine.snapshot.digest
        workers = (
            [w.to_dict() for w in self.board.live_workers()]
            if self.board is not None
            else [{"worker": self.worker, "pid": os.getpid(), "snapshot": digest}]
        )
        return {"ready": True, "snapshot": digest, "worker": self.worker, "workers": workers}

    def vouched_for(self, who: Principal) -> frozenset[str]:
        """The sources a caller's facts are taken from: its key's and the deployment's."""
        deployment = self.engine.deployment
        return who.vouch | frozenset(deployment.vouch) if deployment is not None else who.vouch

    def observe(self, decision: Decision) -> None:
        """Note what a decision says of the connected sources: one that gave a fact is up, one
        that could not be reached is down (`UNAVAILABLE:`; `NOT_FOUND:` is an answer)."""
        origins = decision.origins
        if not origins.gathered and not origins.failed:
            return  # nothing was asked of a source
        now = time.time()
        for failure in origins.failed.values():
            if failure.code.startswith("UNAVAILABLE:"):
                self._sources[failure.source] = ("down", now, failure.why)
        for provenance in origins.gathered.values():
            if self._sources.get(provenance.source, ("",))[0] != "up":
                self._sources[provenance.source] = ("up", now, None)

    def source_health(self) -> dict[str, Any]:
        """Each connected source: its adapter and what this worker last saw of it."""
        deployment = self.engine.deployment
        if deployment is None:
            return {}
        out = {}
        for source, connection in sorted(deployment.connections.items()):
            state, at, why = self._sources.get(source, ("unknown", None, None))
            out[source] = {
                "adapter": connection.spec.adapter,
                "state": state,
                "since": dt.datetime.fromtimestamp(at, dt.UTC).isoformat() if at else None,
                "error": why,
            }
        return out


# ---- I/O at the edges ----
def _load(source: Path, backend: str, config: ServiceConfig) -> RuleSetSnapshot:
    from ..bundle import load_rule_set

    return load_rule_set(source, backend=backend, **config.bundle_options())


def _first_loadable(
    board: Board | None, rules: Path, backend: str, config: ServiceConfig
) -> tuple[RuleSetSnapshot, str | None]:
    """The rule set a worker starts with: the one published, else (a bad bundle published) the
    last one a worker took, else the service's rules; and why it is not the one published."""
    published = board.current() if board is not None else None
    if published is None:
        return _load(rules, backend, config), None
    try:
        snapshot = _load(Path(published.bundle), backend, config)
    except Exception as exc:
        error = f"refused {published.digest[:12]}…: {exc}"
        assert board is not None
        good = board.last_good()
        if good is not None and good.seq != published.seq:
            return _load(Path(good.bundle), backend, config), error
        return _load(rules, backend, config), error
    assert board is not None
    board.mark_good(published)
    return snapshot, None


def _publish(board: Board, source: Path, snapshot: RuleSetSnapshot) -> None:
    from ..bundle import write_bundle

    target = board.bundle_path(snapshot.digest)
    if not target.exists():
        if source.is_file():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        else:
            write_bundle(source, target)
    board.publish(snapshot.digest, target)


def publish_initial(board: Board, rules: Path, snapshot: RuleSetSnapshot) -> str:
    """Publish the rule set a service starts with (before its workers start); its digest."""
    board.forget_workers()
    _publish(board, rules, snapshot)
    board.mark_good(board.current())  # type: ignore[arg-type]
    return snapshot.digest


def _open_chain(
    target: str, slot: int | None, config: ServiceConfig
) -> tuple[ChainSink, bytes | None]:
    audit = config.settings.audit
    key_file = _key_file(target, config)
    settings = AuditSettings(
        chain if is_postgres(chain := chain_of(target, slot)) else Path(chain),
        key_file=key_file,
        fsync=audit.fsync if audit else "group",
    )
    opened = open_audit(settings)
    return opened.sink, opened.key


def prepare_audit(target: str, config: ServiceConfig) -> None:
    """The audit folder and key made before any worker opens its chain (`serve` calls it before
    the workers start, so two never race to create the key): the configured key file, else
    `<target>.key`, created if absent."""
    if is_postgres(target):
        return
    audit = config.settings.audit
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    key_file = config.folder / audit.key_file if audit and audit.key_file else None
    log_secret(target, key_file, create=True)


def _key_file(target: str, config: ServiceConfig) -> Path | None:
    """The audit key's file: the configured one, else `<target>.key` beside a log file; a
    PostgreSQL log has none beside it (then `$SECONDAPPROVAL_AUDIT_KEY`)."""
    audit = config.settings.audit
    if audit and audit.key_file:
        return config.folder / audit.key_file
    return None if is_postgres(target) else Path(f"{target}.key")


def _record_in(chain: Path, decision_id: str) -> bytes | None:
    if is_sqlite(chain):
        found = sqlite_record(chain, decision_id)
        return found[1] if found is not None else None
    needle = orjson.dumps(decision_id)
    with contextlib.suppress(FileNotFoundError), chain.open("rb") as f:
        for line in f:
            if needle in line:
                parts = split_sealed(line)
                if parts is not None and orjson.loads(parts[0]).get("decision_id") == decision_id:
                    return line
    return None


def _record_doc(line: bytes) -> dict[str, Any] | None:
    parts = split_sealed(line)
    if parts is None:
        return None
    doc: dict[str, Any] = orjson.loads(parts[0])
    doc["hash"] = parts.hash
    if parts.mac is not None:
        doc["mac"] = parts.mac
    return doc


def _any_chain(url: str) -> str:
    """A PostgreSQL URL without its `chain=` (a record is looked for in every chain)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "chain"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _close_quietly(sink: ChainSink) -> None:
    with contextlib.suppress(SecondApprovalError):
        sink.close()


def _reloaded(
    digest: str, previous: str, workers: list[dict[str, Any]], started: float
) -> dict[str, Any]:
    return {
        "snapshot": digest,
        "previous": previous,
        "workers": workers,
        "seconds": round(time.monotonic() - started, 4),
    }
