"""The compiled fast path of fact validation: two functions generated per matter version.

`fast_path(inputs, limits, filename)` compiles, once, `partial(facts)` and `checker(slow)`, which
gives `check(facts, on) -> (values, invalid, missing)`. When every declared fact is present and
valid `check` answers by itself, in straight-line code: exact `type(...) is` tests, enum
membership, and the plain check functions (`factchecks`: dates, decimals, ID numbers, patterns)
the pydantic adapter of `facts.FactValidator` wraps too. At the first doubt — not a plain dict, a
key absent or undeclared, a null, a wrong type, a failed check, an ID number born after the
decision date — it hands the application to `slow`, the validator's full path, which says what is
wrong. `partial` reads applications with absent facts the same way and gives their values, or
None at the first doubt; the full path is built around it, and then given to `checker`.

Both accept only what the strict adapter accepts and give the same values in the same order
(tests/test_fast_validation.py); validation is never skipped, only done faster. They keep the
engine's `Limits` too without walking the application: its shape is the matter's (the validator
builds no fast path for a matter whose shape alone could cross a limit), so only the length of a
string that may be long and the list items in total need a look; beyond them, the slow path's
walk says which limit was crossed. `fast_source` is the generated source and its constants
(bound as default arguments: locals, the fastest lookup), to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .codegen import compile_unit
from .factchecks import plain_check, record_check, value_check
from .idcodes import cn_id_birth_date
from .limits import Limits
from .paths import nest
from .ruleset import FactSpec, item_spec

FastValidator = Callable[[Any], dict[str, Any] | None]
Checked = tuple[dict[str, Any], dict[str, str], tuple[str, ...]]
Check = Callable[[Any, Any], Checked]

_ABSENT = object()


class _DoubtError(Exception):
    """Raised inside the generated complete path at its first doubt: the slow path decides."""


_EXACT = ("bool", "int", "str")
_LONG = ("str", "decimal", "money")
"""Fact types whose valid value may be a string longer than `Limits.max_string`."""


class _Source:
    """The generated source and the constants it reads (bound as default arguments)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.consts: dict[str, Any] = {
            "_ABSENT": _ABSENT,
            "_DoubtError": _DoubtError,
            "_born": cn_id_birth_date,
        }
        self.lines: list[str] = []
        self.lists: list[str] = []
        """The variables holding list facts (their items count toward `max_items`)."""
        self.records: list[tuple[str, int]] = []
        """The variables holding lists of records, and their fields (the most keys an item
        has: the items' keys count toward `max_keys`)."""

    def const(self, value: Any) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def add(self, line: str) -> None:
        self.lines.append(line)

    def take(self) -> list[str]:
        """The lines added so far (one function's body), the next ones starting afresh."""
        lines, self.lines = self.lines, []
        return lines

    def leaf(self, var: str, spec: FactSpec, indent: str, doubt: str, dated: bool) -> None:
        """Check the value in `var`, leaving the validated value in it, or run `doubt`.

        `dated`: the decision date `on` is at hand, so an ID number's birth date is checked too.
        """
        check = plain_check(spec)
        long = self.limits.max_string
        if spec.type in _LONG:  # before any pattern or decimal check reads the string
            self.add(f"{indent}if {var}.__class__ is str and len({var}) > {long}:")
            self.add(f"{indent}    {doubt}")
        if spec.type == "enum":
            members = self.const(frozenset(spec.values or ()))
            self.add(f"{indent}if {var}.__class__ is not str or {var} not in {members}:")
            self.add(f"{indent}    {doubt}")
        elif check is None and spec.type in _EXACT:
            self.add(f"{indent}if {var}.__class__ is not {spec.type}:")
            self.add(f"{indent}    {doubt}")
        elif spec.type == "list":
            of = spec.of or "str"
            item = (
                record_check(spec.fields or {}, long)
                if of == "record"
                else value_check(item_spec(spec), long)
            )
            self.add(
                f"{indent}if {var}.__class__ is not list or len({var}) > {self.limits.max_items}:"
            )
            self.add(f"{indent}    {doubt}")
            self.guarded(f"{var} = [{self.const(item)}(i) for i in {var}]", indent, doubt)
            if of == "cn_id" and dated:
                self.add(f"{indent}for i in {var}:")
                self.add(f"{indent}    if _born(i) > on:")
                self.add(f"{indent}        {doubt}")
            ids = [n for n, f in (spec.fields or {}).items() if f.type == "cn_id"]
            for name in ids if dated else ():
                self.add(f"{indent}for i in {var}:")
                self.add(f"{indent}    if {name!r} in i and _born(i[{name!r}]) > on:")
                self.add(f"{indent}        {doubt}")
        elif check is not None:
            self.guarded(f"{var} = {self.const(check)}({var})", indent, doubt)
            if spec.type == "cn_id" and dated:
                self.add(f"{indent}if _born({var}) > on:")
                self.add(f"{indent}    {doubt}")
        else:
            raise TypeError(f"no fast check for fact type {spec.type!r}")

    def guarded(self, statement: str, indent: str, doubt: str) -> None:
        """A statement that calls a check function, which may raise."""
        self.add(f"{indent}try:")
        self.add(f"{indent}    {statement}")
        self.add(f"{indent}except Exception:")
        self.add(f"{indent}    {doubt}")

    def complete(self, node: dict[str, Any], var: str, indent: str, leaves: list[str]) -> None:
        """Every declared key present at every level: read them by index.

        As many keys as declared, and each declared one read (an absent one raises KeyError),
        so no undeclared key is there either. At a doubt it raises KeyError or `_DoubtError`, which
        `check` hands to the slow path.
        """
        self.add(f"{indent}if len({var}) != {len(node)}:")
        self.add(f"{indent}    raise _DoubtError")
        for key, sub in node.items():
            if isinstance(sub, dict):
                group = f"g{len(self.lines)}"
                self.add(f"{indent}{group} = {var}[{key!r}]")
                self.add(f"{indent}if {group}.__class__ is not dict:")
                self.add(f"{indent}    raise _DoubtError")
                self.complete(sub, group, indent, leaves)
            else:
                name = f"v{len(leaves)}"
                self.add(f"{indent}{name} = {var}[{key!r}]")
                self.leaf(name, sub[1], indent, "raise _DoubtError", dated=True)
                leaves.append(f"{sub[0]!r}: {name}")
                if sub[1].type == "list":
                    self.lists.append(name)
                if sub[1].fields:
                    self.records.append((name, len(sub[1].fields)))

    def partial(self, node: dict[str, Any], var: str, indent: str) -> None:
        """Some declared keys absent: read each with a default."""
        self.add(f"{indent}if not {var}.keys() <= {self.const(frozenset(node))}:")
        self.add(f"{indent}    return None")
        for key, sub in node.items():
            name = f"x{len(self.lines)}"
            self.add(f"{indent}{name} = {var}.get({key!r}, _ABSENT)")
            self.add(f"{indent}if {name} is not _ABSENT:")
            if isinstance(sub, dict):
                self.add(f"{indent}    if {name}.__class__ is not dict:")
                self.add(f"{indent}        return None")
                self.partial(sub, name, indent + "    ")
            else:
                self.leaf(name, sub[1], indent + "    ", "return None", dated=False)
                self.add(f"{indent}    out[{sub[0]!r}] = {name}")
                if sub[1].type == "list":
                    self.add(f"{indent}    items += len({name})")
                if sub[1].fields:
                    self.add(f"{indent}    keys += len({name}) * {len(sub[1].fields)}")


def _keys(tree: dict[str, Any]) -> int:
    """The keys of the objects of a nested shape, in all."""
    return len(tree) + sum(_keys(sub) for sub in tree.values() if isinstance(sub, dict))


@dataclass(frozen=True, slots=True)
class FastPath:
    """The generated functions of one matter version's fast path."""

    partial: FastValidator
    """`partial(facts)`: the values of an application with absent facts, or None at a doubt."""
    checker: Callable[[Check], Check]
    """`checker(slow)`: the complete path `check(facts, on)`, handing its doubts to `slow`."""


def fast_source(inputs: dict[str, FactSpec], limits: Limits) -> tuple[str, dict[str, Any]]:
    """The source defining `partial` and `checker` for these declared facts, and the constants
    it reads (the namespace it runs in). `limits`: the engine's (the matter's shape alone within
    them: `facts._within`)."""
    tree = nest({path: (path, spec) for path, spec in inputs.items()})  # the adapter's order
    src = _Source(limits)
    lists = any(spec.type == "list" for spec in inputs.values())
    records = any(spec.fields for spec in inputs.values())
    declared = _keys(tree)  # the most keys the application's objects hold
    src.add("    if facts.__class__ is not dict:")
    src.add("        return None")
    src.add("    out = {}")
    src.add("    items = 0")
    if records:
        src.add("    keys = 0")
    src.partial(tree, "facts", "    ")
    if lists:
        src.add(f"    if items > {limits.max_items}:")
        src.add("        return None")
    if records:
        src.add(f"    if keys + {declared} > {limits.max_keys}:")
        src.add("        return None")
    src.add("    return out")
    partial = src.take()
    src.add("        if facts.__class__ is not dict:")
    src.add("            return _slow(facts, on)")
    leaves: list[str] = []
    src.add("        try:")
    src.complete(tree, "facts", "            ", leaves)
    if src.lists:
        total = " + ".join(f"len({v})" for v in src.lists)
        src.add(f"            if {total} > {limits.max_items}:")
        src.add("                raise _DoubtError")
    if src.records:
        keys = " + ".join(f"len({v}) * {n}" for v, n in src.records)
        src.add(f"            if {keys} + {declared} > {limits.max_keys}:")
        src.add("                raise _DoubtError")
    src.add("        except (KeyError, _DoubtError):")
    src.add("            return _slow(facts, on)")
    src.add("        return {" + ", ".join(leaves) + "}, {}, ()")
    check = src.take()
    binds = ", ".join(f"{k}={k}" for k in src.consts)  # every constant a local of both
    lines = [
        f"def partial(facts, {binds}):",
        *partial,
        "def checker(_slow):",
        f"    def check(facts, on, {binds}):",
        *check,
        "    return check",
    ]
    return "\n".join(lines) + "\n", dict(src.consts)


def fast_path(inputs: dict[str, FactSpec], limits: Limits, filename: str) -> FastPath:
    """The generated fast path of these declared facts, compiled under `filename` (`codegen`)."""
    source, namespace = fast_source(inputs, limits)
    compiled = compile_unit(source, filename, namespace)
    return FastPath(compiled["partial"], compiled["checker"])
