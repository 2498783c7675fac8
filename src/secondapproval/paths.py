"""Dotted fact paths and the nested objects they name (DESIGN §10: `a.b` is `{"a": {"b": …}}`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROOT = "$"
"""The path of the application itself (`INVALID:$` when it is not a JSON object)."""


def put(tree: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path, making the groups on the way.

    Nothing is set where a group on the way already holds a value that is not an object.
    """
    node = tree
    *groups, leaf = path.split(".")
    for g in groups:
        child = node.setdefault(g, {})
        if not isinstance(child, dict):
            return
        node = child
    node[leaf] = value


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Values by dotted path as nested objects: `{"a.b": 1}` → `{"a": {"b": 1}}`."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        put(tree, path, value)
    return tree


def get(tree: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None where a group on the way or the value is absent."""
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def remove(tree: dict[str, Any], path: str) -> None:
    """Remove the value at a dotted path, if there is one (its groups stay, perhaps empty)."""
    *groups, leaf = path.split(".")
    node: Any = tree
    for g in groups:
        node = node.get(g) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)
