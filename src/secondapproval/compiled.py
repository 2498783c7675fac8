"""A matter version made ready to decide: its validator and its backend's evaluator, built once."""

from __future__ import annotations

from dataclasses import dataclass, field

from .backends import Backend, Evaluator
from .facts import FactValidator
from .ruleset import Matter


@dataclass(frozen=True, slots=True)
class CompiledMatter:
    """Everything `decide()` needs for one matter version; immutable and shared across threads."""

    matter: Matter
    validator: FactValidator
    evaluate: Evaluator
    backend: str
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    outputs: frozenset[str] = frozenset()
    """The derived facts an approval carries: it needs every one of them computed."""
    output_roots: dict[str, frozenset[str]] = field(default_factory=dict)
    """Each output's input facts, in declaration order (why it could not be computed:
    `Decision.codes`)."""


def compile_matter(
    matter: Matter, backend: Backend, validator: FactValidator | None = None
) -> CompiledMatter:
    """Build the evaluator of one matter version, and its validator unless one is given."""
    labels = {
        path: (spec.label.zh, spec.label.en) if spec.label else (path, path)
        for path, spec in matter.spec.facts.items()
    }
    return CompiledMatter(
        matter,
        validator or FactValidator(matter),
        backend.compile(matter),
        backend.name,
        labels,
        frozenset(matter.outputs),
        {p: matter.roots_of(p) for p in matter.outputs},
    )
