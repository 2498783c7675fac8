"""The one way generated Python becomes code: compiled under its own filename, seen by linecache.

Every generated unit (a matter's evaluator, its fast validator and flattener, a pack's formula)
goes through `compile_unit`. Its source is registered with `linecache` under a filename that is
its own, so a traceback through generated code shows the line (`traceback`, `logging`, pytest,
pdb and `inspect.getsource` read linecache; Python 3.11's last-resort hook for an uncaught
exception reads only files), as attrs does (`_linecache_and_compile`). A unit compiled again with
the same source keeps its filename; a different source under a name already taken gets `-1`,
`-2`, … before the `>`. `showcode.sources_of` gives a matter version's sources by filename.
"""

from __future__ import annotations

import linecache
from typing import Any


def register(source: str, filename: str) -> str:
    """Register the source with linecache under `filename` (`<…>`), or under the first free
    `<…-N>` if that name holds another source, and give the filename it is registered under."""
    lines = source.splitlines(keepends=True)
    unique, count = filename, 0
    while True:
        entry = (len(source), None, lines, unique)  # no mtime: linecache.checkcache keeps it
        if linecache.cache.setdefault(unique, entry) == entry:
            return unique
        count += 1
        unique = f"{filename[:-1]}-{count}>"


def compile_unit(source: str, filename: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run the generated source in `namespace` (its globals), compiled under its registered
    filename, and give the namespace with what the source defined."""
    exec(compile(source, register(source, filename), "exec"), namespace)  # generated code only
    return namespace
