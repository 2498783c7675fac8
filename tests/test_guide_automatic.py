"""Guides say what the `automatic:` block says: the form's wording, and after-figures from the
block only (unknown where it holds none); an approval's outputs are shown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import RULES as BUNDLED_RULES
from reference import examples, write_matter
from secondapproval import Engine, Matter
from secondapproval.errors import RuleSetError
from secondapproval.guide import Guide, build_guide, render_html, render_markdown
from secondapproval.guide.flow import layout
from secondapproval.guide.model import RESULT_TRIPS
from secondapproval.guide.render import flow_svg
from secondapproval.guide.texts import TEXTS, Form, Lang
from secondapproval.loader import find_registry
from secondapproval.registry import Registry
from secondapproval.ruleset import Automatic
from test_guide_helpers import HTML, RULES, network_references, parse_html, text_of

DAY = dt.date(2025, 6, 1)
LANGS: tuple[Lang, ...] = ("zh", "en")
FORMS: tuple[Form, ...] = ("miaopi", "check", "no-application")
MIAOPI_WORDS: dict[Lang, str] = {"zh": "秒批", "en": "in seconds"}
"""What only a 秒批 page may say, in each language."""


@cache
def fixture() -> tuple[Matter, Registry]:
    registry = find_registry([RULES])
    matter = Engine(RULES, sources=registry).version_on("residence-permit-renewal", DAY)
    assert matter is not None
    return matter, registry


def with_automatic(automatic: Automatic) -> Matter:
    """The fixture matter (it has a service_url and a baseline) with another `automatic:`."""
    matter, _ = fixture()
    return dataclasses.replace(matter, spec=matter.spec.model_copy(update={"automatic": automatic}))


def guide_of(automatic: Automatic, lang: Lang) -> Guide:
    return build_guide(with_automatic(automatic), fixture()[1], lang, DAY)


def tiles(html: str) -> dict[str, tuple[str, str]]:
    """The before-and-after tiles of an HTML page: name → (before, after) as shown."""
    out: dict[str, tuple[str, str]] = {}
    for div in parse_html(html).iter(f"{HTML}div"):
        if div.get("class") == "tile":
            name, nums = list(div)
            before, after = text_of(nums).split("→")
            out[text_of(name)] = (before, after)
    return out


def after_row(markdown: str, lang: Lang, form: Form) -> list[str]:
    """The cells of the after row of a Markdown page's before-and-after table."""
    head = f"| {TEXTS[lang].form(form).after} |"
    (row,) = [line for line in markdown.splitlines() if line.startswith(head)]
    return [cell.strip() for cell in row.split("|")[2:-1]]


def shown(value: Decimal | None, name: str, lang: Lang) -> str:
    """How the page writes one after-figure (the template's rules, restated)."""
    t = TEXTS[lang]
    if value is None:
        return t.unknown
    text = format(value.normalize(), "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    if name == "days":
        return t.same_day if value == 0 else f"{text} {t.unit_days}"
    return f"{text} {t.unit_fees}" if name == "fees" else text


def numbers(text: str) -> set[Decimal]:
    return {Decimal(n) for n in re.findall(r"\d+(?:\.\d+)?", text)}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("form", FORMS)
def test_the_wording_follows_the_form(form: Form, lang: Lang) -> None:
    """Each form's own words are on the HTML and Markdown pages and in the picture, and the words
    of 秒批 appear only on a 秒批 page."""
    g = guide_of(Automatic(form=form), lang)
    words = TEXTS[lang].form(form)
    html = text_of(parse_html(render_html(g)))
    md = render_markdown(g, "permit").text
    svg = flow_svg(layout(g, TEXTS[lang]))
    for text in (html, md):
        assert words.kicker in text
        assert words.who_can_apply_lead in text
        assert words.before_after_note in text
        assert (MIAOPI_WORDS[lang] in text) == (form == "miaopi")
    assert words.flow_ok in svg
    assert (MIAOPI_WORDS[lang] in svg) == (form == "miaopi")


def test_each_form_says_what_it_is() -> None:
    """Check pages say an office acts on the result; no-application pages that nobody applies."""
    cases: tuple[tuple[Lang, str, str], ...] = (
        ("zh", "由部门据", "无需申请"),
        ("en", "office acts on", "Nobody"),
    )
    for lang, acts, nobody in cases:
        check = text_of(parse_html(render_html(guide_of(Automatic(form="check"), lang))))
        none = text_of(parse_html(render_html(guide_of(Automatic(form="no-application"), lang))))
        assert acts in check
        assert acts not in none
        assert nobody in none
        assert nobody not in check


_AMOUNTS = st.none() | st.decimals(
    min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False
)
AUTOMATIC = st.builds(
    Automatic,
    form=st.sampled_from(FORMS),
    fees=_AMOUNTS,
    result=st.sampled_from([None, "online", "post", "counter"]),
    days=_AMOUNTS,
)


@settings(max_examples=examples(25), deadline=None)
@given(automatic=AUTOMATIC, lang=st.sampled_from(LANGS))
def test_after_figures_are_the_blocks_and_nothing_else(automatic: Automatic, lang: Lang) -> None:
    """Days and fees after are the block's (unknown when null), trips follow the result only
    (a service_url alone gives none), steps are counted only for 秒批; both pages print exactly
    those figures and no number the block does not hold (0 days is written "same day")."""
    g = guide_of(automatic, lang)
    after = {m.name: m.after for m in g.measures}
    trips = RESULT_TRIPS.get(automatic.result or "")
    assert g.service_url is not None
    assert after["days"] == automatic.days
    assert after["fees"] == automatic.fees
    assert after["trips"] == (None if trips is None else Decimal(trips))
    steps = {"miaopi": Decimal(1), "no-application": Decimal(0), "check": None}
    assert after["steps"] == steps[automatic.form]
    t = TEXTS[lang]
    html = tiles(render_html(g))
    cells = dict(
        zip(
            (m.name for m in g.measures),
            after_row(render_markdown(g, "p").text, lang, g.form),
            strict=True,
        )
    )
    for name in ("days", "fees", "trips"):
        expected = shown(after[name], name, lang)
        assert html[getattr(t, name)][1] == expected
        assert cells[name] == expected
    for name, value in (("days", automatic.days), ("fees", automatic.fees)):
        held = set() if value is None or (name == "days" and value == 0) else {value}
        assert numbers(cells[name]) == held
        assert numbers(html[getattr(t, name)][1]) == held


@cache
def bundled() -> tuple[tuple[Matter, ...], Registry]:
    registry = find_registry([BUNDLED_RULES])
    engine = Engine(BUNDLED_RULES, sources=registry)
    return tuple(engine.snapshot.all_versions()), registry


def test_every_bundled_matter_has_its_guide() -> None:
    """All eleven bundled matters render in both languages, as HTML and Markdown, offline, with
    the form, days, fees and trips of their own `automatic:` block."""
    matters, registry = bundled()
    assert len(matters) == 11
    for matter in matters:
        auto = matter.spec.automatic
        for lang in LANGS:
            g = build_guide(matter, registry, lang, matter.spec.effective.from_)
            html = render_html(g)
            url = str(matter.spec.service_url) if matter.spec.service_url else None
            assert network_references(html, url) == []
            text = text_of(parse_html(html))
            md = render_markdown(g, matter.id).text
            assert TEXTS[lang].form(auto.form).kicker in text
            assert TEXTS[lang].form(auto.form).kicker in md
            assert (MIAOPI_WORDS[lang] in md) == (auto.form == "miaopi"), matter.id
            after = {m.name: m.after for m in g.measures}
            assert (after["days"], after["fees"]) == (auto.days, auto.fees)
            trips = RESULT_TRIPS.get(auto.result or "")
            assert after["trips"] == (None if trips is None else Decimal(trips))


def test_every_bundled_block_cites_its_matters_sources() -> None:
    """A block that states anything names the sources that say it."""
    matters, _ = bundled()
    for matter in matters:
        auto = matter.spec.automatic
        ids = {s.id for s in matter.spec.sources}
        assert auto.sources, matter.id
        assert set(auto.sources) <= ids


@pytest.mark.parametrize("lang", LANGS)
def test_outputs_are_shown_where_the_matter_defines_them(lang: Lang) -> None:
    """Each output of a bundled matter (e.g. the allowance) is listed with its label and formula
    on both pages; a matter without outputs has no such section."""
    matters, registry = bundled()
    with_outputs = [m for m in matters if m.outputs]
    assert with_outputs
    heading = TEXTS[lang].outputs
    for matter in matters:
        g = build_guide(matter, registry, lang, matter.spec.effective.from_)
        assert [o.path for o in g.outputs] == list(matter.outputs)
        root = parse_html(render_html(g))
        items = {li.get("data-output"): text_of(li) for li in root.iter(f"{HTML}li")}
        md = render_markdown(g, matter.id).text
        assert (f"## {heading}" in md) == bool(matter.outputs)
        for o in g.outputs:
            spec = matter.spec.facts[o.path]
            assert spec.label is not None
            label = getattr(spec.label, lang)
            assert items[o.path].startswith(label)
            assert spec.derive is not None
            assert spec.derive in items[o.path]
            assert f"- {label}" in md


AUTOMATIC_MATTER = """matter: auto
title: {zh: 自动, en: Automatic}
version: "1"
effective: {from: 2026-01-01}
sources:
  - {id: S1, url: "https://example.org/s1", status: official}
automatic:
  form: %s
  days: %s
  sources: [%s]
facts:
  a.ok: {type: bool, source: applicant}
rules:
  - id: ok
    when: a.ok
    says: {zh: 可以, en: OK}
    refer: {code: NOT_OK, zh: 不行, en: Not OK}
    sources: [S1]
"""


@pytest.mark.parametrize(
    ("form", "days", "cited", "problem"),
    [
        ("miaopi", "0", "S2", r"m\.yaml:\d+:\d+ \[automatic\.sources\.0\]: unknown source 'S2'"),
        ("instant", "0", "S1", r"\[automatic\.form\]"),
        ("check", "-1", "S1", r"\[automatic\.days\]"),
    ],
)
def test_a_bad_automatic_block_is_refused_with_its_file_line_and_field(
    tmp_path: Path, form: str, days: str, cited: str, problem: str
) -> None:
    """An unknown form, negative days or a source the matter does not list is a load error."""
    folder = write_matter(tmp_path, AUTOMATIC_MATTER % (form, days, cited))
    with pytest.raises(RuleSetError, match=problem):
        Engine(folder)
