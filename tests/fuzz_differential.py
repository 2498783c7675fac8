"""`make fuzz`: at least a million decisions compared across native, durable and the interpreter.

Hypothesis draws pools of fact values from each matter's schema (boundary values next to every
literal, enum values, malformed identifiers, wrong types, missing facts) and of random
well-typed expressions; the cases are recombinations of pool values, so drawing a case costs
little next to deciding it three times. Prints the number of cases and of disagreements; if
there were any, writes them to `fuzz-disagreements.txt` and exits 1.

    .venv/bin/python tests/fuzz_differential.py [--cases N] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from differential import InterpreterBackend, bundled_matters, disagreement
from secondapproval.backends import get_backend
from secondapproval.engine import Engine
from secondapproval.errors import RuleSetError
from secondapproval.lang import ir
from secondapproval.paths import nest
from secondapproval.ruleset import Matter
from secondapproval.strategies import SCHEMA, SCHEMA_FACTS, applications, expressions
from secondapproval.strategies import synthetic_matter as make_matter

RULES_PER_MATTER = 8
DATES = [dt.date(2019, 7, 1), dt.date(2020, 7, 1), dt.date(2021, 1, 1), dt.date(2024, 2, 29)]


def draw_all(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """`count` examples of a strategy, drawn by Hypothesis."""
    out: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(x: Any) -> None:
        out.append(x)

    random.seed(seed)
    collect()
    return out


def flatten(app: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(app, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in app.items():
        if isinstance(v, dict) and v and not k.startswith("x_"):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


class Pool:
    """Per fact path, the values Hypothesis drew; cases recombine them."""

    def __init__(self, matter: Matter, size: int, seed: int) -> None:
        self.apps = draw_all(applications(matter, on=DATES[1]), size, seed)
        self.values: dict[str, list[Any]] = {}
        for app in self.apps:
            for path, value in flatten(app).items():
                self.values.setdefault(path, []).append(value)

    def case(self, rng: random.Random) -> Any:
        if rng.random() < 0.1:
            return rng.choice(self.apps)
        flat = {}
        for path, values in self.values.items():
            if rng.random() < 0.93:
                flat[path] = rng.choice(values)
        return nest(flat)


def expressible(expr: ir.Node) -> bool:
    """Whether the durable backend accepts the expression (it refuses too complex ones)."""
    try:
        get_backend("durable").compile(make_matter(SCHEMA_FACTS, [expr]))
    except RuleSetError as exc:
        if "cannot express" not in str(exc):
            raise
        return False
    return True


def quiet_engine_logs() -> None:
    """Backend failures are logged by the Engine; here they show as disagreements instead."""
    logging.disable(logging.ERROR)


def run(cases: int, seed: int, out: Path) -> int:
    quiet_engine_logs()
    rng = random.Random(seed)
    targets: list[tuple[str, dict[str, Engine], Pool]] = []
    matters = bundled_matters()
    for m in matters:
        by_backend = {
            "native": Engine([m]),
            "durable": Engine([m], backend="durable"),
            "interpreter": Engine([m], backend=InterpreterBackend()),
        }
        targets.append((m.id, by_backend, Pool(m, 400, seed)))
    drawn: list[ir.Node] = draw_all(expressions(SCHEMA), 600, seed)
    exprs = [e for e in drawn if expressible(e)]
    print(
        f"fuzz: durable refused {len(drawn) - len(exprs)} of {len(drawn)} random expressions "
        "(too many alternatives, a load-time RuleSetError)"
    )
    for k in range(0, len(exprs), RULES_PER_MATTER):
        chunk = exprs[k : k + RULES_PER_MATTER]
        m = make_matter(SCHEMA_FACTS, chunk, matter_id=f"synthetic-{k // RULES_PER_MATTER}")
        try:
            durable = Engine([m], backend="durable")
        except RuleSetError as exc:  # durable_rules' network limits: refused at load, by design
            print(f"fuzz: durable refused matter {m.id}: {exc.problems[0].message}")
            continue
        by_backend = {
            "native": Engine([m]),
            "durable": durable,
            "interpreter": Engine([m], backend=InterpreterBackend()),
        }
        targets.append((m.id, by_backend, Pool(m, 200, seed + k)))
    found: list[str] = []
    start = time.perf_counter()
    rules_compared = 0
    for n in range(cases):
        matter_id, by_backend, pool = targets[n % len(targets)]
        on = rng.choice(DATES)
        if by_backend["native"].version_on(matter_id, on) is None:
            on = by_backend["native"].versions(matter_id)[0].spec.effective.from_
        diff = disagreement(by_backend, matter_id, pool.case(rng), on)
        rules_compared += len(by_backend["native"].versions(matter_id)[0].rules)
        if diff:
            found.append(diff)
        if n and n % 100_000 == 0:
            print(
                f"  {n} cases, {len(found)} disagreements, {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    if found:
        out.write_text("\n\n".join(found), encoding="utf-8")
        print(f"fuzz: disagreements written to {out}")
    print(
        f"fuzz: {cases} cases ({rules_compared} rule results) over {len(targets)} matters, "
        f"{len(found)} disagreements, {time.perf_counter() - start:.0f} s"
    )
    return 1 if found else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20201)
    parser.add_argument("--out", type=Path, default=Path("fuzz-disagreements.txt"))
    args = parser.parse_args()
    return run(args.cases, args.seed, args.out)


if __name__ == "__main__":
    sys.exit(main())
