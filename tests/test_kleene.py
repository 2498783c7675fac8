"""Three-valued evaluation: Kleene truth tables, in the interpreter and in generated code."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from reference import write_matter
from secondapproval.backends.native import _and, _not, _or
from secondapproval.lang.interpret import _kleene
from secondapproval.lang.kleene import ERROR_VALUE, UNKNOWN_VALUE

T, F, U, E = True, False, UNKNOWN_VALUE, ERROR_VALUE
VALUES = (T, F, U, E)

# Kleene's strong logic with ERROR_VALUE ranking above UNKNOWN_VALUE (see lang/kleene.py).
OR = {
    (T, T): T, (T, F): T, (T, U): T, (T, E): T,
    (F, F): F, (F, U): U, (F, E): E,
    (U, U): U, (U, E): E,
    (E, E): E,
}  # fmt: skip
AND = {
    (T, T): T, (T, F): F, (T, U): U, (T, E): E,
    (F, F): F, (F, U): F, (F, E): F,
    (U, U): U, (U, E): E,
    (E, E): E,
}  # fmt: skip
NOT = {T: F, F: T, U: U, E: E}


def table(t: dict[tuple[Any, Any], Any], a: Any, b: Any) -> Any:
    return t[(a, b)] if (a, b) in t else t[(b, a)]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(VALUES, VALUES)))
def test_or_and_tables(a: Any, b: Any) -> None:
    """`or` and `and` follow the truth tables in both implementations, in any operand order."""
    assert _kleene([a, b], dominant=True) is table(OR, a, b)
    assert _kleene([a, b], dominant=False) is table(AND, a, b)
    assert _or(a, b) is table(OR, a, b)
    assert _and(a, b) is table(AND, a, b)


@pytest.mark.parametrize("a", VALUES)
def test_not_table(a: Any) -> None:
    """`not unknown` is unknown; `not error` is error."""
    assert _not(a) is NOT[a]


def test_engine_kleene_end_to_end(tmp_path: Any) -> None:
    """A missing fact under `or` with a true operand passes; under `and` with false it fails."""
    from secondapproval import Engine, Status

    kleene = """
matter: kleene
title: {zh: 测试, en: test}
version: "1"
effective: {from: "2000-01-01"}
facts:
  a: {type: bool, source: applicant}
  b: {type: bool, source: applicant, optional: true}
rules:
  - {id: either, when: a or b, says: {zh: 或, en: or}, refer: {code: EITHER, zh: 否, en: no}}
  - {id: both, when: a and b, says: {zh: 且, en: and}, refer: {code: BOTH, zh: 否, en: no}}
"""
    engine = Engine(write_matter(tmp_path, kleene))
    on = dt.date(2020, 1, 1)
    d = engine.decide("kleene", {"a": True}, on=on)
    assert [r.status for r in d.results] == [Status.PASSED, Status.UNKNOWN]
    assert d.codes == ("MISSING:b",)
    d = engine.decide("kleene", {"a": False}, on=on)
    assert [r.status for r in d.results] == [Status.UNKNOWN, Status.FAILED]
    assert set(d.codes) == {"MISSING:b", "BOTH"}
