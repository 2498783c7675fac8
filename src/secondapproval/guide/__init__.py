"""Plain-language one-page guides of matters (一图看懂), generated from the matter files.

`build_guide` turns a matter version into a `Guide` value; `render_html` / `render_markdown` turn
that into a page through Jinja2 templates; `guide_gaps` lists what a matter lacks for its guide.
"""

from .gaps import guide_gaps
from .model import Guide, GuideError, build_guide
from .render import IndexEntry, MarkdownGuide, render_html, render_index, render_markdown
from .texts import LANGS, Lang

__all__ = [
    "LANGS",
    "Guide",
    "GuideError",
    "IndexEntry",
    "Lang",
    "MarkdownGuide",
    "build_guide",
    "guide_gaps",
    "render_html",
    "render_index",
    "render_markdown",
]
