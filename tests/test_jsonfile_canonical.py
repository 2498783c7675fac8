"""`jsonfile.loads_canonical` (impact's fast path for canonical facts text) reads every text
exactly as `jsonfile.loads` does: canonical texts, and texts that only look canonical (a key
given twice, keys out of order, a fraction, an exponent, -0, a huge integer, spaces)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from secondapproval.jsonfile import loads, loads_canonical
from secondapproval.marks import Duplicated

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: d.normalize()),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


def _shape(value: Any) -> Any:
    """A value with its types spelled out (Decimal('1') is not 1, Duplicated is not a list)."""
    if isinstance(value, Duplicated):
        return ("dup", [_shape(v) for v in value])
    if isinstance(value, dict):
        return ("obj", [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_shape(v) for v in value])
    return (type(value).__name__, repr(value))


def _text(value: Any, *, sort: bool = True, sep: str = ",") -> str:
    """JSON text of a value: decimals and integers as they print, keys sorted or not."""
    if isinstance(value, dict):
        items = sorted(value.items()) if sort else list(value.items())
        inner = sep.join(f"{_text(k)}:{_text(v, sort=sort, sep=sep)}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + sep.join(_text(v, sort=sort, sep=sep) for v in value) + "]"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    return orjson.dumps(value).decode()


@given(values)
def test_a_canonical_text_reads_as_loads_reads_it(value: Any) -> None:
    text = _text(value).encode()
    assert _shape(loads_canonical(text)) == _shape(loads(text))


@given(st.lists(st.tuples(st.sampled_from("abc"), values), max_size=5), st.booleans())
def test_texts_that_only_look_canonical_read_as_loads_reads_them(
    pairs: list[tuple[str, Any]], spaced: bool
) -> None:
    sep = ", " if spaced else ","
    body = sep.join(f"{_text(k)}:{_text(v, sep=sep)}" for k, v in pairs)
    text = ("{" + body + "}").encode()
    assert _shape(loads_canonical(text)) == _shape(loads(text))


def test_the_edges_by_name() -> None:
    for text in (
        b'{"a":1,"a":2}',
        b'{"b":1,"a":2}',
        b'{"a":1.5}',
        b"0.0",
        b"[1e5]",
        b"[-0]",
        b'{"a":"x:1.5"}',
        b'{"a":null}',
        b"[123456789012345678901234567890]",
        b'{"a":"\\ud800"}',
    ):
        assert _shape(loads_canonical(text)) == _shape(loads(text)), text
