"""Dotted fact paths and the nested objects they name (DESIGN §10: `a.b` is `{"a": {"b": …}}`)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

_DATE = dt.date

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


def with_iso_dates(tree: Any, paths: tuple[str, ...]) -> Any:
    """`tree` with each `datetime.date` at one of the dotted `paths` (or an item of a list
    there, or the field `f` of the records of a list at `path[].f`) written as its ISO
    `YYYY-MM-DD` string, the form JSON gives a date fact (DESIGN §10); `tree` itself, untouched,
    when it holds none. Only exact `date` objects are written: a `datetime` (a subclass) stays
    what it is, and invalid."""
    if not isinstance(tree, dict):
        return tree
    fields = _date_fields(paths)
    found = [p for p, names in fields.items() if _has_date(get(tree, p), names)]
    if not found:
        return tree
    out = _copied_groups(tree, found)
    for path in found:
        value = get(out, path)
        if value.__class__ is not list:
            put(out, path, _iso(value))
        elif fields[path]:
            put(out, path, [_iso_fields(v, fields[path]) for v in value])
        else:
            put(out, path, [_iso(v) for v in value])
    return out


@functools.cache
def _date_fields(paths: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each dotted path of `paths` → the date fields of its records (`path[].f`), or () for a
    date or a list of dates. Parsed once per matter's tuple (the audit record asks per decision)."""
    fields: dict[str, tuple[str, ...]] = {}
    for p in paths:
        path, _, name = p.partition("[].")
        fields[path] = fields.get(path, ()) + ((name,) if name else ())
    return fields


def _has_date(value: Any, fields: tuple[str, ...]) -> bool:
    if value.__class__ is list and fields:
        return any(
            v.__class__ is dict and any(v.get(f).__class__ is _DATE for f in fields) for v in value
        )
    if value.__class__ is list:
        return any(v.__class__ is _DATE for v in value)
    return value.__class__ is _DATE


def _iso_fields(record: Any, fields: tuple[str, ...]) -> Any:
    if record.__class__ is not dict:
        return record
    return {k: _iso(v) if k in fields else v for k, v in record.items()}


def _iso(value: Any) -> Any:
    return value.isoformat() if value.__class__ is _DATE else value


def _copied_groups(tree: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of `tree` in which the objects on the way to `paths` are copies too (the caller's
    application is never changed)."""
    out = dict(tree)
    for path in paths:
        node = out
        for g in path.split(".")[:-1]:
            child = node.get(g)
            if not isinstance(child, dict):
                break
            node[g] = child = dict(child)
            node = child
    return out
