"""Declared patterns as z3 regular expressions (secondapproval.analysis.regex): membership agrees
with the engine's check (re.ASCII, fullmatch) on generated patterns and strings, a solver's
string matches, constructs without an exact translation stay approximate, and a pattern can
make a matter unapprovable (proved) or shape its approving witness."""

from __future__ import annotations

import re
import sys

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import FIXTURES, examples
from secondapproval import Engine
from secondapproval.analysis import analyze
from secondapproval.analysis.encode import Encoder
from secondapproval.analysis.regex import MAX_CHAR, any_char, class_intervals, to_z3
from secondapproval.analysis.terms import string_value
from secondapproval.analysis.witness import text
from secondapproval.factchecks import matching
from secondapproval.lang import ir
from secondapproval.lang.check import check
from secondapproval.lang.parser import parse
from secondapproval.lang.types import BOOL
from secondapproval.ruleset import FactSpec, fact_type
from secondapproval.strategies import synthetic_matter

BROKEN = FIXTURES / "analysis"
ALPHABET = "ab09_ \n中-\\"
"""Characters of the generated patterns and strings: letters, digits, a word character, two
spaces, a CJK character, a class's `-` and a backslash."""


def _z3_string(s: str) -> z3.SeqRef:
    return z3.StringVal("".join(f"\\u{{{ord(ch):x}}}" for ch in s))


def _member(s: str, r: z3.ReRef) -> bool:
    got = z3.simplify(z3.InRe(_z3_string(s), r))
    assert z3.is_true(got) or z3.is_false(got), got
    return bool(z3.is_true(got))


def _engine_matches(pattern: str, s: str) -> bool:
    try:
        matching(pattern)(s)
    except ValueError:
        return False
    return True


# ---- a grammar of supported patterns -------------------------------------------------------------

_LITERALS = st.sampled_from(["a", "b", "0", "9", "_", " ", "中", r"\-", r"\\", r"\n", r"\."])
_CLASS_ITEMS = st.sampled_from(["a", "0", "中", "a-z", "0-9", r"\d", r"\w", r"\s", r"\D", "_", " "])
_CLASSES = st.builds(
    lambda neg, items: "[" + ("^" if neg else "") + "".join(items) + "]",
    st.booleans(),
    st.lists(_CLASS_ITEMS, min_size=1, max_size=3),
)
_ATOMS = st.one_of(
    _LITERALS, _CLASSES, st.sampled_from([".", r"\d", r"\w", r"\s", r"\D", r"\W", r"\S"])
)
_QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "*?", "+?", "{2}", "{0,2}", "{1,}", "{0}"])


def _patterns() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        group = st.builds(
            lambda cap, alts, q: ("(" if cap else "(?:") + "|".join(alts) + ")" + q,
            st.booleans(),
            st.lists(inner, min_size=1, max_size=3),
            _QUANTIFIERS,
        )
        return st.lists(st.one_of(inner, group), min_size=1, max_size=3).map("".join)

    quantified = st.builds(lambda a, q: a + q, _ATOMS, _QUANTIFIERS)
    body = st.recursive(quantified, extend, max_leaves=6)
    anchored = st.builds(
        lambda start, p, end: start + p + end,
        st.sampled_from(["", "^", r"\A"]),
        body,
        st.sampled_from(["", "$", r"\Z"]),
    )
    return st.one_of(body, anchored, st.lists(body, min_size=2, max_size=3).map("|".join))


_SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_SETTINGS
@given(pattern=_patterns(), strings=st.lists(st.text(ALPHABET, max_size=6), max_size=8))
def test_membership_agrees_with_the_engines_check(pattern: str, strings: list[str]) -> None:
    r = to_z3(pattern)
    assert r is not None, pattern
    for s in strings:
        assert _member(s, r) == _engine_matches(pattern, s), (pattern, s)


@_SETTINGS
@given(pattern=_patterns())
def test_a_string_the_solver_finds_matches_and_unsat_means_none_does(pattern: str) -> None:
    r = to_z3(pattern)
    x = z3.String("x")
    solver = z3.Solver()
    solver.set("timeout", 10_000)
    solver.add(z3.InRe(x, r))
    result = solver.check()
    assert result != z3.unknown, pattern
    if result == z3.sat:
        assert _engine_matches(pattern, text(solver.model()[x])), pattern
    else:  # then no short string over the alphabet matches either
        assert not any(re.fullmatch(pattern, s, re.ASCII) for s in ["", *ALPHABET]), pattern


@pytest.mark.parametrize("pattern", [r"[^\s\S]", r"[^\d\D]", r"[^\w\W]", r"(?:[^\s\S]|[^\d\D])+"])
def test_a_pattern_nothing_matches_is_empty_for_the_solver(pattern: str) -> None:
    x = z3.String("x")
    solver = z3.Solver()
    solver.add(z3.InRe(x, to_z3(pattern)))
    assert solver.check() == z3.unsat
    assert re.fullmatch(pattern, "", re.ASCII) is None


def test_trailing_dollar_under_fullmatch_does_not_admit_a_final_newline() -> None:
    r = to_z3("a$")
    assert _member("a", r)
    assert not _member("a\n", r)
    assert not _engine_matches("a$", "a\n")


@pytest.mark.parametrize(
    "pattern", [".", "(?s:.)", r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", r"[^a-c\s]"]
)
def test_each_class_is_exact_on_every_code_point(pattern: str) -> None:
    """The code-point sets against `re` itself, over the whole of z3's alphabet."""
    compiled = re.compile(pattern, re.ASCII)
    want = {n for n in range(MAX_CHAR + 1) if compiled.fullmatch(chr(n))}
    if pattern == ".":
        ranges = any_char(dotall=False)
    elif pattern == "(?s:.)":
        ranges = any_char(dotall=True)
    else:
        from re import _parser  # type: ignore[attr-defined]

        ((_op, items),) = list(_parser.parse(pattern, re.ASCII))
        ranges = class_intervals(items)
    got = {n for lo, hi in ranges for n in range(lo, hi + 1)}
    assert got == want


def test_the_largest_code_point_of_a_z3_string_is_max_char() -> None:
    x = z3.String("x")
    solver = z3.Solver()
    solver.add(z3.Length(x) == 1, z3.StrToCode(x) > MAX_CHAR)
    assert solver.check() == z3.unsat
    assert sys.maxunicode > MAX_CHAR  # the rest of Python's code points are beyond z3


def test_witness_text_reads_code_points_not_escapes() -> None:
    for s in ["中文", "\\u{41}", "\x00\n\t", "é"]:
        assert text(z3.simplify(_z3_string(s))) == s


# ---- what stays approximate ----------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a)\1",
        r"a(?=b)",
        r"a(?!b)",
        r"(?<=a)b",
        r"\bab",
        r"a\B",
        r"(?i)a",
        r"(?i:a)b",
        r"a^b",
        r"a$b",
        r"(?:^a)*",
        r"(a)?(?(1)b|c)",
        r"a*+",
        r"(?>a*)a",
        "[",
        "(?u)a",
    ],
)
def test_a_construct_without_an_exact_translation_gives_none(pattern: str) -> None:
    assert to_z3(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "approximate"), [(r"\d{6}", []), (r"(\d)\1{5}", ["the pattern of a.code"])]
)
def test_the_encoder_lists_an_untranslatable_pattern_as_approximate(
    pattern: str, approximate: list[str]
) -> None:
    facts = {"a.code": FactSpec(type="str", source="applicant", pattern=pattern)}
    matter = synthetic_matter(facts, [ir.Const(True, ty=BOOL)])
    assert Encoder(matter).approximate == approximate


def test_a_text_beyond_z3s_alphabet_is_approximate_never_a_proof() -> None:
    """A rule's literal, or an enum's value, beyond z3's alphabet is no z3 string: the encoding
    says so (approximate) instead of reading its escape as the escape's characters."""
    beyond = "\U0010b000"
    facts = {
        "a.name": FactSpec(type="str", source="applicant"),
        "a.kind": FactSpec(type="enum", values=["x", beyond], source="applicant"),
    }
    schema = {p: fact_type(f) for p, f in facts.items()}
    rule, problems = check(parse(f'a.name == "{beyond}"')[0], schema, BOOL)
    assert not problems
    assert (
        Encoder(synthetic_matter(facts, [rule])).approximate
        == [f"a text beyond z3's alphabet ({beyond!r})"] * 2
    )
    with pytest.raises(ValueError, match="beyond z3's alphabet"):
        string_value("b" + beyond)


# ---- patterns in matters -------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken() -> Engine:
    return Engine(BROKEN, vouch="all")


def test_a_pattern_no_rule_can_meet_is_proved_unapprovable(broken: Engine) -> None:
    report = analyze(broken.versions("broken-pattern")[0], broken)
    assert report.approximate == ()
    assert report.approvable.answer == "no"
    assert [f.kind for f in report.findings] == ["unapprovable", "never-passes"]


def test_the_approving_witness_has_the_patterns_shape(broken: Engine) -> None:
    """Five characters fit only the `粤`, a capital, two non-digits and `x` branch."""
    report = analyze(broken.versions("broken-pattern-shape")[0], broken)
    assert report.approximate == ()
    assert report.approvable.answer == "yes"
    w = report.approvable.witness
    assert w is not None
    plate = w.facts["a"]["plate"]
    assert re.fullmatch(r"粤[A-Z][^\s\d]{2}x", plate, re.ASCII), plate
    assert broken.decide("broken-pattern-shape", w.facts, on=w.on).outcome.value == "approve"
