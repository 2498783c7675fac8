"""`secondapproval reload --url URL [--rules PATH]` — swap a running service's rule set.

Calls `POST /v1/admin/reload` with the admin key (from `$SECONDAPPROVAL_ADMIN_KEY` or
`--key-file`); the service loads and checks the rule set, publishes it to every worker and answers
once all of them serve it. Exit 0 when they do, 1 when the set was refused or a worker lagged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ..errors import ConfigError

KEY_ENV = "SECONDAPPROVAL_ADMIN_KEY"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("reload", help="swap a running service's rules (every worker)")
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the service's base URL")
    p.add_argument(
        "--rules",
        metavar="PATH",
        help="folder or bundle, as the service sees it "
        "(default: the folder it was started with, read again)",
    )
    p.add_argument("--key-file", type=Path, metavar="FILE", help=f"the admin key (else ${KEY_ENV})")
    p.add_argument("--wait", type=float, default=10.0, help="seconds to wait for every worker")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.key_file is not None:
        key = args.key_file.read_text(encoding="utf-8").strip()
    else:
        key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ConfigError(f"give the admin key: --key-file FILE or ${KEY_ENV}")
    body: dict[str, Any] = {"wait": args.wait}
    if args.rules:
        body["rules"] = str(Path(args.rules).resolve())
    if not args.url.startswith(("http://", "https://")):
        raise ConfigError(f"--url {args.url}: an http:// or https:// URL")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        args.url.rstrip("/") + "/v1/admin/reload",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=args.wait + 30) as response:  # noqa: S310
            doc = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        problem = json.loads(exc.read() or b"{}")
        print(f"reload refused ({exc.code}): {problem.get('detail', exc.reason)}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        raise ConfigError(f"{args.url}: cannot reach the service: {exc.reason}") from None
    workers = ", ".join(w["worker"] for w in doc["workers"])
    print(f"serving {doc['snapshot']} on {workers} ({doc['seconds']:.3f} s)")
    return 0
