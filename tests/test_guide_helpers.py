"""Reading generated guides back: strict HTML5 parsing, the QR code, network references."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import cairosvg
import html5lib
import pytest
import zxingcpp
from html5lib.html5parser import ParseError
from PIL import Image

from reference import FIXTURES

GUIDES = FIXTURES / "guide"
"""The guide fixtures: a permit matter in two versions (`rules/`), a bare one, a large one."""
RULES = GUIDES / "rules"
BARE = GUIDES / "bare"
HTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
_NETWORK = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*['\"]?(?!#)", re.IGNORECASE)

ET.register_namespace("", SVG[1:-1])


def parse_html(text: str) -> ET.Element:
    """The document tree; any HTML5 parse error raises (html5lib's strict mode)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(text)


def text_of(element: ET.Element) -> str:
    return "".join(element.itertext())


def qr_svgs(root: ET.Element) -> list[ET.Element]:
    """The QR code SVG elements of a parsed page."""
    return [e for e in root.iter(f"{SVG}svg") if "qr" in (e.get("class") or "").split()]


def decode_svg(svg: str | bytes) -> list[str]:
    """Rasterize an SVG with cairosvg and return what zxing-cpp reads in it."""
    data = svg.encode() if isinstance(svg, str) else svg
    png = cairosvg.svg2png(bytestring=data, output_width=400, background_color="white")
    return decode_image(Image.open(io.BytesIO(png)))


def decode_image(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image.convert("L"))]


def svg_document(svg: ET.Element) -> bytes:
    """An SVG element of a parsed page as a standalone SVG document."""
    for element in svg.iter():
        for name in [n for n in element.attrib if "xmlns" in n]:
            del element.attrib[name]
    return ET.tostring(svg)


def decode_page_qr(html: str) -> list[str]:
    """Every text decoded from the QR SVGs taken out of a generated page."""
    return [text for svg in qr_svgs(parse_html(html)) for text in decode_svg(svg_document(svg))]


def network_references(html: str, service_url: str | None) -> list[str]:
    """What in a page could load from the network (the service link as an <a href> excepted)."""
    root = parse_html(html)
    found: list[str] = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1]
            if local == "style" and _CSS_URL.search(value):
                found.append(f"{tag} style={value!r}")
            if local not in ("src", "href", "srcset", "poster", "data", "action", "background"):
                continue
            if tag == f"{HTML}a" and local == "href" and value == service_url:
                continue
            if _NETWORK.match(value) or tag == f"{HTML}link":
                found.append(f"{tag} {local}={value!r}")
        if tag in (f"{HTML}style", f"{SVG}style"):
            css = text_of(element)
            if "@import" in css or _CSS_URL.search(css):
                found.append(f"{tag}: url() or @import in CSS")
        if tag in (f"{HTML}script", f"{HTML}iframe", f"{HTML}object", f"{HTML}embed"):
            found.append(tag)
    return found


def test_network_check_flags_remote_resources() -> None:
    """The network check catches remote images, stylesheets, CSS url() and @import."""
    page = (
        '<!DOCTYPE html><html><head><title>x</title><link rel="stylesheet" href="a.css">'
        '<style>@import "b.css"; p { background: url(c.png) }</style></head><body>'
        '<img src="https://x.example/a.png" alt=""><a href="https://x.example/">x</a>'
        '<p style="background: url(//x.example/d.png)">x</p></body></html>'
    )
    found = network_references(page, "https://service.example/")
    assert len(found) == 5, found


def test_network_check_allows_the_service_link() -> None:
    """The service link as an <a href> and local url(#id) references are not network loads."""
    page = (
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        '<a href="https://service.example/">apply</a>'
        '<svg><path style="marker-end: url(#m)" d="M0 0"/></svg></body></html>'
    )
    assert network_references(page, "https://service.example/") == []


def test_strict_parser_rejects_broken_html() -> None:
    """The HTML5 check fails on a parse error (a stray end tag)."""
    with pytest.raises(ParseError):
        parse_html("<!DOCTYPE html><html><head><title>x</title></head><body></div></body></html>")
