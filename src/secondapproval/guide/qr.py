"""The QR code of a matter's online service address, as an SVG element (made by segno)."""

from __future__ import annotations

import io

import segno

QR_CLASS = "qr"


def qr_svg(url: str) -> str:
    """An SVG QR code (never a Micro QR) of `url`: white quiet zone, sized by its viewBox."""
    code = segno.make_qr(url, error="m")
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=1,
        border=4,
        svgclass=QR_CLASS,
        lineclass=None,
        omitsize=True,
        dark="#000",
        light="#fff",
    )
    return out.getvalue().decode("utf-8")
