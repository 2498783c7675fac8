"""Generated code is compiled through one helper (`codegen`): each unit under a filename of its
own, its source in linecache, so tracebacks show its lines and `sources_of` shows its text."""

from __future__ import annotations

import datetime as dt
import linecache
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secondapproval.backends.native import NativeBackend, compile_expression
from secondapproval.codegen import compile_unit, register
from secondapproval.facts import FactValidator
from secondapproval.fastfacts import fast_path
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.limits import Limits
from secondapproval.loader import load_matters
from secondapproval.ruleset import FactSpec, Matter
from secondapproval.showcode import listing, sources_of
from secondapproval.strategies import SCHEMA

ROOT = Path(__file__).resolve().parent.parent
ON = dt.date(2021, 1, 1)

MATTER = """\
matter: codegen-nested
title: {zh: 生成, en: Generated}
version: "7"
effective: {from: "2000-01-01"}
facts:
  a.n: {type: int, source: applicant}
  a.id: {type: cn_id, source: applicant}
  a.b.tags: {type: list, of: str, source: applicant}
  flag: {type: bool, source: applicant}
rules:
  - id: big
    when: a.n > 1 and flag
    says: {zh: 大, en: Big}
    refer: {code: SMALL, zh: 小, en: Small}
"""


@pytest.fixture(scope="module")
def matter(tmp_path_factory: pytest.TempPathFactory) -> Matter:
    rules: Path = tmp_path_factory.mktemp("rules")
    (rules / "codegen-nested.yaml").write_text(MATTER, encoding="utf-8")
    [loaded] = load_matters([rules])
    return loaded


def _named(filename: str, base: str) -> bool:
    """Whether `filename` is `base`, or `base` with the suffix of a later source by its name."""
    return re.fullmatch(re.escape(base[:-1]) + r"(-\d+)?>", filename) is not None


def _raised(call: Callable[[], object]) -> str:
    """The formatted traceback of the exception the call raises."""
    with pytest.raises(Exception) as info:
        call()
    return "".join(traceback.format_exception(info.value))


# ---- the helper -----------------------------------------------------------------------------


def test_a_new_source_is_registered_under_its_own_name() -> None:
    """The first source under a name keeps it, and linecache holds its lines."""
    source = "def f():\n    return 'first'\n"
    name = register(source, "<codegen test: first>")
    assert name == "<codegen test: first>"
    assert linecache.getlines(name) == ["def f():\n", "    return 'first'\n"]


def test_the_same_source_again_keeps_its_name() -> None:
    """A unit compiled twice (a matter loaded by two engines) is one linecache entry."""
    source = "x = 1\n"
    assert register(source, "<codegen test: again>") == "<codegen test: again>"
    assert register(source, "<codegen test: again>") == "<codegen test: again>"


def test_another_source_under_a_taken_name_gets_the_next_free_suffix() -> None:
    """A different source never overwrites the lines an earlier unit's tracebacks show."""
    first = register("a = 1\n", "<codegen test: taken>")
    second = register("a = 2\n", "<codegen test: taken>")
    third = register("a = 3\n", "<codegen test: taken>")
    assert (first, second, third) == (
        "<codegen test: taken>",
        "<codegen test: taken-1>",
        "<codegen test: taken-2>",
    )
    assert linecache.getline(first, 1) == "a = 1\n"
    assert linecache.getline(second, 1) == "a = 2\n"
    assert linecache.getline(third, 1) == "a = 3\n"
    assert register("a = 2\n", "<codegen test: taken>") == second


def test_compile_unit_runs_the_source_in_the_namespace_it_is_given() -> None:
    """The namespace is the code's globals: constants in, definitions out."""
    namespace = compile_unit("def f():\n    return K + 1\n", "<codegen test: run>", {"K": 41})
    assert namespace["f"]() == 42
    assert namespace["f"].__code__.co_filename == "<codegen test: run>"


def test_registered_lines_survive_linecache_checkcache() -> None:
    """linecache.checkcache (run by every traceback) keeps sources that have no file."""
    name = register("b = 1\n", "<codegen test: kept>")
    linecache.checkcache()
    assert linecache.getline(name, 1) == "b = 1\n"


# ---- every unit of a matter is in linecache, with the source sources_of shows -----------------


def _units(matter: Matter) -> dict[str, Callable[..., Any]]:
    """A function of each unit generated for a matter version, by the unit's kind."""
    validator = FactValidator(matter)
    return {
        "evaluator": NativeBackend().compile(matter),
        "facts": validator.check,
        "flatten": validator._flatten,
    }


def test_every_generated_unit_of_a_matter_is_in_linecache(matter: Matter) -> None:
    """Evaluator, fast validator and flattener: each file is in linecache, holding its source."""
    sources = sources_of(matter)
    assert len(sources) == 3
    units = _units(matter)
    for (base, source), fn in zip(sources.items(), units.values(), strict=True):
        filename = fn.__code__.co_filename
        assert _named(filename, base)
        assert filename in linecache.cache
        assert linecache.getlines(filename) == source.splitlines(keepends=True)


def test_the_units_are_named_after_the_matter_version(matter: Matter) -> None:
    """One filename per unit and matter version, saying which unit it is."""
    assert list(sources_of(matter)) == [
        "<secondapproval:codegen-nested@7>",
        "<secondapproval:facts codegen-nested@7>",
        "<secondapproval:flatten codegen-nested@7>",
    ]


def test_a_matter_without_a_fast_path_has_no_fast_validator_source(matter: Matter) -> None:
    """Limits its shape could cross: the validator generates no fast path, and none is shown."""
    tight = Limits(max_keys=2)
    assert list(sources_of(matter, limits=tight)) == [
        "<secondapproval:codegen-nested@7>",
        "<secondapproval:flatten codegen-nested@7>",
    ]


def test_the_fast_validator_source_defines_partial_and_checker(matter: Matter) -> None:
    """One unit: `partial`, then `checker(_slow)` returning `check`; no callbacks in the text."""
    source = sources_of(matter)["<secondapproval:facts codegen-nested@7>"]
    defs = [line.strip() for line in source.splitlines() if line.lstrip().startswith("def ")]
    assert [d.split("(")[0] for d in defs] == ["def partial", "def checker", "def check"]
    assert defs[1] == "def checker(_slow):"
    assert source.endswith("    return check\n")


def test_the_listing_heads_each_source_with_its_filename(matter: Matter) -> None:
    """`check --show-code` prints each unit under a comment line naming its file."""
    text = listing(sources_of(matter))
    heads = [line for line in text.splitlines() if line.startswith("# ---- ")]
    assert heads == [f"# ---- {name}" for name in sources_of(matter)]


# ---- a traceback through generated code shows the generated line ------------------------------


def test_a_traceback_in_the_fast_validator_shows_its_line() -> None:
    """The slow path raising, called from the generated `check`: the line that called it shows."""
    facts = {"a.n": FactSpec(type="int", source="applicant")}
    path = fast_path(facts, Limits(), "<codegen test: fast validator>")

    def slow(_facts: object, _on: object) -> Any:
        raise RuntimeError("the slow path")

    check_ = path.checker(slow)
    text = _raised(lambda: check_(["not", "a", "dict"], ON))
    assert 'File "<codegen test: fast validator>", line ' in text
    assert "in check\n    return _slow(facts, on)\n" in text


def test_a_traceback_in_the_native_evaluator_shows_its_line(matter: Matter) -> None:
    """No facts at all (None): the slow form's fact lookup raises, at the rule's generated line."""
    evaluate = NativeBackend().compile(matter)
    text = _raised(lambda: evaluate(None, ON))  # type: ignore[arg-type]
    where = r'File "<secondapproval:codegen-nested@7(-\d+)?>", line \d+, in evaluate_codegen_nested'
    assert re.search(where, text)
    assert "r0 = _status(_and(_strict(gt, _fact(v, errs, 'a.n'), 1)" in text


def test_a_traceback_in_a_compiled_expression_shows_its_line() -> None:
    """compile_expression of `a.n + 1` with no facts: the slow form's line shows."""
    parsed, _ = parse("a.n + 1")
    node, problems = check(parsed, SCHEMA)
    assert problems == []
    fn = compile_expression(node, "codegen test")
    text = _raised(lambda: fn(None, ON))  # type: ignore[arg-type]
    assert 'File "<secondapproval:codegen test' in text
    assert "in expression_codegen_test\n    return _strict(add, _fact(v, errs, 'a.n'), 1)\n" in text


def test_a_traceback_in_the_flattener_shows_its_line(matter: Matter) -> None:
    """Not a dict of validated facts: the flattener's first test raises, and shows."""
    flatten = FactValidator(matter)._flatten
    text = _raised(lambda: flatten(None))  # type: ignore[arg-type]
    assert 'File "<secondapproval:flatten codegen-nested@7' in text
    assert "in flatten\n    g1 = n.get('a')\n" in text
