"""Hypothesis strategies for secondapproval: applications of a matter, and random expressions.

`applications(matter)` draws applications (the nested JSON of DESIGN §10) from a matter's fact
schema: valid values, values at, just below and just above every literal its rules compare a fact
against, every enum value, missing and null facts, malformed citizen ID numbers and credit codes,
wrong JSON types and undeclared keys. `valid_applications(matter)` draws only complete, valid
ones. `expressions(schema)` draws random well-typed IR expressions over a fact schema, and
`synthetic_matter` wraps expressions into a `Matter` any backend can compile — the tools of the
differential tests between backends. Importing this module needs Hypothesis (a dev dependency).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from .idcodes import cn_id_check_character, uscc_check_character
from .lang import ir
from .lang.check import check
from .lang.types import BOOL, Type
from .paths import nest
from .ruleset import FactSpec, Matter, MatterFile, Rule, canonical_digest, fact_type

__all__ = [
    "SCHEMA",
    "SCHEMA_FACTS",
    "applications",
    "bad_cn_ids",
    "bad_usccs",
    "cn_ids",
    "expressions",
    "fact_values",
    "synthetic_matter",
    "usccs",
    "valid_applications",
]

_REGIONS = (("110105", 1900), ("110101", 1900), ("440304", 1983), ("442000", 1988))
"""Real GB/T 2260 address codes and the first birth year each is valid for."""
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_MIN_DATE, _MAX_DATE = dt.date(1950, 1, 1), dt.date(2060, 12, 31)

# ---- identifiers ----------------------------------------------------------------------------


@st.composite
def cn_ids(draw: st.DrawFn, born: st.SearchStrategy[dt.date] | None = None) -> str:
    """Valid citizen ID numbers (GB 11643): real region, birth date, sequence, check character."""
    day = draw(born if born is not None else st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31)))
    regions = [code for code, first in _REGIONS if day.year >= first]
    region = draw(st.sampled_from(regions))
    seq = draw(st.integers(0, 999))
    first17 = f"{region}{day:%Y%m%d}{seq:03d}"
    return first17 + cn_id_check_character(first17)


@st.composite
def bad_cn_ids(draw: st.DrawFn) -> Any:
    """Citizen ID numbers that must be refused: bad check, date, form, length or JSON type."""
    good = draw(cn_ids())
    kind = draw(st.sampled_from(["check", "date", "lower", "short", "old", "space", "type"]))
    if kind == "check":
        wrong = [c for c in "0123456789X" if c != good[-1]]
        return good[:-1] + draw(st.sampled_from(wrong))
    if kind == "date":
        first17 = good[:10] + "1332" + good[14:17]
        return first17 + cn_id_check_character(first17)
    if kind == "lower":
        first17 = good[:17]
        check_char = cn_id_check_character(first17)
        return first17 + ("x" if check_char == "X" else check_char + "x")
    if kind == "short":
        return good[: draw(st.integers(0, 17))]
    if kind == "old":
        return good[:6] + good[8:17]
    if kind == "space":
        return good[:6] + " " + good[6:]
    return draw(st.one_of(st.integers(), st.none(), st.booleans()))


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Valid unified social credit codes (GB 32100) with their check character."""
    dept = draw(st.sampled_from("159"))
    kind = draw(st.sampled_from("123"))
    region = draw(st.sampled_from([code for code, _ in _REGIONS]))
    org = draw(st.text(alphabet=_USCC_ALPHABET, min_size=9, max_size=9))
    first17 = f"{dept}{kind}{region}{org}"
    return first17 + uscc_check_character(first17)


@st.composite
def bad_usccs(draw: st.DrawFn) -> Any:
    """Credit codes that must be refused: bad check character, letters, length, case, type."""
    good = draw(usccs())
    kind = draw(st.sampled_from(["check", "letter", "short", "lower", "type"]))
    if kind == "check":
        return good[:-1] + draw(st.sampled_from([c for c in _USCC_ALPHABET if c != good[-1]]))
    if kind == "letter":
        return good[:2] + "I" + good[3:]
    if kind == "short":
        return good[: draw(st.integers(0, 17))]
    if kind == "lower":
        return good.lower() if good.lower() != good else good[:-1] + "!"
    return draw(st.one_of(st.integers(), st.none(), st.floats(allow_nan=False)))


# ---- literals the rules compare facts against -------------------------------------------------


def _literals(matter: Matter) -> dict[str, set[Any]]:
    """Per fact path, the literals any expression of the matter compares it with."""
    found: dict[str, set[Any]] = {}
    exprs = [r.expr for r in matter.rules] + [d.expr for d in matter.derived]
    for expr in exprs:
        for node in ir.walk(expr):
            pairs: list[tuple[ir.Node, ir.Node]] = []
            if isinstance(node, ir.Compare):
                pairs = [(node.left, node.right), (node.right, node.left)]
            elif isinstance(node, ir.In):
                pairs = [(node.item, node.container)]
            elif isinstance(node, ir.Lookup):
                pairs = [(node.key, ir.Const(tuple(node.table.value)))]
            for fact, lit in pairs:
                if isinstance(fact, ir.Fact) and isinstance(lit, ir.Const):
                    values = lit.value if isinstance(lit.value, tuple) else (lit.value,)
                    found.setdefault(fact.path, set()).update(
                        v for v in values if not isinstance(v, dict)
                    )
    return found


def _numbers(matter: Matter) -> set[int]:
    """Every whole-number literal of the matter (years, months, days next to dates)."""
    out: set[int] = set()
    for expr in [r.expr for r in matter.rules] + [d.expr for d in matter.derived]:
        for node in ir.walk(expr):
            if isinstance(node, ir.Const):
                values = node.value if isinstance(node.value, tuple) else (node.value,)
                if isinstance(node.value, dict):
                    values = tuple(node.value.values())
                out.update(v for v in values if type(v) is int and 0 <= v <= 120)
    return out


def _near(value: Any, spec: FactSpec) -> list[Any]:
    """A literal and its neighbours just below and above, in the fact's JSON form."""
    if isinstance(value, bool):
        return [value, not value]
    if isinstance(value, int) and spec.type == "int":
        return [value - 1, value, value + 1]
    if isinstance(value, int | Decimal) and spec.type in ("decimal", "money"):
        step = Decimal("0.01")
        return [_decimal_json(Decimal(value) + d, spec) for d in (-step, Decimal(0), step)]
    if isinstance(value, dt.date) and spec.type == "date":
        return [
            (value + dt.timedelta(days=d)).isoformat()
            for d in (-1, 0, 1)
            if dt.date.min + dt.timedelta(days=1) < value < dt.date.max - dt.timedelta(days=1)
        ]
    if isinstance(value, str) and spec.type in ("str", "enum"):
        return [value, value + "x", value[:-1]]
    return []


def _decimal_json(value: Decimal, spec: FactSpec) -> Any:
    """A decimal in one of the JSON forms the validator accepts (string or number)."""
    if spec.type == "money":
        value = value.quantize(Decimal("0.01"))
    return str(value)


# ---- values of one fact ---------------------------------------------------------------------


def _valid_scalar(kind: str, spec: FactSpec) -> st.SearchStrategy[Any]:
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.one_of(st.integers(-5, 130), st.integers(-(2**70), 2**70))
    if kind == "decimal":
        return st.one_of(
            st.integers(-(10**6), 10**6),
            st.decimals(-(10**9), 10**9, places=4, allow_nan=False, allow_infinity=False).map(str),
        )
    if kind == "money":
        return st.decimals(0, 10**9, places=2, allow_nan=False, allow_infinity=False).map(str)
    if kind == "date":
        return st.dates(_MIN_DATE, _MAX_DATE).map(dt.date.isoformat)
    if kind == "cn_id":
        return cn_ids()
    if kind == "uscc":
        return usccs()
    if kind == "enum":
        return st.sampled_from(spec.values or [""])
    if spec.pattern is not None:
        return st.from_regex(spec.pattern, fullmatch=True)
    return st.text(max_size=12)


def _wrong_type(kind: str) -> st.SearchStrategy[Any]:
    """JSON values of a type the fact does not accept."""
    options: dict[str, st.SearchStrategy[Any]] = {
        "bool": st.one_of(st.integers(0, 1), st.just("true")),
        "int": st.one_of(st.just("35"), st.booleans(), st.floats(0, 100)),
        "decimal": st.one_of(st.just("12,5"), st.booleans(), st.just("1e3"), st.just([1])),
        "money": st.one_of(st.just("1.005"), st.booleans(), st.just({"cny": 1})),
        "date": st.one_of(st.just("2019-02-29"), st.just("2019/07/01"), st.integers()),
        "str": st.one_of(st.integers(), st.booleans(), st.just(["x"])),
        "enum": st.one_of(st.just("unknown-value"), st.integers(), st.booleans()),
        "list": st.one_of(st.just("a,b"), st.integers(), st.just({"a": 1})),
        "cn_id": bad_cn_ids(),
        "uscc": bad_usccs(),
    }
    return options[kind]


def fact_values(
    spec: FactSpec,
    literals: Sequence[Any] = (),
    numbers: Sequence[int] = (),
    on: dt.date | None = None,
    *,
    valid_only: bool = False,
) -> st.SearchStrategy[Any]:
    """JSON values of one fact: valid ones, boundary values next to `literals`, malformed ones.

    `numbers` and `on` add dates (and citizen ID birth dates) that many years, months or days
    before the decision date, and a day either side — the edges of age and deadline rules.
    """
    if spec.type == "list":
        item = FactSpec(type=spec.of or "str", source=spec.source)
        valid: st.SearchStrategy[Any] = st.lists(
            fact_values(item, literals, numbers, on, valid_only=True), max_size=4
        )
    else:
        choices = [_valid_scalar(spec.type, spec)]
        near = [v for lit in sorted(literals, key=repr) for v in _near(lit, spec)]
        if spec.type == "enum":
            near += list(spec.values or [])
        if on is not None and spec.type in ("date", "cn_id"):
            near_dates = _dates_near(on, numbers)
            if spec.type == "date":
                near += [d.isoformat() for d in near_dates]
            else:
                choices.append(cn_ids(st.sampled_from(near_dates)))
        near = [v for v in near if _accepts(spec, v)]
        if near:
            choices.append(st.sampled_from(near))
        valid = st.one_of(*choices)
    if valid_only:
        return valid
    return _weighted(valid, _wrong_type(spec.type), 8)


def _accepts(spec: FactSpec, value: Any) -> bool:
    """Whether a boundary value is still of the fact's type (it may be invalid in other ways)."""
    if spec.type == "enum":
        return value in (spec.values or [])
    return True


def _dates_near(on: dt.date, numbers: Sequence[int]) -> list[dt.date]:
    from .lang.functions import add_months

    out: set[dt.date] = {on}
    for n in set(numbers) | {0, 1}:
        for back in (add_months(on, -12 * n), add_months(on, -n), on - dt.timedelta(days=n)):
            for d in (-1, 0, 1):
                day = back + dt.timedelta(days=d)
                if _MIN_DATE.replace(year=1900) <= day <= _MAX_DATE:
                    out.add(day)
    return sorted(out)


# ---- applications -----------------------------------------------------------------------------


_ABSENT = object()


@st.composite
def _weighted(
    draw: st.DrawFn, usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int
) -> Any:
    """`usual` about `odds` times as often as `rare` (and still shrinking towards `usual`)."""
    return draw(rare if draw(st.integers(0, odds)) == odds else usual)


@st.composite
def applications(draw: st.DrawFn, matter: Matter, on: dt.date | None = None) -> Any:
    """Applications of `matter`: mostly well-formed, with missing, malformed and extra facts.

    Pass the decision date as `on` to draw birth dates and dates next to the age and deadline
    limits the rules compute from it.
    """
    literals = _literals(matter)
    numbers = sorted(_numbers(matter))
    flat: dict[str, Any] = {}
    for path, spec in matter.inputs.items():
        values = fact_values(spec, sorted(literals.get(path, ()), key=repr), numbers, on)
        value = draw(_weighted(values, st.sampled_from([_ABSENT, None]), 12))
        if value is not _ABSENT:
            flat[path] = value
    app = nest(flat)
    if draw(st.integers(0, 20)) == 20:
        groups = sorted({p.rsplit(".", 1)[0] for p in matter.inputs if "." in p})
        where = draw(st.sampled_from(["", *groups]))
        node = app
        for g in where.split(".") if where else []:
            child = node.setdefault(g, {})
            node = child if isinstance(child, dict) else {}
        node["x_" + draw(st.from_regex(r"[a-z]{1,6}", fullmatch=True))] = draw(st.integers())
    if draw(st.integers(0, 100)) == 100:
        return draw(st.sampled_from([[], "application", 35, None]))
    return app


@st.composite
def valid_applications(draw: st.DrawFn, matter: Matter, on: dt.date | None = None) -> Any:
    """Complete applications of `matter` in which every fact is present and valid."""
    literals = _literals(matter)
    numbers = sorted(_numbers(matter))
    flat = {
        path: draw(
            fact_values(
                spec, sorted(literals.get(path, ()), key=repr), numbers, on, valid_only=True
            )
        )
        for path, spec in matter.inputs.items()
    }
    return nest(flat)


# ---- random expressions -------------------------------------------------------------------------

_SMALL_INTS = st.integers(-3, 40)
_DECIMALS = st.decimals(-100, 100, places=2, allow_nan=False, allow_infinity=False)
_DATES = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
_STRINGS = st.sampled_from(["", "a", "b", "ab", "中", "bachelor", "master"])


def _facts_of(schema: Mapping[str, Type], want: Callable[[Type], bool]) -> list[str]:
    return sorted(p for p, t in schema.items() if want(t))


def expressions(schema: Mapping[str, Type], max_depth: int = 3) -> st.SearchStrategy[ir.Node]:
    """Random well-typed boolean expressions over `schema`, typed by the checker."""
    gen = _ExprGen(schema)
    return gen.boolean(max_depth).map(gen.typed)


class _ExprGen:
    """Builds expression strategies by result type, reading facts of `schema`."""

    def __init__(self, schema: Mapping[str, Type]) -> None:
        self.schema = dict(schema)

    def typed(self, node: ir.Node) -> ir.Node:
        typed, problems = check(node, self.schema, BOOL)
        if problems:
            raise ValueError(f"generated an ill-typed expression: {ir.render(node)}: {problems}")
        return typed

    def facts(self, want: Callable[[Type], bool]) -> list[st.SearchStrategy[ir.Node]]:
        paths = _facts_of(self.schema, want)
        return [st.sampled_from(paths).map(ir.Fact)] if paths else []

    def boolean(self, depth: int) -> st.SearchStrategy[ir.Node]:
        leaves: list[st.SearchStrategy[ir.Node]] = [
            st.booleans().map(ir.Const),
            *self.facts(lambda t: t.kind == "bool"),
            self.comparison(depth),
            self.membership(depth),
        ]
        if depth <= 0:
            return st.one_of(*leaves)
        sub = self.boolean(depth - 1)
        return st.one_of(
            *leaves,
            sub.map(ir.Not),
            st.lists(sub, min_size=2, max_size=3).map(lambda xs: ir.And(tuple(xs))),
            st.lists(sub, min_size=2, max_size=3).map(lambda xs: ir.Or(tuple(xs))),
            *self.quantifiers(),
        )

    def comparison(self, depth: int) -> st.SearchStrategy[ir.Node]:
        ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
        kinds = [self.number(depth - 1), self.date(depth - 1), self.string()]
        equality = st.sampled_from(["==", "!="])
        flags = st.one_of(st.booleans().map(ir.Const), *self.facts(lambda t: t.kind == "bool"))
        lists = [
            st.builds(
                ir.Compare,
                equality,
                st.just(ir.Fact(p)),
                st.one_of(
                    st.just(ir.Fact(p)),
                    st.lists(_STRINGS if t.elem.kind == "str" else _SMALL_INTS, max_size=2).map(
                        lambda v: ir.Const(tuple(v))
                    ),
                ),
            )
            for p, t in sorted(self.schema.items())
            if t.kind == "list" and t.elem is not None and t.elem.kind in ("str", "int")
        ]
        return st.one_of(
            *[st.builds(ir.Compare, ops, k, k) for k in kinds],
            st.builds(ir.Compare, equality, flags, flags),
            *lists,
            st.builds(ir.In, self.string(), self.string(), st.booleans()),
        )

    def membership(self, depth: int) -> st.SearchStrategy[ir.Node]:
        del depth
        options: list[st.SearchStrategy[ir.Node]] = []
        for path, t in sorted(self.schema.items()):
            if t.values is not None:
                lits = st.lists(st.sampled_from(sorted(t.values)), max_size=3, unique=True)
                options.append(
                    st.builds(
                        ir.In,
                        st.just(ir.Fact(path)),
                        lits.map(lambda v: ir.Const(tuple(v))),
                        st.booleans(),
                    )
                )
            elif t.kind == "int":
                ints = st.lists(_SMALL_INTS, max_size=3, unique=True)
                options.append(
                    st.builds(
                        ir.In,
                        st.just(ir.Fact(path)),
                        ints.map(lambda v: ir.Const(tuple(v))),
                        st.booleans(),
                    )
                )
            elif t.kind == "list" and t.elem is not None and t.elem.kind == "str":
                options.append(
                    st.builds(ir.In, self.string(), st.just(ir.Fact(path)), st.booleans())
                )
        if not options:
            return st.booleans().map(ir.Const)
        return st.one_of(*options)

    def quantifiers(self) -> list[st.SearchStrategy[ir.Node]]:
        out: list[st.SearchStrategy[ir.Node]] = []
        for path, t in sorted(self.schema.items()):
            if t.kind == "list" and t.elem is not None and t.elem.numeric:
                pred = st.builds(
                    ir.Compare,
                    st.sampled_from(["<", ">=", "=="]),
                    st.just(ir.It()),
                    _SMALL_INTS.map(ir.Const),
                )
                out.append(
                    st.builds(
                        ir.Quantifier, st.sampled_from(["any", "all"]), st.just(ir.Fact(path)), pred
                    )
                )
        return out

    def number(self, depth: int) -> st.SearchStrategy[ir.Node]:
        leaves: list[st.SearchStrategy[ir.Node]] = [
            _SMALL_INTS.map(ir.Const),
            _DECIMALS.map(ir.Const),
            *self.facts(lambda t: t.numeric),
        ]
        enums = _facts_of(self.schema, lambda t: t.values is not None)
        if enums:
            leaves.append(self.lookup(enums))
        lists = _facts_of(self.schema, lambda t: t.kind == "list")
        if lists:
            leaves.append(st.sampled_from(lists).map(lambda p: ir.Call("len", (ir.Fact(p),))))
        dates = self.date(0)
        leaves.append(
            st.builds(
                lambda f, a, b: ir.Call(f, (a, b)),
                st.sampled_from(["years_between", "months_between", "days_between"]),
                dates,
                dates,
            )
        )
        ids = _facts_of(self.schema, lambda t: t.domain == "cn_id")
        if ids:
            leaves.append(
                st.sampled_from(ids).map(
                    lambda p: ir.Call("age_on", (ir.Fact(p), ir.DecisionDate()))
                )
            )
        numeric_lists = _facts_of(
            self.schema, lambda t: t.kind == "list" and t.elem is not None and t.elem.numeric
        )
        if numeric_lists:
            leaves.append(
                st.sampled_from(numeric_lists).map(lambda p: ir.Call("sum", (ir.Fact(p),)))
            )
        if depth <= 0:
            return st.one_of(*leaves)
        sub = self.number(depth - 1)
        return st.one_of(
            *leaves,
            st.builds(ir.Arith, st.sampled_from(["+", "-", "*", "/"]), sub, sub),
            st.builds(ir.Arith, st.just("**"), sub, st.integers(0, 3).map(ir.Const)),
            sub.map(ir.Neg),
            st.builds(lambda f, a: ir.Call(f, (a,)), st.sampled_from(["abs", "round"]), sub),
            st.builds(lambda a, n: ir.Call("round", (a, ir.Const(n))), sub, st.integers(0, 3)),
            st.builds(ir.Arith, st.just("**"), sub, _DECIMALS.map(ir.Const)),
            st.builds(
                lambda f, a, b: ir.Call(f, (a, b)), st.sampled_from(["min", "max"]), sub, sub
            ),
            st.builds(lambda a, b, c: ir.Call("clip", (a, b, c)), sub, sub, sub),
        )

    def lookup(self, enums: list[str]) -> st.SearchStrategy[ir.Node]:
        @st.composite
        def build(draw: st.DrawFn) -> ir.Node:
            path = draw(st.sampled_from(enums))
            values = sorted(self.schema[path].values or ())
            keys = draw(st.lists(st.sampled_from(values), min_size=1, unique=True))
            table = {k: draw(_SMALL_INTS) for k in keys}
            return ir.Lookup(ir.Const(table), ir.Fact(path))

        return build()

    def date(self, depth: int) -> st.SearchStrategy[ir.Node]:
        ids = _facts_of(self.schema, lambda t: t.domain == "cn_id")
        leaves: list[st.SearchStrategy[ir.Node]] = [
            _DATES.map(ir.Const),
            st.just(ir.DecisionDate()),
            *self.facts(lambda t: t.kind == "date"),
            *(
                [st.sampled_from(ids).map(lambda p: ir.Call("birth_date", (ir.Fact(p),)))]
                if ids
                else []
            ),
        ]
        if depth <= 0:
            return st.one_of(*leaves)
        sub = self.date(depth - 1)
        return st.one_of(
            *leaves,
            st.builds(
                lambda f, d, n: ir.Call(f, (d, ir.Const(n))),
                st.sampled_from(["add_days", "add_months", "add_years"]),
                sub,
                st.integers(-400, 400),
            ),
        )

    def string(self) -> st.SearchStrategy[ir.Node]:
        ids = _facts_of(self.schema, lambda t: t.domain == "cn_id")
        return st.one_of(
            _STRINGS.map(ir.Const),
            *self.facts(lambda t: t.kind == "str" and t.values is None),
            *(
                [st.sampled_from(ids).map(lambda p: ir.Call("sex_of", (ir.Fact(p),)))]
                if ids
                else []
            ),
        )


# ---- a matter around expressions ----------------------------------------------------------------


def synthetic_matter(
    facts: Mapping[str, FactSpec], rules: Sequence[ir.Node], matter_id: str = "synthetic"
) -> Matter:
    """A checked `Matter` with the given input facts and one rule per (typed) expression."""
    spec = MatterFile.model_validate(
        {
            "matter": matter_id,
            "title": {"zh": "合成事项", "en": "Synthetic matter"},
            "version": "1",
            "effective": {"from": "1900-01-01"},
            "facts": {p: f.model_dump(exclude_none=True) for p, f in facts.items()},
            "rules": [
                {
                    "id": f"r{i}",
                    "when": ir.render(e),
                    "says": {"zh": "规则", "en": "rule"},
                    "refer": {"code": f"R{i}", "zh": "不符合", "en": "not met"},
                }
                for i, e in enumerate(rules)
            ],
        }
    )
    types = {p: fact_type(f) for p, f in facts.items()}
    checked = tuple(
        Rule(spec.rules[i], e, tuple(sorted(ir.facts_of(e))), ir.facts_of(e))
        for i, e in enumerate(rules)
    )
    return Matter(spec, "<synthetic>", canonical_digest(spec), types, (), checked, "")


SCHEMA_FACTS: dict[str, FactSpec] = {
    "a.n": FactSpec(type="int", source="applicant"),
    "a.m": FactSpec(type="int", source="applicant"),
    "a.x": FactSpec(type="decimal", source="applicant"),
    "a.flag": FactSpec(type="bool", source="applicant"),
    "a.day": FactSpec(type="date", source="applicant"),
    "a.name": FactSpec(type="str", source="applicant"),
    "a.level": FactSpec(type="enum", values=["low", "mid", "high"], source="applicant"),
    "a.id": FactSpec(type="cn_id", source="applicant"),
    "a.tags": FactSpec(type="list", of="str", source="applicant"),
    "a.scores": FactSpec(type="list", of="int", source="applicant"),
}
"""A fact schema with one fact of every kind, for random-expression tests."""

SCHEMA: dict[str, Type] = {p: fact_type(f) for p, f in SCHEMA_FACTS.items()}
