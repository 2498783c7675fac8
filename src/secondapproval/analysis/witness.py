"""A z3 model as an application: the facts object (DESIGN §10) and the decision date it names."""

from __future__ import annotations

import ctypes
import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import z3

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


def application(model: z3.ModelRef, encoders: list[Encoder]) -> tuple[dict[str, Any], dt.date]:
    """The facts of the model (given ones with their values, invalid ones with a refused value,
    the others left out) and its decision date; the facts of several encodings sharing their
    facts and date (`Encoder(like=…)`) are one application."""
    app: dict[str, Any] = {}
    facts = {p: f for enc in reversed(encoders) for p, f in enc.facts.items()}
    for path, f in facts.items():
        if _true(model, f.invalid):
            put(app, path, WRONG.get(f.spec.type, "not-valid"))
        elif _true(model, f.given):
            put(app, path, value(model, f))
    on = dt.date.fromordinal(model.eval(encoders[0].on, model_completion=True).as_long())
    return app, on


def _true(model: z3.ModelRef, b: Any) -> bool:
    return bool(z3.is_true(model.eval(b, model_completion=True)))


def value(model: z3.ModelRef, f: FactVars) -> Any:
    """The JSON value of a given fact in the model."""
    if f.spec.type == "list":
        return _list(model, f)
    return _scalar(model, f.spec.type, f.value, f.extra)


def _scalar(model: z3.ModelRef, kind: str, term: Any, extra: dict[str, Any]) -> Any:
    """The JSON value of one scalar (a fact, a list's item, a record's field) in the model."""
    got = model.eval(term, model_completion=True)
    if kind == "bool":
        return z3.is_true(got)
    if kind == "int":
        return got.as_long()
    if kind in ("decimal", "money"):
        return _decimal_text(got, kind)
    if kind == "date":
        return dt.date.fromordinal(got.as_long()).isoformat()
    if kind in ("str", "enum"):
        return text(got)
    if kind == "cn_id":
        born = dt.date.fromordinal(model.eval(extra["born"], model_completion=True).as_long())
        seq = model.eval(extra["seq"], model_completion=True).as_long()
        return cn_id(regions_in(born.year)[0], born, seq)
    if kind == "uscc":
        n = abs(got.as_long()) % 10**8
        return uscc("91", REGION_CODES[0], org_code(f"{n:08d}"))
    raise ValueError(f"no witness value for a fact of type {kind}")


def _list(model: z3.ModelRef, f: FactVars) -> list[Any]:
    """The model's first `length` items: scalars, or records of their declared fields (an
    optional field the model leaves out is left out)."""
    lst = f.value
    assert isinstance(lst, Bounded)
    n = model.eval(lst.length, model_completion=True).as_long()
    out: list[Any] = []
    for item in lst.items[:n]:
        if item.fields is None:
            assert item.slot is not None
            out.append(_scalar(model, f.spec.of or "str", item.slot.value, item.slot.extra))
            continue
        specs = f.spec.fields or {}
        out.append(
            {
                name: _scalar(model, specs[name].type, s.value, s.extra)
                for name, s in item.fields.items()
                if _true(model, s.present)
            }
        )
    return out


def text(got: Any) -> str:
    """The Python string of a z3 string value, read as its code points: `as_string()` spells
    a non-printable or non-ASCII character (and a backslash) as `\\u{..}`, which the engine would
    take literally (a CJK name, a pattern's `[^a]` could never be a witness)."""
    ctx, ast = got.ctx_ref(), got.as_ast()
    n = z3.Z3_get_string_length(ctx, ast)
    points = (ctypes.c_uint * n)()
    z3.Z3_get_string_contents(ctx, ast, n, points)
    return "".join(map(chr, points))


def _decimal_text(got: Any, kind: str) -> str:
    q = Fraction(got.numerator_as_long(), got.denominator_as_long())
    k = next(k for k in range(60) if (q * 10**k).denominator == 1)  # a bounded decimal
    d = Decimal(int(q * 10**k)).scaleb(-k)
    text = format(d, "f")
    if kind == "money" and "." in text and len(text.split(".")[1]) > 2:
        raise ValueError(f"no amount of money: {text}")
    return text
