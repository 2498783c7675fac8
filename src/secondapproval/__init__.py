"""secondapproval: declarative 秒批 rule sets decided approve/refer in microseconds, explained."""

from .decision import Decision, Outcome, Reason, RuleResult
from .engine import Engine
from .errors import (
    AuditError,
    BackendError,
    FactError,
    Problem,
    RuleSetError,
    ScenarioError,
    SecondApprovalError,
    UnknownMatterError,
)
from .limits import Limits
from .ruleset import Matter
from .status import Status
from .version import __version__

__all__ = [
    "AuditError",
    "BackendError",
    "Decision",
    "Engine",
    "FactError",
    "Limits",
    "Matter",
    "Outcome",
    "Problem",
    "Reason",
    "RuleResult",
    "RuleSetError",
    "ScenarioError",
    "SecondApprovalError",
    "Status",
    "UnknownMatterError",
    "__version__",
]
