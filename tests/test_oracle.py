"""The differential oracle: native, durable and the interpreter against tests/oracle.py.

tests/oracle.py evaluates expression texts by docs/language.md alone. Hypothesis writes matters
whose rules use every operator and function of the language at boundary values (month ends,
29 February, the ends of the date range, exponents at 1000, decimals past 28 digits, empty
lists), draws facts (each fact may be missing), and every backend must give each rule the
status the oracle gives it. A disagreement is a bug in a backend, in the oracle, or in the docs.

Known disagreements, each a class of issue 13 being fixed now, are pinned by the strict xfails
at the end; `KNOWN` switches their constructs off in the property run until the fix lands
(then drop the entry and the xfail turns into a pass).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from differential import InterpreterBackend
from oracle import Oracle, status
from reference import examples
from secondapproval.engine import Engine
from secondapproval.errors import RuleSetError
from secondapproval.idcodes import cn_id_check_character
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.lang.types import BOOL
from secondapproval.ruleset import FactSpec, FieldSpec, fact_type
from secondapproval.strategies import synthetic_matter

KNOWN = {
    # Class 1 (exact decimal arithmetic, the value-model engineer): `/`, and decimals past 28
    # significant digits, differ from exact rationals.
    "inexact-decimals",
    # Class 2 (list literal equality): `xs == [1, 2]`, `xs in [[1, 2], [3]]` on native.
    "list-literals",
}

_A = "applicant"
FACTS: dict[str, FactSpec] = {
    "o.n": FactSpec(type="int", source=_A),
    "o.m": FactSpec(type="int", source=_A),
    "o.x": FactSpec(type="decimal", source=_A),
    "o.y": FactSpec(type="decimal", source=_A),
    "o.flag": FactSpec(type="bool", source=_A),
    "o.day": FactSpec(type="date", source=_A),
    "o.day2": FactSpec(type="date", source=_A),
    "o.name": FactSpec(type="str", source=_A),
    "o.level": FactSpec(type="enum", values=["low", "mid", "high"], source=_A),
    "o.id": FactSpec(type="cn_id", source=_A),
    "o.tags": FactSpec(type="list", of="str", source=_A),
    "o.scores": FactSpec(type="list", of="int", source=_A),
    "o.amounts": FactSpec(type="list", of="decimal", source=_A),
    "o.days": FactSpec(type="list", of="date", source=_A),
    "o.kinds": FactSpec(type="list", of="enum", values=["x", "y", "z"], source=_A),
    "o.people": FactSpec(
        type="list",
        of="record",
        source=_A,
        fields={
            "rel": FieldSpec(type="enum", values=["child", "spouse", "parent"]),
            "age": FieldSpec(type="int"),
            "pay": FieldSpec(type="decimal", optional=True),
            "born": FieldSpec(type="date", optional=True),
            "works": FieldSpec(type="bool", optional=True),
        },
    ),
}
TYPES = {p: fact_type(f) for p, f in FACTS.items()}

# ---- expression texts, by type -----------------------------------------------------------------
INT_LITS = ["0", "1", "-1", "2", "3", "35", "36", "1000", "1001", "-1000", "9223372036854775807"]
DEC_LITS = ["0.5", "-0.5", "0.0", "1.5", "100.5", "100.50", "100.49", "0.1", "0.3", "2.675"]
INEXACT_DEC_LITS = [
    "0.30000000000000001",
    "0.000000000000000000000000000001",
    "99999999999999999999999999999.5",
]
DATE_LITS = [
    f'date("{d}")'
    for d in [
        "2019-07-01",
        "2020-02-29",
        "2024-02-29",
        "2023-02-28",
        "2021-01-31",
        "2000-03-01",
        "0001-01-01",
        "9999-12-31",
    ]
]
STR_LITS = ['""', '"a"', '"ab"', '"中"', '"male"', '"female"', '"low"']
LEVELS = ['"low"', '"mid"', '"high"']
CMP = ["==", "!=", "<", "<=", ">", ">="]


def _lits(known: set[str]) -> list[str]:
    return DEC_LITS + ([] if "inexact-decimals" in known else INEXACT_DEC_LITS)


def ints(depth: int) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(["o.n", "o.m", *INT_LITS])
    if depth <= 0:
        return leaf
    sub, dates = ints(depth - 1), date_exprs(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        sub.map(lambda a: f"(-{a})"),
        st.tuples(sub, st.sampled_from(["0", "1", "2", "3"])).map(lambda t: f"({t[0]} ** {t[1]})"),
        st.tuples(
            st.sampled_from(["0", "1", "-1", "2", "o.n"]), st.sampled_from(["10", "1000", "1001"])
        ).map(lambda t: f"({t[0]} ** {t[1]})"),
        st.sampled_from(["len(o.tags)", "len(o.name)", "len(o.scores)", "len(o.days)"]),
        st.sampled_from(["min(o.scores)", "max(o.scores)", "sum(o.scores)"]),
        st.tuples(
            st.sampled_from(["age_on", "years_between", "months_between", "days_between"]),
            dates,
            dates,
        ).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        dates.map(lambda d: f"age_on(o.id, {d})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        sub.map(lambda a: f"abs({a})"),
        st.tuples(sub, st.sampled_from(INT_LITS[:6])).map(lambda t: f"clip({t[0]}, -1, {t[1]})"),
        st.just('{"low": 1, "mid": 2}[o.level]'),
    )


def nums(depth: int, known: set[str]) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(["o.x", "o.y", *_lits(known)]) | ints(0)
    if depth <= 0:
        return leaf
    sub = nums(depth - 1, known)
    ops = ["+", "-", "*"] + ([] if "inexact-decimals" in known else ["/"])
    return st.one_of(
        leaf,
        ints(depth),
        st.tuples(sub, st.sampled_from(ops), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda a: f"(-{a})"),
        sub.map(lambda a: f"abs({a})"),
        sub.map(lambda a: f"round({a})"),
        st.tuples(sub, st.sampled_from(["0", "1", "2"])).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(sub, st.sampled_from(DEC_LITS)).map(lambda t: f"clip({t[0]}, -0.5, {t[1]})"),
        st.sampled_from(["sum(o.amounts)", "min(o.amounts)", "max(o.amounts)"]),
        st.tuples(st.sampled_from(["o.x", "0.5", "-1.5"]), st.sampled_from(["0", "1", "2"])).map(
            lambda t: f"({t[0]} ** {t[1]})"
        ),
        st.just('{"low": 0.5, "mid": 1.5}[o.level]'),
    )


def date_exprs(depth: int) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(["o.day", "o.day2", "decision_date", "birth_date(o.id)", *DATE_LITS])
    if depth <= 0:
        return leaf
    sub = date_exprs(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(
            st.sampled_from(["add_days", "add_months", "add_years"]), sub, ints(depth - 1)
        ).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.sampled_from(["min(o.days)", "max(o.days)"]),
    )


def strs() -> st.SearchStrategy[str]:
    return st.sampled_from(["o.name", "sex_of(o.id)", *STR_LITS])


def bools(depth: int, known: set[str]) -> st.SearchStrategy[str]:
    n, d = nums(depth, known), date_exprs(depth)
    cmp = st.sampled_from(CMP)
    leaves = [
        st.sampled_from(["o.flag", "True", "False"]),
        st.tuples(n, cmp, n).map(" ".join),
        st.tuples(d, cmp, d).map(" ".join),
        st.tuples(strs(), cmp, strs()).map(" ".join),
        st.tuples(st.sampled_from(["==", "!="]), st.sampled_from(LEVELS)).map(
            lambda t: f"o.level {t[0]} {t[1]}"
        ),
        st.sampled_from(['o.level in ["low", "mid"]', 'o.level not in ["high"]']),
        st.tuples(n, st.sampled_from(["in", "not in"])).map(
            lambda t: f"{t[0]} {t[1]} [0, 1, 35, 0.5]"
        ),
        st.tuples(d, st.sampled_from(["in", "not in"]), d).map(
            lambda t: f'{t[0]} {t[1]} [{t[2]}, date("2020-02-29")]'
        ),
        st.tuples(strs(), st.sampled_from(["in", "not in"])).map(
            lambda t: f'{t[0]} {t[1]} ["a", "", "male"]'
        ),
        st.sampled_from(['"a" in o.name', '"" in o.name', '"中" not in o.name']),
        st.tuples(st.sampled_from(["<", "<="]), n, st.sampled_from(["<", "<="])).map(
            lambda t: f"-1 {t[0]} {t[1]} {t[2]} 35"
        ),
        st.tuples(
            st.sampled_from(["any_of", "all_of"]),
            st.sampled_from(CMP),
            st.sampled_from(INT_LITS[:7]),
        ).map(lambda t: f"{t[0]}(o.scores, it {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["any_of", "all_of"]), st.sampled_from(DEC_LITS)).map(
            lambda t: f"{t[0]}(o.amounts, it <= {t[1]})"
        ),
        st.tuples(st.sampled_from(["any_of", "all_of"]), st.sampled_from(STR_LITS)).map(
            lambda t: f"{t[0]}(o.tags, it == {t[1]})"
        ),
        st.tuples(st.sampled_from(["any_of", "all_of"]), st.sampled_from(DATE_LITS)).map(
            lambda t: f"{t[0]}(o.days, it < {t[1]})"
        ),
        st.tuples(st.sampled_from(["any_of", "all_of"]), st.sampled_from(KINDS)).map(
            lambda t: f"{t[0]}(o.kinds, it == {t[1]})"
        ),
        st.tuples(st.sampled_from(KINDS), st.sampled_from(["in", "not in"])).map(
            lambda t: f"{t[0]} {t[1]} o.kinds"
        ),
        st.tuples(st.sampled_from(["any_of", "all_of"]), person()).map(
            lambda t: f"{t[0]}(o.people, {t[1]})"
        ),
        st.tuples(person(), st.sampled_from(CMP), n).map(
            lambda t: f"count(o.people, {t[0]}) {t[1]} {t[2]}"
        ),
    ]
    if "list-literals" not in KNOWN or "list-literals" not in known:
        leaves.append(
            st.sampled_from(
                [
                    "o.scores == [1, 2]",
                    "o.scores != []",
                    "o.tags == []",
                    'o.tags != ["a"]',
                    "o.scores in [[1, 2], [3]]",
                    "o.amounts == [0.5]",
                ]
            )
        )
    leaf = st.one_of(leaves)
    if depth <= 0:
        return leaf
    sub = bools(depth - 1, known)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        sub.map(lambda a: f"(not {a})"),
    )


KINDS = ['"x"', '"y"', '"z"']


def person() -> st.SearchStrategy[str]:
    """A condition on one record of o.people (`it.<field>`, `present(it.<field>)`)."""
    leaf = st.one_of(
        st.tuples(st.sampled_from(["==", "!="]), st.sampled_from(['"child"', '"parent"'])).map(
            lambda t: f"it.rel {t[0]} {t[1]}"
        ),
        st.sampled_from(['it.rel in ["spouse", "parent"]', 'it.rel not in ["child"]']),
        st.tuples(st.sampled_from(CMP), st.sampled_from([*INT_LITS[:7], "o.n"])).map(
            lambda t: f"it.age {t[0]} {t[1]}"
        ),
        st.tuples(st.sampled_from(CMP), st.sampled_from([*DEC_LITS[:5], "o.x", "it.age"])).map(
            lambda t: f"it.pay {t[0]} {t[1]}"
        ),
        st.tuples(st.sampled_from(CMP), st.sampled_from([*DATE_LITS[:3], "decision_date"])).map(
            lambda t: f"it.born {t[0]} {t[1]}"
        ),
        st.sampled_from(["it.works", "not it.works", "it.works == o.flag"]),
        st.tuples(st.sampled_from(["present", "absent"]), st.sampled_from(["pay", "born"])).map(
            lambda t: f"{t[0]}(it.{t[1]})"
        ),
        st.sampled_from(["age_on(it.born, decision_date) >= 18", "it.pay / it.age > 1"]),
    )
    return st.one_of(
        leaf,
        st.tuples(leaf, st.sampled_from(["and", "or"]), leaf).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
    )


# ---- facts -------------------------------------------------------------------------------------
INTS = st.sampled_from([0, 1, -1, 2, 35, 36, 1000, 1001, -1001, 2**63, 10**20]) | st.integers(
    -50, 50
)
DECIMALS = st.sampled_from(
    ["0", "0.5", "-0.5", "100.5", "100.50", "100.49", "0.1", "0.2", "0.3", "2.675", "1.005", "-0"]
) | st.decimals(-1000, 1000, places=2).map(str)
DATES = st.sampled_from(
    [
        dt.date(2020, 2, 29),
        dt.date(2019, 2, 28),
        dt.date(2000, 1, 31),
        dt.date(1, 1, 1),
        dt.date(9999, 12, 31),
    ]
) | st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
NAMES = st.sampled_from(["", "a", "ab", "ba", "中", "male", "Ａ"])
ONS = [dt.date(2021, 2, 28), dt.date(2024, 2, 29), dt.date(2020, 7, 1), dt.date(2023, 3, 1)]


@st.composite
def id_numbers(draw: st.DrawFn, on: dt.date) -> str:
    born = draw(
        st.sampled_from([dt.date(2000, 2, 29), on, dt.date(1950, 1, 1)])
        | st.dates(dt.date(1950, 1, 1), on)
    )
    first17 = f"110105{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + cn_id_check_character(first17)


def _value(path: str, on: dt.date) -> st.SearchStrategy[Any]:
    kind = FACTS[path]
    match kind.type:
        case "int":
            return INTS
        case "decimal":
            return DECIMALS
        case "bool":
            return st.booleans()
        case "date":
            return DATES
        case "str":
            return NAMES
        case "enum":
            return st.sampled_from(["low", "mid", "high"])
        case "cn_id":
            return id_numbers(on)
    if kind.of == "record":
        return st.lists(PEOPLE, max_size=3)
    if kind.of == "enum":
        return st.lists(st.sampled_from(kind.values or []), max_size=3)
    item = {"int": INTS, "str": NAMES, "decimal": DECIMALS, "date": DATES}[kind.of or "str"]
    return st.lists(item, max_size=3)


PEOPLE = st.fixed_dictionaries(
    {"rel": st.sampled_from(["child", "spouse", "parent"]), "age": INTS},
    optional={"pay": DECIMALS, "born": DATES, "works": st.booleans()},
)


@st.composite
def fact_sets(draw: st.DrawFn, on: dt.date) -> dict[str, Any]:
    """Typed values by path (absent: missing); dates as dt.date, decimals as canonical text."""
    out = {}
    for path in FACTS:
        if draw(st.integers(0, 9)) == 0:
            continue
        out[path] = draw(_value(path, on))
    return out


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def _oracle_value(path: str, value: Any) -> Any:
    kind = FACTS[path]
    if kind.type == "decimal":
        return Decimal(value)
    if kind.type == "list" and kind.of == "decimal":
        return [Decimal(v) for v in value]
    if kind.of == "record":
        return [{k: Decimal(v) if k == "pay" else v for k, v in r.items()} for r in value]
    return value


def _application(facts: dict[str, Any]) -> dict[str, Any]:
    app: dict[str, Any] = {}
    for path, value in facts.items():
        app.setdefault("o", {})[path.split(".")[1]] = _json(value)
    return app


# ---- the comparison ----------------------------------------------------------------------------
def _engines(texts: list[str]) -> dict[str, Engine]:
    typed = []
    for text in texts:
        node, problems = parse(text)
        assert not problems, (text, problems)
        node, type_problems = check(node, TYPES, BOOL)
        assert not type_problems, (text, type_problems)
        typed.append(node)
    matter = synthetic_matter(FACTS, typed, matter_id="oracle")
    out = {
        "native": Engine([matter], backend="native"),
        "interpreter": Engine([matter], backend=InterpreterBackend()),
    }
    try:
        out["durable"] = Engine([matter], backend="durable")
    except RuleSetError as exc:
        if "the durable backend cannot express" not in str(exc):
            raise
        event("durable refused the matter")
    return out


def disagreements(texts: list[str], facts: dict[str, Any], on: dt.date) -> list[str]:
    """Every (backend, rule) whose status differs from the oracle's, described."""
    engines = _engines(texts)
    oracle_facts = {p: _oracle_value(p, v) for p, v in facts.items()}
    expected = []
    for text in texts:
        try:
            expected.append(status(Oracle(text)(oracle_facts, on)))
        except NotImplementedError:
            expected.append(None)
    app = _application(facts)
    found = []
    for name, engine in engines.items():
        d = engine.decide("oracle", app, on=on)
        assert set(d.values) >= set(facts), (name, "a valid fact was refused", dict(d.invalid))
        for text, want, result in zip(texts, expected, d.results, strict=True):
            got = result.to_dict()["status"]
            if want is not None and got != want:
                found.append(f"{name}: {text!r} is {got}, the oracle says {want}")
    return found


@st.composite
def cases(draw: st.DrawFn, known: frozenset[str]) -> tuple[list[str], dict[str, Any], dt.date]:
    on = draw(st.sampled_from(ONS))
    texts = draw(st.lists(bools(2, set(known)), min_size=1, max_size=4))
    return texts, draw(fact_sets(on)), on


def _check(case: tuple[list[str], dict[str, Any], dt.date]) -> None:
    texts, facts, on = case
    found = disagreements(texts, facts, on)
    assert not found, f"on {on} with {facts!r}:\n" + "\n".join(found)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(frozenset(KNOWN)))
def test_backends_agree_with_the_oracle(case: tuple[list[str], dict[str, Any], dt.date]) -> None:
    """Every backend gives every generated rule the status the docs' semantics give it."""
    _check(case)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(cases(frozenset(KNOWN)))
def test_slow_backends_agree_with_the_oracle(
    case: tuple[list[str], dict[str, Any], dt.date],
) -> None:
    """make fuzz: the oracle comparison with many more examples."""
    _check(case)


# ---- the table: boundary cases of every operator and function, decided by the oracle ------------
def _born_on_29_february() -> str:
    first17 = "11010520000229001"
    return first17 + cn_id_check_character(first17)


TABLE_FACTS: dict[str, Any] = {
    "o.n": 2,
    "o.m": 0,
    "o.x": "100.50",
    "o.y": "999999999999999999999999999.5",  # 28 digits: the input bound
    "o.flag": True,
    "o.day": dt.date(2020, 2, 29),
    "o.day2": dt.date(9999, 12, 31),
    "o.name": "ab",
    "o.level": "high",
    "o.id": _born_on_29_february(),
    "o.tags": ["a"],
    "o.scores": [1, 2],
    "o.amounts": [],
    "o.days": [],
}
TABLE_ON = dt.date(2021, 2, 28)
AGREED = [
    # rounding: half away from zero
    "round(2.5) == 3",
    "round(-2.5) == -3",
    "round(0.125, 2) == 0.13",
    "round(-0.125, 2) == -0.13",
    "round(2.675, 2) == 2.68",
    "round(1234.5, -1) == 1230",
    "round(o.y) == 1000000000000000000000000000",
    "round(0.5 ** 1000, 2) == 0",
    "abs(o.y * o.y) > 0",
    # dates: month ends, 29 February, the ends of the range (beyond: ERROR)
    'add_years(date("2024-02-29"), 1) == date("2025-02-28")',
    'add_years(date("2024-02-29"), 4) == date("2028-02-29")',
    'add_months(date("2021-01-31"), 1) == date("2021-02-28")',
    'add_months(date("2021-03-31"), -1) == date("2021-02-28")',
    'add_days(date("9999-12-31"), 1) == date("9999-12-31")',
    'add_days(date("0001-01-01"), -1) == date("0001-01-01")',
    "add_years(o.day2, 1) > o.day2",
    'months_between(date("2021-01-31"), date("2021-02-28")) == 0',
    'months_between(date("2021-01-31"), date("2021-03-01")) == 1',
    'months_between(date("2021-03-01"), date("2021-01-31")) == -1',
    'years_between(date("2020-02-29"), date("2021-02-28")) == 0',
    'years_between(date("2021-02-28"), date("2020-02-29")) == -1',
    'days_between(date("2021-03-01"), date("2021-01-31")) == -29',
    "age_on(o.day, decision_date) == 0",
    'age_on(o.id, date("2021-03-01")) == 1',
    "age_on(o.id, decision_date) == 0",
    'birth_date(o.id) == date("2000-02-29")',
    'sex_of(o.id) == "male"',
    # powers: exact on ints, exponents above 1000 are errors
    "(2 ** 1000) > 0",
    "(2 ** 1001) > 0",
    "(o.n ** 1000) > 0",
    "(2 ** -1) == 0.5",
    "(0 ** 0) == 1",
    "(0.5 ** 2) == 0.25",
    "(-2) ** 3 == -8",
    "(10 ** 30) + 1 > 10 ** 30",
    "9223372036854775807 + 1 > 9223372036854775807",
    # lists: empty ones, quantifiers (not the literal equality of class 2)
    "min(o.amounts) == 0",
    'max(o.days) == date("2020-01-01")',
    "sum(o.amounts) == 0",
    "len(o.amounts) == 0",
    "any_of(o.amounts, it > 0)",
    "all_of(o.amounts, it > 0)",
    "any_of(o.scores, it > 1)",
    "all_of(o.scores, it > 1)",
    "sum(o.scores) == 3",
    "min(o.scores) == 1",
    # clip, abs, division by zero, lookups
    "clip(5, 10, 1) == 1",
    "clip(0.5, 0, 1) == 0.5",
    "abs(-0.0) == 0",
    "abs(-9223372036854775808) > 0",
    "1 / 0 > 0",
    "1.0 / 0.0 > 0",
    '{"low": 1, "mid": 2}[o.level] == 1',
    # comparisons, chains, strings, membership, Kleene
    "-1 < 0 < 1",
    "1 < 2 > 1",
    "0 < o.m < 1",
    "-0.0 == 0",
    "1.50 == 1.5",
    "0.5 in [0, 1, 35, 0.5]",
    "1 in [1.0]",
    '"a" < "b"',
    '"中" > "a"',
    'len("中") == 1',
    '"" in o.name',
    'date("2019-07-01") in [date("2019-07-01")]',
    "(1 / 0 > 0) or o.flag",
    "(1 / 0 > 0) and not o.flag",
    '(1 / 0 > 0) or ({"low": 1}[o.level] == 1)',
    "not (1 / 0 > 0)",
    # issue 13 classes 1, 2 and 4, fixed by lang/numbers (the value model)
    "o.x + 0.000000000000000000000000000001 <= 100.5",
    "0.30000000000000001 > 0.3",
    "o.y + 0.01 != o.y + 0.02",
    "o.scores == [1, 2]",
    "o.scores in [[1, 2], [3]]",
    "o.amounts == []",
    "not (o.amounts != [])",
    "round(o.y, 2) == o.y",
    "round(o.y * 1000) > 0",
    "round(10 ** 40 + 0.5) > 0",
    # docs/language.md: division is exact, a non-terminating quotient is a rational
    "1 / 3 * 3 == 1",
    "1 / 3 + 1 / 3 + 1 / 3 == 1",
    "1 / 3 + 1 / 6 == 0.5",
    "round(1 / 3, 2) == 0.33",
    "o.y / 3 * 3 == o.y",
]
CLASS1 = "issue 13 class 1 (exact decimal arithmetic, the value-model engineer)"
CLASS2 = "issue 13 class 2 (list literal equality)"
CLASS4 = "issue 13 class 4 (round() of a large valid number is an ERROR)"
DISAGREED: list[tuple[str, str]] = []


@pytest.mark.parametrize(
    "text",
    [*AGREED]
    + [pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=r)) for t, r in DISAGREED],
)
def test_the_oracle_table(text: str) -> None:
    """Each boundary case: every backend gives the rule the status docs/language.md gives it."""
    found = disagreements([text], TABLE_FACTS, TABLE_ON)
    assert not found, "\n".join(found)


def test_the_callers_decimal_context_changes_nothing() -> None:
    """A thread that sets `decimal.getcontext().prec = 6` gets the same statuses as the oracle."""
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 6
        found = disagreements(["o.x + 0.000001 > o.x", "o.y - 1 < o.y"], TABLE_FACTS, TABLE_ON)
    assert not found, "\n".join(found)
