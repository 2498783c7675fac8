"""A z3 model as an application: the facts object (DESIGN §10) and the decision date it names."""

from __future__ import annotations

import ctypes
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import z3
from z3 import z3core

from ..generate.identifiers import REGION_CODES, cn_id, org_code, regions_in, uscc
from ..paths import put
from .encode import Encoder, FactVars
from .lists import Bounded

WRONG = {
    "bool": "not-a-bool",
    "int": "not-an-int",
    "decimal": "not-a-number",
    "money": "not-an-amount",
    "str": 12345,
    "enum": 12345,
    "date": "not-a-date",
    "cn_id": "not-an-id",
    "uscc": "not-a-code",
    "list": "not-a-list",
}
"""Per fact type, a JSON value the validator refuses: what an invalid fact of a witness holds."""


T = TypeVar("T")


class Reader:
    """The values of a model's terms, read through z3's C API: `ModelRef.eval` wraps every term
    it returns in a Python object, four times the cost of reading it (a witness of a matter of
    200 rules reads thousands of terms)."""

    def __init__(self, model: z3.ModelRef) -> None:
        self._model = model  # keeps the model alive while its values are read
        self._ctx = model.ctx.ref()

    def _read(self, term: Any, read: Callable[[Any], T]) -> T:
        out = (z3.Ast * 1)()
        if not z3core.Z3_model_eval(self._ctx, self._model.model, term.as_ast(), True, out):
            raise z3.Z3Exception(f"the model gives {term} no value")
        z3core.Z3_inc_ref(self._ctx, out[0])
        try:
            return read(out[0])
        finally:
            z3core.Z3_dec_ref(self._ctx, out[0])

    def true(self, term: Any) -> bool:
        return self._read(
            term, lambda a: bool(z3core.Z3_get_bool_value(self._ctx, a) == z3.Z3_L_TRUE)
        )

    def fraction(self, term: Any) -> Fraction:
        return self._read(term, lambda a: Fraction(z3core.Z3_get_numeral_string(self._ctx, a)))

    def int(self, term: Any) -> int:
        q = self.fraction(term)
        assert q.denominator == 1, term
        return q.numerator

    def text(self, term: Any) -> str:
        return self._read(term, lambda a: _code_points(self._ctx, a))


def application(model: z3.ModelRef, encoders: list[Encoder]) -> tuple[dict[str, Any], dt.date]:
    """The facts of the model (given ones with their values, invalid ones with a refused value,
    the others left out) and its decision date; the facts of several encodings sharing their
    facts and date (`Encoder(like=…)`) are one application."""
    got = Reader(model)
    app: dict[str, Any] = {}
    facts = {p: f for enc in reversed(encoders) for p, f in enc.facts.items()}
    for path, f in facts.items():
        if got.true(f.invalid):
            put(app, path, WRONG.get(f.spec.type, "not-valid"))
        elif got.true(f.given):
            put(app, path, value(got, f))
    return app, dt.date.fromordinal(got.int(encoders[0].on))


def value(got: Reader, f: FactVars) -> Any:
    """The JSON value of a given fact in the model."""
    if f.spec.type == "list":
        return _list(got, f)
    return _scalar(got, f.spec.type, f.value, f.extra)


def _scalar(got: Reader, kind: str, term: Any, extra: dict[str, Any]) -> Any:
    """The JSON value of one scalar (a fact, a list's item, a record's field) in the model."""
    if kind == "bool":
        return got.true(term)
    if kind == "int":
        return got.int(term)
    if kind in ("decimal", "money"):
        return _decimal_text(got.fraction(term), kind)
    if kind == "date":
        return dt.date.fromordinal(got.int(term)).isoformat()
    if kind in ("str", "enum"):
        return got.text(term)
    if kind == "cn_id":
        born = dt.date.fromordinal(got.int(extra["born"]))
        return cn_id(regions_in(born.year)[0], born, got.int(extra["seq"]))
    if kind == "uscc":
        n = abs(got.int(term)) % 10**8
        return uscc("91", REGION_CODES[0], org_code(f"{n:08d}"))
    raise ValueError(f"no witness value for a fact of type {kind}")


def _list(got: Reader, f: FactVars) -> list[Any]:
    """The model's first `length` items: scalars, or records of their declared fields (an
    optional field the model leaves out is left out)."""
    lst = f.value
    assert isinstance(lst, Bounded)
    out: list[Any] = []
    for item in lst.items[: got.int(lst.length)]:
        if item.fields is None:
            assert item.slot is not None
            out.append(_scalar(got, f.spec.of or "str", item.slot.value, item.slot.extra))
            continue
        specs = f.spec.fields or {}
        out.append(
            {
                name: _scalar(got, specs[name].type, s.value, s.extra)
                for name, s in item.fields.items()
                if got.true(s.present)
            }
        )
    return out


def text(got: Any) -> str:
    """The Python string of a z3 string value, read as its code points: `as_string()` spells
    a non-printable or non-ASCII character (and a backslash) as `\\u{..}`, which the engine would
    take literally (a CJK name, a pattern's `[^a]` could never be a witness)."""
    return _code_points(got.ctx_ref(), got.as_ast())


def _code_points(ctx: Any, ast: Any) -> str:
    n = z3.Z3_get_string_length(ctx, ast)
    points = (ctypes.c_uint * n)()
    z3.Z3_get_string_contents(ctx, ast, n, points)
    return "".join(map(chr, points))


def _decimal_text(q: Fraction, kind: str) -> str:
    k = next(k for k in range(60) if (q * 10**k).denominator == 1)  # a bounded decimal
    d = Decimal(int(q * 10**k)).scaleb(-k)
    text = format(d, "f")
    if kind == "money" and "." in text and len(text.split(".")[1]) > 2:
        raise ValueError(f"no amount of money: {text}")
    return text
