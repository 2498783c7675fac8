"""One-page guides: built from the matter version in force, valid HTML5, offline, QR code exact."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import examples, write_matter
from secondapproval import Engine, Matter
from secondapproval.guide import (
    Guide,
    GuideError,
    build_guide,
    guide_gaps,
    render_html,
    render_markdown,
)
from secondapproval.guide.fit import density
from secondapproval.guide.flow import layout, text_width, wrap
from secondapproval.guide.texts import TEXTS, Lang
from secondapproval.loader import find_registry
from secondapproval.registry import Registry
from secondapproval.text import Text
from test_guide_helpers import (
    BARE,
    GUIDES,
    HTML,
    RULES,
    decode_page_qr,
    decode_svg,
    network_references,
    parse_html,
    text_of,
)

MATTER = "residence-permit-renewal"
DATES = (dt.date(2024, 6, 1), dt.date(2025, 6, 1))
LANGS: tuple[Lang, ...] = ("zh", "en")


@cache
def engine() -> Engine:
    return Engine(RULES, sources=registry())


@cache
def registry() -> Registry:
    return find_registry([RULES])


def version_on(day: dt.date) -> Matter:
    matter = engine().version_on(MATTER, day)
    assert matter is not None
    return matter


@cache
def page(day: dt.date, lang: Lang) -> str:
    return render_html(build_guide(version_on(day), registry(), lang, day))


def conditions_shown(html: str) -> list[str]:
    root = parse_html(html)
    return [
        text_of(li)
        for ol in root.iter(f"{HTML}ol")
        if "conditions" in (ol.get("class") or "").split()
        for li in ol.iter(f"{HTML}li")
    ]


@pytest.mark.parametrize("day", DATES)
@pytest.mark.parametrize("lang", LANGS)
def test_qr_code_decodes_to_service_url(day: dt.date, lang: Lang) -> None:
    """The QR SVG taken out of the page decodes to exactly the version's service_url."""
    url = str(version_on(day).spec.service_url)
    assert decode_page_qr(page(day, lang)) == [url]


def test_qr_code_follows_the_version() -> None:
    """Each version's guide carries its own service address (the two fixture versions differ)."""
    old, new = (str(version_on(d).spec.service_url) for d in DATES)
    assert old != new
    assert "&" in new
    assert decode_page_qr(page(DATES[0], "zh")) == [old]
    assert decode_page_qr(page(DATES[1], "zh")) == [new]


@pytest.mark.parametrize("day", DATES)
@pytest.mark.parametrize("lang", LANGS)
def test_every_rule_in_force_is_shown_in_the_language(day: dt.date, lang: Lang) -> None:
    """Each rule of the version in force appears, in order, in the page's language only."""
    matter = version_on(day)
    shown = conditions_shown(page(day, lang))
    assert len(shown) == len(matter.rules)
    other = "en" if lang == "zh" else "zh"
    text = text_of(parse_html(page(day, lang)))
    for rule, item in zip(matter.rules, shown, strict=True):
        assert item.startswith(getattr(rule.spec.says, lang))
        assert getattr(rule.spec.says, other) not in text


@pytest.mark.parametrize("lang", LANGS)
def test_rules_not_in_force_are_not_shown(lang: Lang) -> None:
    """A rule text only the other version has does not appear on the page."""
    for day, other_day in (DATES, DATES[::-1]):
        here = {getattr(r.spec.says, lang) for r in version_on(day).rules}
        gone = {getattr(r.spec.says, lang) for r in version_on(other_day).rules} - here
        assert gone, "the fixture versions must differ in their rules"
        text = text_of(parse_html(page(day, lang)))
        for says in gone:
            assert says not in text


def test_version_out_of_force_is_refused() -> None:
    """A guide of a version on a date outside its validity is an error, not a wrong page."""
    with pytest.raises(GuideError, match="not in force"):
        build_guide(version_on(DATES[0]), registry(), "zh", DATES[1])


@pytest.mark.parametrize("day", DATES)
@pytest.mark.parametrize("lang", LANGS)
def test_page_is_valid_html5_and_offline(day: dt.date, lang: Lang) -> None:
    """The page parses with no HTML5 error and refers to no network resource."""
    html = page(day, lang)
    root = parse_html(html)
    assert root.find(f"{HTML}head/{HTML}style") is not None
    assert network_references(html, str(version_on(day).spec.service_url)) == []


def test_page_prints_on_a4() -> None:
    """The page asks for A4 paper and lays itself out on a 210 mm wide page."""
    html = page(DATES[1], "zh")
    assert "@page { size: A4;" in html
    assert ".page { width: 210mm;" in html


def test_materials_split_by_authority() -> None:
    """Facts from non-authoritative sources are brought; the others are looked up by office."""
    g = build_guide(version_on(DATES[1]), registry(), "en", DATES[1])
    assert [m.path for m in g.brings] == [
        "applicant.phone",
        "residence.address",
        "employment.pledge",
    ]
    assert [m.optional for m in g.brings] == [True, False, False]
    offices = {lk.office: lk.items for lk in g.looked_up}
    assert offices["Public security bureau (identity)"] == ("ID card number",)
    assert len(offices) == 3
    materials = next(m for m in g.measures if m.name == "materials")
    assert (materials.before, materials.after) == (Decimal(6), Decimal(3))


def test_fixable_reasons_read_what_the_applicant_supplies() -> None:
    """A rule is avoidable by the applicant exactly when it reads a fact the applicant supplies."""
    g = build_guide(version_on(DATES[1]), registry(), "en", DATES[1])
    assert [c.rule for c in g.fixable] == ["pledge", "address"]
    svg = render_html(g)
    for c in g.fixable:
        assert c.refer in svg


def test_paper_form_source_counts_as_brought() -> None:
    """A registry source marked not authoritative makes its fact a material the applicant brings."""
    g = build_guide(version_on(DATES[0]), registry(), "zh", DATES[0])
    assert "employment.contract" in [m.path for m in g.brings]


def test_changing_says_changes_the_guide(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Editing a rule's `says` in the matter file changes the generated page accordingly."""
    source = (RULES / "permit" / "permit-2025.yaml").read_text("utf-8")
    old, new = "承诺已与用人单位签订劳动合同", "承诺已签订劳动合同且合同期内"
    folder = write_matter(
        tmp_path_factory.mktemp("rules"),
        source.replace(old, new),
        "permit.yaml",
        sources=(RULES / "sources.yaml").read_text("utf-8"),
    )
    changed_engine = Engine(folder)
    matter = changed_engine.version_on(MATTER, DATES[1])
    assert matter is not None
    html = render_html(build_guide(matter, find_registry([folder]), "zh", DATES[1]))
    text = text_of(parse_html(html))
    assert new in text
    assert old not in text
    assert old in text_of(parse_html(page(DATES[1], "zh")))


def _with_says(matter: Matter, says: Text) -> Matter:
    first = matter.rules[0]
    spec = first.spec.model_copy(update={"says": says})
    return dataclasses.replace(
        matter, rules=(dataclasses.replace(first, spec=spec), *matter.rules[1:])
    )


@pytest.mark.parametrize("lang", LANGS)
def test_a_rules_clause_and_partial_mark_reach_both_pages(lang: Lang) -> None:
    """A rule's note (the clause it enforces) is quoted under it in Markdown and is its title in
    HTML; a partial rule says, on both pages, that its content is not in the sources."""
    day = DATES[1]
    matter = version_on(day)
    first = matter.rules[0]
    clause = '[S1] "持有效证件" & <b>'
    spec = first.spec.model_copy(update={"note": clause, "partial": True})
    marked = dataclasses.replace(
        matter, rules=(dataclasses.replace(first, spec=spec), *matter.rules[1:])
    )
    g = build_guide(marked, registry(), lang, day)
    assert g.conditions[0].clause == clause
    assert g.conditions[0].partial
    assert not any(c.partial or c.clause for c in g.conditions[1:])
    md = render_markdown(g, "permit").text
    assert '   > \\[S1\\] "持有效证件" &amp; &lt;b&gt;' in md
    assert md.count(TEXTS[lang].partial) == 1
    root = parse_html(render_html(g))
    items = [li for li in root.iter(f"{HTML}li") if li.get("data-rule")]
    assert items[0].get("title") == clause
    assert TEXTS[lang].partial in text_of(items[0])
    assert all(TEXTS[lang].partial not in text_of(li) for li in items[1:])


_PLAIN = st.text(
    st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\r"), min_size=1
)


@settings(max_examples=examples(25))
@given(zh=_PLAIN, en=_PLAIN)
def test_any_says_text_is_shown_verbatim(zh: str, en: str) -> None:
    """Whatever a rule says (markup characters included) is shown as text in a valid page."""
    matter = _with_says(version_on(DATES[1]), Text(zh=zh, en=en))
    shown: tuple[tuple[Lang, str], ...] = (("zh", zh), ("en", en))
    for lang, says in shown:
        html = render_html(build_guide(matter, registry(), lang, DATES[1]))
        assert conditions_shown(html)[0].startswith(says)


@settings(max_examples=examples(60))
@given(text=_PLAIN, width=st.floats(min_value=30, max_value=400))
def test_wrap_keeps_every_character_and_the_width(text: str, width: float) -> None:
    """Wrapping loses no visible character, and a line is over width only if it is one piece."""
    lines = wrap(text, width, 12)
    assert "".join("".join(lines).split()) == "".join(text.split())
    for line in lines:
        assert text_width(line, 12) <= width + 12 * 2 or len(line.split()) == 1


def test_flow_boxes_stay_inside_the_picture() -> None:
    """Every box of the decision picture lies within the picture's width and height."""
    for day in DATES:
        for lang in LANGS:
            g = build_guide(version_on(day), registry(), lang, day)
            flow = layout(g, TEXTS[g.lang])
            for box in flow.boxes:
                assert box.x >= 0
                assert box.y >= 0
                assert box.x + box.w <= flow.width
                assert box.y + box.h <= flow.height


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_guide_and_its_pictures(lang: Lang) -> None:
    """The Markdown guide lists the conditions and its QR file decodes to the service_url."""
    day = DATES[1]
    matter = version_on(day)
    md = render_markdown(build_guide(matter, registry(), lang, day), "permit")
    assert set(md.files) == {"permit.flow.svg", "permit.qr.svg"}
    assert decode_svg(md.files["permit.qr.svg"]) == [str(matter.spec.service_url)]
    assert "](permit.flow.svg)" in md.text
    for rule in matter.rules[:4]:
        assert getattr(rule.spec.says, lang) in md.text


@given(
    title=st.text(alphabet="ab \"'<>&*_", min_size=1, max_size=12),
    office=st.text(alphabet='ab "<>&', min_size=1, max_size=8),
)
@settings(max_examples=50, deadline=None)
def test_markdown_prints_quotes_as_quotes_and_html_as_entities(title: str, office: str) -> None:
    """A title or office with quotes, `& < >` and Markdown markup: quotes stay quotes (never
    `&#34;`), `& < >` become entities (no raw HTML reaches a Markdown renderer), markup is
    escaped."""
    day = DATES[1]
    g = dataclasses.replace(
        build_guide(version_on(day), registry(), "zh", day), title=title, office=office
    )
    text = render_markdown(g, "permit").text
    heading = text.splitlines()[0]
    assert "&#34;" not in text
    assert "&#39;" not in text
    assert "&#39;" not in heading
    assert "<" not in heading
    assert ">" not in heading
    expected = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    expected = expected.replace("*", "\\*").replace("_", "\\_")
    assert heading == f"# {expected}"


def test_guide_without_guide_fields_still_renders() -> None:
    """A matter with no service_url, office or labels renders, without a QR code."""
    bare = Engine(BARE).version_on("bare-matter", DATES[1])
    assert bare is not None
    g: Guide = build_guide(bare, find_registry([BARE]), "en", DATES[1])
    html = render_html(g)
    assert decode_page_qr(html) == []
    assert TEXTS["en"].no_service_url in text_of(parse_html(html))
    assert [m.label for m in g.brings] == ["applicant.age"]
    assert network_references(html, None) == []


def test_gaps_list_what_the_guide_lacks() -> None:
    """`guide_gaps` names the missing service_url, office and each unlabelled input fact."""
    bare = Engine(BARE).version_on("bare-matter", DATES[1])
    assert bare is not None
    fields = [p.field for p in guide_gaps(bare)]
    assert fields == ["service_url", "office", "facts.applicant.age.label"]
    assert guide_gaps(version_on(DATES[1])) == ()


@pytest.mark.parametrize("lang", LANGS)
def test_long_matter_is_set_denser(lang: Lang) -> None:
    """A matter with much text gets a denser setting than a short one, and still renders offline."""
    large = GUIDES / "large"
    matter = Engine(large).version_on("business-change-registration", DATES[1])
    assert matter is not None
    g = build_guide(matter, find_registry([large]), lang, DATES[1])
    html = render_html(g)
    setting = density(g, layout(g, TEXTS[g.lang]))
    short = build_guide(version_on(DATES[1]), registry(), lang, DATES[1])
    assert density(short, layout(short, TEXTS[short.lang])) in ("roomy", "normal")
    assert setting in ("compact", "dense")
    assert f'class="page {setting}"' in html
    assert decode_page_qr(html) == [str(matter.spec.service_url)]
    assert network_references(html, str(matter.spec.service_url)) == []
