"""The deployment file: how this deployment reaches the offices it connects (docs/sources.md).

`rules/sources.yaml` says which office holds a fact; the deployment file, given to the Engine
(`deployment=`), the CLI (`--deployment FILE`) and the service, says how to reach each connected
one — the adapter, its settings, the timeout of one lookup, an optional cache, and the lookups:
which application facts are the key, and which fact paths the answer's fields give:

```yaml
vouch: [graduate-employment]        # sources whose facts the embedding supplies itself
sources:
  public-security:                  # an authoritative source of rules/sources.yaml
    adapter: http-json              # an entry point of `secondapproval.sources`
    timeout: 0.5                    # seconds for one whole lookup, retries included
    cache: {ttl: 60, size: 10000}   # optional, off by default (docs/sources.md, "Caching")
    lookups:
      - key: {id_number: applicant.id_number}   # request parameter: application fact
        facts: {applicant.name: name}           # fact path: field of the answer's record
    settings:                       # the adapter's own options (its `Settings`)
      url: "http://${OFFICES_HOST}:${OFFICES_PORT}/population/{id_number}"
```

Every string may hold `${NAME}` (the environment variable; `${NAME:-default}` when unset; `$$`
is a `$`). Secrets are never written in the file (`sources.secrets`). Loading checks the file's
shape, each adapter's settings (its pydantic `Settings`) and, against a rule set
(`Deployment.problems_with`), that every source is authoritative, every mapped path a declared
fact of that source and every key a declared fact: all problems at once, as a DeploymentError
naming file, line and field. A fact of a connected source that no lookup gives is unobtainable
under the deployment (`secondapproval sources` lists it; a matter reading it refers): a folder
of many matters may connect an office for some of them only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DeploymentError, Problem, RuleSetError
from ..registry import ID_PATTERN, Registry
from ..ruleset import Matter
from ..yamlfile import Located, Path_, load_yaml, parse_yaml, problems_from_validation
from .contract import Adapter, AdapterClass
from .secrets import Interpolated

ENTRY_POINTS = "secondapproval.sources"
_Model = ConfigDict(extra="forbid", frozen=True)
_FACT_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
FactPath = Annotated[str, Field(pattern=_FACT_PATH)]


class LookupSpec(BaseModel):
    """One lookup: the key it is made by, and the facts its answer gives."""

    model_config = _Model
    key: Annotated[dict[str, FactPath], Field(min_length=1)]
    """Each request parameter and the application fact that gives it (the lookup key)."""
    facts: Annotated[dict[FactPath, str], Field(min_length=1)]
    """Each fact path and the field of the answer's record (dotted) that gives it."""
    settings: dict[str, Any] = {}
    """Adapter settings of this lookup over the source's (another endpoint of the office)."""


class CacheSpec(BaseModel):
    """A bounded cache of a source's answers by lookup key (off unless given)."""

    model_config = _Model
    ttl: Annotated[float, Field(gt=0, le=86_400)]
    """Seconds an answer is kept."""
    size: Annotated[int, Field(gt=0, le=10_000_000)] = 10_000


class SourceSpec(BaseModel):
    """How one connected office is reached."""

    model_config = _Model
    adapter: str
    timeout: Annotated[float, Field(gt=0, le=60)] = 2.0
    cache: CacheSpec | None = None
    lookups: Annotated[list[LookupSpec], Field(min_length=1)]
    settings: dict[str, Any] = {}


class DeploymentFile(BaseModel):
    """The file's shape."""

    model_config = _Model
    vouch: list[Annotated[str, Field(pattern=ID_PATTERN)]] = []
    sources: dict[Annotated[str, Field(pattern=ID_PATTERN)], SourceSpec] = {}


@dataclass(frozen=True, slots=True)
class Connection:
    """One connected source: its spec, the adapter class and its validated settings."""

    source: str
    spec: SourceSpec
    adapter_class: AdapterClass
    settings: BaseModel
    distribution: str | None
    """The distribution that installed the adapter (like packs, for the deployment report)."""
    variants: tuple[BaseModel, ...] = ()
    """The settings of lookups that override the source's (each its own adapter)."""
    lookup_variants: tuple[int, ...] = ()
    """Per lookup: 0 for the source's settings, n for `variants[n - 1]`."""

    def via(self, lookup: int) -> str:
        """The id of the adapter a lookup is made through (`<source>` or `<source>#<n>`)."""
        n = self.lookup_variants[lookup] if self.lookup_variants else 0
        return self.source if n == 0 else f"{self.source}#{n}"

    def open(self) -> dict[str, Adapter]:
        """New adapter instances, by id (files are read, pools made: once per Engine)."""
        make = self.adapter_class
        timeout = self.spec.timeout
        opened = {self.source: make(self.source, self.settings, timeout=timeout)}
        for n, settings in enumerate(self.variants, 1):
            opened[f"{self.source}#{n}"] = make(self.source, settings, timeout=timeout)
        return opened


@dataclass(frozen=True, slots=True)
class Deployment:
    """A loaded deployment file."""

    file: str
    vouch: tuple[str, ...]
    connections: Mapping[str, Connection]
    located: Located

    @property
    def connected(self) -> frozenset[str]:
        return frozenset(self.connections)

    def problem(self, at: Path_, message: str) -> Problem:
        return self.located.problem(at, message)

    def lookups(self) -> Iterator[LookupSpec]:
        """Every lookup of every connection."""
        for conn in self.connections.values():
            yield from conn.spec.lookups

    @property
    def given_paths(self) -> frozenset[str]:
        """The facts some lookup gives (a connected source's other facts are unobtainable)."""
        return frozenset(path for lookup in self.lookups() for path in lookup.facts)

    @property
    def key_paths(self) -> frozenset[str]:
        """The application facts the lookups are made by (their keys)."""
        return frozenset(path for lookup in self.lookups() for path in lookup.key.values())

    def fit(self, matters: Iterable[Matter], registry: Registry) -> None:
        """Raise DeploymentError when it does not fit the rule set (`problems_with`)."""
        problems = self.problems_with(matters, registry)
        if problems:
            raise DeploymentError(problems)

    def problems_with(self, matters: Iterable[Matter], registry: Registry) -> list[Problem]:
        """What does not fit the rule set (see the module's text)."""
        matters = list(matters)
        declared: dict[str, set[str]] = {}  # path → the sources matters declare it with
        for m in matters:
            for path, spec in m.inputs.items():
                declared.setdefault(path, set()).add(spec.source or "applicant")
        out: list[Problem] = []
        for sid in self.vouch:
            if not registry.authoritative(sid):
                out.append(self.problem(("vouch",), f"{sid!r} is not an authoritative source"))
        for sid, conn in self.connections.items():
            out += self._connection_problems(sid, conn, declared, registry)
        return out

    def _connection_problems(
        self, sid: str, conn: Connection, declared: Mapping[str, set[str]], registry: Registry
    ) -> list[Problem]:
        at: Path_ = ("sources", sid)
        if not registry.authoritative(sid):
            known = "not authoritative" if sid in registry else "not in the registry"
            return [self.problem(at, f"source {sid!r} is {known}: nothing to look up")]
        out = []
        if sid in self.vouch:
            out.append(self.problem(at, f"{sid!r} is both connected and vouched for"))
        for i, lookup in enumerate(conn.spec.lookups):
            for param, path in lookup.key.items():
                if path not in declared:
                    where = (*at, "lookups", i, "key", param)
                    out.append(self.problem(where, f"the key {path} is not a fact of any matter"))
            for path in lookup.facts:
                where = (*at, "lookups", i, "facts", path)
                if path not in declared:
                    out.append(self.problem(where, f"{path} is not a fact of any matter"))
                elif sid not in declared[path]:
                    owners = ", ".join(sorted(declared[path]))
                    out.append(self.problem(where, f"{path} is a fact of {owners}, not of {sid}"))
        return out


def _is_key(conn: Connection, path: str) -> bool:
    return any(path in lookup.key.values() for lookup in conn.spec.lookups)


EXTRAS = {
    "httpx": "sources",
    "pyarrow": "sources",
    "psycopg": "postgres",
    "psycopg_pool": "postgres",
}
"""The extra of this package that installs a module its adapters import (pyproject.toml)."""


def _extra_of(module: str | None) -> str:
    extra = EXTRAS.get((module or "").partition(".")[0])
    return f" (pip install 'secondapproval[{extra}]')" if extra else ""


def installed_adapters() -> dict[str, EntryPoint]:
    """The adapters installed (entry points of `secondapproval.sources`), by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINTS)}


def load_deployment(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    adapters: Mapping[str, AdapterClass] | None = None,
) -> Deployment:
    """Read, interpolate and validate a deployment file (DeploymentError lists every problem).

    `environ`: the variables `${NAME}` reads (default `os.environ`); `adapters`: adapter classes
    by name, beside (and before) the installed entry points — an embedding's own, or a test's.
    A `.toml` file is read as TOML (the same shape; its problems name the file, not the line:
    the standard library's reader keeps no positions).
    """
    reader = _load_toml if Path(path).suffix.lower() == ".toml" else load_yaml
    return deployment_of(_read(reader, path), Path(path).resolve().parent, environ, adapters)


def _load_toml(path: str | Path) -> Located:
    import tomllib

    try:
        text = Path(path).read_text(encoding="utf-8")
        return Located(tomllib.loads(text), str(path), {}, text)
    except (OSError, UnicodeDecodeError) as exc:
        raise DeploymentError([Problem(f"cannot read file: {exc}", str(path))]) from None
    except tomllib.TOMLDecodeError as exc:
        raise DeploymentError([Problem(f"TOML syntax: {exc}", str(path))]) from None


def parse_deployment(
    text: str,
    file: str = "<deployment>",
    folder: Path | None = None,
    environ: Mapping[str, str] | None = None,
    adapters: Mapping[str, AdapterClass] | None = None,
) -> Deployment:
    """A deployment file given as text (tests, the service's settings)."""
    located = _read(parse_yaml, text, file)
    return deployment_of(located, folder or Path.cwd(), environ, adapters)


def _read(reader: Callable[..., Located], *args: Any) -> Located:
    """The YAML reader's problems (syntax, duplicate keys …) as the deployment file's."""
    try:
        return reader(*args)
    except RuleSetError as exc:
        raise DeploymentError(exc.problems) from None


def deployment_of(
    located: Located,
    folder: Path,
    environ: Mapping[str, str] | None = None,
    adapters: Mapping[str, AdapterClass] | None = None,
) -> Deployment:
    """Validate a parsed deployment file (`folder`: where relative file names start)."""
    env = os.environ if environ is None else environ
    problems: list[Problem] = []
    data = interpolate(located.data if located.data is not None else {}, env, located, problems)
    if problems:
        raise DeploymentError(problems)
    try:
        model = DeploymentFile.model_validate(data)
    except ValidationError as exc:
        raise DeploymentError(problems_from_validation(exc, located)) from None
    given = dict(adapters or {})
    installed = installed_adapters()
    connections: dict[str, Connection] = {}
    for sid, spec in model.sources.items():
        at: Path_ = ("sources", sid)
        ep = installed.get(spec.adapter)
        dist = ep.dist.name if ep is not None and ep.dist is not None else None
        if spec.adapter in given:
            adapter_class: AdapterClass = given[spec.adapter]
        elif ep is None:
            names = ", ".join(sorted({*installed, *given})) or "none"
            problems.append(
                located.problem(
                    (*at, "adapter"),
                    f"no adapter {spec.adapter!r} is installed (installed: {names})",
                )
            )
            continue
        else:
            try:
                adapter_class = ep.load()
            except ModuleNotFoundError as exc:  # an adapter whose extra is not installed
                message = f"cannot load {ep.value}: it needs {exc.name!r}{_extra_of(exc.name)}"
                problems.append(located.problem((*at, "adapter"), message))
                continue
            except Exception as exc:  # a plug-in that cannot be imported: this entry's problem
                message = f"cannot load {ep.value}: {exc}"
                problems.append(located.problem((*at, "adapter"), message))
                continue
        try:
            settings = adapter_class.Settings.model_validate(
                spec.settings, context={"folder": str(folder)}
            )
        except ValidationError as exc:
            problems += problems_from_validation(exc, located, (*at, "settings"))
            continue
        variants, chosen = _variants(sid, spec, adapter_class, folder, located, problems)
        for i, lookup in enumerate(spec.lookups):
            used = variants[chosen[i] - 1] if chosen[i] else settings
            needed = getattr(used, "parameters", None)
            if needed is not None and not needed <= lookup.key.keys():
                lacking = ", ".join(sorted(needed - lookup.key.keys()))
                problems.append(
                    located.problem(
                        (*at, "lookups", i, "key"),
                        f"the adapter's settings need {lacking} from the key",
                    )
                )
        connections[sid] = Connection(
            sid, spec, adapter_class, settings, dist, tuple(variants), tuple(chosen)
        )
    if problems:
        raise DeploymentError(problems)
    return Deployment(located.file, tuple(model.vouch), connections, located)


def _variants(
    sid: str,
    spec: SourceSpec,
    adapter_class: AdapterClass,
    folder: Path,
    located: Located,
    problems: list[Problem],
) -> tuple[list[BaseModel], list[int]]:
    """The distinct settings of lookups that override the source's, and each lookup's choice."""
    variants: list[BaseModel] = []
    seen: dict[str, int] = {}
    chosen = []
    for i, lookup in enumerate(spec.lookups):
        if not lookup.settings:
            chosen.append(0)
            continue
        merged = {**spec.settings, **lookup.settings}
        text = repr(sorted(merged.items()))
        if text not in seen:
            try:
                variants.append(
                    adapter_class.Settings.model_validate(merged, context={"folder": str(folder)})
                )
            except ValidationError as exc:
                where = ("sources", sid, "lookups", i, "settings")
                problems += problems_from_validation(exc, located, where)
                chosen.append(0)
                continue
            seen[text] = len(variants)
        chosen.append(seen[text])
    return variants, chosen


_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(
    data: Any, env: Mapping[str, str], located: Located, problems: list[Problem], at: Path_ = ()
) -> Any:
    """`${NAME}` and `${NAME:-default}` replaced in every string of the tree (keys excepted).

    A string that is wholly one reference becomes an `Interpolated` string (a secret may come
    from one). An unset variable without a default is a problem at its line.
    """
    if isinstance(data, dict):
        return {k: interpolate(v, env, located, problems, (*at, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, env, located, problems, (*at, i)) for i, v in enumerate(data)]
    if not isinstance(data, str) or "$" not in data:
        return data

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(located.problem(at, f"the environment variable {name} is not set"))
        return ""

    text = _REFERENCE.sub(substitute, data)
    whole = _REFERENCE.fullmatch(data)
    return Interpolated(text) if whole is not None and whole.group(0) != "$$" else text
