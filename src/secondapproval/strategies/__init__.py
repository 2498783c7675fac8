"""Hypothesis strategies for secondapproval: applications of a matter, and random expressions.

`facts`: applications drawn from a matter's fact schema (`applications`, `valid_applications`),
one fact's values (`fact_values`) and citizen ID numbers and credit codes, valid and spoiled.
`synthetic`: random well-typed expressions over a fact schema and a matter around them, for the
differential tests between backends. `wide`: generated matters of many rules (the analysis
benchmark's, and its tests'). Importing this package needs Hypothesis (a dev dependency).
"""

from __future__ import annotations

from .facts import (
    applications,
    bad_cn_ids,
    bad_usccs,
    cn_ids,
    fact_values,
    usccs,
    valid_applications,
)
from .synthetic import SCHEMA, SCHEMA_FACTS, expressions, synthetic_matter

__all__ = [
    "SCHEMA",
    "SCHEMA_FACTS",
    "applications",
    "bad_cn_ids",
    "bad_usccs",
    "cn_ids",
    "expressions",
    "fact_values",
    "synthetic_matter",
    "usccs",
    "valid_applications",
]
