"""A declared pattern of a `str` fact as a z3 regular expression, exactly or not at all.

The engine checks such a fact with `factchecks.matching`: `re.compile(pattern, re.ASCII)` and
`fullmatch`. Membership under `fullmatch` is a regular language for the constructs below, so z3
can decide it: literals, `.`, classes (ranges, negation, `\\d \\w \\s` and their negations with
their ASCII meaning), repeats (greedy and lazy ones match the same strings when the whole string
must match), alternation and groups. `^`/`\\A` before everything else and `$`/`\\Z` after
everything else always hold under `fullmatch`, so they are dropped. Anything else (a
backreference, a lookaround, a word boundary, an anchor elsewhere, a possessive repeat or atomic
group, a flag such as `(?i)`) gives None: the caller keeps the pattern approximate.

The translation reads Python's own parse of the pattern (`re._parser`), so it sees the
pattern exactly as `re.compile` does (escapes, `(?x)` whitespace, class syntax). A character
class is first a set of code-point intervals (pure, and tested against `re` on every code
point), then a union of z3 ranges. z3 strings are sequences of code points up to `MAX_CHAR`
(its unicode alphabet): the intervals are clipped to it, as every z3 string is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

import z3

MAX_CHAR = 0x2FFFF
"""The largest code point of a z3 string (z3's `unicode` encoding)."""

Intervals = tuple[tuple[int, int], ...]
"""A set of code points: sorted, disjoint, non-adjacent closed intervals within [0, MAX_CHAR]."""

_DIGIT: Intervals = ((0x30, 0x39),)
_SPACE: Intervals = ((0x09, 0x0D), (0x20, 0x20))
_WORD: Intervals = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_NEWLINE = ord("\n")

_FLAGS_KEPT = re.ASCII | re.VERBOSE | re.MULTILINE | re.DOTALL
"""Flags whose meaning the translation keeps: ASCII is the engine's own, VERBOSE only changes
how the pattern is read (the parser applies it), MULTILINE only changes `^` and `$` away from
the ends (refused anyway), DOTALL is followed (`.` then matches a newline too)."""


class _InexactError(Exception):
    """A construct with no exact translation."""


@dataclass(frozen=True)
class _Where:
    """Where a piece of the pattern stands: at the very start of the string (nothing before it
    can consume a character), at the very end, and whether `.` matches a newline."""

    start: bool
    end: bool
    dotall: bool


def to_z3(pattern: str) -> Any:
    """The z3 regular expression (a `z3.ReRef`) of the strings `pattern` fullmatches under
    re.ASCII, or None when it has a construct this cannot translate exactly (or is no pattern)."""
    try:
        parsed = _parser.parse(pattern, re.ASCII)
    except (re.error, ValueError, OverflowError, RecursionError):
        return None
    flags = parsed.state.flags
    if flags & ~_FLAGS_KEPT:
        return None
    try:
        return _sequence(list(parsed), _Where(True, True, bool(flags & re.DOTALL)))
    except (_InexactError, RecursionError):
        return None


# ---- code-point sets ---------------------------------------------------------------------------


def normalised(ranges: Iterable[tuple[int, int]]) -> Intervals:
    """The intervals of `ranges` merged, sorted and clipped to z3's alphabet."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted((max(lo, 0), min(hi, MAX_CHAR)) for lo, hi in ranges):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def complement(ranges: Intervals) -> Intervals:
    """The code points of z3's alphabet not in `ranges` (normalised)."""
    out, nxt = [], 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CHAR:
        out.append((nxt, MAX_CHAR))
    return tuple(out)


_CATEGORIES: dict[Any, Intervals] = {
    c.CATEGORY_DIGIT: _DIGIT,
    c.CATEGORY_NOT_DIGIT: complement(_DIGIT),
    c.CATEGORY_SPACE: _SPACE,
    c.CATEGORY_NOT_SPACE: complement(_SPACE),
    c.CATEGORY_WORD: _WORD,
    c.CATEGORY_NOT_WORD: complement(_WORD),
}
"""`\\d \\s \\w` and their negations under re.ASCII (the parser's categories, before the
compiler picks their ASCII forms)."""


def class_intervals(items: Sequence[tuple[Any, Any]]) -> Intervals:
    """The code points a parsed class `[...]` (its items: literals, ranges, categories, a
    leading NEGATE) matches."""
    negated = bool(items) and items[0][0] is c.NEGATE
    ranges: list[tuple[int, int]] = []
    for op, av in items[1:] if negated else items:
        if op is c.LITERAL:
            ranges.append((av, av))
        elif op is c.RANGE:
            ranges.append(av)
        elif op is c.CATEGORY and av in _CATEGORIES:
            ranges += _CATEGORIES[av]
        else:
            raise _InexactError(f"{op} in a class")
    found = normalised(ranges)
    return complement(found) if negated else found


def any_char(dotall: bool) -> Intervals:
    """What `.` matches: every character but a newline (with DOTALL, every character)."""
    return normalised([(0, MAX_CHAR)] if dotall else [(0, _NEWLINE - 1), (_NEWLINE + 1, MAX_CHAR)])


# ---- z3 terms ----------------------------------------------------------------------------------

_RE_SORT = z3.ReSort(z3.StringSort())


def _char(code: int) -> Any:
    """The z3 string of one code point, escaped (`StringVal` reads `\\u{..}` in its argument as
    an escape, so every character is given as one, a backslash too)."""
    return z3.StringVal(f"\\u{{{code:x}}}")


def _chars(ranges: Intervals) -> Any:
    """One character out of `ranges`."""
    return _union([z3.Range(_char(lo), _char(hi)) for lo, hi in ranges])


def _union(parts: list[Any]) -> Any:
    if not parts:
        return z3.Empty(_RE_SORT)
    return parts[0] if len(parts) == 1 else z3.Union(*parts)


def _concat(parts: list[Any]) -> Any:
    if not parts:
        return z3.Re(z3.StringVal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def _repeat(body: Any, low: int, high: int) -> Any:
    """`body{low,high}` (high MAXREPEAT: unbounded). z3's `Loop(r, m, 0)` means at least m, so
    a bounded repeat with high 0 is the empty string, spelled as such."""
    if high == c.MAXREPEAT:
        return z3.Star(body) if low == 0 else z3.Concat(z3.Loop(body, low, low), z3.Star(body))
    if high == 0:
        return z3.Re(z3.StringVal(""))
    return z3.Loop(body, low, high)


# ---- the parse tree ----------------------------------------------------------------------------

_STARTS = (c.AT_BEGINNING, c.AT_BEGINNING_STRING)
_ENDS = (c.AT_END, c.AT_END_STRING)


def _is_anchor(item: tuple[Any, Any], which: tuple[Any, ...]) -> bool:
    return item[0] is c.AT and item[1] in which


def _sequence(items: list[tuple[Any, Any]], where: _Where) -> Any:
    """A concatenation: an item is at the start if only start anchors come before it, at the
    end if only end anchors come after it."""
    parts = []
    for i, item in enumerate(items):
        start = where.start and all(_is_anchor(x, _STARTS) for x in items[:i])
        end = where.end and all(_is_anchor(x, _ENDS) for x in items[i + 1 :])
        parts.append(_item(item, replace(where, start=start, end=end)))
    return _concat([p for p in parts if p is not None])


def _item(item: tuple[Any, Any], where: _Where) -> Any:
    """One parsed item as z3, None for an anchor that always holds where it stands."""
    op, av = item
    if op is c.LITERAL:
        return _chars(normalised([(av, av)]))
    if op is c.NOT_LITERAL:
        return _chars(complement(normalised([(av, av)])))
    if op is c.ANY:
        return _chars(any_char(where.dotall))
    if op is c.IN:
        return _chars(class_intervals(av))
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, body = av
        inside = replace(where, start=False, end=False)
        return _repeat(_sequence(list(body), inside), low, high)
    if op is c.BRANCH:
        return _union([_sequence(list(b), where) for b in av[1]])
    if op is c.SUBPATTERN:
        _group, add, remove, body = av
        if (add | remove) & ~_FLAGS_KEPT:
            raise _InexactError("a local flag")
        dotall = (where.dotall or bool(add & re.DOTALL)) and not remove & re.DOTALL
        return _sequence(list(body), replace(where, dotall=dotall))
    if op is c.AT and (
        (av in _STARTS and where.start) or (av in _ENDS and where.end)
    ):  # holds at position 0 / at the string's end, where fullmatch puts it
        return None
    raise _InexactError(str(op))
