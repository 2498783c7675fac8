"""Random well-typed expressions over a fact schema, and a matter around them.

`expressions(schema)` draws boolean IR expressions that the type checker accepts, reading the facts
of `schema`; `synthetic_matter` wraps expressions into a checked `Matter` any backend compiles.
`SCHEMA_FACTS` (and its types, `SCHEMA`) holds one fact of every kind. These are the tools of the
differential tests between backends. Importing this module needs Hypothesis (a dev dependency).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from hypothesis import strategies as st

from ..calendars import built_in_calendars
from ..lang import ir
from ..lang.check import check
from ..lang.types import BOOL, Type
from ..ruleset import (
    FactSpec,
    FieldSpec,
    Matter,
    MatterFile,
    Rule,
    canonical_digest,
    fact_type,
    with_calendar,
)

__all__ = ["SCHEMA", "SCHEMA_FACTS", "expressions", "synthetic_matter"]

_SMALL_INTS = st.integers(-3, 40)
_DECIMALS = st.decimals(-100, 100, places=2, allow_nan=False, allow_infinity=False)
_DATES = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
_WORKING_DATES = st.dates(dt.date(2022, 12, 1), dt.date(2027, 1, 31))
"""Around the years the built-in calendar covers, for the working-day functions."""
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
            self.presence(),
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

    def presence(self) -> st.SearchStrategy[ir.Node]:
        paths = st.sampled_from(sorted(self.schema)).map(ir.Fact)
        return st.builds(ir.Presence, paths, st.booleans())

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
            elif t.kind == "list" and t.elem is not None and t.elem.values is not None:
                members = st.sampled_from(sorted(t.elem.values)).map(ir.Const)
                options.append(st.builds(ir.In, members, st.just(ir.Fact(path)), st.booleans()))
            elif t.kind == "list" and t.elem is not None and t.elem.kind == "str":
                options.append(
                    st.builds(ir.In, self.string(), st.just(ir.Fact(path)), st.booleans())
                )
        if not options:
            return st.booleans().map(ir.Const)
        return st.one_of(*options)

    def quantifiers(self) -> list[st.SearchStrategy[ir.Node]]:
        out: list[st.SearchStrategy[ir.Node]] = []
        for path, pred in self.predicates():
            out.append(
                st.builds(
                    ir.Quantifier, st.sampled_from(["any", "all"]), st.just(ir.Fact(path)), pred
                )
            )
        return out

    def counts(self) -> list[st.SearchStrategy[ir.Node]]:
        """`count(list, predicate)`: a number."""
        return [
            st.builds(ir.Quantifier, st.just("count"), st.just(ir.Fact(path)), pred)
            for path, pred in self.predicates()
        ]

    def predicates(self) -> list[tuple[str, st.SearchStrategy[ir.Node]]]:
        """Per list fact a quantifier can test, predicates over its items (`it`, `it.<field>`)."""
        out: list[tuple[str, st.SearchStrategy[ir.Node]]] = []
        for path, t in sorted(self.schema.items()):
            elem = t.elem if t.kind == "list" else None
            if elem is None:
                continue
            if elem.numeric:
                out.append((path, _ordered(st.just(ir.It()), _SMALL_INTS.map(ir.Const))))
            elif elem.values is not None:
                out.append((path, _member(st.just(ir.It()), sorted(elem.values))))
            elif elem.kind == "record":
                out.append((path, self.record_predicate(elem)))
        return out

    def record_predicate(self, record: Type) -> st.SearchStrategy[ir.Node]:
        """Conditions on the fields of a record, and on facts outside it."""
        numbers = st.one_of(_SMALL_INTS.map(ir.Const), *self.facts(lambda t: t.numeric))
        leaves: list[st.SearchStrategy[ir.Node]] = []
        for name, t in record.fields or ():
            field = st.just(ir.ItField(name))
            leaves.append(st.builds(ir.Presence, field, st.booleans()))
            if t.values is not None:
                leaves.append(_member(field, sorted(t.values)))
            elif t.numeric:
                leaves.append(_ordered(field, st.one_of(numbers, _DECIMALS.map(ir.Const))))
            elif t.kind == "date":
                leaves.append(_ordered(field, st.one_of(self.date(0))))
            elif t.kind == "bool":
                leaves.append(field)
            elif t.domain == "cn_id":
                age = field.map(lambda f: ir.Call("age_on", (f, ir.DecisionDate())))
                leaves.append(_ordered(age, numbers))
        leaf = st.one_of(*leaves)
        return st.one_of(
            leaf,
            leaf.map(ir.Not),
            st.lists(leaf, min_size=2, max_size=3).map(lambda xs: ir.And(tuple(xs))),
            st.lists(leaf, min_size=2, max_size=3).map(lambda xs: ir.Or(tuple(xs))),
        )

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
        leaves += self.counts()
        dates = self.date(0)
        leaves.append(
            st.builds(
                lambda f, a, b: ir.Call(f, (a, b)),
                st.sampled_from(["years_between", "months_between", "days_between"]),
                dates,
                dates,
            )
        )
        near = st.one_of(dates, _WORKING_DATES.map(ir.Const))
        leaves.append(st.builds(lambda a, b: ir.Call("working_days_between", (a, b)), near, near))
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
            st.builds(
                lambda x, table: ir.Call("band", (x, ir.Const(table))),
                sub,
                st.dictionaries(st.one_of(_SMALL_INTS, _DECIMALS), _SMALL_INTS, min_size=1),
            ),
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
            st.builds(
                lambda d, n: ir.Call("add_working_days", (d, n)),
                st.one_of(sub, _WORKING_DATES.map(ir.Const)),
                st.one_of(
                    st.integers(-300, 300).map(ir.Const), *self.facts(lambda t: t.kind == "int")
                ),
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


def _ordered(
    left: st.SearchStrategy[ir.Node], right: st.SearchStrategy[ir.Node]
) -> st.SearchStrategy[ir.Node]:
    return st.builds(ir.Compare, st.sampled_from(["<", "<=", ">=", "==", "!="]), left, right)


def _member(item: st.SearchStrategy[ir.Node], values: list[str]) -> st.SearchStrategy[ir.Node]:
    """`item == "v"`, or `item in [...]` / `not in` over some of the enum's values."""
    some = st.lists(st.sampled_from(values), max_size=3, unique=True)
    one = st.sampled_from(values).map(ir.Const)
    return st.one_of(
        st.builds(ir.Compare, st.sampled_from(["==", "!="]), item, one),
        st.builds(ir.In, item, some.map(lambda v: ir.Const(tuple(v))), st.booleans()),
    )


# ---- a matter around expressions ----------------------------------------------------------------


def synthetic_matter(
    facts: Mapping[str, FactSpec], rules: Sequence[ir.Node], matter_id: str = "synthetic"
) -> Matter:
    """A checked `Matter` with the given input facts and one rule per (typed) expression; its
    working-day calls count on the built-in `cn-mainland` calendar."""
    calendar = built_in_calendars()["cn-mainland"]
    spec = MatterFile.model_validate(
        {
            "matter": matter_id,
            "calendar": calendar.id,
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
        Rule(
            spec.rules[i], with_calendar(e, calendar), tuple(sorted(ir.facts_of(e))), ir.facts_of(e)
        )
        for i, e in enumerate(rules)
    )
    digest = canonical_digest(spec, calendar)
    return Matter(spec, "<synthetic>", digest, types, (), checked, "", calendar)


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
    "a.kinds": FactSpec(type="list", of="enum", values=["x", "y", "z"], source="applicant"),
    "a.people": FactSpec(
        type="list",
        of="record",
        source="applicant",
        fields={
            "rel": FieldSpec(type="enum", values=["child", "spouse", "parent"]),
            "age": FieldSpec(type="int"),
            "income": FieldSpec(type="money", optional=True),
            "born": FieldSpec(type="date", optional=True),
            "id": FieldSpec(type="cn_id", optional=True),
            "works": FieldSpec(type="bool", optional=True),
        },
    ),
}
"""A fact schema with one fact of every kind, for random-expression tests."""

SCHEMA: dict[str, Type] = {p: fact_type(f) for p, f in SCHEMA_FACTS.items()}
