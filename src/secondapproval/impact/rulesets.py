"""Rule sets as they travel to the workers of an impact run: a bundle's bytes and its digest.

The planning process turns a rules folder (or takes a bundle file) into the bytes of a rule-set
bundle (`bundle.write_bundle`) and the snapshot digest its manifest names. Each worker opens the
bytes with `bundle.open_bundle` — every file checked against the manifest, the snapshot's digest
against the expected one — and compiles the snapshot once, keeping it for every later partition
of the run: compiled code is never pickled, only rule texts travel.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from pathlib import Path

from ..bundle import SUFFIXES, open_bundle, write_bundle
from ..errors import ImpactError
from ..snapshot import RuleSetSnapshot


@dataclasses.dataclass(frozen=True, slots=True)
class ShippedRules:
    """A rule set by value: where it was read, its snapshot digest and its bundle's bytes."""

    source: str
    digest: str
    bundle: bytes = dataclasses.field(repr=False)


def ship(path: str | Path) -> ShippedRules:
    """The bundle of a rules folder (or a bundle file as it is), checked by opening it."""
    p = Path(path)
    if not p.exists():
        raise ImpactError(f"{p}: no such rules folder or bundle")
    with tempfile.TemporaryDirectory(prefix="secondapproval-impact-") as tmp:
        if p.is_file() and p.suffix in SUFFIXES:
            data = p.read_bytes()
        else:
            out = Path(tmp) / "rules.tar"
            write_bundle(p, out)
            data = out.read_bytes()
        digest = _opened(data, Path(tmp) / "check.tar").digest
    return ShippedRules(str(p), digest, data)


_LOCK = threading.Lock()
_SNAPSHOTS: dict[str, RuleSetSnapshot] = {}
"""The snapshots this process has opened, by digest (a worker opens each one once)."""


def snapshot_of(rules: ShippedRules) -> RuleSetSnapshot:
    """The compiled snapshot of shipped rules, opened on first use in this process."""
    with _LOCK:
        found = _SNAPSHOTS.get(rules.digest)
        if found is None:
            with tempfile.TemporaryDirectory(prefix="secondapproval-impact-") as tmp:
                found = _opened(rules.bundle, Path(tmp) / "rules.tar")
            if found.digest != rules.digest:
                raise ImpactError(
                    f"{rules.source}: the rules opened here have digest {found.digest[:12]}…, "
                    f"not the {rules.digest[:12]}… they were sent with"
                )
            _SNAPSHOTS[rules.digest] = found
        return found


def _opened(data: bytes, at: Path) -> RuleSetSnapshot:
    at.write_bytes(data)
    return open_bundle(at)
