"""Static analysis by parts against the whole matter (issue 18), in one run.

`python -m benchmarks.analysis_parts [N ...]` (a line of `make bench`; N defaults to 50 200)
analyses the generated matters of N rules (`secondapproval.strategies.wide`), in parts and
linked, twice in one process: as `analyze` does (`analysis.parts` first) and with the parts
answering nothing (every question asked of the whole matter). It prints both times, their ratio,
and whether the two reports find the same things (they must: a difference exits 1).
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from secondapproval import Engine
from secondapproval.analysis import analyze
from secondapproval.analysis.parts import Parts
from secondapproval.strategies.wide import wide_matter


@contextlib.contextmanager
def whole_matter() -> Iterator[None]:
    """Parts that answer nothing: every question goes to the whole matter's solver."""
    approve, ask = Parts.approve, Parts.ask
    Parts.approve = lambda self, *a, **k: None  # type: ignore[method-assign]
    Parts.ask = lambda self, *a, **k: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Parts.approve, Parts.ask = approve, ask  # type: ignore[method-assign]


def findings(report: Any) -> list[tuple[str, str]]:
    """What a report finds, witnesses aside."""
    return sorted((f.kind, str(getattr(f, "rule", ""))) for f in report.findings)


def timed(matter: Any, engine: Engine) -> tuple[Any, float]:
    start = time.perf_counter()
    report = analyze(matter, engine)
    return report, time.perf_counter() - start


def compare(n: int, linked: bool, folder: pathlib.Path) -> bool:
    """Print one line for the matter of `n` rules; whether both paths find the same."""
    matter_id = wide_matter(n, folder, linked=linked)
    engine = Engine(folder, vouch="all")
    matter = engine.versions(matter_id)[0]
    by_parts, parts_s = timed(matter, engine)
    with whole_matter():
        whole, whole_s = timed(matter, engine)
    same = findings(by_parts) == findings(whole)
    name = f"wide-{n}" + (", linked" if linked else "")
    print(
        f"| {name} | {parts_s:.2f} s | {whole_s:.2f} s | {whole_s / parts_s:.1f}× | "
        f"{'same' if same else 'DIFFERENT'} |",
        flush=True,
    )
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="*", type=int, default=[50, 200])
    args = parser.parse_args(argv)
    print("| matter | parts | whole matter | ratio | findings |\n|---|---:|---:|---:|---|")
    agree = True
    for n in args.n:
        for linked in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                agree &= compare(n, linked, pathlib.Path(tmp))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
