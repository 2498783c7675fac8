"""The generated Python of a matter version, to read: `secondapproval check --show-code MATTER`.

`sources_of(matter)` gives each unit generated for one matter version, by the filename it is
compiled under (`codegen`: the one a traceback through it shows): the native backend's evaluator,
the fast path of its fact validator (where the matter has one) and the validator's flattener.
The sources are generated afresh from the matter, exactly as the engine generates them; the
constants they read (`_c0`, `_k3`, …) live in their namespaces, not in the text.
"""

from __future__ import annotations

from collections.abc import Mapping

from .backends.native import filename_of, generate
from .facts import validator_sources
from .limits import DEFAULT, Limits
from .ruleset import Matter


def sources_of(matter: Matter, *, limits: Limits = DEFAULT) -> dict[str, str]:
    """Every unit of Python generated for one matter version, by filename (a unit compiled
    after another source took its name has `-1`, `-2`, … before the `>`)."""
    evaluator, _ = generate(matter)
    return {filename_of(matter): evaluator, **validator_sources(matter, limits)}


def listing(sources: Mapping[str, str]) -> str:
    """The sources as one text, each under a comment line naming its filename."""
    return "".join(f"# ---- {filename}\n{source}\n" for filename, source in sources.items())
