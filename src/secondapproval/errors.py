"""Every error secondapproval raises: one root, typed leaves, each naming file, line and field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in an input file, located as precisely as the input allows."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}"


class SecondApprovalError(Exception):
    """The root of every error this library raises."""


class RuleSetError(SecondApprovalError, ValueError):
    """A rule set (or pack file, or scenario file) cannot be loaded; lists every problem at once."""

    what = "rule set"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.what}"
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)


class ScenarioError(RuleSetError):
    """A scenario file cannot be loaded."""

    what = "scenario file"


class DeploymentError(RuleSetError):
    """A deployment file (how the engine reaches its sources) cannot be loaded."""

    what = "deployment file"


class ServiceConfigError(RuleSetError):
    """The decision service's configuration file (keys, limits, audit) cannot be loaded."""

    what = "service configuration"


class BundleError(SecondApprovalError, ValueError):
    """A rule-set bundle cannot be written or opened: names the bundle, the member (or key file)
    at fault when there is one, and what is wrong with it."""

    def __init__(self, bundle: str, message: str, member: str | None = None) -> None:
        self.bundle = bundle
        self.member = member
        where = bundle if member is None else f"{bundle}: {member}"
        super().__init__(f"{where}: {message}")


class ConfigError(SecondApprovalError, ValueError):
    """An Engine's settings contradict its rule set (a vouched source that is not in the registry,
    a source both vouched for and connected)."""


class UnknownMatterError(SecondApprovalError, KeyError):
    """No matter with this id is loaded."""

    def __init__(self, matter: str, known: Iterable[str] = ()) -> None:
        from difflib import get_close_matches

        self.matter = matter
        hint = get_close_matches(matter, list(known), n=1)
        suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
        super().__init__(f"unknown matter {matter!r}{suffix}")

    def __str__(self) -> str:
        return str(self.args[0])


class FactError(SecondApprovalError, ValueError):
    """A facts file cannot be read as an application (not JSON, not an object)."""


class AuditError(SecondApprovalError, OSError):
    """An audit record could not be written or a log could not be verified."""


class BackendError(SecondApprovalError, RuntimeError):
    """A decision backend is unavailable or failed outside any rule."""


class ImpactError(SecondApprovalError, ValueError):
    """An impact run's input or options cannot be used (naming the file, row and column)."""


class SamplesError(SecondApprovalError, ValueError):
    """Sample settings that cannot be met: rates over 1, an unknown rule, no case to start from."""
