"""Scoring: measured component values → component, group, topic and overall scores with a trace.

Every node of the result says how it was obtained (`status`): `scored` from a value through the
component's formula, `special` from a declared text (e.g. `No Practice` → 0), `not_applicable`
(left out of its group's mean), `missing` (no value: the node and everything above it has no
score — never zero, never the frontier) or `invalid` (a value the formula cannot take). Each
score carries `bound`: how far the published rounding of the inputs can move it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, NamedTuple

from .dataset import Data, Value
from .formula import FormulaError
from .system import Component, Group, System

Status = Literal["scored", "special", "not_applicable", "missing", "invalid"]
_ABSENT = ("missing", "invalid")


class Scored(NamedTuple):
    """The score of one node (component or group) and how it was obtained (an immutable tuple)."""

    node: Component | Group
    status: Status
    score: float | None
    bound: float = 0.0
    value: Value | None = None
    parts: tuple[Scored, ...] = ()
    cities: tuple[tuple[str, float, Scored], ...] = ()

    @property
    def id(self) -> str:
        return self.node.id

    def walk(self) -> Iterator[Scored]:
        yield self
        for p in self.parts:
            yield from p.walk()


City = tuple[str, float, Scored]
"""One city of an economy measured in several cities: its label, its weight and its scores."""


class Scorecard:
    """Scores of one economy or district under one system, with each node's share of the overall.

    Immutable once built; the per-node index and the shares are computed when first read.
    """

    __slots__ = ("_by_id", "_shares", "name", "root", "system")

    def __init__(self, system: System, name: str, root: Scored) -> None:
        self.system = system
        self.name = name
        self.root = root
        self._by_id: dict[str, Scored] | None = None
        self._shares: dict[str, float] | None = None

    @property
    def by_id(self) -> Mapping[str, Scored]:
        if self._by_id is None:
            self._by_id = {s.id: s for s in self.root.walk()}
        return MappingProxyType(self._by_id)

    @property
    def shares(self) -> Mapping[str, float]:
        """Each node's weight in the overall score (not-applicable parts weigh nothing)."""
        if self._shares is None:
            self._shares = _shares(self.root)
        return MappingProxyType(self._shares)

    @property
    def overall(self) -> float | None:
        return self.root.score

    @property
    def cities(self) -> tuple[City, ...]:
        """The cities combined into this economy (label, weight, the city's overall), or ()."""
        return self.root.cities

    @property
    def topics(self) -> tuple[Scored, ...]:
        return self.root.parts

    @property
    def missing(self) -> tuple[str, ...]:
        """Components with no usable value (missing or invalid), in system order."""
        return tuple(
            s.id for s in self.root.walk() if isinstance(s.node, Component) and s.status in _ABSENT
        )

    def contribution(self, node_id: str) -> float | None:
        """Points this node adds to the overall score (share × score)."""
        s = self.by_id[node_id]
        return None if s.score is None else self.shares.get(node_id, 0.0) * s.score


def _decimal(v: Value | int | float) -> Value:
    if isinstance(v, Decimal | str):
        return v
    if isinstance(v, bool):
        raise TypeError("a component value is a number or a declared text, not a bool")
    return Decimal(v) if isinstance(v, int) else Decimal(repr(v))


def _half_unit(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(5).scaleb(exponent - 1)


class Scorer:
    """Scores values under one system; remembers each component's score of each value seen."""

    def __init__(self, system: System) -> None:
        self.system = system
        # keyed by the value's text: 12 and 12.0 are equal but carry different rounding bounds
        self._memo: dict[str, dict[str | None, Scored]] = {
            cid: {None: Scored(c, "missing", None)} for cid, c in system.components.items()
        }

    def component(self, c: Component, value: Value | None) -> Scored:
        memo = self._memo[c.id]
        key = value if value is None or isinstance(value, str) else str(value)
        hit = memo.get(key)
        if hit is None:
            assert value is not None
            hit = memo[key] = self._component(c, value)
        return hit

    def _component(self, c: Component, value: Value) -> Scored:
        if isinstance(value, str):
            special = self.system.special_values.get(value)
            if special is None:
                return Scored(c, "invalid", None, value=value)
            if special.score is None:
                return Scored(c, "not_applicable", None, value=value)
            return Scored(c, "special", float(special.score), value=value)
        try:
            score = c.score(value)
            bound = Decimal(0)
            if c.rounding == "last_digit":
                half = _half_unit(value)
                bound = max(abs(c.score(value + half) - score), abs(c.score(value - half) - score))
        except FormulaError:
            return Scored(c, "invalid", None, value=value)
        return Scored(c, "scored", float(score), float(bound), value)

    def group(self, g: Group, values: Mapping[str, Value]) -> Scored:
        parts = tuple(
            self.component(p, values.get(p.id))
            if isinstance(p, Component)
            else self.group(p, values)
            for p in g.parts
        )
        return aggregate(g, parts)

    def score_values(self, values: Mapping[str, Value | int | float], name: str = "") -> Scorecard:
        """Score a mapping of component id → value (any subset; ints and floats are taken as
        the decimals they print as)."""
        clean = {k: _decimal(v) for k, v in values.items()}
        return card(self.system, name, self.group(self.system.overall, clean))

    def score_cities(
        self,
        cities: Sequence[tuple[str, Decimal | float, Mapping[str, Value | int | float]]],
        name: str = "",
    ) -> Scorecard:
        """Score an economy measured in several cities: each city's values are scored, then every
        node is the weighted mean of the cities' scores (`combine_cities`). Weights are taken as
        given (a values file checks that they sum to 1)."""
        if len(cities) < 2:
            raise ValueError("an economy measured in cities has at least two")
        scored = tuple(
            (city, float(w), self.score_values(values, city).root) for city, w, values in cities
        )
        return card(self.system, name, combine_cities(scored))

    def score_row(self, data: Data, year: int, code: str) -> Scorecard:
        """Score a published row; a two-city economy is scored from its cities' rows."""
        two = data.two_city.get(code)
        row = data.row(year, code)
        if two is None:
            return self.score_values(row.values, row.name)
        first = self.score_row(data, year, two.first)
        second = self.score_row(data, year, two.second)
        w = float(two.weight)
        root = combine(
            first.root,
            second.root,
            w,
            (f"{two.first} ({first.name})", f"{two.second} ({second.name})"),
        )
        return card(self.system, row.name, root)


def aggregate(g: Group, parts: tuple[Scored, ...]) -> Scored:
    """A group's score from its parts' scores, by the group's declared aggregation."""
    if any(p.status in _ABSENT for p in parts):
        return Scored(g, "missing", None, parts=parts)
    total = weight = bound = 0.0
    for p, w in zip(parts, g.weights, strict=True):
        if p.status == "not_applicable" or p.score is None:
            continue
        total += w * p.score
        bound += w * p.bound
        weight += w
    if weight == 0.0:
        return Scored(g, "not_applicable", None, parts=parts)
    return Scored(g, "scored", total / weight, bound / weight, parts=parts)


def combine(a: Scored, b: Scored, w: float, labels: tuple[str, str]) -> Scored:
    """Node by node, `w`·a + (1−w)·b: the national score of an economy measured in two cities."""
    return combine_cities(((labels[0], w, a), (labels[1], 1.0 - w, b)))


def combine_cities(cities: Sequence[City]) -> Scored:
    """Node by node, the weighted mean of the cities' scores (Doing Business weights the two
    cities' *scores*, not their values, by population).

    A node missing (or invalid) in a city is missing in the economy; a node not applicable in
    every city is not applicable; one not applicable in some cities takes the mean of the others.
    """
    first = cities[0][2]
    parts = tuple(
        combine_cities(tuple((label, w, s.parts[i]) for label, w, s in cities))
        for i in range(len(first.parts))
    )
    statuses = [s.status for _, _, s in cities]
    if any(st in _ABSENT for st in statuses):
        status: Status = "missing" if "missing" in statuses else "invalid"
        return Scored(first.node, status, None, parts=parts, cities=tuple(cities))
    live = [(w, s) for _, w, s in cities if s.score is not None]
    if not live:
        return Scored(first.node, "not_applicable", None, parts=parts, cities=tuple(cities))
    if len(live) == 1:
        only = live[0][1]
        return Scored(
            first.node, "scored", only.score, only.bound, parts=parts, cities=tuple(cities)
        )
    weight = sum(w for w, _ in live)
    score = sum(w * s.score for w, s in live if s.score is not None) / weight
    bound = sum(w * s.bound for w, s in live) / weight
    return Scored(first.node, "scored", score, bound, parts=parts, cities=tuple(cities))


def card(system: System, name: str, root: Scored) -> Scorecard:
    return Scorecard(system, name, root)


def _shares(root: Scored) -> dict[str, float]:
    shares: dict[str, float] = {}

    def share(s: Scored, weight: float) -> None:
        shares[s.id] = weight
        g = s.node
        if not isinstance(g, Group):
            return
        live = [
            (p, w) for p, w in zip(s.parts, g.weights, strict=True) if p.status != "not_applicable"
        ]
        total = sum(w for _, w in live)
        for p, w in zip(s.parts, g.weights, strict=True):
            share(p, 0.0 if p.status == "not_applicable" or not total else weight * w / total)

    share(root, 1.0)
    return shares
