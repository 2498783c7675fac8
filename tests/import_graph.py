"""The package's module map: files, lines, and the circles of its imports.

    python tests/import_graph.py [SRC]     # the map of src/secondapproval (or SRC)

Read from the source text with `ast` (nothing is imported): an import inside a function or under
`if TYPE_CHECKING:` counts too, since a circle through it still ties the modules together.
tests/test_architecture.py asserts that the package has no circle and never imports `benchmarks`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "secondapproval"


def modules(src: Path) -> dict[str, Path]:
    """Every module of the package under `src` (the folder that holds the package) by name."""
    found: dict[str, Path] = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path) -> Iterator[str]:
    """The absolute names a module imports (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def graph(src: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (a package's `__init__` is the package)."""
    mods = modules(src)
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        edges[name] = {t for t in imports_of(name, path) if t in mods and t != name}
    return edges


def external(src: Path, top: str) -> list[str]:
    """The package's modules that import the top-level package `top` (e.g. `benchmarks`)."""
    return sorted(
        name
        for name, path in modules(src).items()
        if any(t == top or t.startswith(top + ".") for t in imports_of(name, path))
    )


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


def main(argv: list[str]) -> int:
    src = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "src"
    mods = modules(src)
    lines = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in mods.items()
    }
    edges = graph(src)
    found = circles(edges)
    print(f"{len(mods)} modules, {sum(lines.values())} lines, {len(found)} import circles")
    for component in found:
        ties = [f"{a} -> {b}" for a in component for b in sorted(edges[a]) if b in component]
        print(f"  circle of {len(component)}: " + "; ".join(ties))
    print(f"  modules importing benchmarks: {', '.join(external(src, 'benchmarks')) or 'none'}")
    for name in sorted(mods):
        print(f"{lines[name]:6d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
