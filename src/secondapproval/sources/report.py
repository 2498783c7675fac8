"""The deployment report: what a deployment connects, vouches for, and leaves to no one.

For each authoritative source a rule set's matters read: `connected` (its adapter, where it
reaches, the distribution that installed the adapter), `vouched`, or `neither`; and for each
matter version, which of its facts are looked up by the office, supplied by a vouching caller,
brought by the applicant, or cannot be had (a source neither connected nor vouched: such a fact
is refused from the caller, so the matter refers until it is). Guides and the measures pack use
`looked_up(...)` to say "looked up by the office" only where the deployment connects the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..registry import Registry
from ..ruleset import Matter
from .deployment import Connection, Deployment

Standing = Literal["connected", "vouched", "neither"]
Route = Literal["looked-up", "vouched", "applicant", "unobtainable"]


@dataclass(frozen=True, slots=True)
class SourceStanding:
    source: str
    office: str
    standing: Standing
    adapter: str | None = None
    where: str | None = None
    distribution: str | None = None


def standings(
    matters: Iterable[Matter], registry: Registry, deployment: Deployment | None
) -> list[SourceStanding]:
    """Every authoritative source the matters read, and how this deployment stands to it."""
    read = sorted({s.source for m in matters for s in m.inputs.values() if s.source is not None})
    vouched = set(deployment.vouch) if deployment is not None else set()
    connections = deployment.connections if deployment is not None else {}
    out = []
    for sid in read:
        if sid in registry and not registry.authoritative(sid):
            continue
        office = registry[sid].office.en if sid in registry else sid
        conn = connections.get(sid)
        if conn is not None:
            out.append(
                SourceStanding(
                    sid, office, "connected", conn.spec.adapter, _where(conn), conn.distribution
                )
            )
        else:
            out.append(SourceStanding(sid, office, "vouched" if sid in vouched else "neither"))
    return out


def _where(conn: Connection) -> str:
    settings = conn.settings
    for name in ("url", "database", "path"):
        value = getattr(settings, name, None)
        if value is not None:
            return _without_credentials(str(value))
    return conn.spec.adapter


def _without_credentials(text: str) -> str:
    if "://" in text and "@" in text.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = text.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return text


def routes(
    matter: Matter, registry: Registry, deployment: Deployment | None, vouched: Iterable[str] = ()
) -> dict[str, Route]:
    """How each input fact of a matter version reaches the decision under this deployment."""
    vouch = set(vouched) | (set(deployment.vouch) if deployment is not None else set())
    connected = deployment.connected if deployment is not None else frozenset()
    # lookup keys come from the application, confirmed by the connected office's answer
    keys = deployment.key_paths if deployment is not None else frozenset()
    given = deployment.given_paths if deployment is not None else frozenset()
    out: dict[str, Route] = {}
    for path, spec in matter.inputs.items():
        source = spec.source or "applicant"
        if source in registry and not registry.authoritative(source):
            out[path] = "applicant"
        elif (source in connected and path in given) or path in keys:
            out[path] = "looked-up"
        elif source in connected:  # its facts come only from its lookups: none gives this one
            out[path] = "unobtainable"
        elif source in vouch:
            out[path] = "vouched"
        else:
            out[path] = "unobtainable"
    return out


def looked_up(matter: Matter, registry: Registry, deployment: Deployment | None) -> frozenset[str]:
    """The input facts the office looks up itself under this deployment."""
    return frozenset(p for p, r in routes(matter, registry, deployment).items() if r == "looked-up")


def report_json(
    matters: Iterable[Matter], registry: Registry, deployment: Deployment | None
) -> dict[str, Any]:
    """The report as JSON (`secondapproval sources --json`)."""
    matters = list(matters)
    return {
        "deployment": deployment.file if deployment is not None else None,
        "sources": [_asdict(s) for s in standings(matters, registry, deployment)],
        "matters": {f"{m.id}@{m.version}": routes(m, registry, deployment) for m in matters},
    }


def _asdict(s: SourceStanding) -> dict[str, Any]:
    return {name: getattr(s, name) for name in SourceStanding.__slots__}


def render(matters: Iterable[Matter], registry: Registry, deployment: Deployment | None) -> str:
    """The report for a terminal."""
    matters = list(matters)
    name = deployment.file if deployment is not None else "no deployment file"
    lines = [f"sources ({name}):"]
    for s in standings(matters, registry, deployment):
        how: str = s.standing
        if s.standing == "connected":
            dist = f", from {s.distribution}" if s.distribution else ""
            how = f"connected: {s.adapter} {s.where}{dist}"
        lines.append(f"  {s.source:<22} {how}")
    for m in matters:
        counts: Mapping[Route, int] = _count(routes(m, registry, deployment))
        lines.append(
            f"{m.id} {m.version}: {counts.get('looked-up', 0)} looked up by the office, "
            f"{counts.get('vouched', 0)} vouched for, {counts.get('applicant', 0)} brought by "
            f"the applicant, {counts.get('unobtainable', 0)} from no one (refers)"
        )
    return "\n".join(lines)


def _count(routes_: Mapping[str, Route]) -> dict[Route, int]:
    out: dict[Route, int] = {}
    for r in routes_.values():
        out[r] = out.get(r, 0) + 1
    return out
