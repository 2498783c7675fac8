"""The Engine's limits on the size of an application, and the cheap check that enforces them.

An application beyond any limit is referred with `INVALID:$` before it is validated, and its
audit record holds a short note instead of the application. The check (`exceeded`) walks the
application iteratively (a 10,000-deep nesting cannot overflow the stack) and stops at the first
limit crossed, so its cost is bounded by the limits, not by the application.

The generated fast path of validation (`fastfacts`) enforces the same limits on a valid
application without walking it: its shape is the matter's, so only string lengths and list
lengths need a look there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .marks import Duplicated, Oversized

MAX_DEPTH = 64
"""The deepest `Limits.max_depth`: the lossless form of an application in an audit record nests
up to three levels per level of the application, and orjson writes at most 254."""
LIMIT = "beyond the engine's limits: "
"""How every limit message begins (`INVALID:$`)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one application; `Engine(..., limits=Limits(max_depth=8))` changes them.

    Part of what decides: a different limit can change a decision.
    """

    max_bytes: int = 1_048_576
    """JSON text the library reads itself (facts files, standard input), in bytes."""
    max_depth: int = 32
    """Nesting of objects and lists; the application object itself is depth 1. At most
    `MAX_DEPTH`: an audit record must hold any application within the limits."""
    max_keys: int = 1_000
    """Object members in the whole application."""
    max_items: int = 1_000
    """List items in the whole application."""
    max_string: int = 65_536
    """Characters of one string (a value or a key)."""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_depth", "max_keys", "max_items", "max_string"):
            value = getattr(self, name)
            if value.__class__ is not int or value < 1:
                raise ValueError(f"Limits.{name} must be a positive int, not {value!r}")
        if self.max_depth > MAX_DEPTH:
            raise ValueError(f"Limits.max_depth must be at most {MAX_DEPTH}, not {self.max_depth}")


DEFAULT = Limits()
_CONTAINERS = (dict, list, tuple)
"""What nests: an object, or a list (a tuple too, from Python callers)."""


def exceeded(facts: object, limits: Limits = DEFAULT) -> tuple[str | None, list[str]]:
    """The first limit the application crosses (a message) or None, and its duplicated keys.

    Duplicated keys (`jsonfile.Duplicated`) are given as dotted paths of the object members
    they are in; a key inside a list is given at the list's path.
    """
    if facts.__class__ is Oversized:
        return LIMIT + facts.why, []
    duplicates: list[str] = []
    keys = items = 0
    max_depth, max_string = limits.max_depth, limits.max_string
    # (value, depth, its path, whether it is inside a list); path None: inside a duplicate
    stack: list[tuple[Any, int, str | None, bool]] = [(facts, 1, "", False)]
    while stack:
        value, depth, path, listed = stack.pop()
        if value.__class__ is str:
            if len(value) > max_string:
                return LIMIT + f"a string longer than: {max_string}", duplicates
            continue
        if not isinstance(value, _CONTAINERS):
            continue  # a number, a bool, None, …: nothing to bound
        if depth > max_depth:
            return LIMIT + f"nesting deeper than: {max_depth}", duplicates
        if isinstance(value, dict):
            keys += len(value)
            if keys > limits.max_keys:
                return LIMIT + f"keys more than: {limits.max_keys}", duplicates
            for key, sub in value.items():
                if key.__class__ is str and len(key) > max_string:
                    return LIMIT + f"a key longer than: {max_string}", duplicates
                where = path if path is None or listed else f"{path}.{key}" if path else str(key)
                if sub.__class__ is Duplicated and where is not None:
                    duplicates.append(where)
                    where = None
                stack.append((sub, depth + 1, where, listed))
            continue
        items += len(value)
        if items > limits.max_items:
            return LIMIT + f"list items more than: {limits.max_items}", duplicates
        stack.extend((sub, depth + 1, path, True) for sub in value)
    return None, list(dict.fromkeys(duplicates))
