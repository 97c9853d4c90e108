"""ESC/POS test harness: render the exact bytes of a print job and read back text and codes.

A thin layer over ``kiosk.hw.printer.render`` (the interpreter the printer simulator uses too),
plus a capturing python-escpos printer so tests produce real python-escpos output.
"""

from __future__ import annotations

from escpos.printer import Dummy

from kiosk.hw.printer.render import (
    EPSON_CODE_PAGES,
    DecodedCode,
    EscPosError,
    RenderedReceipt,
    profile_code_pages,
    render,
    save_png,
)

__all__ = [
    "EPSON_CODE_PAGES",
    "PAPER_DOTS",
    "PROFILE",
    "DecodedCode",
    "EscPosError",
    "RenderedReceipt",
    "capture_printer",
    "profile_code_pages",
    "render",
    "render_job",
    "save_png",
]

PAPER_DOTS = {58: 384, 80: 576}

PROFILE = "TM-T20II"
"""An 80 mm python-escpos profile with native QR, hardware barcodes and CP866 as ``ESC t 17``."""


def capture_printer(profile: str = PROFILE) -> Dummy:
    """A python-escpos printer that keeps everything sent to it in ``.output``."""
    return Dummy(profile=profile)


def render_job(data: bytes, paper_mm: int = 80, *, profile: str | None = None) -> RenderedReceipt:
    """Render one job as printed on ``paper_mm`` paper; ``profile`` picks that profile's code pages."""
    pages = profile_code_pages(profile) if profile else None
    return render(data, paper_dots=PAPER_DOTS[paper_mm], code_pages=pages)
