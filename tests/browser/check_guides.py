"""Browser check of the guides (`make test-browser`): render each page in headless Chromium.

For every matter under the given rules folders, in Chinese and English, the guide and the index
page are written with `secondapproval guide --all`, screenshotted and printed to PDF by Debian's
`chromium`. A page fails if it is blank, wider or longer than A4, prints on more than one page, or
if the QR code read from the screenshot is not exactly the matter's `service_url`.

    python tests/browser/check_guides.py [--out DIR] RULES_DIR...
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import zxingcpp
from PIL import Image

from secondapproval.cli import main as cli
from secondapproval.engine import Engine

A4_WIDTH_PX = 210 / 25.4 * 96
A4_HEIGHT_PX = 297 / 25.4 * 96
WINDOW = (1100, 1700)
MIN_INK = 0.002
"""A page whose dark pixels cover less than this share of the A4 area counts as blank."""
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True, slots=True)
class Page:
    """A generated page and the QR text it must show (None: no QR code expected)."""

    path: Path
    service_url: str | None


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("chromium not found: install Debian's chromium (apt-get install -y chromium)")
    return found


def run_chromium(browser: str, page: Path, *extra: str) -> None:
    """Run one headless Chromium job on a local page, with a fresh profile folder."""
    with tempfile.TemporaryDirectory(prefix="guide-chromium-") as profile:
        done = subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")


def generate(rules: list[Path], out: Path) -> list[Page]:
    """Write every guide and index page, in both languages; return them with their QR texts."""
    today = dt.date.today()
    pages: list[Page] = []
    for folder in rules:
        engine = Engine(folder)
        urls: dict[str, str | None] = {}
        for matter_id in engine.matters:
            matter = engine.version_on(matter_id, today)
            if matter is not None:
                urls[f"{matter_id}.html"] = (
                    str(matter.spec.service_url) if matter.spec.service_url else None
                )
        for lang in ("zh", "en"):
            target = out / "-".join(folder.resolve().relative_to(Path.cwd()).parts) / lang
            args = ["guide", "--all", "--rules", str(folder), "--lang", lang, "--out", str(target)]
            with contextlib.redirect_stdout(io.StringIO()):
                status = cli(args)
            if status != 0:
                raise RuntimeError(f"secondapproval {' '.join(args)} failed")
            pages += [Page(p, urls.get(p.name)) for p in sorted(target.glob("*.html"))]
    return pages


def check_page(browser: str, page: Page) -> list[str]:
    """The problems of one page in the browser (empty when it passes)."""
    png = page.path.with_suffix(".png")
    pdf = page.path.with_suffix(".pdf")
    run_chromium(
        browser, page.path, f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}"
    )
    run_chromium(browser, page.path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    problems: list[str] = []
    gray = Image.open(png).convert("L")
    box = gray.point(lambda v: 255 if v < 245 else 0).getbbox()
    ink = gray.point(lambda v: 255 if v < 160 else 0).histogram()[255]
    if box is None or ink < MIN_INK * A4_WIDTH_PX * A4_HEIGHT_PX:
        problems.append(f"blank page ({ink} dark pixels)")
    if box is not None and box[2] > A4_WIDTH_PX + 1:
        problems.append(f"wider than A4: {box[2]} px > {A4_WIDTH_PX:.0f} px")
    if box is not None and box[3] > A4_HEIGHT_PX + 1:
        problems.append(f"longer than A4: {box[3]} px > {A4_HEIGHT_PX:.0f} px")
    pdf_pages = len(_PDF_PAGE.findall(pdf.read_bytes()))
    if pdf_pages != 1:
        problems.append(f"prints on {pdf_pages} pages, not 1")
    is_guide = page.path.name != "index.html"
    decoded = [r.text for r in zxingcpp.read_barcodes(gray)]
    expected = [page.service_url] if is_guide and page.service_url else []
    if decoded != expected:
        problems.append(f"QR code in the screenshot reads {decoded}, expected {expected}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("rules", nargs="+", type=Path, help="rules folders (with sources.yaml)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("build/browser"),
        help="where pages, screenshots and PDFs go (default build/browser)",
    )
    args = parser.parse_args(argv)
    browser = chromium()
    if args.out.exists():
        shutil.rmtree(args.out)
    pages = generate(args.rules, args.out)
    failed = 0
    for page in pages:
        problems = check_page(browser, page)
        name = page.path.relative_to(args.out)
        kind = "QR code" if page.service_url else "no service_url"
        kind = "index" if page.path.name == "index.html" else kind
        print(f"{'FAIL' if problems else 'ok  '}  {name}  ({kind})")
        for p in problems:
            print(f"      {p}")
        failed += bool(problems)
    print(
        f"{len(pages) - failed} of {len(pages)} pages pass in {browser}; screenshots in {args.out}"
    )
    return 1 if failed or not pages else 0


if __name__ == "__main__":
    sys.exit(main())
