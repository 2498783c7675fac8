"""The shape of the package: no circle in its imports, and what the installed package may reach.

Every module stands above what it imports (`python tests/import_graph.py` prints the map): the
flow load → check → compile → decide → record reads one way (docs/architecture.md).

`benchmarks/` belongs to a source checkout (peer engines, reference matters, timing scripts); the
installed package neither imports it nor runs it as a program or a path. `make wheel-check`
checks the same on the built wheel, installed in a fresh venv and run outside the checkout.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from import_graph import circles, external, graph, modules

SRC = Path(__file__).resolve().parent.parent / "src"
CHECKOUT_ONLY = "benchmarks"
NAMES_IT = re.compile(rf"{CHECKOUT_ONLY}(\.\w+)*|(\./)?{CHECKOUT_ONLY}(/[\w.]+)*/?")
"""A string that is a module name or a path of the checkout's benchmarks folder, and nothing else
(a sentence that mentions `make bench` or benchmarks/ratios.py in a message is not)."""


def names_of_benchmarks(source: str) -> list[str]:
    """The string literals of a module that are a name of `benchmarks` as a module or a path:
    what `import_module`, `runpy`, `subprocess` (`-m benchmarks.x`) or a Path would be given.
    Docstrings, comments and messages are sentences, so they never match as a whole."""
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and NAMES_IT.fullmatch(node.value)
    ]


def test_no_module_of_the_package_imports_benchmarks() -> None:
    """No `import benchmarks…` or `from benchmarks… import` anywhere under src/secondapproval."""
    assert external(SRC, CHECKOUT_ONLY) == []


def test_no_module_of_the_package_names_benchmarks_in_code() -> None:
    """No string in code names benchmarks/ as a module or a path to import, run or open."""
    offenders = {
        name: found
        for name, path in modules(SRC).items()
        if (found := names_of_benchmarks(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_check_finds_what_the_old_bench_command_did() -> None:
    """The string check catches a run of `python -m benchmarks.ratios` and a path into benchmarks/,
    and passes docstrings and messages that only mention them."""
    old = '''
"""Runs `python -m benchmarks.ratios` from the checkout."""
def peers():
    if not (Path.cwd() / "benchmarks" / "ratios.py").is_file():
        raise BenchError("--peers needs benchmarks/ratios.py of a checkout here")
    importlib.import_module("benchmarks.peers")
    return subprocess.call([sys.executable, "-m", "benchmarks.ratios"])
'''
    assert sorted(names_of_benchmarks(old)) == [
        "benchmarks",
        "benchmarks.peers",
        "benchmarks.ratios",
    ]


def test_importing_every_module_of_the_package_loads_nothing_of_benchmarks() -> None:
    """Every module of the package imported where benchmarks/ could be imported: none of it is."""
    script = (
        "import importlib, pkgutil, sys, secondapproval\n"
        "names = [m.name for m in pkgutil.walk_packages(secondapproval.__path__, 'secondapproval.')"
        " if not m.name.endswith('.__main__')]\n"
        "for name in names: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.partition('.')[0] == 'benchmarks')\n"
        "assert not loaded, loaded\n"
        "print(' '.join(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=SRC.parent,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(SRC.parent)])},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = set(done.stdout.split())
    assert imported == {n for n in modules(SRC) if "." in n and not n.endswith(".__main__")}


def test_the_package_has_no_import_circle() -> None:
    """No module imports (directly or through others) a module that imports it, counting imports
    inside functions and under TYPE_CHECKING: each is a door that opens backwards."""
    assert circles(graph(SRC)) == []


def test_the_library_never_imports_the_cli_or_a_pack() -> None:
    """The library stands below the command line and the packs: no module outside `commands`,
    `cli` and `packs` imports them (packs plug in through entry points: the loader asks
    `packs.discover`, the package's face, never a pack itself)."""
    edges = graph(SRC)
    above = ("secondapproval.commands", "secondapproval.cli", "secondapproval.packs.")
    library = [m for m in edges if not m.startswith((*above, "secondapproval.__main__"))]
    wrong = {m: sorted(t for t in edges[m] if t.startswith(above)) for m in library}
    assert {m: targets for m, targets in wrong.items() if targets} == {}
