"""Applications beyond the Engine's limits refer as INVALID:$ quickly, with a bounded record.

Issue 13, class 5. Every limit is tried just at and just beyond its bound, on the fast and the
slow path of validation (which must agree); nesting far deeper than the stack allows is refused
without a RecursionError; the audit record of an oversized application stays small.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import GOOD_REF, ON, REFERENCE
from secondapproval import Engine, Outcome
from secondapproval.audit.sinks import MemorySink
from secondapproval.facts import FactValidator
from secondapproval.jsonfile import load, loads
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.limits import LIMIT, Limits, exceeded
from secondapproval.marks import Oversized
from secondapproval.messages import zh
from secondapproval.ruleset import FactSpec, fact_type
from secondapproval.strategies import synthetic_matter

FACTS = {
    "a.name": FactSpec(type="str", source="applicant"),
    "a.code": FactSpec(type="str", pattern="[a-z]*", source="applicant"),
    "a.tags": FactSpec(type="list", of="str", source="applicant"),
    "a.xs": FactSpec(type="list", of="decimal", source="applicant"),
    "a.x": FactSpec(type="decimal", source="applicant"),
}
SMALL = Limits(max_bytes=1000, max_depth=4, max_keys=8, max_items=6, max_string=120)


def _matter() -> Any:
    node, _ = parse("len(a.tags) >= 0")
    typed, problems = check(node, {p: fact_type(f) for p, f in FACTS.items()})
    assert not problems
    return synthetic_matter(FACTS, [typed])


MATTER = _matter()
PAIRS = {
    limits: (FactValidator(MATTER, limits=limits), FactValidator(MATTER, fast=False, limits=limits))
    for limits in (SMALL, Limits())
}


def _app(name: str = "n", tags: list[Any] | None = None, xs: list[Any] | None = None) -> Any:
    return {"a": {"name": name, "code": "abc", "tags": tags or [], "xs": xs or [], "x": "1"}}


def _both(app: Any, limits: Limits = SMALL) -> dict[str, str]:
    fast_v, slow_v = PAIRS[limits]
    fast, slow = fast_v.validate(app, ON), slow_v.validate(app, ON)
    assert fast == slow
    return dict(fast.invalid)


def _over(app: Any, limits: Limits = SMALL) -> bool:
    invalid = _both(app, limits)
    over = "$" in invalid and invalid["$"].startswith(LIMIT)
    assert not over or set(invalid) == {"$"}
    return over


def test_the_limits_validate_themselves() -> None:
    """A limit is a positive int."""
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive int"):
            Limits(max_depth=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("where", ["name", "code", "tags", "x", "key"])
def test_one_string_at_and_beyond_the_bound(where: str) -> None:
    """A string of `max_string` characters is within; one more is INVALID:$ (values and keys)."""
    for n, over in ((SMALL.max_string, False), (SMALL.max_string + 1, True)):
        text = ("1" if where == "x" else "a") * n
        if where == "key":
            app = _app()
            app["a"][text] = 1
            assert _over(app) is over
            continue
        app = _app()
        app["a"][where] = [text] if where == "tags" else text
        assert _over(app) is over


def test_list_items_in_total() -> None:
    """Items of every list count toward `max_items`, one list or several."""
    assert not _over(_app(tags=["t"] * 6))
    assert _over(_app(tags=["t"] * 7))
    assert not _over(_app(tags=["t"] * 3, xs=[1, 2, 3]))
    assert _over(_app(tags=["t"] * 4, xs=[1, 2, 3]))


def test_keys_and_depth() -> None:
    """Object members in total and the nesting depth have their bounds too."""
    app = _app()
    app["a"]["extra"] = 1
    app["b"] = 1  # 2 + 6 members: at the bound of 8 (undeclared keys, not beyond the limits)
    assert not _over(app)
    app["c"] = 1
    assert _over(app)
    deep: Any = 1
    for _ in range(3):
        deep = {"d": deep}
    assert not _over(deep)  # depth 3
    assert _over({"a": {"b": {"c": {"d": {}}}}})  # depth 5
    assert _over([[[[[]]]]])


@given(
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(SMALL.max_string - 2, SMALL.max_string + 2),
    st.integers(0, 5),
)
def test_fast_and_slow_paths_agree_near_the_limits(
    tags: int, xs: int, length: int, extra: int
) -> None:
    """Around every bound, the fast path and the slow path give the same verdict."""
    app = _app(name="a" * length, tags=["t"] * tags, xs=[1] * xs)
    for i in range(extra):
        app[f"k{i}"] = None
    expected = (
        tags + xs > SMALL.max_items or length > SMALL.max_string or 1 + 5 + extra > SMALL.max_keys
    )
    assert _over(app) is expected


@pytest.mark.parametrize("depth", [1_000, 10_000, 100_000])
def test_nesting_far_deeper_than_the_stack_refers_without_recursion(depth: int) -> None:
    """10,000-deep nesting is INVALID:$, from Python objects and from JSON text alike."""
    deep: Any = 1
    for _ in range(depth):
        deep = [deep] if depth % 2 else {"k": deep}
    assert _over(deep, Limits())
    text = "[" * depth + "]" * depth
    parsed = loads(text)
    assert _over(parsed, Limits())


def test_the_engine_refers_and_records_a_small_line(tmp_path: Path) -> None:
    """A 5 MB application refers as INVALID:$ and its audit line stays small."""
    sink = MemorySink()
    with Engine(REFERENCE, audit=sink, audit_key=b"k" * 32, vouch="all") as engine:
        big = {**GOOD_REF, "notes": ["x" * 1000] * 5000}
        d = engine.decide("talent-reference", big, on=ON)
        assert d.outcome is Outcome.REFER
        assert d.codes == ("INVALID:$",)
        assert zh(d.invalid["$"]) == "超出引擎的限制：列表项数量超过：1000"
        assert "超出引擎的限制" in d.reasons[0].zh
        assert engine.decide("talent-reference", GOOD_REF, on=ON).approved
    assert len(sink.lines[0]) < 2_000
    assert b"notes" not in sink.lines[0]


def test_the_engine_takes_its_limits() -> None:
    """`Engine(..., limits=...)` validates with them; the default is `Limits()`."""
    assert Engine(REFERENCE).limits == Limits()
    tight = dataclasses.replace(Limits(), max_keys=5)
    engine = Engine(REFERENCE, limits=tight, vouch="all")
    assert engine.limits is tight
    assert engine.decide("talent-reference", GOOD_REF, on=ON).codes == ("INVALID:$",)


def test_a_file_beyond_max_bytes_is_not_parsed(tmp_path: Path) -> None:
    """The strict loader reads at most `max_bytes` and stands `Oversized` for the rest."""
    f = tmp_path / "facts.json"
    f.write_text(json.dumps({"notes": "x" * 2000}), encoding="utf-8")
    data = load(f, limits=SMALL)
    assert data.__class__ is Oversized
    assert exceeded(data, SMALL)[0] == LIMIT + "bytes more than: 1000"
    assert load(f).__class__ is dict
