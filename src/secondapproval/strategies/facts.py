"""Hypothesis strategies for the facts of an application: identifiers, one fact, whole applications.

`applications(matter)` draws applications (the nested JSON of DESIGN §10) from a matter's fact
schema: valid values, values at, just below and just above every literal its rules compare a fact
against, every enum value, missing and null facts, malformed citizen ID numbers and credit codes,
wrong JSON types and undeclared keys. `valid_applications(matter)` draws only complete, valid
ones. The values come from `secondapproval.generate`; this module only draws among them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from ..generate.identifiers import REGION_CODES, USCC_ALPHABET, USCC_HEADS, regions_in
from ..generate.identifiers import cn_id as build_cn_id
from ..generate.identifiers import uscc as build_uscc
from ..generate.literals import compared_literals, constants
from ..generate.values import boundary_values, dates_before, refused
from ..paths import nest
from ..ruleset import FactSpec, Matter, field_spec, item_spec

__all__ = [
    "applications",
    "bad_cn_ids",
    "bad_usccs",
    "cn_ids",
    "fact_values",
    "usccs",
    "valid_applications",
]

_BIRTH_DATES = st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31))
_DATES = st.dates(dt.date(1950, 1, 1), dt.date(2060, 12, 31))
_ABSENT = object()

# ---- identifiers ----------------------------------------------------------------------------


@st.composite
def cn_ids(draw: st.DrawFn, born: st.SearchStrategy[dt.date] | None = None) -> str:
    """Valid citizen ID numbers (GB 11643): real region, birth date, sequence, check character."""
    day = draw(born if born is not None else _BIRTH_DATES)
    region = draw(st.sampled_from(regions_in(day.year)))
    return build_cn_id(region, day, draw(st.integers(0, 999)))


@st.composite
def bad_cn_ids(draw: st.DrawFn) -> Any:
    """Citizen ID numbers that must be refused: bad check, date, form, length or JSON type."""
    return draw(_one_of_refused(refused("cn_id", draw(cn_ids()))))


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Valid unified social credit codes (GB 32100) with their check character."""
    head = draw(st.sampled_from(USCC_HEADS))
    region = draw(st.sampled_from(REGION_CODES))
    return build_uscc(head, region, draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9)))


@st.composite
def bad_usccs(draw: st.DrawFn) -> Any:
    """Credit codes that must be refused: bad check character, letters, length, case, type."""
    return draw(_one_of_refused(refused("uscc", draw(usccs()))))


def _one_of_refused(found: Mapping[str, Sequence[Any]]) -> st.SearchStrategy[Any]:
    """One way of going wrong, then one value of it (so that each way is drawn as often)."""
    return st.sampled_from(list(found)).flatmap(lambda way: st.sampled_from(found[way]))


# ---- values of one fact ---------------------------------------------------------------------


def _valid_scalar(spec: FactSpec) -> st.SearchStrategy[Any]:
    """Any valid value of a scalar fact, well beyond the values next to its literals."""
    kind = spec.type
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
        return _DATES.map(dt.date.isoformat)
    if kind == "cn_id":
        return cn_ids()
    if kind == "uscc":
        return usccs()
    if kind == "enum":
        return st.sampled_from(spec.values or [""])
    if spec.pattern is not None:
        return st.from_regex(spec.pattern, fullmatch=True)
    return st.text(max_size=12)


@st.composite
def _wrong(draw: st.DrawFn, spec: FactSpec) -> Any:
    """A value the validator refuses for the fact: a spoiled identifier, a wrong form or type."""
    good = draw(_valid_scalar(spec)) if spec.type in ("cn_id", "uscc") else None
    return draw(_one_of_refused(refused(spec.type, good, spec.of)))


def fact_values(
    spec: FactSpec,
    literals: Sequence[Any] = (),
    numbers: Sequence[int] = (),
    on: dt.date | None = None,
    *,
    valid_only: bool = False,
    fields: Mapping[str, Sequence[Any]] | None = None,
) -> st.SearchStrategy[Any]:
    """JSON values of one fact: valid ones, boundary values next to `literals`, malformed ones.

    `numbers` and `on` add dates (and citizen ID birth dates) that many years, months or days
    before the decision date, and a day either side — the edges of age and deadline rules. For a
    list of records, `fields` holds the literals of each field (`compared_literals`: `path[].f`)
    and the malformed values include lists with one spoiled record among valid ones.
    """
    if spec.type == "list" and spec.fields is not None:
        return _record_lists(spec, fields or {}, numbers, on, valid_only=valid_only)
    if spec.type == "list":
        item = item_spec(spec)
        valid: st.SearchStrategy[Any] = st.lists(
            fact_values(item, literals, numbers, on, valid_only=True), max_size=4
        )
    else:
        choices = [_valid_scalar(spec)]
        if on is not None and spec.type == "cn_id":
            choices.append(cn_ids(st.sampled_from(dates_before(on, numbers))))
        near = boundary_values(spec, literals, numbers, on)
        if spec.pattern is not None:  # a literal's neighbours ("440300x") may break the pattern
            pattern = re.compile(spec.pattern, re.ASCII)
            near = tuple(v for v in near if isinstance(v, str) and pattern.fullmatch(v))
        if near:
            choices.append(st.sampled_from(near))
        valid = st.one_of(*choices)
    if valid_only:
        return valid
    return _weighted(valid, _wrong(spec), 8)


def _record_lists(
    spec: FactSpec,
    literals: Mapping[str, Sequence[Any]],
    numbers: Sequence[int],
    on: dt.date | None,
    *,
    valid_only: bool,
) -> st.SearchStrategy[Any]:
    """Lists of records: valid ones (optional fields given, left out or null), and, unless
    `valid_only`, a wrong JSON type or a valid list with one spoiled record put in."""
    fields = {name: field_spec(f) for name, f in (spec.fields or {}).items()}
    values = {
        name: fact_values(f, literals.get(name, ()), numbers, on, valid_only=True)
        for name, f in fields.items()
    }
    required = {name: values[name] for name, f in fields.items() if not f.optional}
    optional = {
        name: st.one_of(values[name], st.none()) for name, f in fields.items() if f.optional
    }
    record = st.fixed_dictionaries(required, optional=optional)
    valid = st.lists(record, max_size=4)
    if valid_only:
        return valid
    spoiled = st.tuples(valid, _spoiled_record(record, fields), st.integers(0, 4)).map(
        lambda t: [*t[0][: t[2]], t[1], *t[0][t[2] :]]
    )
    wrong = st.one_of(st.sampled_from(refused("list", None, "record")["type"]), spoiled)
    return _weighted(valid, wrong, 8)


@st.composite
def _spoiled_record(
    draw: st.DrawFn, record: st.SearchStrategy[dict[str, Any]], fields: Mapping[str, FactSpec]
) -> Any:
    """A record the validator refuses: a field's value wrong, a required field left out or
    null, an undeclared field, or no JSON object at all."""
    good = dict(draw(record))
    name = draw(st.sampled_from(sorted(fields)))
    way = draw(st.sampled_from(["value", "absent", "undeclared", "type"]))
    if way == "value":
        good[name] = draw(_wrong(fields[name]))
    elif way == "absent":
        required = sorted(n for n, f in fields.items() if not f.optional)
        if not required:
            return draw(st.sampled_from(refused("list", None, "record")["item"][0]))
        good[draw(st.sampled_from(required))] = draw(st.sampled_from([_ABSENT, None]))
        good = {k: v for k, v in good.items() if v is not _ABSENT}
    elif way == "undeclared":
        good["x_" + draw(st.from_regex(r"[a-z]{1,6}", fullmatch=True))] = 1
    else:
        return draw(st.sampled_from(refused("list", None, "record")["item"][0]))
    return good


# ---- applications -----------------------------------------------------------------------------


@st.composite
def _weighted(
    draw: st.DrawFn, usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int
) -> Any:
    """`usual` about `odds` times as often as `rare` (and still shrinking towards `usual`)."""
    return draw(rare if draw(st.integers(0, odds)) == odds else usual)


def _fact_strategies(
    matter: Matter, on: dt.date | None, *, valid_only: bool
) -> dict[str, st.SearchStrategy[Any]]:
    """The strategy of each input fact, aimed at the literals the rules compare it with."""
    literals = compared_literals(matter)
    counts = constants(matter).counts
    return {
        path: fact_values(
            spec,
            literals.get(path, ()),
            counts,
            on,
            valid_only=valid_only,
            fields={n: literals.get(f"{path}[].{n}", ()) for n in spec.fields or {}},
        )
        for path, spec in matter.inputs.items()
    }


@st.composite
def applications(draw: st.DrawFn, matter: Matter, on: dt.date | None = None) -> Any:
    """Applications of `matter`: mostly well-formed, with missing, malformed and extra facts.

    Pass the decision date as `on` to draw birth dates and dates next to the age and deadline
    limits the rules compute from it.
    """
    flat: dict[str, Any] = {}
    for path, values in _fact_strategies(matter, on, valid_only=False).items():
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
    facts = _fact_strategies(matter, on, valid_only=True)
    return nest({path: draw(values) for path, values in facts.items()})
