"""YAML reading with a line and column for every value, YAML 1.2 booleans and no implicit dates.

PyYAML follows YAML 1.1, where `on`, `yes` and `no` are booleans and `2019-07-01` is a date; rule
and scenario files use `on:` as a key and ISO strings as dates, so both are resolved as strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, RuleSetError

Path_ = tuple[str | int, ...]

_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(_BASE):  # type: ignore[valid-type,misc]
    """Safe loader with YAML 1.2 core-schema booleans and timestamps kept as strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class Located:
    """A loaded YAML document and where each of its values stands in the file."""

    data: Any
    file: str
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the value at `path`, or of its nearest located parent."""
        probe = tuple(path)
        while True:
            if probe in self.marks:
                return self.marks[probe]
            if not probe:
                return None, None
            probe = probe[:-1]

    def problem(self, path: Path_, message: str, field_: str | None = None) -> Problem:
        line, column = self.where(path)
        name = field_ if field_ is not None else ".".join(str(p) for p in path) or None
        return Problem(message, self.file, line, column, name)


def _walk(
    loader: Any,
    node: yaml.Node,
    path: Path_,
    marks: dict[Path_, tuple[int, int]],
    problems: list[Problem],
) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = str(key)
            if key in out:
                line = key_node.start_mark.line + 1
                problems.append(
                    Problem(
                        f"duplicate key {key!r}",
                        None,
                        line,
                        key_node.start_mark.column + 1,
                        ".".join(str(p) for p in (*path, key)),
                    )
                )
            out[key] = _walk(loader, value_node, (*path, key), marks, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk(loader, item, (*path, i), marks, problems) for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, file: str = "<string>") -> Located:
    """Parse one YAML document; raise RuleSetError naming the line of any syntax error."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        problems: list[Problem] = []
        marks: dict[Path_, tuple[int, int]] = {}
        data = None if node is None else _walk(loader, node, (), marks, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise RuleSetError(
            [Problem(f"YAML syntax: {exc.problem or exc}", file, line, column)]
        ) from None
    except yaml.YAMLError as exc:
        raise RuleSetError([Problem(f"YAML syntax: {exc}", file)]) from None
    finally:
        loader.dispose()
    if problems:
        raise RuleSetError([Problem(p.message, file, p.line, p.column, p.field) for p in problems])
    return Located(data, file, marks)


def load_yaml(path: str | Path) -> Located:
    """Read and parse a YAML file; unreadable files are RuleSetErrors too."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleSetError([Problem(f"cannot read file: {exc}", str(p))]) from None
    return parse_yaml(text, str(p))
