"""The compiled fast path of fact validation agrees with the strict pydantic path exactly."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reference import REFERENCE, ROOT, RULES, engine_over, versions
from secondapproval import Engine, Matter
from secondapproval.benchgen import applications
from secondapproval.facts import FactValidator

ON = dt.date(2020, 1, 1)
MATTERS = [
    *versions(engine_over(REFERENCE)),
    *versions(engine_over(RULES)),
    *versions(engine_over(ROOT / "docs" / "examples")),  # lists of enums and of records
]
VALIDATORS = {id(m): (FactValidator(m), FactValidator(m, fast=False)) for m in MATTERS}


def _same(matter: Matter, app: Any, on: dt.date | None = None) -> None:
    on = on or max(matter.spec.effective.from_, ON)
    with_fast_path, adapter_only = VALIDATORS[id(matter)]
    fast = with_fast_path.validate(app, on)
    slow = adapter_only.validate(app, on)
    assert fast == slow
    assert list(fast.values.items()) == list(slow.values.items())


@pytest.mark.parametrize("matter", MATTERS, ids=lambda m: f"{m.id}@{m.version}")
def test_fast_path_agrees_on_generated_applications(matter: Matter) -> None:
    """Valid and broken generated applications give the same values, problems and order."""
    on = max(matter.spec.effective.from_, ON)
    for broken in (0.0, 0.05, 0.3):
        apps = applications(matter, on=on, seed=11, broken=broken, extra=0.05)
        for app in itertools.islice(apps, 300):
            _same(matter, app)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(st.sampled_from(MATTERS), st.data())
def test_fast_path_agrees_on_arbitrary_values(matter: Matter, data: st.DataObject) -> None:
    """A generated application with any one fact replaced by arbitrary JSON validates the same."""
    on = max(matter.spec.effective.from_, ON)
    app = next(applications(matter, on=on, seed=data.draw(st.integers(0, 1000))))
    path = data.draw(st.sampled_from(sorted(matter.inputs)))
    node = app
    *groups, leaf = path.split(".")
    for g in groups:
        node = node.setdefault(g, {})
    node[leaf] = data.draw(JSON)
    _same(matter, app)


@pytest.mark.parametrize("app", [None, [], "x", 1, {1: 2}, {"degree": {"a": 1}}])
def test_fast_path_agrees_on_odd_shapes(app: Any) -> None:
    """Applications that are not objects, or have odd keys, validate the same both ways."""
    _same(MATTERS[0], app)


@pytest.mark.parametrize(
    "matter", [m for m in MATTERS if any(s.type == "cn_id" for s in m.inputs.values())]
)
def test_fast_path_agrees_on_id_numbers_born_after_the_decision(matter: Matter) -> None:
    """An ID number born after the decision date is refused by both paths alike."""
    apps = applications(matter, on=max(matter.spec.effective.from_, ON), seed=2)
    for app in itertools.islice(apps, 50):
        _same(matter, app, on=dt.date(1915, 1, 1))
        assert FactValidator(matter).validate(app, dt.date(1915, 1, 1)).invalid


@given(st.sampled_from(MATTERS), st.data())
def test_fast_path_agrees_on_hypothesis_applications(matter: Matter, data: st.DataObject) -> None:
    """Applications from `secondapproval.strategies` (boundaries, malformed IDs) agree too."""
    from secondapproval.strategies import applications as drawn

    on = max(matter.spec.effective.from_, ON)
    _same(matter, data.draw(drawn(matter, on)))


@given(st.sampled_from(MATTERS), st.data())
def test_fast_path_agrees_when_a_key_is_swapped_for_an_undeclared_one(
    matter: Matter, data: st.DataObject
) -> None:
    """A complete application with one declared key renamed keeps its key count at that level:
    the fast path must still see the absent fact and the undeclared key, as the adapter does."""
    on = max(matter.spec.effective.from_, ON)
    app = next(applications(matter, on=on, seed=data.draw(st.integers(0, 1000)), broken=0.0))
    path = data.draw(st.sampled_from(sorted(matter.inputs)))
    node = app
    *groups, leaf = path.split(".")
    for g in groups:
        node = node.get(g, {})  # a group of optional facts only may be absent
    assume(leaf in node)  # an optional fact may be absent already
    node[leaf + "_"] = node.pop(leaf)
    _same(matter, app)
    assert (
        f"INVALID:{'.'.join([*groups, leaf + '_'])}"
        in Engine([matter]).decide(matter.id, app, on=on).codes
    )
