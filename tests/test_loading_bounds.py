"""Loading ends quickly and fails only with a located RuleSetError, whatever the rule files hold.

Issue 13, classes 6 and 8: deep or long expressions, hostile YAML (aliases, anchors, deep nesting,
duplicate keys, huge integers), long chains of derived facts, and folders that hold no matter.
`Engine()` refuses exactly what `secondapproval check` refuses.
"""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import RULES, SCENARIOS, examples, write_matter
from secondapproval import Engine
from secondapproval.commands.check import check_paths
from secondapproval.errors import RuleSetError
from secondapproval.lang.parser import MAX_DEPTH, MAX_LENGTH, parse
from secondapproval.yamlfile import MAX_DEPTH as YAML_DEPTH
from secondapproval.yamlfile import parse_yaml

ON = dt.date(2021, 1, 1)

MATTER = """matter: m
title: {{zh: 测试, en: test}}
version: "1"
effective: {{from: 2020-01-01}}
facts:
  a: {{type: int, source: applicant}}
  xs: {{type: list, of: int, source: applicant}}
rules:
  - id: r
    when: {when}
    says: {{zh: 测, en: t}}
    refer: {{code: R, zh: 测, en: t}}
"""


def matter_text(when: str) -> str:
    quoted = "'" + when.replace("'", "''") + "'"
    return MATTER.format(when=quoted)


HEAD = MATTER.format(when="a").split("facts:")[0]


def refused_alike(folder: Path) -> RuleSetError:
    """Engine() and check refuse the folder with the same located problems; the problems."""
    with pytest.raises(RuleSetError) as caught:
        Engine(folder)
    _, problems, _ = check_paths([folder])
    assert problems, "check accepted what Engine refused"
    assert list(caught.value.problems) == problems
    for p in problems:
        assert p.file is not None
    return caught.value


# ---- expressions: bounded before any recursive pass ----

DEEP = {
    "nots": lambda n: "not " * n + "a > 1",
    "unary minus": lambda n: "-" * n + "a > 1",
    "unary plus": lambda n: "+" * n + "a > 1",
    "sum": lambda n: " + ".join(["a"] * n) + " > 1",
    "power": lambda n: " ** ".join(["1"] * n) + " == a",
    "and": lambda n: "(a > 1 and " * n + "a > 1" + ")" * n,
    "parentheses": lambda n: "(" * n + "a > 1" + ")" * n,
    "lists": lambda n: "a in " + "[" * n + "1" + "]" * n,
    "calls": lambda n: "min(" * n + "a" + ", 1)" * n + " > 0",
    "dict lookup": lambda n: "{1: " * n + "a" + "}[1]" * n + " > 0",
    "comparisons": lambda n: " < ".join(["a"] * n),
}
HUGE = [1_000, 5_000, 20_000]


@pytest.mark.parametrize("size", HUGE)
@pytest.mark.parametrize("kind", sorted(set(DEEP) - {"comparisons"}))
def test_a_huge_expression_is_a_located_problem(kind: str, size: int, tmp_path: Path) -> None:
    """1,000 `not`s, a 5,000-deep minus, a 20,000-term sum …: a RuleSetError at the rule."""
    error = refused_alike(write_matter(tmp_path, matter_text(DEEP[kind](size))))
    (problem,) = error.problems
    assert problem.line == 10
    assert problem.column is not None
    assert problem.column >= 11
    assert problem.field == "rules.0.when"
    assert "nested" in problem.message or "longer than" in problem.message


@pytest.mark.parametrize("kind", sorted(set(DEEP) - {"parentheses", "comparisons"}))
def test_just_beyond_the_depth_bound_is_refused_by_parse(kind: str) -> None:
    """Below the length bound, every shape of nesting meets the depth bound, not the stack."""
    make = DEEP[kind]
    n = 1
    while not parse(make(n))[1]:
        n += 1
        assert n <= MAX_DEPTH, f"{kind}: {n} levels parsed without a problem"
    problems = parse(make(MAX_DEPTH * 4))[1]
    assert problems
    assert len(make(MAX_DEPTH * 4)) < MAX_LENGTH


@pytest.mark.parametrize("backend", ["native", "durable"])
@pytest.mark.parametrize("kind", ["nots", "unary minus", "sum", "and", "calls", "power"])
def test_an_expression_at_the_bound_loads_and_decides(
    kind: str, backend: str, tmp_path: Path
) -> None:
    """The deepest accepted expression compiles and decides on every backend."""
    make = DEEP[kind]
    n = 1
    while not parse(make(n + 1))[1]:
        n += 1
    engine = Engine(write_matter(tmp_path, matter_text(make(n))), backend=backend)
    decision = engine.decide("m", {"a": 2, "xs": [1]}, on=ON)
    assert decision.results[0].status.value in ("passed", "failed")


@pytest.mark.parametrize("kind", ["a list", "comparisons"])
def test_an_expression_longer_than_the_bound_is_refused(kind: str) -> None:
    """A flat but long expression (a list of thousands of items, a chain of `<`) is refused."""
    if kind == "a list":
        text = "a in [" + ", ".join(["1"] * MAX_LENGTH) + "]"
    else:
        text = " < ".join(["a"] * MAX_LENGTH)
    (problem,) = parse(text)[1]
    assert "longer than" in problem.message


def test_a_flat_chain_of_comparisons_within_the_length_loads(tmp_path: Path) -> None:
    """1,000 chained comparisons are flat (one level), so they load and decide."""
    engine = Engine(write_matter(tmp_path, matter_text(DEEP["comparisons"](999))))
    assert not engine.decide("m", {"a": 2, "xs": [1]}, on=ON).approved


@pytest.mark.long
@pytest.mark.parametrize("declared", ["forward", "backward"])
def test_a_long_chain_of_derived_facts_loads(declared: str, tmp_path: Path) -> None:
    """1,000 facts, each derived from the one before, in either order: no RecursionError."""
    n = 1_000
    order = range(1, n) if declared == "forward" else reversed(range(1, n))
    facts = "\n".join(f"  d{i}: {{type: int, derive: 'd{i - 1} + 1'}}" for i in order)
    text = (
        HEAD
        + f"facts:\n  d0: {{type: int, source: applicant}}\n{facts}\nrules:\n"
        + f"  - id: r\n    when: 'd{n - 1} > 1'\n"
        + "    says: {zh: 测, en: t}\n    refer: {code: R, zh: 测, en: t}\n"
    )
    engine = Engine(write_matter(tmp_path, text))
    assert engine.decide("m", {"d0": 2}, on=ON).approved


def test_a_cycle_of_derived_facts_is_still_named(tmp_path: Path) -> None:
    """The iterative ordering reports a cycle with its path, as before."""
    text = (
        HEAD
        + "facts:\n  a: {type: int, derive: 'b + 1'}\n  b: {type: int, derive: 'a + 1'}\n"
        + "rules:\n  - id: r\n    when: 'a > 1'\n"
        + "    says: {zh: 测, en: t}\n    refer: {code: R, zh: 测, en: t}\n"
    )
    error = refused_alike(write_matter(tmp_path, text))
    assert any("cycle: a → b → a" in p.message for p in error.problems)


# ---- YAML: no aliases, no unbounded nesting, no duplicate keys ----

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
BAD_YAML = {
    "billion laughs": (LAUGHS, 1, "anchors"),
    "recursive alias": ("a: &a [*a]\n", 1, "anchors"),
    "alias": ("a: 1\nb: *a\n", 2, "aliases"),
    "merge key": ("a: &x {b: 1}\nc:\n  <<: *x\n", 1, "anchors"),
    "anchored scalar": ("a: &x 1\n", 1, "anchors"),
    "duplicate key": ("matter: m\nrules: []\nmatter: n\n", 3, "duplicate key 'matter'"),
    "duplicate nested key": ("a:\n  b: 1\n  b: 2\n", 3, "duplicate key 'b'"),
    "deep flow nesting": ("a: " + "[" * 5_000 + "]" * 5_000 + "\n", 1, ""),
    "deep block nesting": ("".join("  " * i + f"k{i}:\n" for i in range(200)) + "x", 65, "64"),
    "huge integer": ("a: " + "1" * 5_000 + "\n", 1, "4300 digits"),
    "set tag": ("a: !!set {b: null}\n", 1, "tag"),
    "omap tag": ("a: !!omap [b: 1]\n", 1, "tag"),
    "python tag": ("a: !!python/object:os.system x\n", 1, "constructor"),
    "complex key": ("? [1, 2]\n: 3\n", 1, "plain value"),
    "two documents": ("a: 1\n---\nb: 2\n", 2, "single document"),
    "syntax": ("a: [1, 2\n", 2, "YAML syntax"),
}


@pytest.mark.parametrize("kind", sorted(BAD_YAML))
def test_hostile_yaml_is_a_located_problem(kind: str, tmp_path: Path) -> None:
    """Each hostile construct is one RuleSetError naming file and line, from Engine and check."""
    text, line, words = BAD_YAML[kind]
    error = refused_alike(write_matter(tmp_path, text))
    assert len(error.problems) == 1, error
    (problem,) = error.problems
    assert problem.file == str(tmp_path / "m.yaml")
    assert problem.line == line
    assert words in problem.message


def test_yaml_nesting_at_the_bound_loads() -> None:
    """Mappings nested MAX_DEPTH deep load; one more level is refused."""
    assert parse_yaml("a: " + "[" * (YAML_DEPTH - 1) + "]" * (YAML_DEPTH - 1)).data
    with pytest.raises(RuleSetError, match="nested more than"):
        parse_yaml("a: " + "[" * YAML_DEPTH + "]" * YAML_DEPTH)


def test_yaml_values_and_marks_are_those_of_plain_yaml() -> None:
    """YAML 1.2 booleans, dates kept as strings, and a mark for every value."""
    doc = parse_yaml("a: {b: [1, {c: on}], d: 2019-07-01, e: true, f: 1.5}\n")
    assert doc.data == {"a": {"b": [1, {"c": "on"}], "d": "2019-07-01", "e": True, "f": 1.5}}
    assert doc.where(("a", "b", 1, "c")) == (1, 16)
    assert doc.where(("a", "d")) == (1, 25)


def test_a_file_beyond_the_byte_bound_is_refused(tmp_path: Path) -> None:
    """A rule file of more than MAX_BYTES is refused before it is parsed."""
    from secondapproval.yamlfile import MAX_BYTES

    write_matter(tmp_path, "# " + "x" * MAX_BYTES + "\n")
    error = refused_alike(tmp_path)
    assert "larger than" in error.problems[0].message


# ---- Engine() refuses what check refuses ----

NOT_RULES = {
    "empty file": "",
    "only a comment": "# nothing\n",
    "a list": "- 1\n- 2\n",
    "a scalar": "hello\n",
    "a scenario file": "matter: m\ncases: []\n",
    "a matter without rules": "title: x\nfacts: {}\n",
}


@pytest.mark.parametrize("kind", sorted(NOT_RULES))
def test_a_file_that_is_not_a_matter_is_refused_by_engine_and_check(
    kind: str, tmp_path: Path
) -> None:
    """A YAML file no one claims is a problem for Engine() as for check, naming the file."""
    error = refused_alike(write_matter(tmp_path, NOT_RULES[kind]))
    assert "not a matter file" in error.problems[0].message


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    """A folder with no YAML file at all (the wrong folder) is refused by both."""
    error = refused_alike(tmp_path)
    assert "no rule files" in error.problems[0].message


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    """A path that does not exist is refused by both."""
    error = refused_alike(tmp_path / "nowhere")
    assert "no such file" in error.problems[0].message


def test_the_scenarios_folder_is_not_a_rules_folder() -> None:
    """`Engine("scenarios")` (a wrong folder) is refused, as check refuses it."""
    refused_alike(SCENARIOS)


def test_a_folder_of_pack_files_only_has_no_matter(tmp_path: Path) -> None:
    """check accepts a folder of pack files; Engine() refuses it: it has nothing to decide."""
    folder = RULES / "indicators"
    _, problems, packs = check_paths([folder])
    assert not problems
    assert packs
    with pytest.raises(RuleSetError, match="no matter file"):
        Engine(folder)


# ---- fuzzing: only RuleSetError ever escapes, quickly ----

BASE = matter_text("a > 1 and len(xs) >= 0")
ATOMS = ["a", "xs", "1", "0.5", '"s"', "decision_date", "it", "[1, 2]", '{"k": 1}', "x.y"]
OPERATORS = [" and ", " or ", " + ", " - ", " * ", " / ", " ** ", " < ", " == ", " in "]
PREFIXES = ["not ", "-", "+", "(", "[", "len(", "min(", "any_of(xs, ", "{1: ", "~", "lambda: "]


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """Expressions made of the language's pieces, nested and combined at random."""
    parts = [draw(st.sampled_from(ATOMS))]
    for _ in range(draw(st.integers(0, 30))):
        choice = draw(st.integers(0, 2))
        if choice == 0:
            parts.insert(0, draw(st.sampled_from(PREFIXES)) * draw(st.integers(1, 80)))
        elif choice == 1:
            parts += [draw(st.sampled_from(OPERATORS)), draw(st.sampled_from(ATOMS))]
        else:
            parts.append(draw(st.sampled_from([")", "]", "}", ", 1)", "[0]", "}[1]"])))
    return "".join(parts)


@st.composite
def mutated_yaml(draw: st.DrawFn) -> str:
    """The text of a valid matter file with a few characters inserted, deleted or replaced."""
    text = BASE
    alphabet = string.printable + "&*!?|>-[]{}:,'\"#%@`测\u3000"
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.integers(0, 2))
        piece = draw(st.text(alphabet=alphabet, min_size=1, max_size=6))
        if op == 0:
            text = text[:i] + piece + text[i:]
        elif op == 1:
            text = text[:i] + text[i + len(piece) :]
        else:
            text = text[:i] + piece + text[i + len(piece) :]
    return text


def loads_or_refuses(text: str, folder: Path) -> None:
    """Engine() and check either load the file or raise RuleSetError: nothing else escapes."""
    write_matter(folder, text)
    _, problems, _ = check_paths([folder])
    if problems:
        refused_alike(folder)
    else:
        engine = Engine(folder)
        for matter in engine.matters:
            engine.decide(matter, {"a": 2, "xs": [1]}, on=ON)


FUZZ = settings(
    max_examples=examples(150),
    deadline=2_000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(expressions())
def test_any_expression_loads_or_is_a_rule_set_error(tmp_path: Path, text: str) -> None:
    """A random expression, however nested, loads or is refused with RuleSetError."""
    loads_or_refuses(matter_text(text), tmp_path / "fuzz")


@FUZZ
@given(mutated_yaml())
def test_any_mutated_matter_file_loads_or_is_a_rule_set_error(tmp_path: Path, text: str) -> None:
    """A matter file with random damage loads or is refused with RuleSetError."""
    loads_or_refuses(text, tmp_path / "fuzz")


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_a_matter_file_is_a_rule_set_error_or_loads(tmp_path: Path, text: str) -> None:
    """Arbitrary text in a rule file never raises anything but RuleSetError."""
    loads_or_refuses(text, tmp_path / "fuzz")


@pytest.mark.parametrize(
    "text",
    [
        "sources: &s []\nother: *s\n",
        "sources:\n  - {id: a, office: {zh: 甲, en: A}, authoritative: true}\nsources: []\n",
        "sources: " + "[" * 100 + "]" * 100 + "\n",
    ],
)
def test_a_hostile_registry_is_refused_alike(text: str, tmp_path: Path) -> None:
    """`sources.yaml` goes through the same loader: refused, located, by Engine() and check."""
    write_matter(tmp_path, matter_text("a > 1"), sources=text)
    error = refused_alike(tmp_path)
    assert error.problems[0].file == str(tmp_path / "sources.yaml")


def big_matter(rules: int, facts: int, when: str) -> str:
    rule_text = "".join(
        f"  - id: r{i}\n    when: '{when}'\n"
        "    says: {zh: 测, en: t}\n    refer: {code: R, zh: 测, en: t}\n"
        for i in range(rules)
    )
    fact_text = "".join(f"  f{i}: {{type: int, source: applicant}}\n" for i in range(facts))
    return (
        HEAD + "facts:\n  a: {type: int, source: applicant}\n" + fact_text + "rules:\n" + rule_text
    )


SUM = " + ".join(["a"] * 49) + " > 1"
BIG = {
    "too many rules": (big_matter(1_001, 0, "a > 1"), "at most 1000 items"),
    "too many facts": (big_matter(1, 1_000, "a > 1"), "at most 1000 items"),
    "too much expression text": (big_matter(400, 0, SUM), "exceed 50000 characters"),
}


@pytest.mark.long
@pytest.mark.parametrize("kind", sorted(BIG))
def test_a_matter_beyond_its_size_bounds_is_refused(kind: str, tmp_path: Path) -> None:
    """Rules, facts and the matter's expression text are bounded: one located problem."""
    text, words = BIG[kind]
    error = refused_alike(write_matter(tmp_path, text))
    (problem,) = error.problems
    assert words in problem.message
    assert problem.line is not None


@pytest.mark.long
def test_a_matter_at_its_size_bounds_loads(tmp_path: Path) -> None:
    """1,000 rules and 999 more facts, with short expressions, load and decide."""
    engine = Engine(write_matter(tmp_path, big_matter(1_000, 998, "a > 1")))
    facts = {"a": 2, **{f"f{i}": 0 for i in range(998)}}
    assert engine.decide("m", facts, on=ON).approved


def test_fact_groups_are_found_without_comparing_every_pair(tmp_path: Path) -> None:
    """A fact that is also a group of other facts is still refused, once per member."""
    text = (
        HEAD
        + "facts:\n  a: {type: int, source: applicant}\n"
        + "  a.b: {type: int, source: applicant}\n  a.c: {type: int, source: applicant}\n"
        + "rules:\n  - id: r\n    when: 'a > 1'\n"
        + "    says: {zh: 测, en: t}\n    refer: {code: R, zh: 测, en: t}\n"
    )
    error = refused_alike(write_matter(tmp_path, text))
    messages = sorted(p.message for p in error.problems if "group" in p.message)
    assert messages == [
        "fact 'a' is also a group (of 'a.b')",
        "fact 'a' is also a group (of 'a.c')",
    ]
