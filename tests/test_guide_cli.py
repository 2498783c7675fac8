"""`secondapproval guide` and the guide warnings of `secondapproval check`."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from reference import RULES as BUNDLED_RULES
from secondapproval.cli import main
from secondapproval.guide.texts import TEXTS
from test_guide_helpers import (
    BARE,
    HTML,
    RULES,
    decode_page_qr,
    decode_svg,
    network_references,
    parse_html,
    text_of,
)

URL_2025 = "https://fixture.example.gov.cn/permit/v2/apply?item=renewal&lang=zh"
URL_2024 = "https://fixture.example.gov.cn/permit/apply?item=renewal"


def guide(*args: str) -> int:
    return main(["guide", "--rules", str(RULES), *args])


def test_guide_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """One HTML page goes to stdout by default, in the requested language and version."""
    assert guide("residence-permit-renewal", "--on", "2024-06-01", "--lang", "en") == 0
    html = capsys.readouterr().out
    text = text_of(parse_html(html))
    assert "Registered residence in the city for at least 6 months" in text
    assert decode_page_qr(html) == [URL_2024]


def test_guide_to_file_and_markdown(tmp_path: Path) -> None:
    """--out writes HTML; an --out ending in .md writes Markdown and its two SVGs beside it."""
    assert (
        guide("residence-permit-renewal", "--on", "2025-06-01", "--out", str(tmp_path / "g.html"))
        == 0
    )
    assert decode_page_qr((tmp_path / "g.html").read_text("utf-8")) == [URL_2025]
    assert (
        guide("residence-permit-renewal", "--on", "2025-06-01", "--out", str(tmp_path / "g.md"))
        == 0
    )
    assert "在本市登记居住满12个月" in (tmp_path / "g.md").read_text("utf-8")
    assert decode_svg((tmp_path / "g.qr.svg").read_bytes()) == [URL_2025]
    assert (tmp_path / "g.flow.svg").read_text("utf-8").startswith("<?xml")


def test_guide_all_writes_pages_and_index(tmp_path: Path) -> None:
    """--all writes one page per matter and an index linking to each."""
    out = tmp_path / "guides"
    assert guide("--all", "--on", "2025-06-01", "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "residence-permit-renewal.html"]
    index = (out / "index.html").read_text("utf-8")
    links = [a.get("href") for a in parse_html(index).iter(f"{HTML}a")]
    assert links == ["residence-permit-renewal.html"]
    assert network_references(index, None) == []
    page = (out / "residence-permit-renewal.html").read_text("utf-8")
    assert decode_page_qr(page) == [URL_2025]


def test_guide_all_markdown(tmp_path: Path) -> None:
    """--all --format md writes Markdown pages with their pictures and a Markdown index."""
    out = tmp_path / "md"
    assert (
        guide("--all", "--format", "md", "--lang", "en", "--on", "2025-06-01", "--out", str(out))
        == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "index.md",
        "residence-permit-renewal.flow.svg",
        "residence-permit-renewal.md",
        "residence-permit-renewal.qr.svg",
    ]
    index = (out / "index.md").read_text("utf-8")
    assert "(residence-permit-renewal.md)" in index
    assert TEXTS["en"].index_online in index  # this matter has a service_url, so a QR code


def test_guide_index_promises_a_qr_code_only_where_a_page_has_one(tmp_path: Path) -> None:
    """Over the bundled matters, an index line says "scan to apply" exactly when its page has a
    QR code (a service_url), and "no online address yet" otherwise."""
    out = tmp_path / "bundled"
    args = ["--all", "--format", "md", "--on", "2026-12-01", "--out", str(out)]
    assert main(["guide", "--rules", str(BUNDLED_RULES), *args]) == 0
    stems = [p.stem for p in out.glob("*.md") if p.stem != "index"]
    assert stems
    lines = (out / "index.md").read_text("utf-8").splitlines()
    for stem in stems:
        (line,) = [x for x in lines if f"({stem}.md)" in x]
        has_qr = (out / f"{stem}.qr.svg").exists()
        assert line.endswith(TEXTS["zh"].index_online if has_qr else TEXTS["zh"].index_offline)


def test_guide_all_notes_matters_not_in_force(tmp_path: Path) -> None:
    """A matter with no version in force on the date gets no page but is named on the index."""
    out = tmp_path / "early"
    assert guide("--all", "--on", "2023-01-01", "--lang", "en", "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    assert "no version in force on 2023-01-01" in (out / "index.html").read_text("utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["residence-permit-renewal", "--on", "2023-01-01"], "no version"),
        (["residence-permit-renewal", "--format", "md"], "needs --out"),
        (["--all"], "needs --out"),
        (["no-such-matter"], "unknown matter"),
    ],
)
def test_guide_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad requests exit with status 2 and say why."""
    assert guide(*args) == 2
    assert message in capsys.readouterr().err


def test_check_warns_about_guide_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    """`check` lists what a matter lacks for its guide as warnings, and still succeeds."""
    assert main(["check", str(BARE)]) == 0
    err = capsys.readouterr().err
    for field in ("[service_url]", "[office]", "[facts.applicant.age.label]"):
        assert f"warning: {BARE / 'bare.yaml'} {field}" in err
    assert main(["check", str(RULES)]) == 0
    assert "warning" not in capsys.readouterr().err


BUNDLED = Path(__file__).resolve().parent.parent / "rules"
CONNECTS_DEGREES = """vouch: [criminal-records]
sources:
  degree-registry:
    adapter: table
    lookups:
      - key: {id_number: applicant.id_number}
        facts:
          education.level: level
          education.full_time: full_time
          education.regular_institution: regular_institution
          education.certificate_verified: certificate_verified
          education.graduated_on: graduated_on
    settings: {path: degrees.jsonl, key: [id_number]}
"""


def _sections(html: str) -> dict[str, str]:
    """Each h2 heading of the page's materials, and the text of the list after it."""
    out: dict[str, str] = {}
    for parent in parse_html(html).iter():
        children = list(parent)
        for heading, following in itertools.pairwise(children):
            if heading.tag == f"{HTML}h2" and following.tag == f"{HTML}ul":
                out[text_of(heading)] = text_of(following)
    return out


def test_with_a_deployment_only_connected_offices_are_looked_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under a deployment the guide says "looked up" only where a source is connected; a vouched
    source's facts are the platform's, the others' a reviewer's (the decision refers on them)."""
    (tmp_path / "degrees.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "deploy.yaml").write_text(CONNECTS_DEGREES, encoding="utf-8")
    args = ["guide", "graduate-hukou-shenzhen", "--rules", str(BUNDLED), "--on", "2019-09-01"]
    assert main([*args, "--lang", "en", "--deployment", str(tmp_path / "deploy.yaml")]) == 0
    sections = _sections(capsys.readouterr().out)
    looked_up = sections["What the government looks up itself (you bring none of it)"]
    platform = sections["Supplied by the platform you apply through (you bring none of it)"]
    reviewer = sections["Checked by a reviewer (this service cannot look it up yet: referred)"]
    assert "degree registry" in looked_up
    assert "credit" not in looked_up
    assert "criminal" not in looked_up.lower()
    assert "criminal" in platform.lower()
    assert "degree registry" not in platform
    assert "credit" in reviewer
    assert "degree registry" not in reviewer
    assert main([*args, "--lang", "en"]) == 0  # without one: every office, as the registry says
    plain = _sections(capsys.readouterr().out)
    assert "credit" in plain["What the government looks up itself (you bring none of it)"]
    assert not any(h.startswith(("Supplied by", "Checked by")) for h in plain)


def test_a_deployment_that_does_not_fit_the_rules_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "degrees.jsonl").write_text("", encoding="utf-8")
    bad = CONNECTS_DEGREES.replace("education.level", "education.grade")
    (tmp_path / "deploy.yaml").write_text(bad, encoding="utf-8")
    args = ["guide", "graduate-hukou-shenzhen", "--rules", str(BUNDLED), "--on", "2019-09-01"]
    assert main([*args, "--deployment", str(tmp_path / "deploy.yaml")]) != 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'deploy.yaml'}:8" in err
    assert "education.grade" in err
