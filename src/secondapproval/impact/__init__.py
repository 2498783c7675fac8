"""Impact analysis: whom a candidate rule set changes, over a history of applications or decisions.

`run_impact(NEW, inputs, out, Options(baseline=OLD, ...))` decides every application of the
inputs — application files (Parquet, JSON Lines) or verified audit logs — under NEW and compares
each decision with OLD's (decided afresh) or with the outcome recorded in the log; it counts the
flips by matter, direction, rule, reason and date and writes them with the flipped cases and a
report (`report`). The partitions are decided in this process or on Dask (`cluster`), with one
result either way. `secondapproval impact` is its command; docs/impact.md describes it.
"""

from .compare import DIRECTIONS, Tally
from .decide import Job, PartResult, run_part
from .report import FLIPS, REPORT, SUMMARY
from .run import Impact, Options, run_impact

__all__ = [
    "DIRECTIONS",
    "FLIPS",
    "REPORT",
    "SUMMARY",
    "Impact",
    "Job",
    "Options",
    "PartResult",
    "Tally",
    "run_impact",
    "run_part",
]
