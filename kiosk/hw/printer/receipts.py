"""Receipt layouts: the card receipt, the consent copy, the rules, the test page, as ESC/POS bytes.

Layouts are built with python-escpos's ``Dummy`` printer (nothing is sent anywhere) and laid out
for 58 mm paper (32 columns of font A, 384 dots) or 80 mm paper (48 columns, 576 dots).

Text: the cheap printers kiosks ship with default to a Chinese or Western code page and print
Cyrillic as garbage unless told otherwise, so every receipt starts with ``ESC @`` and ``ESC t n``
selecting CP866 (``n`` from the python-escpos capabilities of the configured profile), and the
text is encoded here with ``cp866``, bypassing python-escpos's automatic code-page switching.
Characters CP866 lacks (typographic quotes and dashes, the rouble sign) are replaced by plain
equivalents before wrapping; anything else left becomes ``?``.

QR codes are printed natively (``GS ( k``: a few dozen bytes) when ``native_qr`` is set and the
profile supports it, otherwise as a raster image (``GS v 0``: kilobytes). Native QR cannot be
centred by python-escpos's ``qr(center=True)``; the line alignment (``ESC a 1``) is set before.
"""

from __future__ import annotations

import copy
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stdnum import ean

from kiosk.core.cards import display_number

CP866_EPSON_PAGE = 17
"""``ESC t`` page of CP866 on Epson-compatible printers, used if a profile does not list CP866."""

QR_MODULE = {58: 5, 80: 6}
"""Dots per QR module: a version-3 code stays about 2 cm wide on either paper."""
EAN_MODULE = {58: 3, 80: 3}
EAN_HEIGHT = 80

DEFAULT_LABELS: dict[str, str] = {
    "card": "Ваша карта",
    "show": "Покажите код на кассе",
    "wallet": "Добавить в телефон",
}

_REPLACEMENTS = {
    "«": '"',
    "»": '"',
    "„": '"',
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "—": "-",
    "–": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "₽": "руб.",
    "×": "x",
    "©": "(c)",
    "®": "(R)",
    "™": "TM",
    "\u2009": " ",
    "\u202f": " ",
    "\u200b": "",
    "\t": " ",
}


@dataclass(frozen=True)
class Paper:
    mm: int
    columns: int
    dots: int

    @property
    def wide_columns(self) -> int:
        """Columns at double width."""
        return self.columns // 2


PAPERS: dict[int, Paper] = {58: Paper(58, 32, 384), 80: Paper(80, 48, 576)}


def paper(paper_mm: int) -> Paper:
    try:
        return PAPERS[paper_mm]
    except KeyError:
        raise ValueError(f"paper_mm must be 58 or 80, got {paper_mm}") from None


# -- text ---------------------------------------------------------------------------------


def _fits_cp866(ch: str) -> bool:
    try:
        ch.encode("cp866")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> str:
    """``text`` with the characters CP866 lacks replaced by plain equivalents where one exists."""
    out: list[str] = []
    for ch in text:
        if ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        elif _fits_cp866(ch):
            out.append(ch)
        else:
            # Latin letters with accents lose the accent; CP866 letters never get here.
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(_fits_cp866(c) for c in base) else ch)
    return "".join(out)


def unprintable(text: str) -> set[str]:
    """The characters of ``text`` that would print as ``?`` even after ``printable``."""
    return {ch for ch in printable(text) if ch not in "\n" and not _fits_cp866(ch)}


def encode(text: str) -> bytes:
    return printable(text).encode("cp866", errors="replace")


_MARKER_RE = re.compile(r"^(\s*)((?:[-•*–—]|\d{1,3}[.)])\s+)?")


def wrap(text: str, width: int) -> list[str]:
    """Word-wrap ``text`` to ``width`` columns.

    Each input line is a paragraph; blank lines are kept. A list item (``- ``, ``• ``, ``1. ``,
    ``2) ``) keeps a hanging indent under its first word, and a paragraph's leading indent is
    kept on every line. Words are never split at hyphens; a word longer than a line is cut.
    """
    lines: list[str] = []
    for raw in printable(text).splitlines():
        para = raw.rstrip()
        if not para.strip():
            lines.append("")
            continue
        m = _MARKER_RE.match(para)
        assert m is not None
        lead, marker = m.group(1), m.group(2) or ""
        indent = min(len(lead) + len(marker), width // 2)
        wrapper = textwrap.TextWrapper(
            width=width,
            initial_indent=lead + marker,
            subsequent_indent=" " * indent,
            break_long_words=True,
            break_on_hyphens=False,
        )
        lines.extend(wrapper.wrap(para[m.end() :]) or [lead + marker.rstrip()])
    return lines


def _check_card_number(card_number: str) -> None:
    if len(card_number) != 13 or not card_number.isdigit() or not ean.is_valid(card_number):
        raise ValueError("card number must be a valid EAN-13 (13 digits)")


# -- the document builder -------------------------------------------------------------------


def cp866_page(profile: Any) -> int:
    """The ``ESC t`` number of CP866 in a python-escpos profile object."""
    pages: dict[str, Any] = profile.get_code_pages()
    return int(pages.get("CP866", CP866_EPSON_PAGE))


def cp866_page_of(profile: str = "default") -> int:
    """The ``ESC t`` number of CP866 in the named python-escpos profile."""
    from escpos.capabilities import get_profile

    return cp866_page(get_profile(profile))


class _Doc:
    """A receipt being built on a python-escpos Dummy printer."""

    def __init__(self, paper_mm: int, *, native_qr: bool = True, profile: str = "default") -> None:
        from escpos.printer import Dummy

        self.paper = paper(paper_mm)
        self.p = Dummy(profile=profile)
        prof = self.p.profile
        # A private copy of the profile data with this paper's width: python-escpos centres
        # raster images by it, and the shared class-level data must not change.
        data = copy.deepcopy(prof.profile_data)
        data.setdefault("media", {})["width"] = {"mm": self.paper.mm, "pixels": self.paper.dots}
        prof.profile_data = data
        self.native_qr = bool(native_qr) and bool(prof.supports("qrCode"))
        self.p.hw("INIT")
        self.page = cp866_page(prof)
        # ESC t <CP866 number of this profile>; python-escpos's own text output (the line feeds
        # around a raster QR) then stays on CP866 too instead of switching pages.
        self.p.charcode("CP866")

    # style
    def align(self, where: str) -> None:
        self.p.set(align=where)

    def bold(self, on: bool) -> None:
        self.p.set(bold=on)

    def size(self, width: int, height: int) -> None:
        self.p.set(custom_size=True, width=width, height=height)  # GS ! n

    def normal(self) -> None:
        self.size(1, 1)
        self.bold(False)
        self.align("left")

    # content
    def line(self, text: str = "") -> None:
        self.p._raw(encode(text) + b"\n")

    def lines(self, lines: Iterable[str]) -> None:
        for text in lines:
            self.line(text)

    def para(self, text: str, *, wide: bool = False) -> None:
        self.lines(wrap(text, self.paper.wide_columns if wide else self.paper.columns))

    def rule(self, ch: str = "-") -> None:
        self.line(ch * self.paper.columns)

    def feed(self, n: int = 1) -> None:
        self.p._raw(b"\n" * n)

    def qr(self, payload: str, module: int | None = None) -> None:
        from escpos.constants import QR_ECLEVEL_M

        size = module or QR_MODULE[self.paper.mm]
        self.align("center")
        if self.native_qr:
            self.p.qr(payload, ec=QR_ECLEVEL_M, size=size, native=True)
            self.feed()
        else:
            self.p.qr(payload, ec=QR_ECLEVEL_M, size=size, native=False, center=True)
        self.align("left")

    def ean13(self, number: str) -> None:
        _check_card_number(number)
        prof = self.p.profile
        if prof.supports("barcodeB") or prof.supports("barcodeA"):
            # The hardware barcode directly (python-escpos's barcode() reports its choice on stdout).
            self.p._hw_barcode(
                number,
                "EAN13",
                height=EAN_HEIGHT,
                width=EAN_MODULE[self.paper.mm],
                pos="BELOW",
                font="A",
                align_ct=True,
                function_type="B" if prof.supports("barcodeB") else "A",
            )
            self.feed()
        else:
            self.p.barcode(number, "EAN13", height=EAN_HEIGHT, width=EAN_MODULE[self.paper.mm], force_software=True)
        self.align("left")

    def cut(self) -> bytes:
        self.normal()
        self.p.cut()
        return bytes(self.p.output)


# -- layouts ----------------------------------------------------------------------------------


def card_receipt(
    *,
    paper_mm: int,
    native_qr: bool,
    program_name: str,
    store_name: str,
    card_number: str,
    qr_payload: str,
    summary_lines: list[str],
    wallet_url: str | None,
    labels: Mapping[str, str] | None = None,
    profile: str = "default",
) -> bytes:
    """The receipt a new member takes away: card number, its QR and EAN-13, the programme summary."""
    _check_card_number(card_number)
    text = {**DEFAULT_LABELS, **(labels or {})}
    doc = _Doc(paper_mm, native_qr=native_qr, profile=profile)
    doc.align("center")
    doc.bold(True)
    doc.size(2, 2)
    doc.para(program_name, wide=True)
    doc.size(1, 1)
    doc.bold(False)
    doc.para(store_name)
    doc.feed()
    doc.line(text["card"])
    doc.size(2, 2)
    doc.line(display_number(card_number))
    doc.size(1, 1)
    doc.feed()
    doc.qr(qr_payload)
    doc.align("center")
    doc.line(text["show"])
    doc.ean13(card_number)
    doc.rule()
    for item in summary_lines:
        doc.para(item)
    if wallet_url:
        doc.rule()
        doc.align("center")
        doc.line(text["wallet"])
        doc.qr(wallet_url)
    return doc.cut()


def consent_copy(*, paper_mm: int, title: str, text: str, footer_lines: Iterable[str] = ()) -> bytes:
    """The customer's copy of the consent document, word-wrapped in full."""
    doc = _Doc(paper_mm)
    doc.align("center")
    doc.bold(True)
    doc.para(title)
    doc.bold(False)
    doc.align("left")
    doc.feed()
    doc.para(text)
    footer = list(footer_lines)
    if footer:
        doc.rule()
        for item in footer:
            doc.para(item)
    return doc.cut()


def rules_receipt(*, paper_mm: int, text: str) -> bytes:
    """The programme rules, word-wrapped in full."""
    doc = _Doc(paper_mm)
    doc.para(text)
    return doc.cut()


CYRILLIC_CHECK = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ абвгдеёжзийклмнопрстуфхцчшщъыьэюя №"
TEST_CARD = "2000000000015"
"""A valid in-store EAN-13 that no kiosk issues (kiosk number 0000)."""


def ruler(columns: int) -> list[str]:
    """Two lines: tens on the first, units on the second."""
    tens = "".join(str((i // 10) % 10) if i % 10 == 0 else " " for i in range(1, columns + 1))
    units = "".join(str(i % 10) for i in range(1, columns + 1))
    return [tens, units]


def test_page(*, paper_mm: int, kiosk_id: str, version: str, now_text: str, profile: str = "default") -> bytes:
    """A page for installers: code page, text sizes, a QR, an EAN-13 and a column ruler."""
    doc = _Doc(paper_mm, profile=profile)
    pap = doc.paper
    doc.align("center")
    doc.bold(True)
    doc.size(2, 2)
    doc.para("ТЕСТ ПЕЧАТИ", wide=True)
    doc.size(1, 1)
    doc.bold(False)
    doc.line("PRINT TEST")
    doc.align("left")
    doc.feed()
    doc.para(f"kiosk: {kiosk_id}")
    doc.para(f"version: {version}")
    doc.para(f"time: {now_text}")
    doc.para(f"paper: {pap.mm} mm, {pap.columns} col, {pap.dots} dots")
    doc.para(f"code page: CP866 (ESC t {doc.page})")
    doc.rule()
    doc.para(CYRILLIC_CHECK)
    doc.rule()
    doc.line("normal: Обычный шрифт")
    doc.bold(True)
    doc.line("bold: Жирный шрифт")
    doc.bold(False)
    doc.size(2, 2)
    doc.para("x2: Двойной", wide=True)
    doc.size(1, 1)
    doc.rule()
    doc.qr(f"KIOSK:{kiosk_id}".upper())
    doc.ean13(TEST_CARD)
    doc.rule()
    doc.lines(ruler(pap.columns))
    return doc.cut()


def text_lines(receipt_text: str, paper_mm: int) -> Iterator[str]:
    """The lines ``wrap`` makes of ``receipt_text`` on this paper (for previews)."""
    yield from wrap(receipt_text, paper(paper_mm).columns)
