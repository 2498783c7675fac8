"""The three-valued terms every encoding builds on: a `Sym` (has a value / failed / its value)
and the operations of strict and of Kleene logic over them (docs/language.md, "Three-valued
evaluation"). Shared by `encode` and `lists`, which each import this and not each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from .regex import MAX_CHAR


@dataclass(frozen=True)
class Sym:
    """An expression's value: `ok` (has one), `err` (failed), `v` (the value when ok)."""

    ok: Any
    err: Any
    v: Any


TRUE = z3.BoolVal(True)
FALSE = z3.BoolVal(False)


def const_sym(v: Any) -> Sym:
    return Sym(TRUE, FALSE, v)


def strict(args: list[Sym], value: Any, fails: Any = FALSE) -> Sym:
    """An operation of strict arguments: an error if any is one, else unknown if any is, else
    its value (or an error where `fails` holds)."""
    ok = z3.And(*[a.ok for a in args]) if args else TRUE
    err = z3.Or(*[a.err for a in args], z3.And(ok, fails))
    return Sym(z3.And(ok, z3.Not(fails)), err, value)


def kleene(ops: list[Sym], dominant: bool) -> Sym:
    """`or` (dominant True) / `and` (dominant False): a decisive operand wins, then an error,
    then unknown (docs/language.md, "Three-valued evaluation")."""
    wins = z3.Or(*[z3.And(o.ok, o.v if dominant else z3.Not(o.v)) for o in ops])
    err = z3.And(z3.Not(wins), z3.Or(*[o.err for o in ops]))
    every = z3.And(*[o.ok for o in ops])
    return Sym(z3.Or(wins, every), err, wins if dominant else z3.Not(wins))


def same_sort(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, z3.ArithRef) and isinstance(b, z3.ArithRef) and a.is_int() != b.is_int():
        return (z3.ToReal(a) if a.is_int() else a), (z3.ToReal(b) if b.is_int() else b)
    return a, b


def representable(text: str) -> bool:
    """Whether `text` is a z3 string: its code points are in z3's alphabet (up to `MAX_CHAR`)."""
    return all(ord(c) <= MAX_CHAR for c in text)


def string_value(text: str) -> Any:
    """The z3 string of `text`, every character escaped: `StringVal` reads `\\u{..}` in its
    argument as an escape, so a rule's literal holding that text would otherwise be another.
    A text beyond z3's alphabet (`representable`) is a `ValueError`: z3 would read its escape
    as the characters of the escape."""
    if not representable(text):
        raise ValueError(f"{text!r} has a code point beyond z3's alphabet (U+{MAX_CHAR:X})")
    return z3.StringVal("".join(f"\\u{{{ord(c):x}}}" for c in text))
