"""The decision service's own settings: its keys, its limits, its audit trail, its workers.

A YAML file (`serve --config FILE`; `secondapproval keys add` writes its `keys`):

    keys:                       # one entry per calling platform, and the admin keys
      - name: yiwangtongban
        id: 5b0a6683
        hash: scrypt$16384$8$1$<salt>$<hash>
        matters: [newborn-bundle]       # or ["*"]
        vouch: [public-security]        # sources whose facts this platform supplies
        audit_read: false               # may read decisions' audit records
        admin: false                    # admin keys reach /v1/admin/* and nothing else
    limits: {body_bytes: 65536, json_depth: 32, batch: 100, request_seconds: 10}
    audit: {target: audit/decisions.sqlite, fsync: group}
    workers: 1

Every string may hold `${NAME}` as the deployment file does (`sources.deployment.interpolate`).
A relative path is taken from the file's folder. Problems are located (file, line, field).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..audit.sinks import FsyncPolicy
from ..errors import Problem, RuleSetError, ServiceConfigError
from ..sources.deployment import interpolate
from ..yamlfile import load_yaml, problems_from_validation
from .keys import KeyRing, Principal, valid_hash

_Model = ConfigDict(extra="forbid", frozen=True)


class KeyEntry(BaseModel):
    """One API key as configured: never the key, only its salted hash."""

    model_config = _Model
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{8}$")]
    hash: str
    matters: list[str] = Field(default_factory=list)
    vouch: list[str] = Field(default_factory=list)
    audit_read: bool = False
    admin: bool = False

    @field_validator("hash")
    @classmethod
    def _usable(cls, value: str) -> str:
        why = valid_hash(value)
        if why is not None:
            raise ValueError(why)
        return value

    def principal(self) -> Principal:
        return Principal(
            self.name,
            self.id,
            frozenset(self.matters),
            self.audit_read,
            self.admin,
            frozenset(self.vouch),
        )


class Limits(BaseModel):
    """What one request may be (beyond them: a problem response, never a decision)."""

    model_config = _Model
    body_bytes: Annotated[int, Field(ge=256, le=64 * 2**20)] = 256 * 1024
    json_depth: Annotated[int, Field(ge=2, le=512)] = 32
    batch: Annotated[int, Field(ge=1, le=10_000)] = 100
    request_seconds: Annotated[float, Field(gt=0, le=600)] = 10.0


class AuditTarget(BaseModel):
    model_config = _Model
    target: str
    """A log path (JSON Lines, `.sqlite`) or a `postgresql://` URL; each worker keeps its own
    chain beside it (`<stem>.w<slot><suffix>`, or chain `w<slot>`)."""
    fsync: FsyncPolicy = "group"
    """`group` and `always` answer only once the record is on disk (DESIGN, "Record before
    response"); `fire-and-forget` and `none` say in their names that they answer earlier."""
    key_file: str | None = None


class Bundles(BaseModel):
    """Which rule-set bundles the service takes (`bundle.load_rule_set`)."""

    model_config = _Model
    trusted_keys: list[str] = Field(default_factory=list)
    """Ed25519 public key files (`audit keygen`): a signed bundle must verify against one."""
    require_signature: bool = False
    """Refuse any rule set but a bundle signed by a trusted key (a folder too, at start)."""


class ServiceFile(BaseModel):
    model_config = _Model
    keys: list[KeyEntry] = Field(default_factory=list)
    bundles: Bundles = Field(default_factory=Bundles)
    limits: Limits = Field(default_factory=Limits)
    audit: AuditTarget | None = None
    workers: Annotated[int, Field(ge=1, le=64)] = 1


class ServiceConfig(BaseModel):
    """A loaded configuration: the file's settings and where it was read from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    settings: ServiceFile = Field(default_factory=ServiceFile)
    folder: Path = Path()
    path: Path | None = None

    @property
    def limits(self) -> Limits:
        return self.settings.limits

    def with_audit(self, target: str | None, key_file: str | Path | None) -> ServiceConfig:
        """These settings with the audit target and key file given on the command line (a
        relative path is the caller's, not the file's)."""
        if target is None and key_file is None:
            return self
        audit = self.settings.audit
        if target is None and audit is None:
            return self
        given = {
            "target": str(Path(target).resolve()) if target and "://" not in target else target,
            "key_file": str(Path(key_file).resolve()) if key_file else None,
        }
        base = audit.model_dump() if audit is not None else {}
        merged = {**base, **{k: v for k, v in given.items() if v is not None}}
        settings = self.settings.model_copy(update={"audit": AuditTarget(**merged)})
        return self.model_copy(update={"settings": settings})

    def bundle_options(self) -> dict[str, Any]:
        """The keyword arguments of `load_rule_set` these settings ask for."""
        b = self.settings.bundles
        return {
            "trusted_keys": [self.folder / k for k in b.trusted_keys],
            "require_signature": b.require_signature,
        }

    def keyring(self) -> KeyRing:
        return KeyRing((k.hash, k.principal()) for k in self.settings.keys)

    def audit_target(self) -> str | None:
        audit = self.settings.audit
        if audit is None:
            return None
        if "://" in audit.target:
            return audit.target
        return str(self.folder / audit.target)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> ServiceConfig:
    """Read and check a service configuration file (ServiceConfigError lists every problem)."""
    file = Path(path)
    if not file.exists():
        return ServiceConfig(path=file, folder=file.parent)  # `keys add` creates it
    try:
        located = load_yaml(file)
    except RuleSetError as exc:
        raise ServiceConfigError(exc.problems) from None
    problems: list[Problem] = []
    env = os.environ if environ is None else environ
    data = interpolate(located.data if located.data is not None else {}, env, located, problems)
    if problems:
        raise ServiceConfigError(problems)
    try:
        settings = ServiceFile.model_validate(data)
    except ValidationError as exc:
        raise ServiceConfigError(problems_from_validation(exc, located)) from None
    seen: set[tuple[str, str]] = set()
    for i, key in enumerate(settings.keys):
        for what, value in (("id", key.id), ("name", key.name)):
            if (what, value) in seen:
                problems.append(located.problem(("keys", i, what), f"a second key {what} {value}"))
            seen.add((what, value))
        if key.admin and (key.matters or key.audit_read or key.vouch):
            problems.append(
                located.problem(
                    ("keys", i, "admin"),
                    "an admin key reaches /v1/admin only: give it no matters, vouch or audit_read",
                )
            )
    if problems:
        raise ServiceConfigError(problems)
    return ServiceConfig(settings=settings, folder=file.parent, path=file)
