"""A seeded generator of sample applications, for `make demo` and for load tests.

It starts from the approved cases of a project's scenario files (realistic, valid applications)
and perturbs a share of them the way real applications go wrong: a fact missing, a wrong JSON
type, a corrupted ID number, a date or number moved across a rule's limit, another enum value.
The same seed always gives the same batch (`random.Random(seed)`, no other source of chance).

`write_samples` (the `secondapproval samples` command, docs/samples.md) makes many applications of
one matter at a stated mix: a pool of distinct applications, each perturbed from an approved case
and classified by deciding it (`valid`, `missing`, `invalid`, `failing:<rule>`, `other`), then N
rows drawn from the pool by category (numpy) and streamed to Parquet in row groups (pyarrow; both
of the `impact` extra, imported only when rows are written), or to JSON Lines.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .decision import Decision
from .engine import Engine
from .errors import SamplesError, UnknownMatterError
from .generate.identifiers import DIGITS, cn_id, org_code, uscc
from .generate.values import moved, refused, retyped
from .lang.functions import add_months
from .loader import Kind, document_kind
from .paths import get, put, remove
from .ruleset import FactSpec, Matter
from .scenarios.model import load_scenario
from .scenarios.run import scenario_files
from .status import Status
from .trust import VOUCH_ALL
from .yamlfile import load_yaml


@dataclass(frozen=True, slots=True)
class Seed:
    """An approved application of a scenario file: a matter, a date and facts."""

    matter: str
    on: str
    facts: dict[str, Any]


def seeds_from_scenarios(paths: Iterable[Path], engine: Engine) -> list[Seed]:
    """Approved cases of the decision scenarios whose matter the engine knows."""
    seeds: list[Seed] = []
    for path in scenario_files(paths):
        doc = load_yaml(path)
        if document_kind(doc.data, {}).kind is not Kind.SCENARIO:
            continue
        scenario = load_scenario(doc)
        if scenario.matter not in engine.matters or scenario.rules:
            continue
        seeds += [
            Seed(scenario.matter, case.on or scenario.on, case.facts)
            for case in scenario.cases
            if case.expect.outcome == "approve"
        ]
    return seeds


def _perturb(rng: random.Random, spec: FactSpec, value: Any) -> Any:
    """Another value for a fact: one of the ways an application goes wrong."""
    if rng.random() < 0.25:
        return _DELETE
    if rng.random() < 0.15:
        return retyped(value)
    options = moved(spec, value)
    if not options:
        return _DELETE
    return options[0] if len(options) == 1 else rng.choice(options)


_DELETE = object()


def generate(
    engine: Engine, seeds: list[Seed], n: int, seed: int = 2019, perturbed: float = 0.4
) -> Iterator[dict[str, Any]]:
    """`n` rows `{"matter", "on", "facts"}`; a share `perturbed` have one fact changed."""
    if not seeds:
        raise ValueError("no approved scenario cases to start from")
    rng = random.Random(seed)
    for _ in range(n):
        base = rng.choice(seeds)
        facts = copy.deepcopy(base.facts)
        if rng.random() < perturbed:
            version = engine.versions(base.matter)[-1]
            inputs = sorted(version.inputs.items())
            path, spec = rng.choice(inputs)
            value = _perturb(rng, spec, get(facts, path))
            if value is _DELETE:
                remove(facts, path)
            else:
                put(facts, path, value)
        yield {"matter": base.matter, "on": base.on, "facts": facts}


def write_jsonl(rows: Iterable[dict[str, Any]], path: Path) -> int:
    """Write rows as JSON Lines (sorted keys, UTF-8); return the count."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


# ---- a matter's samples at a stated mix, streamed to Parquet (`secondapproval samples`) ----

VALID, MISSING, INVALID, OTHER = "valid", "missing", "invalid", "other"
FAILING = "failing:"
"""The categories of an application, by how the engine decides it: approved; refused only for
absent facts (`MISSING:` codes); refused with any `INVALID:` code; refused by exactly one rule
failing on valid facts (`failing:<rule>`); anything else."""
DEFAULT_RATES = {VALID: 0.6, MISSING: 0.1, INVALID: 0.1}
"""The stated shares of the first three categories; the rest is split across the rules."""
ROW_GROUP = 65_536
POOL = 20_000
"""The default pool size (at most the row count): distinct applications the rows are drawn from."""
TRIES_PER_MEMBER, TRIES_AT_LEAST, TRIES_BARREN = 20, 200, 1_000
"""Bounds on the search for one category's pool members: tries per member wanted (at least
`TRIES_AT_LEAST`), and a category none of whose first `TRIES_BARREN` tries hit is given up."""
METADATA_KEY = "secondapproval.samples"
"""The Parquet schema metadata key of a sample file's settings and counts (JSON)."""


@dataclass(frozen=True, slots=True)
class Member:
    """One distinct application of the pool: its canonical facts text, date and category."""

    text: str
    on: str
    category: str


@dataclass(frozen=True, slots=True)
class Pool:
    """Distinct applications by category, with what the search could not find."""

    members: dict[str, list[Member]]
    wanted: dict[str, int]
    tries: dict[str, int]

    @property
    def unfilled(self) -> tuple[str, ...]:
        """The categories with a stated share and no member at all."""
        return tuple(c for c, n in self.wanted.items() if n and not self.members.get(c))

    @property
    def short(self) -> dict[str, tuple[int, int]]:
        """The categories with fewer members than wanted (but some): found, wanted."""
        return {
            c: (len(self.members[c]), n)
            for c, n in self.wanted.items()
            if 0 < len(self.members.get(c, ())) < n
        }


@dataclass(frozen=True, slots=True)
class SampleReport:
    """What `write_samples` wrote, how fast, and at which mix."""

    matter: str
    out: Path
    rows: int
    seed: int
    requested: dict[str, float]
    rates: dict[str, float]
    """The rates drawn from: the requested ones of the filled categories, renormalised."""
    counts: dict[str, int]
    pool: dict[str, int]
    unfilled: tuple[str, ...]
    short: dict[str, tuple[int, int]]
    pool_seconds: float
    seconds: float
    """The whole run, pool included."""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    @property
    def shares(self) -> dict[str, float]:
        """The realised share of each category."""
        return {c: n / self.rows if self.rows else 0.0 for c, n in self.counts.items()}

    def lines(self) -> list[str]:
        """The summary the command prints."""
        out = [
            f"wrote {self.rows:,} applications of {self.matter} to {self.out} in "
            f"{self.seconds:.2f} s ({self.rows_per_second:,.0f} rows/s; pool of "
            f"{sum(self.pool.values()):,} in {self.pool_seconds:.2f} s), seed {self.seed}"
        ]
        for c in self.unfilled:
            out.append(f"  unfilled: {c} (stated {self.requested[c]:.4f}): no pool member found")
        for c, (found, wanted) in self.short.items():
            out.append(f"  short: {c}: {found} distinct of {wanted} wanted (rows repeat them)")
        if self.unfilled or abs(sum(self.requested.values()) - 1) > 1e-9:
            out.append("  rates renormalised over the filled categories:")
        for c, rate in self.rates.items():
            share = self.shares.get(c, 0.0)
            out.append(
                f"  {c:<40} stated {self.requested[c]:.4f} drawn at {rate:.4f} "
                f"realised {share:.4f} ({self.counts.get(c, 0):,} rows, pool {self.pool[c]:,})"
            )
        return out


def category_of(decision: Decision) -> str:
    """The category of a decided application (`VALID`, `MISSING`, `INVALID`, `failing:<rule>`,
    `OTHER`)."""
    if decision.approved:
        return VALID
    codes = decision.codes
    if any(c.startswith("INVALID:") for c in codes):
        return INVALID
    if codes and all(c.startswith("MISSING:") for c in codes):
        return MISSING
    results = decision.results
    failed = [r.rule for r in results if r.status is Status.FAILED]
    passed = sum(r.status is Status.PASSED for r in results)
    clean = not any(c.startswith(("MISSING:", "ERROR:")) for c in codes)
    if len(failed) == 1 and passed == len(results) - 1 and clean:
        return FAILING + failed[0]
    return OTHER


def _versions(engine: Engine, seeds: Sequence[Seed]) -> dict[str, Matter]:
    """The matter version in force on each seed's date, by date."""
    found: dict[str, Matter] = {}
    for s in seeds:
        if s.on not in found:
            version = engine.version_on(s.matter, dt.date.fromisoformat(s.on))
            if version is None:
                raise SamplesError(f"{s.matter}: no version in force on {s.on}")
            found[s.on] = version
    return found


def failable_rules(engine: Engine, seeds: Sequence[Seed]) -> tuple[str, ...]:
    """The rules of the versions in force on the seeds' dates, in order: those that can fail."""
    ids = [r.id for v in _versions(engine, seeds).values() for r in v.rules]
    return tuple(dict.fromkeys(ids))


def stated_rates(
    rules: Sequence[str],
    *,
    valid: float = DEFAULT_RATES[VALID],
    missing: float = DEFAULT_RATES[MISSING],
    invalid: float = DEFAULT_RATES[INVALID],
    fail: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The rate of each category: the three given, each `fail` rule's, and the rest split evenly
    across the other rules. Rates over 1 in all, negative, or of an unknown rule: SamplesError,
    naming the option (`--valid`, `--missing`, `--invalid`, `--fail RULE=RATE`)."""
    fail = dict(fail or {})
    unknown = sorted(set(fail) - set(rules))
    if unknown:
        raise SamplesError(f"--fail: no rule {unknown[0]!r} (rules: {', '.join(rules)})")
    given = {"--valid": valid, "--missing": missing, "--invalid": invalid}
    given |= {f"--fail {r}": rate for r, rate in fail.items()}
    negative = [o for o, rate in given.items() if not 0 <= rate <= 1]
    if negative:
        raise SamplesError(f"{negative[0]}: a rate is between 0 and 1, not {given[negative[0]]}")
    total = sum(given.values())
    if total > 1 + 1e-9:
        named = ", ".join(f"{o} {rate:g}" for o, rate in given.items())
        raise SamplesError(f"rates sum to {total:g}, more than 1: {named}")
    rest = [r for r in rules if r not in fail]
    share = max(0.0, 1 - total) / len(rest) if rest else 0.0
    rates = {VALID: valid, MISSING: missing, INVALID: invalid}
    rates |= {FAILING + r: fail.get(r, share) for r in rules}
    return rates


# -- the pool: perturbed approved cases, kept by the category the engine puts them in --


OLDEST = 105
"""The most years a citizen ID number's birth date is moved before a decision date."""


def _id_variants(rng: random.Random, spec: FactSpec, value: Any, on: dt.date) -> tuple[Any, ...]:
    """Other valid-looking identifiers than `value`: a citizen ID number of another birth date
    (years and days away, between `OLDEST` years before `on` and `on`) and sequence number, a
    credit code of another organisation."""
    if not isinstance(value, str) or len(value) != 18:
        return ()
    if spec.type == "cn_id" and value[6:14].isdigit():
        try:
            born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            return ()
        day = add_months(born, 12 * rng.randint(-30, 30)) + dt.timedelta(rng.randint(-200, 200))
        day = min(max(day, add_months(on, -12 * OLDEST)), on)
        return (
            cn_id(value[:6], day, rng.randrange(1000)),
            cn_id(value[:6], born, rng.randrange(1000)),
        )
    if spec.type == "uscc":
        org = org_code("".join(rng.choice(DIGITS) for _ in range(8)))
        return (uscc(value[:2], value[2:8], org),)
    return ()


def _move(
    rng: random.Random, facts: dict[str, Any], path: str, spec: FactSpec, on: dt.date
) -> None:
    """Move one present fact to another value of its type: `moved`, or for an identifier
    (whose `moved` values only spoil its check character, `_break`'s work) another valid one."""
    value = get(facts, path)
    if value is None:
        return
    options = _id_variants(rng, spec, value, on) or moved(spec, value)
    if options:
        put(facts, path, rng.choice(options))


def _break(rng: random.Random, facts: dict[str, Any], path: str, spec: FactSpec) -> None:
    """Give one fact a value the validator refuses (`refused`, `retyped`)."""
    value = get(facts, path)
    kinds = refused(spec.type, value, spec.of)
    options = [v for group in sorted(kinds) for v in kinds[group]]
    options.append(retyped(value))
    put(facts, path, rng.choice(options))


Inputs = list[tuple[str, FactSpec]]


def _candidate(
    rng: random.Random,
    facts: dict[str, Any],
    inputs: Inputs,
    version: Matter,
    aim: str,
    on: dt.date,
) -> dict[str, Any]:
    """Valid facts changed towards a category: a fact moved (`VALID`), one or two removed or
    made JSON null (`MISSING`), one given a refused value (`INVALID`), a fact the rule reads
    moved (`failing:`)."""
    if aim == MISSING:
        for _ in range(rng.randint(1, 2)):
            path = rng.choice(inputs)[0]
            if rng.random() < 0.5:
                remove(facts, path)
            else:
                put(facts, path, None)
    elif aim == INVALID:
        _break(rng, facts, *rng.choice(inputs))
    elif aim.startswith(FAILING):
        rule = next((r for r in version.rules if r.id == aim[len(FAILING) :]), None)
        read = [(p, s) for p, s in inputs if rule is not None and p in rule.roots]
        _move(rng, facts, *rng.choice(read or inputs), on)
    else:
        _move(rng, facts, *rng.choice(inputs), on)
    return facts


def _canonical(facts: Any) -> str:
    return orjson.dumps(facts, option=orjson.OPT_SORT_KEYS).decode()


class _Search:
    """The state of `build_pool`: the members found by category, the texts tried, and the
    valid members (the seeds first) that candidates start from: a walk among valid facts."""

    def __init__(self, engine: Engine, matter: str, wanted: dict[str, int]) -> None:
        self.engine, self.matter, self.wanted = engine, matter, wanted
        self.members: dict[str, dict[str, Member]] = {c: {} for c in wanted}
        self.seen: set[str] = set()
        self.bases: list[tuple[str, str]] = []

    def offer(self, facts: dict[str, Any], on: str) -> None:
        """Decide an untried application; keep it if its category wants more members."""
        text = _canonical(facts)
        if text in self.seen:
            return
        self.seen.add(text)
        got = category_of(self.engine.decide(self.matter, facts, on=dt.date.fromisoformat(on)))
        if got == VALID:
            self.bases.append((text, on))
        if len(self.members.get(got, ())) < self.wanted.get(got, 0):
            self.members[got][text] = Member(text, on, got)

    def needs(self, aim: str) -> bool:
        return len(self.members[aim]) < self.wanted[aim]


def build_pool(
    engine: Engine,
    matter: str,
    seeds: Sequence[Seed],
    rates: Mapping[str, float],
    size: int,
    seed: int = 2019,
) -> Pool:
    """About `size` distinct applications of `matter`, shared among the categories by `rates`
    (at least one each with a rate), found by changing valid ones (`_candidate`; the approved
    `seeds`, then the valid ones found) and deciding each. A candidate of another category than
    its aim is kept there if that one wants more. The search of one category stops after
    `TRIES_PER_MEMBER` tries per member wanted, or early when none of its first `TRIES_BARREN`
    tries hit: a category with no member is the pool's `unfilled`."""
    rng = random.Random(seed)
    total = sum(rates.values()) or 1.0
    wanted = {c: max(1, round(size * r / total)) if r > 0 else 0 for c, r in rates.items()}
    versions = _versions(engine, seeds)
    inputs = {on: sorted(v.inputs.items()) for on, v in versions.items()}
    search = _Search(engine, matter, wanted)
    for s in seeds:
        search.offer(copy.deepcopy(s.facts), s.on)
    tries = dict.fromkeys(rates, 0)
    for aim in sorted(rates, key=lambda c: c != VALID):  # the valid ones first: the others' bases
        limit = max(TRIES_AT_LEAST, TRIES_PER_MEMBER * wanted[aim])
        while search.needs(aim) and tries[aim] < limit and search.bases:
            if tries[aim] >= TRIES_BARREN and not search.members[aim]:
                break
            tries[aim] += 1
            text, on = rng.choice(search.bases)
            day = dt.date.fromisoformat(on)
            facts = _candidate(rng, orjson.loads(text), inputs[on], versions[on], aim, day)
            search.offer(facts, on)
    return Pool({c: list(m.values()) for c, m in search.members.items()}, wanted, tries)


# -- the rows: drawn with numpy, written with pyarrow --


def _seeds_of(engine: Engine, matter: str, scenarios: Iterable[Path]) -> list[Seed]:
    if matter not in engine.matters:
        raise UnknownMatterError(matter, engine.matters)
    seeds = [s for s in seeds_from_scenarios(scenarios, engine) if s.matter == matter]
    if not seeds:
        raise SamplesError(f"{matter}: no approved scenario case to start from")
    return seeds


def _drawn(
    sizes: Sequence[int], rates: Sequence[float], n: int, seed: int, row_group: int
) -> Iterator[tuple[int, Any, Any]]:
    """Per row group: its first row, each row's category (an index into `rates`) and the
    index of a pool member within it. Categories and members have a stream each, both from
    `seed`, so the category counts can be taken first, by drawing the categories alone."""
    import numpy as np

    cat_seq, member_seq = np.random.SeedSequence(seed).spawn(2)
    cats_rng, members_rng = np.random.default_rng(cat_seq), np.random.default_rng(member_seq)
    edges = np.cumsum(np.asarray(rates, dtype=np.float64))
    edges /= edges[-1]
    highs = np.asarray(sizes, dtype=np.int64)
    for start in range(0, n, row_group):
        m = min(row_group, n - start)
        cats = np.minimum(np.searchsorted(edges, cats_rng.random(m), side="right"), len(edges) - 1)
        yield start, cats, members_rng.integers(0, highs[cats]) if m else cats


def _counted(
    names: Sequence[str], rates: Sequence[float], n: int, seed: int, row_group: int
) -> dict[str, int]:
    """The rows of each category `_drawn` will give, drawing the categories only."""
    import numpy as np

    counts = np.zeros(len(names), dtype=np.int64)
    for _, cats, _ in _drawn([1] * len(names), rates, n, seed, row_group):
        counts += np.bincount(cats, minlength=len(names))
    return {c: int(k) for c, k in zip(names, counts, strict=True)}


def write_samples(
    engine: Engine,
    matter: str,
    n: int,
    out: Path,
    *,
    seed: int = 2019,
    rates: Mapping[str, float] | None = None,
    pool: int | None = None,
    scenarios: Iterable[Path] = (Path("scenarios"),),
    seeds: Sequence[Seed] | None = None,
    row_group: int = ROW_GROUP,
) -> SampleReport:
    """Write `n` applications of `matter` to `out` (Parquet; JSON Lines for a `.jsonl` name).

    The rows are drawn from a pool (`build_pool`) of `pool` distinct applications (default
    min(n, `POOL`)) perturbed from `seeds` (default: the approved cases of `scenarios`), at the
    category `rates` (default `stated_rates` of the matter's rules), renormalised over the
    categories the pool could fill. The same arguments always give the same bytes. Columns:
    matter, on (date32), id, facts (canonical JSON text), category; the settings and counts are
    the schema metadata `METADATA_KEY`. At most `row_group` rows are held at once.
    """
    started = time.perf_counter()
    if n < 0 or seed < 0 or row_group < 1:
        raise SamplesError("--n and --seed are at least 0, --row-group at least 1")
    found = list(seeds) if seeds is not None else _seeds_of(engine, matter, scenarios)
    requested = dict(rates) if rates is not None else stated_rates(failable_rules(engine, found))
    made = build_pool(
        engine, matter, found, requested, min(n, POOL) if pool is None else pool, seed
    )
    filled = {c: r for c, r in requested.items() if r > 0 and made.members.get(c)}
    if not filled:
        raise SamplesError(f"{matter}: the pool filled no category with a rate above 0")
    total = sum(filled.values())
    drawn = {c: r / total for c, r in filled.items()}
    pool_seconds = time.perf_counter() - started
    counts = _counted(list(drawn), list(drawn.values()), n, seed, row_group)
    report = SampleReport(
        matter,
        out,
        n,
        seed,
        requested,
        drawn,
        counts,
        {c: len(made.members.get(c, ())) for c in requested},
        made.unfilled,
        made.short,
        pool_seconds,
        0.0,
    )
    members = [m for c in drawn for m in made.members[c]]
    write = _write_jsonl_rows if out.suffix == ".jsonl" else _write_parquet
    write(report, members, [len(made.members[c]) for c in drawn], row_group)
    seconds = time.perf_counter() - started
    return dataclasses.replace(report, seconds=seconds)


def _metadata(report: SampleReport, row_group: int) -> str:
    return json.dumps(
        {
            "matter": report.matter,
            "rows": report.rows,
            "seed": report.seed,
            "row_group": row_group,
            "requested": report.requested,
            "rates": report.rates,
            "pool": report.pool,
            "unfilled": list(report.unfilled),
            "counts": report.counts,
        },
        sort_keys=True,
    )


def _row_ids(pa: Any, pc: Any, prefix: str, start: int, m: int) -> Any:
    """`{prefix}{i:010d}` for the rows `start` … `start + m - 1`, as a string array."""
    import numpy as np

    numbers = pc.cast(pa.array(np.arange(start, start + m, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, 10, "0"), "")


def _write_parquet(
    report: SampleReport, members: Sequence[Member], sizes: Sequence[int], row_group: int
) -> None:
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped]  # (no py.typed in pyarrow)
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    schema = pa.schema(
        [
            ("matter", pa.string()),
            ("on", pa.date32()),
            ("id", pa.string()),
            ("facts", pa.string()),
            ("category", pa.string()),
        ],
        metadata={METADATA_KEY: _metadata(report, row_group)},
    )
    texts = pa.array([m.text for m in members], pa.string())
    days = pa.array([dt.date.fromisoformat(m.on) for m in members], pa.date32())
    categories = pa.array([m.category for m in members], pa.string())
    offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    prefix = f"{report.matter}-{report.seed}-"
    matter = pa.repeat(pa.scalar(report.matter, pa.string()), min(row_group, report.rows))
    with pq.ParquetWriter(report.out, schema, compression="zstd") as writer:
        for start, cats, within in _drawn(
            sizes, list(report.rates.values()), report.rows, report.seed, row_group
        ):
            idx = pa.array(offsets[cats] + within)
            columns = [
                matter.slice(0, len(idx)),
                days.take(idx),
                _row_ids(pa, pc, prefix, start, len(idx)),
                texts.take(idx),
                categories.take(idx),
            ]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema), row_group)
        if report.rows == 0:
            writer.write_table(schema.empty_table())


def _write_jsonl_rows(
    report: SampleReport, members: Sequence[Member], sizes: Sequence[int], row_group: int
) -> None:
    """The rows as JSON Lines `{"facts", "id", "matter", "on"}` (sorted keys, facts an object)."""
    import numpy as np

    offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    matter = orjson.dumps(report.matter).decode()
    heads = [f'{{"facts":{m.text},"id":"' for m in members]
    tails = [f'","matter":{matter},"on":"{m.on}"}}\n' for m in members]
    prefix = orjson.dumps(f"{report.matter}-{report.seed}-").decode()[1:-1]
    with report.out.open("w", encoding="utf-8") as out:
        for start, cats, within in _drawn(
            sizes, list(report.rates.values()), report.rows, report.seed, row_group
        ):
            idx = (offsets[cats] + within).tolist()
            out.writelines(
                f"{heads[k]}{prefix}{start + i:010d}{tails[k]}" for i, k in enumerate(idx)
            )


def main(argv: list[str] | None = None) -> int:
    """`python -m secondapproval.samples --rules rules --scenarios scenarios --n 1200 OUT`."""
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out", type=Path)
    p.add_argument("--rules", type=Path, default=Path("rules"))
    p.add_argument("--scenarios", type=Path, default=Path("scenarios"))
    p.add_argument("--n", type=int, default=1200)
    p.add_argument("--seed", type=int, default=2019)
    args = p.parse_args(argv)
    engine = Engine(args.rules, vouch=VOUCH_ALL)  # samples hold every fact, the offices' too
    seeds = seeds_from_scenarios([args.scenarios], engine)
    count = write_jsonl(generate(engine, seeds, args.n, args.seed), args.out)
    print(f"wrote {count} applications to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
