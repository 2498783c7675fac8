"""Rule-set bundles: a snapshot's files in one tar, with a manifest and an optional signature.

A bundle (DESIGN, "Rule-set snapshot") is an uncompressed tar whose members are, in this order:

- `manifest.json`: the canonical JSON (sorted keys, no whitespace, UTF-8) of
  `{"files": {path: sha256}, "format": "secondapproval-bundle", "limits": {...}, "snapshot":
  digest, "version": 1}` — `files` is the snapshot's `(path, sha256)` list, `limits` the engine
  limits its digest was taken under, `snapshot` that digest;
- `manifest.json.sig`, when signed: the canonical JSON of `{"key": id, "sig": base64, "v": 1}`,
  the detached Ed25519 signature over the bytes of `manifest.json` by a key of `audit keygen`
  (`key` names its public half, as checkpoints do);
- every file of the snapshot, at its path in `files`: regular files only, no folders.

An entry of `files` named `<…>` (a built-in calendar: `<calendar cn-mainland>`) is not a file of
the rule set but of the installed package, so the tar does not hold it: opening the bundle reads
it from the installation again, and an installation whose calendar differs opens no bundle made
with another one (its snapshot would have another digest).

`write_bundle` loads the folder first, so a bad rule set is refused before anything is written,
and replaces the bundle file atomically. `open_bundle` believes nothing the file says: it refuses
(`BundleError`, naming the bundle and the member) an unsafe or unexpected member, a file whose
hash is not the manifest's, a signature no trusted key made, and a snapshot whose digest is not
the manifest's; it extracts into a private temporary folder, loads the snapshot from it and
removes the folder. `load_rule_set` takes a folder or a bundle, as a service is given either.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import io
import os
import re
import stat
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .audit.checkpoints import PublicKey, SigningKey
from .audit.jsonl import fsync_dir
from .backends import Backend
from .errors import AuditError, BundleError, Problem, RuleSetError
from .limits import DEFAULT, Limits
from .loader import _REGISTRY_LEVELS
from .registry import REGISTRY_FILE
from .snapshot import RuleSetSnapshot, snapshot_digest

PathLike = str | os.PathLike[str]
SigningKeyLike = SigningKey | Ed25519PrivateKey | PathLike
"""A key that signs a bundle: loaded, or the file `audit keygen FILE` wrote."""
TrustedKey = PublicKey | Ed25519PublicKey | PathLike
"""A key a bundle's signature may be made by: loaded, or a public key file (`FILE.pub`)."""

FORMAT = "secondapproval-bundle"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
SUFFIXES = (".tar", ".bundle")
"""The suffixes `load_rule_set` takes for a bundle without looking inside the file."""
MAX_BYTES = 64 * 1024 * 1024
"""The largest bundle opened, in bytes (its members together are no larger: it is uncompressed)."""
MAX_MEMBERS = 10_000
"""The most members a bundle opened may have."""
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_SIGNATURE_BYTES = 64 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")
_INSTALLED = re.compile(r"<[^<>/\\\x00]+>")
"""An entry of the installation (`<calendar cn-mainland>`), not a member of the tar."""
_NEST = ("bundle",) * (_REGISTRY_LEVELS + 1)
"""The folders the rules are extracted under inside the private folder: a `sources.yaml` is
looked for up to `_REGISTRY_LEVELS` folders above a matter file, so each of them is ours — even
once removed, a matter's path never leads to a `sources.yaml` someone left in the shared `/tmp`."""
_LIMIT_FIELDS = tuple(f.name for f in dataclasses.fields(Limits))


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a bundle holds: the snapshot's files and hashes, its limits and its digest."""

    files: tuple[tuple[str, str], ...]
    """(path, SHA-256) of every file of the snapshot, sorted, as `RuleSetSnapshot.files`."""
    snapshot: str
    """The snapshot's digest (over `files` and `limits`)."""
    limits: Limits

    @classmethod
    def of(cls, snapshot: RuleSetSnapshot) -> Manifest:
        return cls(snapshot.files, snapshot.digest, snapshot.limits)

    @property
    def members(self) -> tuple[str, ...]:
        """The paths the tar holds: every file but those of the installation (`<…>`)."""
        return tuple(path for path, _ in self.files if not _INSTALLED.fullmatch(path))

    @property
    def installed(self) -> tuple[tuple[str, str], ...]:
        """The entries of the installed package (`<calendar …>`), which the tar does not hold."""
        return tuple(entry for entry in self.files if _INSTALLED.fullmatch(entry[0]))

    def to_json(self) -> bytes:
        """The canonical JSON of `manifest.json` (what a signature signs)."""
        return orjson.dumps(
            {
                "files": dict(self.files),
                "format": FORMAT,
                "limits": dataclasses.asdict(self.limits),
                "snapshot": self.snapshot,
                "version": VERSION,
            },
            option=orjson.OPT_SORT_KEYS,
        )

    @classmethod
    def parse(cls, data: bytes, bundle: str) -> Manifest:
        """A manifest read from a bundle: every member checked, in canonical form, its digest
        that of its files and limits; else a BundleError."""

        def refuse(message: str) -> BundleError:
            return BundleError(bundle, message, MANIFEST)

        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise refuse(f"not JSON: {exc}") from None
        if not isinstance(doc, dict) or set(doc) != {
            "files",
            "format",
            "limits",
            "snapshot",
            "version",
        }:
            raise refuse("not a bundle manifest (files, format, limits, snapshot, version)")
        if doc["format"] != FORMAT or doc["version"] != VERSION:
            raise refuse(
                f"format {doc['format']!r} version {doc['version']!r}; "
                f"this secondapproval reads {FORMAT!r} version {VERSION}"
            )
        files, limits, digest = doc["files"], doc["limits"], doc["snapshot"]
        if not isinstance(files, dict) or not files:
            raise refuse("`files` is not an object of paths and SHA-256 digests")
        for path, sha in files.items():
            problem = None if _INSTALLED.fullmatch(path) else _path_problem(path)
            if problem is None and path in (MANIFEST, SIGNATURE):
                problem = "the name of the manifest or its signature"
            if problem is not None:
                raise refuse(f"file {_shown(path)}: {problem}")
            if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
                raise refuse(f"file {_shown(path)}: {sha!r} is not a SHA-256 digest")
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise refuse(f"`snapshot` {digest!r} is not a SHA-256 digest")
        manifest = cls(tuple(sorted(files.items())), digest, _limits_of(limits, refuse))
        if manifest.to_json() != data:
            raise refuse("not in canonical form (sorted keys, no whitespace)")
        if snapshot_digest(manifest.files, manifest.limits) != digest:
            raise refuse("its snapshot digest is not the digest of its files and limits")
        return manifest


@dataclass(frozen=True, slots=True)
class OpenedBundle:
    """A bundle opened: its snapshot, its manifest, and what its signature was found to be."""

    snapshot: RuleSetSnapshot
    manifest: Manifest
    signed: bool
    """Whether the bundle holds a signature (checked only against trusted keys)."""
    signed_by: str | None
    """The id of the trusted key the signature verified against; None: not checked or unsigned."""


def write_bundle(
    rules: PathLike,
    out: PathLike,
    *,
    signing_key: SigningKeyLike | None = None,
    limits: Limits = DEFAULT,
) -> Manifest:
    """Write the rule set under `rules` as a bundle at `out` (replaced atomically), signed when a
    key is given; returns its manifest. A bad rule set (RuleSetError) writes nothing."""
    out = Path(out)
    key = _signing_key(signing_key, str(out)) if signing_key is not None else None
    snapshot = RuleSetSnapshot.load(Path(rules), limits=limits)
    manifest = Manifest.of(snapshot)
    contents = _contents(Path(rules), manifest)
    text = manifest.to_json()
    members = [(MANIFEST, text)]
    if key is not None:
        members.append((SIGNATURE, _signature_of(key, text)))
    _write_tar(out, [*members, *contents])
    return manifest


def open_bundle(
    path: PathLike,
    *,
    trusted_keys: Sequence[TrustedKey] = (),
    require_signature: bool = False,
    backend: str | Backend = "native",
    limits: Limits = DEFAULT,
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
) -> RuleSetSnapshot:
    """The snapshot a bundle holds, every member and hash checked against its manifest and the
    snapshot's digest against the manifest's (`read_bundle`)."""
    return read_bundle(
        path,
        trusted_keys=trusted_keys,
        require_signature=require_signature,
        backend=backend,
        limits=limits,
        max_bytes=max_bytes,
        max_members=max_members,
    ).snapshot


def read_bundle(
    path: PathLike,
    *,
    trusted_keys: Sequence[TrustedKey] = (),
    require_signature: bool = False,
    backend: str | Backend = "native",
    limits: Limits = DEFAULT,
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
) -> OpenedBundle:
    """Open a bundle: its snapshot, manifest and signature (see the module's text).

    A signature present is checked against `trusted_keys` when some are given (it must verify
    against one); `require_signature` refuses a bundle without one. BundleError names the bundle
    and the member at fault; RuleSetError, a consistent bundle whose rules do not load here.
    """
    name = str(path)
    keys = [_public_key(k, name) for k in trusted_keys]
    if require_signature and not keys:
        raise BundleError(name, "a signature is required, but no trusted key was given")
    _check_size(Path(path), max_bytes)
    with tempfile.TemporaryDirectory(prefix="secondapproval-bundle-") as private:
        root = Path(private).joinpath(*_NEST)
        root.mkdir(parents=True)
        try:
            with tarfile.open(path, mode="r:") as tar:
                members = _members(tar, name, max_bytes, max_members)
                text = _read(tar, members, MANIFEST, name, MAX_MANIFEST_BYTES)
                if text is None:
                    raise BundleError(name, "no manifest.json; not a rule-set bundle")
                sig = _read(tar, members, SIGNATURE, name, _SIGNATURE_BYTES)
                signed_by = _check_signature(sig, text, keys, require_signature, name)
                manifest = Manifest.parse(text, name)
                _check_limits(manifest, limits, name)
                _check_members(manifest, members, name)
                safe = [members[m] for m in manifest.members]  # each checked by `_members`
                tar.extractall(root, members=safe, **_SAFE)  # noqa: S202
        except (tarfile.TarError, EOFError, OSError, UnicodeError) as exc:
            raise BundleError(name, f"cannot be read as an uncompressed tar: {exc}") from None
        _check_files(root, manifest, name)
        snapshot = _load(root, manifest, backend, limits, name)
    return OpenedBundle(snapshot, manifest, sig is not None, signed_by)


def load_rule_set(
    path: PathLike,
    *,
    trusted_keys: Sequence[TrustedKey] = (),
    require_signature: bool = False,
    backend: str | Backend = "native",
    limits: Limits = DEFAULT,
) -> RuleSetSnapshot:
    """A rule set given as a folder (or a rule file) or as a bundle (a file ending `.tar` or
    `.bundle`, or any file that is a tar). Only a bundle can be signed: with `require_signature`
    a folder is refused."""
    p = Path(path)
    if p.suffix in SUFFIXES or (p.is_file() and tarfile.is_tarfile(p)):
        return open_bundle(
            p,
            trusted_keys=trusted_keys,
            require_signature=require_signature,
            backend=backend,
            limits=limits,
        )
    if require_signature:
        raise BundleError(str(p), "a signature is required, and only a bundle is signed")
    return RuleSetSnapshot.load(p, backend=backend, limits=limits)


# ---- writing ------------------------------------------------------------------------------------


def _contents(rules: Path, manifest: Manifest) -> list[tuple[str, bytes]]:
    """The bytes of the manifest's files, read where the snapshot was loaded from.

    The snapshot names its files relative to the folder that holds them all: `rules`, or a
    folder above it when its `sources.yaml` lies there. The first such folder that holds every
    file with the manifest's hash is the one (a file changed since loading matches in none).
    """
    members = set(manifest.members)
    wanted = [(path, sha) for path, sha in manifest.files if path in members]
    start = rules.resolve()
    for folder in ([start] if start.is_dir() else []) + list(start.parents):
        found = []
        for path, sha in wanted:
            try:
                data = (folder / path).read_bytes()
            except OSError:
                break
            if hashlib.sha256(data).hexdigest() != sha:
                break
            found.append((path, data))
        else:
            return found
    raise BundleError(
        str(rules), "its files changed while the bundle was being written; write it again"
    )


def _signature_of(key: SigningKey, text: bytes) -> bytes:
    sig = base64.b64encode(key.sign(text)).decode("ascii")
    return orjson.dumps({"key": key.id, "sig": sig, "v": 1}, option=orjson.OPT_SORT_KEYS)


def _write_tar(out: Path, members: Sequence[tuple[str, bytes]]) -> None:
    """Write a tar of the members beside `out` and move it over `out` in one step; the same
    members always make the same bytes (no times, owners or folders recorded)."""
    try:
        fd, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise BundleError(str(out), f"cannot write: {exc.strerror}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                with tarfile.open(fileobj=f, mode="w:", format=tarfile.PAX_FORMAT) as tar:
                    for name, data in members:
                        info = tarfile.TarInfo(name)
                        info.size, info.mode, info.mtime = len(data), 0o644, 0
                        tar.addfile(info, io.BytesIO(data))
                f.flush()
                os.fsync(f.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, out)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        fsync_dir(out.resolve().parent)
    except OSError as exc:
        raise BundleError(str(out), f"cannot write: {exc.strerror or exc}") from None


# ---- opening ------------------------------------------------------------------------------------

_SAFE: Mapping[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
"""tarfile's own check of what it extracts (Python 3.11.4+), behind ours."""


def _check_size(path: Path, max_bytes: int) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        raise BundleError(str(path), f"cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise BundleError(str(path), "not a file")
    if st.st_size > max_bytes:
        raise BundleError(str(path), f"larger than {max_bytes} bytes")


def _members(
    tar: tarfile.TarFile, bundle: str, max_bytes: int, max_members: int
) -> dict[str, tarfile.TarInfo]:
    """Every member by name, each a regular file at a safe path, none twice, within the bounds."""
    found: dict[str, tarfile.TarInfo] = {}
    total = 0
    while (info := tar.next()) is not None:
        member = _shown(info.name)
        if len(found) >= max_members:
            raise BundleError(bundle, f"more than {max_members} members")
        if not info.isreg():
            raise BundleError(bundle, f"a {_kind(info)}; a bundle holds only files", member)
        problem = _path_problem(info.name)
        if problem is not None:
            raise BundleError(bundle, problem, member)
        if info.name in found:
            raise BundleError(bundle, "is in the bundle twice", member)
        total += info.size
        if total > max_bytes:
            raise BundleError(bundle, f"members larger than {max_bytes} bytes together")
        found[info.name] = info
    return found


def _kind(info: tarfile.TarInfo) -> str:
    if info.issym():
        return f"symbolic link (to {_shown(info.linkname)})"
    if info.islnk():
        return f"hard link (to {_shown(info.linkname)})"
    if info.isdir():
        return "folder"
    if info.ischr() or info.isblk():
        return "device"
    if info.isfifo():
        return "FIFO"
    return f"member of type {info.type!r}"


def _path_problem(path: str) -> str | None:
    """What makes a member's path unsafe or ambiguous, if anything: it must be relative, in
    POSIX form, without `.`, `..` or empty parts."""
    if not path or "\x00" in path:
        return "an empty path or a NUL in it"
    if path.startswith("/") or PureWindowsPath(path).drive or PureWindowsPath(path).root:
        return "an absolute path"
    if "\\" in path:
        return "a backslash in its path"
    parts = path.split("/")
    if ".." in parts:
        return "a path that leaves the bundle (`..`)"
    if any(part in ("", ".") for part in parts) or PurePosixPath(path).as_posix() != path:
        return "a path not in normal form (`.` or empty parts)"
    return None


def _read(
    tar: tarfile.TarFile, members: Mapping[str, tarfile.TarInfo], name: str, bundle: str, most: int
) -> bytes | None:
    info = members.get(name)
    if info is None:
        return None
    if info.size > most:
        raise BundleError(bundle, f"larger than {most} bytes", name)
    f = tar.extractfile(info)
    assert f is not None  # a regular file (`_members`)
    return f.read()


def _check_signature(
    sig: bytes | None, text: bytes, keys: Sequence[PublicKey], required: bool, bundle: str
) -> str | None:
    """The id of the trusted key that made the signature; None when no key was given to check it
    with, or the bundle is unsigned and need not be signed."""
    if sig is None:
        if required:
            raise BundleError(bundle, f"not signed (no {SIGNATURE}), and a signature is required")
        return None
    try:
        doc = orjson.loads(sig)
        claimed, raw = doc["key"], base64.b64decode(doc["sig"], validate=True)
        if set(doc) != {"key", "sig", "v"} or doc["v"] != 1 or not isinstance(claimed, str):
            raise ValueError(sig)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BundleError(bundle, "not a signature (key, sig, v: 1)", SIGNATURE) from None
    if not keys:
        return None
    for key in keys:
        if key.verifies(raw, text):
            return key.id
    trusted = ", ".join(k.id for k in keys)
    raise BundleError(
        bundle,
        f"the manifest's signature (by key {_shown(claimed)}) verifies against none of the "
        f"trusted keys ({trusted})",
        SIGNATURE,
    )


def _check_limits(manifest: Manifest, limits: Limits, bundle: str) -> None:
    if manifest.limits == limits:
        return
    mine, theirs = dataclasses.asdict(limits), dataclasses.asdict(manifest.limits)
    differ = ", ".join(
        f"{k}={theirs[k]} (here {mine[k]})" for k in _LIMIT_FIELDS if mine[k] != theirs[k]
    )
    raise BundleError(bundle, f"made under other engine limits: {differ}", MANIFEST)


def _check_members(manifest: Manifest, members: Mapping[str, tarfile.TarInfo], bundle: str) -> None:
    named = set(manifest.members)
    for name in members:
        if name not in named and name not in (MANIFEST, SIGNATURE):
            raise BundleError(bundle, "is not in the manifest", _shown(name))
    for name in manifest.members:
        if name not in members:
            raise BundleError(bundle, "is in the manifest but not in the bundle", name)


def _check_files(root: Path, manifest: Manifest, bundle: str) -> None:
    """Each extracted file has the manifest's hash (read back from the private folder: what is
    hashed is what is loaded)."""
    wanted = dict(manifest.files)
    for name in manifest.members:
        found = root / name
        if found.is_symlink() or not found.is_file():
            raise BundleError(bundle, "was not extracted as a file", name)
        sha = hashlib.sha256(found.read_bytes()).hexdigest()
        if sha != wanted[name]:
            raise BundleError(
                bundle, f"its SHA-256 is {sha}, the manifest says {wanted[name]}", name
            )


def _load(
    root: Path, manifest: Manifest, backend: str | Backend, limits: Limits, bundle: str
) -> RuleSetSnapshot:
    """The snapshot of the extracted files, which must be the manifest's. Its `sources.yaml` is
    given (it lies at the root of the files when there is one): never looked for above."""
    try:
        snapshot = RuleSetSnapshot.load(
            root, backend=backend, sources=root / REGISTRY_FILE, limits=limits
        )
    except RuleSetError as exc:
        raise RuleSetError([_in_bundle(p, root, bundle) for p in exc.problems]) from None
    if snapshot.files != manifest.files:
        raise _difference(dict(manifest.files), dict(snapshot.files), bundle)
    if snapshot.digest != manifest.snapshot:
        raise BundleError(bundle, f"its snapshot's digest is {snapshot.digest}", MANIFEST)
    return snapshot


def _difference(listed: dict[str, str], read: dict[str, str], bundle: str) -> BundleError:
    """The first entry in which the manifest and the snapshot loaded from the bundle differ."""
    for name in sorted(listed.keys() | read.keys()):
        if name not in read:
            return BundleError(
                bundle, "is in the manifest, but the rule set does not read it", name
            )
        if name not in listed:
            return BundleError(bundle, "is read by the rule set but not in the manifest", name)
        if listed[name] != read[name]:
            return BundleError(
                bundle,
                f"this installation's has SHA-256 {read[name]}, the bundle was made with "
                f"{listed[name]}",
                name,
            )
    return BundleError(bundle, "the snapshot loaded is not the manifest's", MANIFEST)


def _in_bundle(problem: Problem, root: Path, bundle: str) -> Problem:
    """A problem of an extracted file, located in the bundle (`BUNDLE:member`)."""
    if problem.file is None:
        return problem
    for base in (root.resolve(), root):
        with contextlib.suppress(ValueError):
            member = Path(problem.file).relative_to(base).as_posix()
            return dataclasses.replace(problem, file=f"{bundle}:{member}")
    return problem


# ---- keys and values ----------------------------------------------------------------------------


def _signing_key(key: SigningKeyLike, bundle: str) -> SigningKey:
    if isinstance(key, SigningKey):
        return key
    if isinstance(key, Ed25519PrivateKey):
        return SigningKey(key)
    try:
        return SigningKey.read(key)
    except AuditError as exc:
        raise BundleError(bundle, str(exc)) from None


def _public_key(key: TrustedKey, bundle: str) -> PublicKey:
    if isinstance(key, PublicKey):
        return key
    if isinstance(key, Ed25519PublicKey):
        return PublicKey(key)
    try:
        return PublicKey.read(key)
    except AuditError as exc:
        raise BundleError(bundle, str(exc)) from None


def _limits_of(value: Any, refuse: Callable[[str], BundleError]) -> Limits:
    if not isinstance(value, dict) or set(value) != set(_LIMIT_FIELDS):
        raise refuse(f"`limits` is not an object of {', '.join(_LIMIT_FIELDS)}")
    try:
        return Limits(**value)
    except ValueError as exc:
        raise refuse(f"`limits`: {exc}") from None


def _shown(name: str) -> str:
    """A member's name as printable text (a name that is not UTF-8 keeps its bytes escaped)."""
    shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown if shown.isprintable() else repr(name)
