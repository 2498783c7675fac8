"""Static analysis of matters with an SMT solver (z3, the `[analyze]` extra): what a matter can and
cannot approve, each claim with a witness application the engine decides (`findings.analyze`)."""

from __future__ import annotations

from .ask import AnalysisError, Claim, Witness
from .findings import Finding, Report, analyze

__all__ = ["AnalysisError", "Claim", "Finding", "Report", "Witness", "analyze"]
