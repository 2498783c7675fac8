"""Invariants of indicator scoring, checked with Hypothesis on the shipped DB17-20 system."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RULES, examples
from secondapproval.packs.indicators import Scorecard, Scorer, load_data, load_system
from secondapproval.packs.indicators.system import Component, Group

SYSTEM = load_system(RULES / "indicators" / "db17-20.yaml")
DATA = load_data(SYSTEM)
SCORER = Scorer(SYSTEM)
ROWS = sorted(k for k, r in DATA.rows.items() if k[0] in (2019, 2020) and k[1] not in DATA.two_city)
COMPONENTS = sorted(SYSTEM.components)


def values_of(row: tuple[int, str]) -> dict[str, Decimal | str]:
    return dict(DATA.rows[row].values)


def measured(c: Component) -> st.SearchStrategy[Decimal]:
    """Values from well past the worst frontier to well past the best."""
    lo, hi = sorted((c.best, c.worst))
    span = hi - lo
    return st.decimals(min_value=lo - span, max_value=hi + span, places=3, allow_nan=False)


@st.composite
def component_values(draw: st.DrawFn) -> dict[str, Decimal]:
    return {cid: draw(measured(c)) for cid, c in SYSTEM.components.items()}


def scores(card: Scorecard) -> dict[str, float]:
    return {s.id: s.score for s in card.root.walk() if s.score is not None}


@settings(max_examples=examples(60))
@given(component_values())
def test_every_score_lies_between_0_and_100(values: dict[str, Decimal]) -> None:
    """Whatever the measured values, every component, topic and overall score is in [0, 100]."""
    card = SCORER.score_values(values)
    assert card.overall is not None
    for score in scores(card).values():
        assert 0.0 <= score <= 100.0


@settings(max_examples=examples(80))
@given(
    st.sampled_from(ROWS),
    st.sampled_from(COMPONENTS),
    st.fractions(min_value=0, max_value=1),
)
def test_moving_toward_the_frontier_never_lowers_a_score(
    row: tuple[int, str], cid: str, step: object
) -> None:
    """Moving one component of a real row toward its best value lowers no score anywhere."""
    values = values_of(row)
    value = values.get(cid)
    c = SYSTEM.components[cid]
    if not isinstance(value, Decimal):
        return
    moved = value + (c.best - value) * Decimal(str(float(step)))  # type: ignore[arg-type]
    before = scores(SCORER.score_values(values))
    after = scores(SCORER.score_values({**values, cid: moved}))
    for node, score in before.items():
        assert after[node] >= score - 1e-9, (row, cid, node)


@settings(max_examples=examples(40))
@given(st.sampled_from(ROWS))
def test_overall_is_the_declared_aggregation_of_the_topics(row: tuple[int, str]) -> None:
    """The overall score equals the weighted mean of the topic scores the system declares."""
    card = SCORER.score_values(values_of(row))
    overall = SYSTEM.overall
    topic_scores = [card.by_id[t.id].score for t in overall.parts]
    assert all(s is not None for s in topic_scores)
    expected = sum(w * s for w, s in zip(overall.weights, topic_scores, strict=True)) / sum(  # type: ignore[misc]
        overall.weights
    )
    assert card.overall is not None
    assert abs(card.overall - expected) < 1e-9


@settings(max_examples=examples(40))
@given(st.sampled_from(ROWS))
def test_contributions_add_up_to_the_overall(row: tuple[int, str]) -> None:
    """The components' contributions (share × score) sum to the overall score."""
    card = SCORER.score_values(values_of(row))
    total = sum(card.contribution(c) or 0.0 for c in SYSTEM.components)
    assert card.overall is not None
    assert abs(total - card.overall) < 1e-9


@settings(max_examples=examples(40))
@given(st.sampled_from(ROWS), st.sampled_from(COMPONENTS))
def test_a_missing_component_removes_every_score_above_it(row: tuple[int, str], cid: str) -> None:
    """Dropping one component leaves its ancestors without a score and lists it as missing."""
    values = values_of(row)
    values.pop(cid, None)
    card = SCORER.score_values(values)
    assert cid in card.missing
    assert card.overall is None

    def ancestors(g: Group) -> list[str]:
        for p in g.parts:
            if p.id == cid:
                return [g.id]
            if isinstance(p, Group) and (found := ancestors(p)):
                return [g.id, *found]
        return []

    for node in ancestors(SYSTEM.overall):
        assert card.by_id[node].score is None


@settings(max_examples=examples(30))
@given(st.sampled_from(sorted(DATA.two_city)), st.sampled_from((2019, 2020)))
def test_a_two_city_score_lies_between_its_cities(code: str, year: int) -> None:
    """Every node of a two-city economy scores between its two cities' scores."""
    card = SCORER.score_row(DATA, year, code)
    for node in card.root.walk():
        if node.score is None:
            continue
        (_, _, a), (_, _, b) = node.cities
        assert a.score is not None
        assert b.score is not None
        assert min(a.score, b.score) - 1e-9 <= node.score <= max(a.score, b.score) + 1e-9
