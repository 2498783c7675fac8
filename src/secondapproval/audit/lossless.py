"""The lossless JSON form of any application: what an audit record holds and its digest covers.

An application is whatever a caller passes to `decide()`. Most are plain JSON — `None`, `bool`,
`str`, `int`, finite `float`, `list`, `dict` with string keys — and stay exactly as they are. Any
other value is written as a *tag*, an object whose member `$` names its type and whose `v` holds
the value in JSON:

| value | tag |
| --- | --- |
| an int beyond 64 bits | `{"$": "int", "v": "<decimal digits>"}` |
| NaN, ±infinity | `{"$": "float", "v": "nan" \\| "inf" \\| "-inf"}` |
| a str holding a lone surrogate | `{"$": "str", "v": "<its JSON text: \\\\u escapes>"}` |
| bytes, bytearray | `{"$": "bytes" \\| "bytearray", "v": "<base64>"}` |
| a dict with a key that is not a str, or a key `$` | `{"$": "dict", "v": [[key, value], …]}` |
| a tuple | `{"$": "tuple", "v": [items]}` |
| a set, a frozenset | `{"$": "set" \\| "frozenset", "v": [items, sorted]}` |
| `Decimal`, `date`, `datetime`, `time` | `{"$": "decimal.Decimal" …, "v": "<its exact text>"}` |
| a subclass of a JSON type | `{"$": "<module.Qualname>", "v": <its value as that type>}` |
| any other object | `{"$": "<module.Qualname>", "v": null}` (recorded by its type alone) |
| an application not read (beyond the limits) | `{"$": "omitted", "v": "<why>"}` |

A real object with a member `$` is always tagged as a `dict`, so a tag is never ambiguous: two
applications the validator can tell apart never have the same lossless form, hence never the
same keyed digest. Pairs and set items are sorted by the canonical JSON of their lossless form.

`lossless_json(value)` gives the canonical JSON bytes of the lossless form; the walk
(`lossless`) is iterative and bounded by the Engine's limits (`Limits.max_depth`). On the hot
path, `vouched_json` writes an application the validator found valid in one orjson call: such
an application holds only declared keys and strictly typed values, for which orjson's output is
the lossless form; anything else (a NaN, a tuple, an Enum — which orjson would write as `null`,
a list, a string) is handed to the walk.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

import orjson

from ..jsonfile import is_text
from ..marks import Oversized
from .canonical import OPTIONS

TAG = "$"
_FAST = OPTIONS | orjson.OPT_PASSTHROUGH_DATETIME
"""Dates go to the walk (orjson would write them as strings); the validator refuses subclasses,
Enum members and dataclasses, so a vouched application holds none."""
_TAG_KEY = b'"$":'
_INT_MIN, _INT_END = -(1 << 63), 1 << 64
"""orjson writes ints in [-2**63, 2**64) natively; others are tagged."""


class _NotPlainError(Exception):
    """orjson met a value it cannot write as plain JSON (the fast path gives way to the walk)."""


def _refuse(_value: Any) -> Any:
    raise _NotPlainError


def lossless_json(value: Any) -> bytes:
    """The canonical JSON of the lossless form of `value` (sorted keys, no spaces, UTF-8)."""
    return orjson.dumps(lossless(value), option=OPTIONS)


def vouched_json(facts: dict[str, Any]) -> bytes:
    """`lossless_json` of an application the validator found valid, in one orjson call.

    Valid means declared keys (never `$`) and values of exactly their classes (`facts._foreign`)
    — no tuple, NaN, subclass or Enum member, whose orjson form would not be lossless; anything
    orjson refuses (a big int, a surrogate, a Decimal or date object) takes the walk.
    """
    try:
        data = orjson.dumps(facts, default=_refuse, option=_FAST)
    except (_NotPlainError, TypeError):
        return lossless_json(facts)
    return lossless_json(facts) if _TAG_KEY in data else data


def lossless(value: Any) -> Any:
    """The lossless form of a value: plain JSON left as it is, anything else tagged."""
    return _tagged(value)


def _tag(kind: str, v: Any) -> dict[str, Any]:
    return {TAG: kind, "v": v}


def _sort_key(item: Any) -> bytes:
    return orjson.dumps(item, option=OPTIONS)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _leaf(value: Any) -> tuple[bool, Any]:
    """(True, the lossless form) of a value without items; (False, None) for a container."""
    cls = value.__class__
    if cls is str:
        return True, value if is_text(value) else _tag("str", json.dumps(value))
    if value is None or cls is bool:
        return True, value
    if cls is int:
        return True, value if _INT_MIN <= value < _INT_END else _tag("int", str(value))
    if cls is float:
        if math.isfinite(value):
            return True, value
        return True, _tag("float", "nan" if math.isnan(value) else str(value))
    if cls is bytes or cls is bytearray:
        return True, _tag(cls.__name__, base64.b64encode(value).decode("ascii"))
    if cls is Oversized:
        return True, _tag("omitted", value.why)
    if isinstance(value, Decimal):
        return True, _tag(_name(cls), str(value))
    if isinstance(value, dt.date | dt.time):
        return True, _tag(_name(cls), value.isoformat())
    if cls in _CONTAINERS:
        return False, None
    base = next((b for b in _SUBCLASSED if isinstance(value, b)), None)
    if base is None:
        return True, _tag(_name(cls), None)  # an object JSON cannot hold: its type alone
    return False, None


_CONTAINERS = (dict, list, tuple, set, frozenset)
_SUBCLASSED = (dict, list, tuple, set, frozenset, str, int, float, bytes, bytearray)


def _children(value: Any) -> tuple[tuple[str, list[str] | None], list[Any]]:
    """How to finish a container's form, and the values whose forms it is made of."""
    cls = value.__class__
    if cls is dict:
        keys = list(value)
        if all(k.__class__ is str and k != TAG and is_text(k) for k in keys):
            return ("object", keys), [value[k] for k in keys]
        return ("dict", None), [x for k in keys for x in (k, value[k])]
    if cls is list:
        return ("list", None), list(value)
    if cls in _CONTAINERS:
        return (cls.__name__, None), list(value)
    base = next(b for b in _SUBCLASSED if isinstance(value, b))
    plain = base.__str__(value) if base is str else base(value)
    return ("sub:" + _name(cls), None), [plain]


def _tagged(root: Any) -> Any:
    """The lossless form, built without recursion (post-order over an explicit stack)."""
    forms: list[Any] = []
    # (False, a value to visit) or (True, (how to finish it, how many child forms it takes))
    stack: list[tuple[bool, Any]] = [(False, root)]
    while stack:
        ready, item = stack.pop()
        if ready:
            (kind, keys), n = item
            parts = forms[len(forms) - n :]
            del forms[len(forms) - n :]
            forms.append(_finish(kind, parts, keys))
            continue
        done, form = _leaf(item)
        if done:
            forms.append(form)
            continue
        how, children = _children(item)
        stack.append((True, (how, len(children))))
        stack.extend((False, c) for c in reversed(children))
    return forms[0]


def _finish(kind: str, parts: list[Any], keys: list[str] | None) -> Any:
    if kind == "object":
        assert keys is not None
        return dict(zip(keys, parts, strict=True))
    if kind == "list":
        return parts
    if kind == "dict":
        pairs = [[parts[i], parts[i + 1]] for i in range(0, len(parts), 2)]
        return _tag("dict", sorted(pairs, key=lambda p: _sort_key(p[0])))
    if kind in ("set", "frozenset"):
        return _tag(kind, sorted(parts, key=_sort_key))
    if kind == "tuple":
        return _tag("tuple", parts)
    return _tag(kind.removeprefix("sub:"), parts[0])


def restore(form: Any) -> Any:
    """A recorded value back from its lossless form, for the tags a valid fact value can take (a
    big int, a non-finite float, a str with a lone surrogate); other tags are left as they are."""
    if form.__class__ is dict and form.keys() == {TAG, "v"}:
        kind, v = form[TAG], form["v"]
        if kind == "int" and isinstance(v, str):
            return int(v)
        if kind == "float" and isinstance(v, str):
            return float(v)
        if kind == "str" and isinstance(v, str):
            return json.loads(v)
    if form.__class__ is list:
        return [restore(x) for x in form]
    return form
