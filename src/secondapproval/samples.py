"""A seeded generator of sample applications, for `make demo` and for load tests.

It starts from the approved cases of a project's scenario files (realistic, valid applications)
and perturbs a share of them the way real applications go wrong: a fact missing, a wrong JSON
type, a corrupted ID number, a date or number moved across a rule's limit, another enum value.
The same seed always gives the same batch (`random.Random(seed)`, no other source of chance).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine import Engine
from .generate.values import moved, retyped
from .loader import Kind, document_kind
from .paths import get, put, remove
from .ruleset import FactSpec
from .scenarios.model import load_scenario
from .scenarios.run import scenario_files
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
