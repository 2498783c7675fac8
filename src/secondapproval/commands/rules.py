"""`secondapproval rules snapshot|bundle|verify-bundle` — keep and ship rule-set versions.

`snapshot` keeps the exact text of each rule-set version by its digest: every audit record names
the digest of the rule set that decided it, and a snapshot store keeps those texts after the
rules change, so `audit verify --rules STORE` can still re-decide old records.

`bundle` writes the rule set as one file (`bundle`: a tar of its files, `manifest.json`, and a
signature with `--signing-key`) and prints its snapshot digest; `verify-bundle` opens one as a
service would, checks every member, hash, the digest and (with `--trusted-key`) the signature,
and prints the digest: exit 1 when the bundle is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..audit.rule_texts import keep_texts
from ..bundle import read_bundle, write_bundle
from ..errors import BundleError
from ..loader import load_matters
from ._common import add_rules_option


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "rules", help="keep rule-set versions (snapshot by digest) and ship them (bundles)"
    )
    sub = p.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    s = sub.add_parser("snapshot", help="store every matter version's exact text by digest")
    add_rules_option(s)
    s.add_argument(
        "--store",
        type=Path,
        default=Path("rule-snapshots"),
        metavar="DIR",
        help="snapshot folder (default ./rule-snapshots)",
    )
    s.set_defaults(func=run_snapshot)

    b = sub.add_parser(
        "bundle", help="write the rule set as one bundle (tar, manifest, optional signature)"
    )
    add_rules_option(b)
    b.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="the bundle to write (replaced)"
    )
    b.add_argument(
        "--signing-key",
        type=Path,
        metavar="FILE",
        help="an Ed25519 private key (`audit keygen FILE`) that signs the manifest",
    )
    b.set_defaults(func=run_bundle)

    v = sub.add_parser(
        "verify-bundle", help="check a bundle's members, hashes, digest and signature"
    )
    v.add_argument("bundle", type=Path, metavar="FILE")
    v.add_argument(
        "--trusted-key",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a public key (FILE.pub of `audit keygen FILE`) the signature must verify against "
        "(repeatable; given, the bundle must be signed)",
    )
    v.set_defaults(func=run_verify_bundle)


def run_snapshot(args: argparse.Namespace) -> int:
    matters = load_matters([args.rules])
    written = keep_texts(matters, args.store)
    for folder in written:
        print(f"stored {folder}")
    print(f"{len(matters)} versions, {len(written)} new snapshots in {args.store}")
    return 0


def run_bundle(args: argparse.Namespace) -> int:
    manifest = write_bundle(args.rules, args.out, signing_key=args.signing_key)
    print(manifest.snapshot)
    installed = f", {len(manifest.installed)} of the installation" if manifest.installed else ""
    signed = "signed" if args.signing_key is not None else "unsigned"
    print(f"wrote {args.out}: {len(manifest.members)} files{installed}, {signed}")
    return 0


def run_verify_bundle(args: argparse.Namespace) -> int:
    keys = args.trusted_key
    try:
        opened = read_bundle(args.bundle, trusted_keys=keys, require_signature=bool(keys))
    except BundleError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    snapshot = opened.snapshot
    print(snapshot.digest)
    if opened.signed_by is not None:
        signature = f"signed by trusted key {opened.signed_by}"
    elif opened.signed:
        signature = "signed, signature not checked (no --trusted-key)"
    else:
        signature = "unsigned"
    versions = sum(len(spans) for spans in snapshot.spans.values())
    print(
        f"ok {args.bundle}: {len(opened.manifest.members)} files, {len(snapshot.matters)} "
        f"matters, {versions} versions; {signature}"
    )
    return 0
