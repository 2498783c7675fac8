"""Masking of personal data in audit records: enough left to recognise a value, not to recover it.

`mask("440301199001011234")` is `440***********1234`: the first three and last four characters of
a long value, the first and last of a medium one, nothing of a short one. Non-string values are
masked as their text. Applications are masked along the matter's declared facts: a `pii` fact is
masked, and so is every value under a key the matter does not declare (it may be a misplaced one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

STAR = "*"

Tree = dict[str, "Tree | bool"]
"""Declared facts as nested keys; a leaf is True when the fact is personal data."""


def mask(value: object) -> str:
    """A value with most of its characters replaced by `*`."""
    text = value if isinstance(value, str) else str(value)
    n = len(text)
    if n >= 10:
        return text[:3] + STAR * (n - 7) + text[-4:]
    if n >= 6:
        return text[0] + STAR * (n - 2) + text[-1]
    return STAR * max(n, 3)


def mask_all(value: Any) -> Any:
    """Every leaf of a JSON value masked (keys kept)."""
    if isinstance(value, Mapping):
        return {str(k): mask_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_all(v) for v in value]
    if value is None:
        return None
    return mask(value)


def mask_application(facts: Any, tree: Tree) -> Any:
    """An application with personal and undeclared values masked (a new object; input untouched)."""
    if not isinstance(facts, Mapping):
        return mask_all(facts)
    out: dict[str, Any] = {}
    for key, value in facts.items():
        spec = tree.get(key) if isinstance(key, str) else None
        if spec is None:
            out[str(key)] = mask_all(value)
        elif isinstance(spec, dict):
            out[key] = (
                mask_application(value, spec) if isinstance(value, Mapping) else mask_all(value)
            )
        elif spec is True:
            out[key] = mask_all(value)
        else:
            out[key] = value
    return out


def mask_values(values: Mapping[str, Any], pii: Iterable[str]) -> dict[str, Any]:
    """Fact values by path with the personal ones masked."""
    out = dict(values)
    for path in pii:
        if path in out:
            out[path] = mask_all(out[path])
    return out
