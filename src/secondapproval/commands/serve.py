"""`secondapproval serve` — the decision service over HTTP (uvicorn; needs the `service` extra).

The rule set is loaded and checked here first, written as a bundle and published on the board
(`service.board`) the workers watch; then uvicorn starts `--workers` processes, each building its
own Engine from the published bundle. TLS: `--ssl-certfile` and `--ssl-keyfile` (uvicorn's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._common import add_backend_option, add_rules_option


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("serve", help="serve decisions over HTTP (docs/service.md)")
    add_rules_option(p)
    add_backend_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free one)")
    p.add_argument("--workers", type=int, help="worker processes (default: the config's, else 1)")
    p.add_argument(
        "--audit",
        metavar="TARGET",
        help="audit log (.sqlite, .jsonl or postgresql://…); each "
        "worker writes its own chain beside it (overrides the config's)",
    )
    p.add_argument(
        "--audit-key",
        type=Path,
        metavar="FILE",
        help="the audit key's file (default: the config's, else TARGET.key beside a log file; "
        "a PostgreSQL log needs one, or $SECONDAPPROVAL_AUDIT_KEY)",
    )
    p.add_argument("--config", type=Path, metavar="FILE", help="the service's settings (keys …)")
    p.add_argument("--deployment", type=Path, metavar="FILE", help="the sources' deployment file")
    p.add_argument(
        "--state",
        type=Path,
        metavar="DIR",
        help="the board the workers share (published bundles, worker states, slots); "
        "default: a new temporary folder, removed at exit",
    )
    p.add_argument("--ssl-certfile", type=Path, metavar="FILE", help="TLS certificate (PEM)")
    p.add_argument("--ssl-keyfile", type=Path, metavar="FILE", help="TLS private key (PEM)")
    p.add_argument("--log-level", default="warning", help="uvicorn's log level (default warning)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..audit.files import log_name
    from ..service.board import Board
    from ..service.config import ServiceConfig, load_config
    from ..service.runtime import Runtime, publish_initial
    from ..service.worker import SETTINGS_ENV, WorkerSettings

    config = load_config(args.config) if args.config else ServiceConfig()
    workers = args.workers or config.settings.workers
    if workers < 1:
        raise ConfigError(f"--workers {workers}: at least one")
    # what every worker will do at start, done here once: a worker that cannot start is
    # restarted forever by uvicorn's supervisor, so its error must stop `serve` first
    snapshot = Runtime.check(
        args.rules,
        config=config,
        deployment=args.deployment,
        audit=args.audit,
        audit_key=args.audit_key,
        backend=args.backend,
    )
    audit = config.with_audit(args.audit, args.audit_key).audit_target()
    owned = args.state is None
    state = Path(tempfile.mkdtemp(prefix="secondapproval-service-")) if owned else args.state
    # uvicorn re-raises SIGTERM once it has shut down: as SystemExit, the state is still removed
    signal.signal(signal.SIGTERM, _exit)
    try:
        digest = publish_initial(Board(state), args.rules, snapshot)
        settings = WorkerSettings(
            rules=str(args.rules.resolve()),
            state=str(state.resolve()),
            config=str(args.config.resolve()) if args.config else None,
            deployment=str(args.deployment.resolve()) if args.deployment else None,
            audit=args.audit,
            audit_key=str(args.audit_key.resolve()) if args.audit_key else None,
            backend=args.backend,
        )
        os.environ[SETTINGS_ENV] = settings.to_env()
        if workers > 1:
            metrics = state / "metrics"
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        scheme = "https" if args.ssl_certfile else "http"
        recorded = log_name(audit) if audit else "off"
        print(
            f"serving rule set {digest[:12]}… at {scheme}://{args.host}:{args.port} with "
            f"{workers} worker{'s' if workers != 1 else ''}; audit {recorded}",
            file=sys.stderr,
        )
        if not config.settings.keys:
            print(
                "warning: no API key is configured: every decision request is refused (401). "
                "Add one: secondapproval keys add NAME --matters … --config FILE",
                file=sys.stderr,
            )
        sys.stderr.flush()
        uvicorn.run(
            "secondapproval.service.worker:app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=workers,
            ssl_certfile=str(args.ssl_certfile) if args.ssl_certfile else None,
            ssl_keyfile=str(args.ssl_keyfile) if args.ssl_keyfile else None,
            log_level=args.log_level,
            access_log=False,
            server_header=False,
        )
    finally:
        if owned:
            shutil.rmtree(state, ignore_errors=True)
    return 0


def _exit(signum: int, frame: object) -> None:  # noqa: ARG001
    raise SystemExit(0)
