"""Deterministic applications of a matter, for benchmarks and engine comparisons.

`applications(matter, on=day, seed=0)` yields nested application dicts (DESIGN §10) built from the
matter's fact schema. Values are drawn near the literals of its rules (a bound, its neighbours, an
enum member) and a boolean takes the value its rules want nine times in ten, so both outcomes
occur. With `broken > 0` each fact may instead be missing, null or of a wrong type, and an
undeclared key may appear: the cases an engine must refer. The same seed always gives the same
applications, so a comparison or a benchmark can be repeated exactly.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from .idcodes import check_cn_id, check_uscc, cn_id_check_character, uscc_check_character
from .lang import ir
from .paths import put
from .ruleset import FactSpec, Matter

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_REGIONS = ("110101", "310101", "440303", "440304", "440305", "510104")
_MISSING = object()


def literals(matter: Matter) -> tuple[list[int], list[Decimal], list[dt.date], list[str]]:
    """The int, decimal, date and string literals of a matter's rules and derived facts."""
    ints: set[int] = {0, 1}
    decimals: set[Decimal] = {Decimal(0)}
    dates: set[dt.date] = set()
    strs: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            ints.add(value)
        elif isinstance(value, Decimal):
            decimals.add(value)
        elif isinstance(value, dt.date):
            dates.add(value)
        elif isinstance(value, str):
            strs.add(value)
        elif isinstance(value, tuple):
            for item in value:
                add(item)
        elif isinstance(value, dict):
            for k, v in value.items():
                add(k)
                add(v)

    exprs = [r.expr for r in matter.rules] + [d.expr for d in matter.derived]
    for expr in exprs:
        for node in ir.walk(expr):
            if isinstance(node, ir.Const):
                add(node.value)
    return sorted(ints), sorted(decimals), sorted(dates), sorted(strs)


def preferred_bools(matter: Matter) -> dict[str, bool]:
    """For each bool fact a rule reads plainly or negated, the value that lets that rule pass."""
    preferred: dict[str, bool] = {}

    def visit(node: ir.Node, negated: bool) -> None:
        if isinstance(node, ir.Not):
            visit(node.operand, not negated)
        elif isinstance(node, ir.Fact):
            preferred.setdefault(node.path, not negated)
        elif isinstance(node, ir.And | ir.Or):
            for child in node.children():
                visit(child, negated)

    for rule in matter.rules:
        visit(rule.expr, False)
    return preferred


class _Values:
    """Draws one valid value per fact type from a seeded random source."""

    def __init__(self, matter: Matter, on: dt.date, rng: random.Random) -> None:
        self.rng = rng
        ints, decimals, dates, strs = literals(matter)
        self.ints = sorted({i + d for i in ints for d in (-1, 0, 1)})
        self.decimals = sorted({x + d for x in decimals for d in (Decimal("-0.01"), 0, 1)})
        base = [*dates, on]
        self.dates = sorted(
            {d + dt.timedelta(days=k) for d in base for k in (-1, 0, 1)}
            | {on - dt.timedelta(days=365 * y + k) for y in (1, 2, 3, 5) for k in (-1, 0, 1)}
        )
        self.strs = strs or ["x"]
        self.bools = preferred_bools(matter)

    def cn_id(self) -> str:
        while True:
            born = dt.date(1960, 1, 1) + dt.timedelta(days=self.rng.randrange(16_000))
            first = f"{self.rng.choice(_REGIONS)}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
            candidate = first + cn_id_check_character(first)
            try:
                return check_cn_id(candidate)
            except ValueError:
                continue

    def uscc(self) -> str:
        while True:
            org = "".join(self.rng.choice(_USCC_ALPHABET[:10]) for _ in range(8))
            first = f"91{self.rng.choice(_REGIONS)}{org}"
            first += str(_org_check(org))
            try:
                return check_uscc(first + uscc_check_character(first))
            except ValueError:
                continue

    def scalar(self, kind: str, spec: FactSpec, path: str) -> Any:
        rng = self.rng
        makers: dict[str, Callable[[], Any]] = {
            "bool": lambda: self.bools.get(path, True) is (rng.random() < 0.9),
            "int": lambda: rng.choice(self.ints),
            "decimal": lambda: str(rng.choice(self.decimals)),
            "money": lambda: str(abs(rng.choice(self.decimals)).quantize(Decimal("0.01"))),
            "str": lambda: rng.choice(self.strs) if spec.pattern is None else _MISSING,
            "date": lambda: rng.choice(self.dates).isoformat(),
            "cn_id": self.cn_id,
            "uscc": self.uscc,
            "enum": lambda: rng.choice(spec.values or [""]),
        }
        return makers[kind]()

    def valid(self, path: str, spec: FactSpec) -> Any:
        if spec.type == "list":
            items = (
                self.scalar(spec.of or "str", spec, path) for _ in range(self.rng.randrange(4))
            )
            return [x for x in items if x is not _MISSING]
        return self.scalar(spec.type, spec, path)

    def wrong(self, spec: FactSpec, good: Any) -> Any:
        """A value of the wrong JSON type (or out of its domain) for the fact."""
        table: dict[str, list[Any]] = {
            "bool": [1, 0, "true"],
            "int": [str(good), True, (good if isinstance(good, int) else 0) + 0.5],
            "enum": ["unknown-value", 1],
            "date": ["2021-02-30", 20210101],
            "list": ["not-a-list", [1.5]],
        }
        options = table.get(spec.type, [1.5, True])
        return self.rng.choice(options)


def _org_check(org8: str) -> str:
    """The check character of a GB 11714 organisation code (positions 9–17 of a USCC)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(org8, weights, strict=True))
    digit = 11 - total % 11
    return {10: "X", 11: "0"}.get(digit, str(digit))


def applications(
    matter: Matter,
    *,
    on: dt.date,
    seed: int = 0,
    broken: float = 0.0,
    extra: float = 0.0,
) -> Iterator[dict[str, Any]]:
    """Endless applications of a matter; with `broken`/`extra` > 0 some facts are malformed.

    `broken` is the chance that each fact is missing, null or of a wrong type; `extra` the chance
    that an application carries an undeclared key. With both 0 every application is valid (a
    `str` fact with a `pattern` is left out, as are optional facts now and then).
    """
    rng = random.Random(seed)
    values = _Values(matter, on, rng)
    inputs = list(matter.inputs.items())
    while True:
        app: dict[str, Any] = {}
        for path, spec in inputs:
            value = values.valid(path, spec)
            if spec.optional and rng.random() < 0.3:
                value = _MISSING
            if broken and rng.random() < broken:
                kind = rng.randrange(3)
                value = _MISSING if kind == 0 else None if kind == 1 else values.wrong(spec, value)
            if value is not _MISSING:
                put(app, path, value)
        if extra and rng.random() < extra:
            app["undeclared_key"] = "x"
        yield app
