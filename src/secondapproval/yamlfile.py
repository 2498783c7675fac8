"""YAML reading with a line and column for every value, YAML 1.2 booleans and no implicit dates.

PyYAML follows YAML 1.1, where `on`, `yes` and `no` are booleans and `2019-07-01` is a date; rule
and scenario files use `on:` as a key and ISO strings as dates, so both are resolved as strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import Problem, RuleSetError

if TYPE_CHECKING:
    from pydantic import ValidationError

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
    text: str = ""
    """The text the document was parsed from (its file's exact content)."""

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


MAX_BYTES = 4 * 1024 * 1024
"""The largest rule, pack or scenario file read, in bytes (docs/language.md, "Limits")."""
MAX_DEPTH = 64
"""The deepest nesting of mappings and sequences in one file."""

_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INT = "tag:yaml.org,2002:int"
_INT_DIGITS = 4300  # Python's own limit on int() of a text


class _RefusedError(Exception):
    """A construct the loader does not accept, at a mark of the file."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


@dataclass(slots=True)
class _Frame:
    """A mapping or sequence being built, and (in a mapping) the key waiting for its value."""

    data: dict[Any, Any] | list[Any]
    path: Path_
    key: Any = None
    key_mark: Any = None
    has_key: bool = False


def _refuse_anchor(event: Any) -> None:
    if isinstance(event, yaml.AliasEvent):
        raise _RefusedError(
            "YAML aliases (*name) are not allowed: write the value out", event.start_mark
        )
    if getattr(event, "anchor", None) is not None:
        raise _RefusedError(
            f"YAML anchors (&{event.anchor}) are not allowed: write the value out",
            event.start_mark,
        )


def _collection_tag(event: Any, standard: str) -> None:
    if event.tag not in (None, "!", standard):
        raise _RefusedError(f"YAML tag {event.tag!r} is not allowed", event.start_mark)


def _scalar(loader: Any, event: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _INT and len(event.value) > _INT_DIGITS:
        raise _RefusedError(f"an integer of more than {_INT_DIGITS} digits", event.start_mark)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # e.g. an integer beyond Python's int text limit
        raise _RefusedError(f"bad value: {exc}", event.start_mark) from None


def _document_starts(loader: Any) -> bool:
    """Read up to the first document's content: False if the stream holds no document."""
    loader.get_event()  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        loader.get_event()
        return False
    loader.get_event()  # DocumentStart
    return True


def _document_ends(loader: Any) -> None:
    """Read the end of the document, refusing a second one."""
    loader.get_event()  # DocumentEnd
    if not loader.check_event(yaml.StreamEndEvent):
        mark = loader.peek_event().start_mark
        raise _RefusedError("expected a single document in the file", mark)


def _take_key(loader: Any, mapping: _Frame, event: Any) -> None:
    """Hold the key of the mapping's next entry until its value is complete."""
    if not isinstance(event, yaml.ScalarEvent):
        raise _RefusedError("a mapping key must be a plain value", event.start_mark)
    key = _scalar(loader, event)
    if not isinstance(key, str | int) or isinstance(key, bool):
        key = str(key)
    mapping.key, mapping.key_mark, mapping.has_key = key, event.start_mark, True


def _opened(event: Any, path: Path_, depth: int) -> _Frame:
    """The frame of the mapping or sequence that the event starts, `depth` frames deep."""
    if depth >= MAX_DEPTH:
        raise _RefusedError(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
    if isinstance(event, yaml.SequenceStartEvent):
        _collection_tag(event, _SEQ)
        return _Frame([], path)
    _collection_tag(event, _MAP)
    return _Frame({}, path)


def _set_entry(mapping: _Frame, value: Any, problems: list[Problem]) -> None:
    """Give the mapping's held key its complete value; a key seen before is a problem."""
    key = mapping.key
    if key in mapping.data:
        at = mapping.key_mark
        problems.append(
            Problem(
                f"duplicate key {key!r}",
                None,
                at.line + 1,
                at.column + 1,
                ".".join(str(p) for p in (*mapping.path, key)),
            )
        )
    mapping.data[key] = value
    mapping.has_key = False


def _build(loader: Any, problems: list[Problem]) -> tuple[Any, dict[Path_, tuple[int, int]]]:
    """The single document of the stream, built from parser events with an explicit stack.

    Composing nodes (PyYAML's way) would expand aliases — a 616-byte file can stand for
    gigabytes — and recurse once per level; here anchors and aliases are refused, nesting is
    bounded by MAX_DEPTH, and nothing recurses.
    """
    marks: dict[Path_, tuple[int, int]] = {}
    if not _document_starts(loader):
        return None, marks
    stack: list[_Frame] = []
    while True:
        event = loader.get_event()
        _refuse_anchor(event)
        top = stack[-1] if stack else None
        awaiting_key = top is not None and isinstance(top.data, dict) and not top.has_key
        if awaiting_key and not isinstance(event, yaml.MappingEndEvent):
            _take_key(loader, stack[-1], event)
            continue
        if awaiting_key or isinstance(event, yaml.SequenceEndEvent):  # a collection ends
            value: Any = stack.pop().data
        else:  # a value starts: note where it stands
            if top is None:
                path: Path_ = ()
            elif isinstance(top.data, dict):
                path = (*top.path, top.key)
            else:
                path = (*top.path, len(top.data))
            mark = event.start_mark
            marks[path] = (mark.line + 1, mark.column + 1)
            if not isinstance(event, yaml.ScalarEvent):
                stack.append(_opened(event, path, len(stack)))
                continue
            value = _scalar(loader, event)
        # a complete value: put it in its parent, or it is the document
        if not stack:
            break
        parent = stack[-1]
        if isinstance(parent.data, list):
            parent.data.append(value)
        else:
            _set_entry(parent, value, problems)
    _document_ends(loader)
    return value, marks


def parse_yaml(text: str, file: str = "<string>") -> Located:
    """Parse one YAML document; raise RuleSetError naming the line of any syntax error.

    Refused, each as a located problem: anchors and aliases, explicit tags on mappings and
    sequences, non-scalar keys, duplicate keys, nesting deeper than MAX_DEPTH.
    """
    if len(text) > MAX_BYTES:
        raise RuleSetError([Problem(f"text longer than {MAX_BYTES} characters", file)])
    loader = _Loader(text)
    problems: list[Problem] = []
    try:
        data, marks = _build(loader, problems)
    except _RefusedError as exc:
        raise RuleSetError(
            [Problem(exc.message, file, exc.mark.line + 1, exc.mark.column + 1)]
        ) from None
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
    return Located(data, file, marks, text)


def load_yaml(path: str | Path) -> Located:
    """Read and parse a YAML file; unreadable files are RuleSetErrors too."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise RuleSetError([Problem(f"file larger than {MAX_BYTES} bytes", str(p))])
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleSetError([Problem(f"cannot read file: {exc}", str(p))]) from None
    return parse_yaml(text, str(p))


def problems_from_validation(
    exc: ValidationError, doc: Located, prefix: tuple[str | int, ...] = ()
) -> list[Problem]:
    """Pydantic errors as located problems (file, line, column, field)."""
    out = []
    for err in exc.errors(include_url=False):
        path = (*prefix, *err["loc"])
        out.append(doc.problem(path, err["msg"]))
    return out
