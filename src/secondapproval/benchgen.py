"""Deterministic applications of a matter, for benchmarks and engine comparisons.

`applications(matter, on=day, seed=0)` yields nested application dicts (DESIGN §10) built from the
matter's fact schema. Values are drawn near the literals of its rules (a bound, its neighbours, an
enum member) and a boolean takes the value its rules want nine times in ten, so both outcomes
occur. With `broken > 0` each fact may instead be missing, null or refused (a wrong type or form,
a spoiled ID number), and an undeclared key may appear: the cases an engine must refer. The same
seed always gives the same applications, so a comparison or a benchmark can be repeated exactly.
The values come from `secondapproval.generate`; this module only chooses among them.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from re import _parser as sre_parse  # type: ignore[attr-defined]  # re's own (sre_parse is deprecated)
from typing import Any

from .generate.identifiers import DIGITS, REGION_CODES, cn_id, org_code, regions_in, uscc
from .generate.literals import constants, preferred_bools
from .generate.values import near, refused
from .paths import put
from .ruleset import FactSpec, Matter, field_spec

_BORN_FROM, _BIRTH_DAYS = dt.date(1920, 1, 1), 31_000
"""Applicants are born on one of 31,000 days from 1920 (until early 2004): the elderly too."""
_YEARS_AGO = (1, 2, 3, 5)
"""Dates about that many years (of 365 days) before and after the decision date (a deadline, a
validity end), and a day either side."""
_MISSING = object()


def _sample(parsed: Any, rng: random.Random) -> str | None:
    """A string of a simple pattern (literals, classes and ranges, bounded repeats, branches);
    None for anything else (the fact is then left out)."""
    out = []
    for op, arg in parsed:
        part = _element(str(op), arg, rng)
        if part is None:
            return None
        out.append(part)
    return "".join(out)


def _element(name: str, arg: Any, rng: random.Random) -> str | None:
    """A string of one parsed element of a pattern, or None when it is not a simple one."""
    if name == "LITERAL":
        return chr(arg)
    if name == "IN":
        if any(str(kind) not in ("RANGE", "LITERAL") for kind, _ in arg):
            return None
        chars = [
            chr(c)
            for kind, value in arg
            for c in (range(value[0], value[1] + 1) if str(kind) == "RANGE" else [value])
        ]
        return rng.choice(chars) if chars else None
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        low, high, sub = arg
        return _sample(list(sub) * rng.randint(low, min(high, low + 3)), rng)
    if name == "SUBPATTERN":
        return _sample(arg[-1], rng)
    if name == "BRANCH":
        return _sample(rng.choice(arg[1]), rng)
    return None


@functools.cache
def _pattern(text: str) -> tuple[re.Pattern[str], Any]:
    """A fact's pattern compiled, and parsed for drawing strings of it (once per pattern)."""
    return re.compile(text, re.ASCII), sre_parse.parse(text)


class _Values:
    """Draws one valid value per fact type from a seeded random source."""

    def __init__(self, matter: Matter, on: dt.date, rng: random.Random) -> None:
        self.rng = rng
        found = constants(matter)
        self.ints = sorted({v for i in found.ints for v in near(i, "int")})
        self.decimals = sorted({v for x in found.decimals for v in near(x, "decimal")}, key=Decimal)
        self.money = sorted({v for x in found.decimals for v in near(x, "money")}, key=Decimal)
        years_ago = [on + dt.timedelta(days=365 * y) for y in _YEARS_AGO for y in (-y, y)]
        self.dates = sorted({v for d in (*found.dates, on, *years_ago) for v in near(d, "date")})
        self.strs = found.strs or ("x",)
        self.bools = preferred_bools(matter)

    def cn_id(self) -> str:
        """An ID number born on a random day, in a region assigned in that year."""
        while True:
            born = _BORN_FROM + dt.timedelta(days=self.rng.randrange(_BIRTH_DAYS))
            region = self.rng.choice(REGION_CODES)
            sequence = self.rng.randrange(1000)
            if region in regions_in(born.year):
                return cn_id(region, born, sequence)

    def uscc(self) -> str:
        """A company's credit code (head 91) with a random organisation code."""
        digits = "".join(self.rng.choice(DIGITS) for _ in range(8))
        return uscc("91", self.rng.choice(REGION_CODES), org_code(digits))

    def text(self, spec: FactSpec) -> Any:
        """One of the matter's string constants (those matching the fact's pattern, if it has
        one; none matching: the fact is left out)."""
        if spec.pattern is None:
            return self.rng.choice(self.strs)
        pattern, parsed = _pattern(spec.pattern)
        fitting = [t for t in self.strs if pattern.fullmatch(t)]
        if fitting:
            return self.rng.choice(fitting)
        drawn = _sample(parsed, self.rng)
        return drawn if drawn is not None and pattern.fullmatch(drawn) else _MISSING

    def scalar(self, kind: str, spec: FactSpec, path: str) -> Any:
        rng = self.rng
        makers: dict[str, Callable[[], Any]] = {
            "bool": lambda: self.bools.get(path, True) is (rng.random() < 0.9),
            "int": lambda: rng.choice(self.ints),
            "decimal": lambda: rng.choice(self.decimals),
            "money": lambda: rng.choice(self.money),
            "str": lambda: self.text(spec),
            "date": lambda: rng.choice(self.dates),
            "cn_id": self.cn_id,
            "uscc": self.uscc,
            "enum": lambda: rng.choice(spec.values or [""]),
        }
        return makers[kind]()

    def valid(self, path: str, spec: FactSpec) -> Any:
        if spec.type == "list" and spec.fields is not None:
            return [self.record(path, spec) for _ in range(self.rng.randrange(4))]
        if spec.type == "list":
            items = (
                self.scalar(spec.of or "str", spec, path) for _ in range(self.rng.randrange(4))
            )
            return [x for x in items if x is not _MISSING]
        return self.scalar(spec.type, spec, path)

    def record(self, path: str, spec: FactSpec) -> dict[str, Any]:
        """An item of a list of records: each field valid, an optional one now and then left
        out (as is a `str` field with a `pattern`: a required one makes the list invalid)."""
        out: dict[str, Any] = {}
        for name, field in (spec.fields or {}).items():
            value = self.scalar(field.type, field_spec(field), f"{path}[].{name}")
            if value is not _MISSING and not (field.optional and self.rng.random() < 0.3):
                out[name] = value
        return out

    def wrong(self, spec: FactSpec, good: Any) -> Any:
        """A value the validator refuses for the fact: one way of going wrong, then one value."""
        found = refused(spec.type, good, spec.of)
        return self.rng.choice(found[self.rng.choice(list(found))])


def applications(
    matter: Matter,
    *,
    on: dt.date,
    seed: int = 0,
    broken: float = 0.0,
    extra: float = 0.0,
) -> Iterator[dict[str, Any]]:
    """Endless applications of a matter; with `broken`/`extra` > 0 some facts are malformed.

    `broken` is the chance that each fact is missing, null or refused; `extra` the chance
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
