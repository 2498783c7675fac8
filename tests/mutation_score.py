"""`make mutants`: the mutation score by module, from `mutmut results --all true`.

    .venv/bin/python tests/mutation_score.py [--min PERCENT]

Reads mutmut's result lines (`<module>.<function>__mutmut_<n>: <status>`) from its own run, prints
killed / survived / no tests / timeout / not checked per module and the score (killed and
timed-out over those checked; a mutant that no test reaches counts as one that survives), and
exits 1 if a `--min` score is given and the total is below it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

LINE = re.compile(r"^\s*(?P<name>[\w.ǁ]+)__mutmut_\d+: (?P<status>.+)$")
KILLED = {"killed", "timeout"}
CHECKED = KILLED | {"survived", "no tests", "suspicious", "segfault"}
"""A mutant no test reaches counts against the score, like one that survives."""


def module_of(name: str) -> str:
    """`secondapproval.lang.kleene.x_status_code` → `secondapproval.lang.kleene`."""
    return name.rsplit(".", 1)[0]


def tally(lines: list[str]) -> dict[str, Counter[str]]:
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        m = LINE.match(line)
        if m:
            by_module[module_of(m["name"])][m["status"].strip()] += 1
    return by_module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=None, help="fail below this score (%%)")
    args = parser.parse_args(argv)
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run(
        [str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=False
    ).stdout
    by_module = tally(out.splitlines())
    total: Counter[str] = Counter()
    print(
        f"{'module':40} {'killed':>7} {'survived':>9} {'no tests':>9} {'timeout':>8} "
        f"{'unchecked':>10} {'score':>7}"
    )
    for module, counts in sorted(by_module.items()):
        total += counts
        print(_row(module, counts))
    print(_row("total", total))
    score = _score(total)
    return 1 if args.min is not None and (score is None or score < args.min) else 0


def _score(c: Counter[str]) -> float | None:
    checked = sum(v for k, v in c.items() if k in CHECKED)
    return 100 * sum(c[k] for k in KILLED) / checked if checked else None


def _row(name: str, c: Counter[str]) -> str:
    score = _score(c)
    shown = f"{score:6.1f}%" if score is not None else "      -"
    unchecked = sum(v for k, v in c.items() if k not in CHECKED)
    return (
        f"{name:40} {c['killed']:>7} {c['survived']:>9} {c['no tests']:>9} {c['timeout']:>8} "
        f"{unchecked:>10} {shown}"
    )


if __name__ == "__main__":
    sys.exit(main())
