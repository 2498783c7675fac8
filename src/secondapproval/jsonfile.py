"""Strict JSON for applications: the one parser the library uses for the facts it reads itself.

`loads(text)` differs from `json.loads` where an approval could depend on it:

- a key given twice in one object keeps *every* value, as a `Duplicated` list in its place, so
  the validator refers the application with `INVALID:<path>` instead of silently keeping the
  last value (`{"failed_last_year": 5, "failed_last_year": 0}` must not be approved);
- a number with a fraction or an exponent is read from its text as a `Decimal`, never through a
  float (`0.30000000000000001` stays what it says);
- `NaN`, `Infinity` and `-Infinity` (not JSON) are refused, and so is an integer of more than
  `MAX_INT_DIGITS` digits;
- text longer than `Limits.max_bytes`, or nested deeper than the parser can follow, is not parsed:
  `Oversized` stands for it, and the engine refers it with `INVALID:$` (a small audit record).

A caller that parses applications itself must do the same (README, "Parsing applications
yourself"): refuse or mark duplicate keys, and never hand the engine a float that was rounded.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from .errors import FactError
from .limits import DEFAULT, Limits
from .marks import Duplicated, Oversized

MAX_INT_DIGITS = 4300
"""The longest integer the parser reads (Python's own `int` text limit)."""


def is_text(value: str) -> bool:
    """A str that is valid Unicode text (no lone surrogate), so JSON can hold it as it is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            seen = out[key]
            if seen.__class__ is Duplicated:
                seen.append(value)
            else:
                out[key] = Duplicated((seen, value))
        else:
            out[key] = value
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


def loads(text: str | bytes, *, limits: Limits | None = None, name: str = "<input>") -> Any:
    """One JSON document as data (see the module docstring); FactError if it is not JSON."""
    limits = limits or DEFAULT
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > limits.max_bytes:
        return Oversized(f"bytes more than: {limits.max_bytes}")
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_float=Decimal,
            parse_int=_integer,
            parse_constant=_constant,
        )
    except RecursionError:
        return Oversized(f"nesting deeper than: {limits.max_depth}")
    except json.JSONDecodeError as exc:
        raise FactError(f"{name}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    except ValueError as exc:
        raise FactError(f"{name}: not JSON: {exc}") from None


_MAYBE_FRACTION = re.compile(rb"(?:^|[:,\[])-?[0-9]+[.eE]")
"""A number with a fraction or an exponent, as canonical JSON writes one (first, or after `:`,
`,` or `[`); text inside a string can match too, which only sends that text to the slow path."""


def loads_canonical(text: bytes, *, limits: Limits | None = None, name: str = "<input>") -> Any:
    """`loads(text)`, faster when `text` is canonical JSON (sorted keys, no whitespace, UTF-8):
    orjson parses it, and the result is kept only if it writes back to the very same bytes with
    no number that could have been a float (so no key was given twice, nothing was rounded).
    Any other text is read by `loads`, so the result is always `loads`'s."""
    limits = limits or DEFAULT
    if len(text) <= limits.max_bytes and _MAYBE_FRACTION.search(text) is None:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == text:
                return value
    return loads(text, limits=limits, name=name)


def load(path: str | Path, *, limits: Limits | None = None) -> Any:
    """A JSON file (`-` for standard input) as data; FactError if unreadable or not JSON."""
    limits = limits or DEFAULT
    try:
        if str(path) == "-":
            import sys

            raw = sys.stdin.buffer.read(limits.max_bytes + 1)
        else:
            with Path(path).open("rb") as f:
                raw = f.read(limits.max_bytes + 1)
        if len(raw) <= limits.max_bytes:
            raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FactError(f"{path}: cannot read: {exc}") from None
    if len(raw) > limits.max_bytes:
        return Oversized(f"bytes more than: {limits.max_bytes}")
    return loads(raw, limits=limits, name=str(path))
