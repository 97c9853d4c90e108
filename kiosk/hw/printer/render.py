"""ESC/POS interpreter: turns the bytes sent to a thermal printer into a picture, text and codes.

The printer simulator uses it to write receipt PNGs and the tests use it to check what a real
printer would print. It understands every command python-escpos 3.1 emits for the kiosk's
receipts and draws the result dot for dot:

* text in Font A (12x24 dots) and Font B (9x17 dots) from DejaVu Sans Mono, decoded with the
  selected code page, with bold, underline, reverse, size multipliers and alignment;
* native QR codes (``GS ( k``) generated from the stored data with the stored module size and
  error correction level;
* EAN-13, EAN-8, UPC-A and Code 128 barcodes (``GS k``) drawn from the symbology tables below;
* raster bit images (``GS v 0``), column bit images (``ESC *``) and raster graphics (``GS ( L``).

After drawing, every QR code and barcode is read back from the rendered pixels with zxing-cpp,
so a receipt only "contains" a code if a scanner could read it off the paper.

Assumptions where printers differ: one vertical motion unit is one dot (203 dpi), the default
line spacing is 30 dots, a line feeds by the line spacing or by its tallest item if taller, a
native QR code is surrounded by a 4-module quiet zone when it fits, and a 13-digit EAN-13 is
printed with the check digit as sent (so a wrong check digit yields an unreadable code).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

__all__ = [
    "EPSON_CODE_PAGES",
    "DecodedCode",
    "EscPosError",
    "RenderedReceipt",
    "profile_code_pages",
    "render",
    "save_png",
]

Ink = npt.NDArray[np.bool_]

DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
DEFAULT_BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"

MAX_HEIGHT = 20_000
"""Rendering stops at this many dot rows (about 2.5 m of paper); later content is dropped."""

DEFAULT_LINE_SPACING = 30
DOTS_PER_INCH = 203

#: ``ESC t n`` -> Python codec, as in python-escpos' "default" (Epson) profile.
EPSON_CODE_PAGES: dict[int, str] = {
    0: "cp437",
    1: "cp932",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    13: "cp857",
    14: "cp737",
    15: "iso8859_7",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    21: "cp874",
    32: "cp720",
    33: "cp775",
    34: "cp855",
    35: "cp861",
    36: "cp862",
    37: "cp864",
    38: "cp869",
    39: "iso8859_2",
    40: "iso8859_15",
    44: "cp1125",
    45: "cp1250",
    46: "cp1251",
    47: "cp1253",
    48: "cp1254",
    49: "cp1255",
    50: "cp1256",
    51: "cp1257",
    52: "cp1258",
    53: "kz1048",
}

_SINGLE_BYTE_ONLY = {"cp932"}  # multi-byte pages: only the ASCII half is single-byte


class EscPosError(ValueError):
    """A truncated or malformed command; ``offset`` is the byte offset where the command starts."""

    def __init__(self, offset: int, message: str) -> None:
        self.offset = offset
        super().__init__(f"ESC/POS data at byte offset {offset}: {message}")


@dataclass(frozen=True)
class DecodedCode:
    """A QR code or barcode read back from the rendered pixels."""

    format: str
    """zxing-cpp's format name: "QRCode", "EAN13", "Code128", ..."""
    text: str
    box: tuple[int, int, int, int]
    """(left, top, right, bottom) in image dots."""


@dataclass
class RenderedReceipt:
    image: Image.Image
    """Mode "1": black dots are printed dots; width is the paper width in dots."""
    lines: list[str]
    codes: list[DecodedCode]
    cuts: int
    commands: list[str]
    unknown: list[bytes]
    cut_positions: list[int] = field(default_factory=list)
    """Dot row of each cut."""
    drawer_pulses: int = 0
    status_requests: list[int] = field(default_factory=list)
    """``n`` of each ``DLE EOT n``."""
    left_margin: int = 0
    print_area_width: int | None = None
    notes: list[str] = field(default_factory=list)
    """Things a printer would silently skip: unsupported symbologies, oversize codes, clipping."""
    truncated: bool = False
    """True when the content went past ``MAX_HEIGHT`` rows and was cut off."""


# --------------------------------------------------------------------------------------------
# Symbology tables


# EAN/UPC "L" (odd parity) patterns of the digits 0-9, 7 modules each, 1 = bar.
_EAN_L_BITS = "0001101 0011001 0010011 0111101 0100011 0110001 0101111 0111011 0110111 0001011"
_EAN_L: tuple[str, ...] = tuple(_EAN_L_BITS.split())
_EAN_R = ["".join("1" if c == "0" else "0" for c in p) for p in _EAN_L]
_EAN_G = [p[::-1] for p in _EAN_R]
# Parity of the six left-hand digits of an EAN-13, chosen by its first digit.
_EAN13_PARITY_CODES = "LLLLLL LLGLGG LLGGLG LLGGGL LGLLGG LGGLLG LGGGLL LGLGLG LGLGGL LGGLGL"
_EAN13_PARITY: tuple[str, ...] = tuple(_EAN13_PARITY_CODES.split())

# Code 128 symbol values 0..106 as bar/space widths (bar first); 106 is the stop symbol.
_C128_WIDTHS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232 2331112"
)
_C128: tuple[str, ...] = tuple(_C128_WIDTHS.split())
_C128_START = {"A": 103, "B": 104, "C": 105}
_C128_SWITCH = {"A": 101, "B": 100, "C": 99}  # value that switches *to* the set, from another set
_C128_FNC = {"A": {"1": 102, "2": 97, "3": 96, "4": 101}, "B": {"1": 102, "2": 97, "3": 96, "4": 100}}


def _ean_check_digit(digits: str) -> int:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _ean13_modules(digits: str) -> str:
    first, left, right = int(digits[0]), digits[1:7], digits[7:13]
    parity = _EAN13_PARITY[first]
    out = ["101"]
    for p, d in zip(parity, left, strict=True):
        out.append((_EAN_L if p == "L" else _EAN_G)[int(d)])
    out.append("01010")
    out.extend(_EAN_R[int(d)] for d in right)
    out.append("101")
    return "".join(out)


def _ean8_modules(digits: str) -> str:
    return "".join(
        ["101", *(_EAN_L[int(d)] for d in digits[:4]), "01010", *(_EAN_R[int(d)] for d in digits[4:]), "101"]
    )


def _widths_to_modules(widths: str) -> str:
    return "".join(("1" if i % 2 == 0 else "0") * int(w) for i, w in enumerate(widths))


def _code128_values(data: bytes) -> tuple[list[int], str] | None:
    """Symbol values (with start, without check and stop) and HRI text for ESC/POS Code 128 data.

    ESC/POS data starts with ``{A``, ``{B`` or ``{C``; ``{`` followed by a letter switches the set
    (``{S`` shifts one character), ``{1``..``{4`` are FNC1..FNC4 and ``{{`` is a literal ``{``.
    In set C each byte is a value 0..99. Returns None for data a printer would reject.
    """
    if len(data) < 2 or data[0] != 0x7B or chr(data[1]) not in _C128_START:
        return None
    cur = chr(data[1])
    values = [_C128_START[cur]]
    hri: list[str] = []
    i = 2
    shift = False
    while i < len(data):
        b = data[i]
        if b == 0x7B and i + 1 < len(data) and data[i + 1] != 0x7B:
            code = chr(data[i + 1])
            i += 2
            if code in _C128_SWITCH:
                if code != cur:
                    values.append(_C128_SWITCH[code])
                    cur = code
            elif code == "S" and cur in "AB":
                values.append(98)
                shift = True
            elif code in "1234" and (cur != "C" or code == "1"):
                values.append(102 if cur == "C" else _C128_FNC[cur][code])
            else:
                return None
            continue
        if b == 0x7B:  # "{{"
            i += 1
        i += 1
        active = ("B" if cur == "A" else "A") if shift else cur
        shift = False
        if active == "C":
            if b > 99:
                return None
            values.append(b)
            hri.append(f"{b:02d}")
        elif active == "A":
            if b > 95:
                return None
            values.append(b + 64 if b < 32 else b - 32)
            hri.append(chr(b) if b >= 32 else " ")
        else:
            if not 32 <= b <= 127:
                return None
            values.append(b - 32)
            hri.append(chr(b))
    if len(values) < 2:
        return None
    return values, "".join(hri)


def _code128_modules(values: list[int]) -> str:
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return "".join(_widths_to_modules(_C128[v]) for v in [*values, check, 106])


# --------------------------------------------------------------------------------------------
# Code pages


@functools.cache
def _code_page_table(codec: str | None) -> tuple[str, ...]:
    """The 256 characters of a single-byte code page; unmappable bytes are "?"."""
    chars: list[str] = []
    for b in range(256):
        if b < 0x80:
            chars.append(chr(b))
            continue
        if codec is None or codec in _SINGLE_BYTE_ONLY:
            chars.append("?")
            continue
        try:
            ch = bytes([b]).decode(codec)
        except (UnicodeDecodeError, LookupError):
            ch = "?"
        # a no-break space (0xFF in CP866) prints as a space; Python does not call it printable
        chars.append(ch if ch.isprintable() or ch == "\u00a0" else "?")
    return tuple(chars)


def profile_code_pages(profile: str) -> dict[int, str]:
    """``ESC t`` numbers -> Python codecs of a python-escpos printer profile (e.g. "TM-T20II")."""
    from escpos.capabilities import CAPABILITIES, get_profile  # loads the capabilities file: on demand

    pages = get_profile(profile).get_code_pages()  # name -> number
    encodings: Mapping[str, Mapping[str, object]] = CAPABILITIES["encodings"]
    out: dict[int, str] = {}
    for name, number in pages.items():
        codec = encodings.get(name, {}).get("python_encode")
        if isinstance(codec, str):
            out[int(number)] = codec
    return out


# --------------------------------------------------------------------------------------------
# Glyphs


class _Fonts:
    """Glyph bitmaps, rendered once per (character, font, bold) and cached."""

    CELLS: ClassVar[dict[str, tuple[int, int, int, int]]] = {
        "A": (12, 24, 20, 19),
        "B": (9, 17, 14, 13),
    }  # width, height, point size, baseline

    def __init__(self, font_path: str | None) -> None:
        self.regular = font_path or DEFAULT_FONT
        if font_path is None:
            self.bold = DEFAULT_BOLD_FONT
        else:
            root, ext = os.path.splitext(font_path)
            candidate = f"{root}-Bold{ext}"
            self.bold = candidate if os.path.exists(candidate) else font_path
        self._faces: dict[tuple[str, bool], ImageFont.FreeTypeFont] = {}
        self._glyphs: dict[tuple[str, str, bool], Ink] = {}

    def _face(self, font: str, bold: bool) -> ImageFont.FreeTypeFont:
        key = (font, bold)
        face = self._faces.get(key)
        if face is None:
            size = self.CELLS[font][2]
            face = ImageFont.truetype(self.bold if bold else self.regular, size)
            self._faces[key] = face
        return face

    def glyph(self, ch: str, font: str, bold: bool) -> Ink:
        key = (ch, font, bold)
        g = self._glyphs.get(key)
        if g is None:
            w, h, _size, baseline = self.CELLS[font]
            cell = Image.new("L", (w, h), 0)
            if ch.strip():
                ImageDraw.Draw(cell).text((0, baseline), ch, fill=255, font=self._face(font, bold), anchor="ls")
            g = np.asarray(cell) >= 128
            self._glyphs[key] = g
        return g


# --------------------------------------------------------------------------------------------
# Canvas


class _Canvas:
    """A growable dot matrix; True = a printed dot."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.ink: Ink = np.zeros((1024, width), dtype=np.bool_)
        self.bottom = 0  # lowest row with content, exclusive
        self.clipped = False

    def blit(self, x: int, y: int, bitmap: Ink) -> tuple[int, int, int, int] | None:
        """OR ``bitmap`` in at (x, y), clipped to the paper; returns the drawn box or None."""
        h, w = bitmap.shape
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, self.width), min(y + h, MAX_HEIGHT)
        if y + h > MAX_HEIGHT:
            self.clipped = True
        if x0 >= x1 or y0 >= y1:
            return None
        if y1 > self.ink.shape[0]:
            rows = self.ink.shape[0]
            while rows < y1:
                rows *= 2
            grown = np.zeros((min(rows, MAX_HEIGHT), self.width), dtype=np.bool_)
            grown[: self.ink.shape[0]] = self.ink
            self.ink = grown
        self.ink[y0:y1, x0:x1] |= bitmap[y0 - y : y1 - y, x0 - x : x1 - x]
        self.bottom = max(self.bottom, y1)
        return x0, y0, x1, y1


def _scale(bitmap: Ink, sx: int, sy: int) -> Ink:
    if sx == 1 and sy == 1:
        return bitmap
    return np.repeat(np.repeat(bitmap, sy, axis=0), sx, axis=1)


# --------------------------------------------------------------------------------------------
# Interpreter


@dataclass
class _Item:
    bitmap: Ink
    advance: int
    text: str | None


@dataclass
class _Style:
    font: str = "A"
    bold: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1
    reverse: bool = False
    align: int = 0
    char_spacing: int = 0
    line_spacing: int = DEFAULT_LINE_SPACING
    code_page: int = 0
    bc_height: int = 162
    bc_width: int = 3
    hri_pos: int = 0
    hri_font: str = "A"


# Fixed-length commands that are understood but do not change the picture: name -> parameter count.
_ESC_RECORD_ONLY = {
    ord("="): ("ESC =", 1),  # select peripheral device
    ord("{"): ("ESC {", 1),  # upside-down mode
    ord("r"): ("ESC r", 1),  # colour
    ord("G"): ("ESC G", 1),  # double strike
    ord("V"): ("ESC V", 1),  # 90 degree rotation
    ord("R"): ("ESC R", 1),  # international character set
    ord("S"): ("ESC S", 0),  # standard mode
    ord("L"): ("ESC L", 0),  # page mode
    ord("<"): ("ESC <", 0),  # return home
    ord("B"): ("ESC B", 2),  # buzzer
    ord("U"): ("ESC U", 1),  # unidirectional printing
    ord("c"): ("ESC c", 2),  # panel buttons / paper sensors
    ord("$"): ("ESC $", 2),  # absolute position
    ord("\\"): ("ESC \\", 2),  # relative position
    ord("%"): ("ESC %", 1),  # user-defined character set
    ord("?"): ("ESC ?", 1),  # cancel user-defined character
    ord("T"): ("ESC T", 1),  # print direction (page mode)
    ord("u"): ("ESC u", 1),  # peripheral status
    ord("v"): ("ESC v", 0),  # paper sensor status
    ord("i"): ("ESC i", 0),  # partial cut (legacy)
    ord("m"): ("ESC m", 0),  # partial cut (legacy)
}
_GS_RECORD_ONLY = {
    ord("B"): ("GS B", 1),  # reverse printing (applied below)
    ord("b"): ("GS b", 1),  # smoothing
    ord("|"): ("GS |", 1),  # print density
    ord("a"): ("GS a", 1),  # automatic status back
    ord("r"): ("GS r", 1),  # transmit status
    ord("I"): ("GS I", 1),  # transmit printer ID
    ord("P"): ("GS P", 2),  # motion units
    ord("$"): ("GS $", 2),  # absolute vertical position
    ord("\\"): ("GS \\", 2),  # relative vertical position
    ord(":"): ("GS :", 0),  # macro definition
    ord("^"): ("GS ^", 3),  # execute macro
    ord("/"): ("GS /", 1),  # print downloaded bit image
    ord("T"): ("GS T", 1),  # set print position to line start
}

_EAN_FORMS = {0: "UPC-A", 65: "UPC-A", 2: "EAN13", 67: "EAN13", 3: "EAN8", 68: "EAN8"}
_BARCODE_B_NAMES = {
    66: "UPC-E",
    69: "CODE39",
    70: "ITF",
    71: "CODABAR",
    72: "CODE93",
    74: "GS1-128",
    75: "GS1 DATABAR OMNIDIRECTIONAL",
    76: "GS1 DATABAR TRUNCATED",
    77: "GS1 DATABAR LIMITED",
    78: "GS1 DATABAR EXPANDED",
}
_BARCODE_A_NAMES = {1: "UPC-E", 4: "CODE39", 5: "ITF", 6: "CODABAR"}


class _Interpreter:
    def __init__(self, data: bytes, paper_dots: int, fonts: _Fonts, code_pages: Mapping[int, str]) -> None:
        self.data = data
        self.paper = paper_dots
        self.fonts = fonts
        self.code_pages = code_pages
        self.canvas = _Canvas(paper_dots)
        self.s = _Style()
        self.y = 0
        self.line: list[_Item] = []
        self.line_align = 0
        self.lines: list[str] = []
        self.commands: list[str] = []
        self.unknown: list[bytes] = []
        self.notes: list[str] = []
        self.cut_positions: list[int] = []
        self.drawer_pulses = 0
        self.status_requests: list[int] = []
        self.left_margin = 0
        self.print_area_width: int | None = None
        self.regions: list[tuple[int, int, int, int]] = []
        self.qr_model = 50
        self.qr_size = 3
        self.qr_ec = 48
        self.qr_data = b""
        self.graphics: Ink | None = None
        self._chars = _code_page_table(code_pages.get(0))

    # -- byte access ---------------------------------------------------------------------------

    def args(self, i: int, count: int, name: str) -> bytes:
        """The ``count`` parameter bytes of the two-byte command at ``i``, recorded as ``name``."""
        self.need(i, i + 2 + count, name)
        self.commands.append(name)
        return self.data[i + 2 : i + 2 + count]

    def need(self, start: int, end: int, what: str) -> None:
        if end > len(self.data):
            raise EscPosError(start, f"truncated {what}: needs {end - start} bytes, has {len(self.data) - start}")

    # -- layout --------------------------------------------------------------------------------

    def advance(self, dots: int) -> None:
        self.y = min(self.y + max(dots, 0), MAX_HEIGHT)

    def place_x(self, width: int, align: int) -> int:
        if align == 1:
            return max((self.paper - width) // 2, 0)
        if align == 2:
            return max(self.paper - width, 0)
        return 0

    def add_item(self, item: _Item) -> None:
        width = sum(i.advance for i in self.line)
        if self.line and width + item.bitmap.shape[1] > self.paper:
            self.flush(auto=True)
        if not self.line:
            self.line_align = self.s.align
        self.line.append(item)

    def flush(self, *, auto: bool = False, feed: int | None = None) -> None:
        """Print the line buffer and feed: by ``feed`` dots, or by a line if None."""
        if not self.line:
            if feed is None:
                self.lines.append("")
                self.advance(self.s.line_spacing)
            else:
                self.advance(feed)
            return
        tallest = max(i.bitmap.shape[0] for i in self.line)
        width = sum(i.advance for i in self.line)
        x = self.place_x(width, self.line_align)
        for item in self.line:
            self.canvas.blit(x, self.y + tallest - item.bitmap.shape[0], item.bitmap)
            x += item.advance
        texts = [i.text for i in self.line]
        if any(t is not None for t in texts):
            self.lines.append("".join(t or "" for t in texts).rstrip())
        self.line = []
        self.advance(max(self.s.line_spacing, tallest) if feed is None else max(feed, tallest))

    def put_block(self, bitmap: Ink, kind: str | None = None) -> None:
        """Print a block (barcode, QR, raster image) at the start of a line, aligned, then feed past it."""
        if self.line:
            self.flush()
        h, w = bitmap.shape
        if w > self.paper and kind is not None:
            self.notes.append(f"{kind} wider than the paper ({w} > {self.paper} dots): not printed")
            return
        box = self.canvas.blit(self.place_x(w, self.s.align), self.y, bitmap)
        if box is not None and kind is not None:
            self.regions.append(box)
        self.advance(h)

    def text_bitmap(self, text: str, font: str) -> Ink:
        parts = [self.fonts.glyph(ch, font, False) for ch in text]
        return np.hstack(parts) if parts else np.zeros((1, 0), dtype=np.bool_)

    # -- characters ----------------------------------------------------------------------------

    def put_char(self, byte: int) -> None:
        ch = self._chars[byte]
        s = self.s
        g = _scale(self.fonts.glyph(ch, s.font, s.bold), s.width, s.height)
        cw, ch_h = self.fonts.CELLS[s.font][0] * s.width, g.shape[0]
        spacing = s.char_spacing * s.width
        if s.underline or s.reverse or spacing:
            g = np.pad(g, ((0, 0), (0, spacing)))
            if s.underline:
                g = g.copy()
                g[ch_h - s.underline :, :] = True
            if s.reverse:
                g = ~g
        self.add_item(_Item(g, cw + spacing, ch))

    # -- main loop -----------------------------------------------------------------------------

    def run(self) -> None:
        data = self.data
        i = 0
        n = len(data)
        while i < n:
            b = data[i]
            if b >= 0x20:
                self.put_char(b)
                i += 1
            elif b == 0x0A:
                self.commands.append("LF")
                self.flush()
                i += 1
            elif b == 0x0D:
                self.commands.append("CR")
                i += 1
            elif b == 0x09:
                self.commands.append("HT")
                i += 1
            elif b == 0x0C:
                self.commands.append("FF")
                self.flush()
                i += 1
            elif b == 0x1B:
                i = self.esc(i)
            elif b == 0x1D:
                i = self.gs(i)
            elif b == 0x10:
                i = self.dle(i)
            else:
                self.unknown.append(bytes([b]))
                i += 1
        if self.line:
            self.flush()

    def esc(self, i: int) -> int:
        d = self.data
        self.need(i, i + 2, "ESC command")
        c = d[i + 1]
        s = self.s

        def arg(count: int, name: str) -> bytes:
            return self.args(i, count, name)

        if c == ord("@"):
            self.commands.append("ESC @")
            self.line = []
            self.s = _Style()
            self._chars = _code_page_table(self.code_pages.get(0))
            return i + 2
        if c == ord("t"):
            (page,) = arg(1, "ESC t")
            self.s.code_page = page
            self._chars = _code_page_table(self.code_pages.get(page))
            if page not in self.code_pages:
                self.notes.append(f"code page {page} unknown: bytes 0x80-0xFF print as '?'")
            return i + 3
        if c == ord("a"):
            (v,) = arg(1, "ESC a")
            if v in (0, 1, 2, 48, 49, 50):
                s.align = v % 48
                if not self.line:
                    self.line_align = s.align
            return i + 3
        if c == ord("E"):
            (v,) = arg(1, "ESC E")
            s.bold = bool(v & 1)
            return i + 3
        if c == ord("-"):
            (v,) = arg(1, "ESC -")
            if v in (0, 1, 2, 48, 49, 50):
                s.underline = v % 48
            return i + 3
        if c == ord("!"):
            (v,) = arg(1, "ESC !")
            s.font = "B" if v & 0x01 else "A"
            s.bold = bool(v & 0x08)
            s.height = 2 if v & 0x10 else 1
            s.width = 2 if v & 0x20 else 1
            s.underline = 1 if v & 0x80 else 0
            return i + 3
        if c == ord("M"):
            (v,) = arg(1, "ESC M")
            s.font = "B" if v in (1, 49) else "A"
            return i + 3
        if c == ord("d"):
            (v,) = arg(1, "ESC d")
            if self.line:
                self.flush()
                self.advance((v - 1) * s.line_spacing)
            else:
                self.advance(v * s.line_spacing)
            return i + 3
        if c == ord("J"):
            (v,) = arg(1, "ESC J")
            self.flush(feed=v)
            return i + 3
        if c == ord("2"):
            self.commands.append("ESC 2")
            s.line_spacing = DEFAULT_LINE_SPACING
            return i + 2
        if c == ord("3"):
            (v,) = arg(1, "ESC 3")
            s.line_spacing = v
            return i + 3
        if c == ord("+"):
            (v,) = arg(1, "ESC +")
            s.line_spacing = round(v * DOTS_PER_INCH / 360)
            return i + 3
        if c == ord("A"):
            (v,) = arg(1, "ESC A")
            s.line_spacing = round(v * DOTS_PER_INCH / 60)
            return i + 3
        if c == ord(" "):
            (v,) = arg(1, "ESC SP")
            s.char_spacing = v
            return i + 3
        if c == ord("p"):
            arg(3, "ESC p")
            self.drawer_pulses += 1
            return i + 5
        if c == ord("D"):
            # horizontal tab positions: up to 32 bytes, NUL-terminated
            j = i + 2
            while j < len(d) and d[j] != 0 and j - i - 2 < 32:
                j += 1
            self.need(i, j + 1, "ESC D")
            self.commands.append("ESC D")
            return j + 1 if d[j] == 0 else j
        if c == ord("*"):
            return self.esc_bit_image(i)
        if c in _ESC_RECORD_ONLY:
            name, count = _ESC_RECORD_ONLY[c]
            arg(count, name)
            return i + 2 + count
        self.unknown.append(d[i : i + 2])
        return i + 2

    def gs(self, i: int) -> int:
        d = self.data
        self.need(i, i + 2, "GS command")
        c = d[i + 1]
        s = self.s

        def arg(count: int, name: str) -> bytes:
            return self.args(i, count, name)

        if c == ord("!"):
            (v,) = arg(1, "GS !")
            w, h = (v >> 4) & 0x0F, v & 0x0F
            if w <= 7 and h <= 7:
                s.width, s.height = w + 1, h + 1
            return i + 3
        if c == ord("V"):
            (m,) = arg(1, "GS V")
            end = i + 3
            if m in (65, 66, 97, 98, 103, 104):
                self.need(i, i + 4, "GS V")
                end = i + 4
                if self.line:
                    self.flush()
                self.advance(d[i + 3])
            elif m not in (0, 1, 48, 49):
                self.notes.append(f"GS V with m={m}: no cut")
                return end
            elif self.line:
                self.flush()
            self.cut_positions.append(self.y)
            return end
        if c == ord("h"):
            (v,) = arg(1, "GS h")
            if v:
                s.bc_height = v
            return i + 3
        if c == ord("w"):
            (v,) = arg(1, "GS w")
            if 1 <= v <= 6:
                s.bc_width = v
            return i + 3
        if c == ord("H"):
            (v,) = arg(1, "GS H")
            if v in (0, 1, 2, 3, 48, 49, 50, 51):
                s.hri_pos = v % 48
            return i + 3
        if c == ord("f"):
            (v,) = arg(1, "GS f")
            s.hri_font = "B" if v in (1, 49) else "A"
            return i + 3
        if c == ord("L"):
            lo, hi = arg(2, "GS L")
            self.left_margin = lo + 256 * hi
            return i + 4
        if c == ord("W"):
            lo, hi = arg(2, "GS W")
            self.print_area_width = lo + 256 * hi
            return i + 4
        if c == ord("B"):
            (v,) = arg(1, "GS B")
            s.reverse = bool(v & 1)
            return i + 3
        if c == ord("k"):
            return self.barcode(i)
        if c == ord("v"):
            return self.raster(i)
        if c == ord("(") or c == ord("8"):
            return self.gs_function(i)
        if c in _GS_RECORD_ONLY:
            name, count = _GS_RECORD_ONLY[c]
            arg(count, name)
            return i + 2 + count
        self.unknown.append(d[i : i + 2])
        return i + 2

    def dle(self, i: int) -> int:
        d = self.data
        self.need(i, i + 2, "DLE command")
        c = d[i + 1]
        if c == 0x04:  # DLE EOT n
            self.need(i, i + 3, "DLE EOT")
            self.commands.append("DLE EOT")
            self.status_requests.append(d[i + 2])
            return i + 3
        if c == 0x05:  # DLE ENQ n
            self.need(i, i + 3, "DLE ENQ")
            self.commands.append("DLE ENQ")
            return i + 3
        if c == 0x14:  # DLE DC4 fn a b
            self.need(i, i + 5, "DLE DC4")
            self.commands.append("DLE DC4")
            if d[i + 2] == 1:
                self.drawer_pulses += 1
            return i + 5
        self.unknown.append(d[i : i + 2])
        return i + 2

    # -- GS ( k / GS ( L -------------------------------------------------------------------------

    def gs_function(self, i: int) -> int:
        d = self.data
        self.need(i, i + 3, "GS ( command")
        if d[i + 1] == ord("8"):  # GS 8 L p1 p2 p3 p4: long form
            self.need(i, i + 7, "GS 8 L")
            if d[i + 2] != ord("L"):
                self.unknown.append(d[i : i + 3])
                return i + 3
            name, fn_letter = "GS 8 L", ord("L")
            length = int.from_bytes(d[i + 3 : i + 7], "little")
            body_start = i + 7
        else:
            self.need(i, i + 5, "GS ( command")
            fn_letter = d[i + 2]
            name = f"GS ( {chr(fn_letter)}"
            length = d[i + 3] + 256 * d[i + 4]
            body_start = i + 5
        end = body_start + length
        self.need(i, end, name)
        body = d[body_start:end]
        self.commands.append(name)
        if fn_letter == ord("k"):
            self.qr_function(i, body)
        elif fn_letter == ord("L"):
            self.graphics_function(i, body)
        return end

    def qr_function(self, i: int, body: bytes) -> None:
        if len(body) < 2:
            raise EscPosError(i, "GS ( k needs cn and fn")
        cn, fn, params = body[0], body[1], body[2:]
        if cn != 49:
            self.notes.append(f"GS ( k symbol type cn={cn} not supported: ignored")
            return
        if fn == 65 and len(params) >= 1:
            self.qr_model = params[0]
        elif fn == 67 and len(params) >= 1:
            if 1 <= params[0] <= 16:
                self.qr_size = params[0]
        elif fn == 69 and len(params) >= 1:
            if 48 <= params[0] <= 51:
                self.qr_ec = params[0]
        elif fn == 80 and len(params) >= 1:
            self.qr_data = params[1:]
        elif fn == 81:
            self.print_qr()
        elif fn == 82:
            pass  # transmit size information: no answer on a simulated wire
        else:
            raise EscPosError(i, f"GS ( k function {fn} malformed")

    def print_qr(self) -> None:
        import segno

        if not self.qr_data:
            self.notes.append("QR print with no stored data: nothing printed")
            return
        if self.qr_model != 50:
            self.notes.append(f"QR model {self.qr_model - 48} requested: printed as model 2")
        try:
            qr = segno.make_qr(self.qr_data, error="LMQH"[self.qr_ec - 48], boost_error=False)
        except (segno.DataOverflowError, ValueError) as exc:
            self.notes.append(f"QR data does not fit a QR code ({type(exc).__name__}): not printed")
            return
        matrix = np.array([list(row) for row in qr.matrix], dtype=np.bool_)
        size = self.qr_size
        for border in (4, 2, 1, 0):
            if (matrix.shape[1] + 2 * border) * size <= self.paper:
                break
        matrix = np.pad(matrix, border)
        self.put_block(_scale(matrix, size, size), "QR code")

    def graphics_function(self, i: int, body: bytes) -> None:
        if len(body) < 2:
            raise EscPosError(i, "GS ( L needs m and fn")
        fn = body[1]
        if fn in (112, 113):  # store raster graphics (monochrome only)
            if len(body) < 10:
                raise EscPosError(i, "GS ( L store graphics header too short")
            _m, _fn, _a, bx, by, c, xl, xh, yl, yh = body[:10]
            w, h = xl + 256 * xh, yl + 256 * yh
            row_bytes = (w + 7) // 8
            raster = body[10:]
            if len(raster) < row_bytes * h:
                raise EscPosError(i, "GS ( L graphics data shorter than its header says")
            if c not in (1, 49):
                self.notes.append(f"GS ( L colour {c} stored as black")
            bits = self.unpack(raster[: row_bytes * h], row_bytes, h)[:, :w]
            self.graphics = _scale(bits, 2 if bx == 2 else 1, 2 if by == 2 else 1)
        elif fn in (2, 50) and self.graphics is not None:  # print stored graphics
            self.put_block(self.graphics, "image")
            self.graphics = None
        # other functions (density, NV graphics, capacity queries) do not print

    @staticmethod
    def unpack(raw: bytes, row_bytes: int, rows: int) -> Ink:
        if row_bytes == 0 or rows == 0:
            return np.zeros((rows, row_bytes * 8), dtype=np.bool_)
        arr = np.frombuffer(raw, dtype=np.uint8).reshape(rows, row_bytes)
        return np.unpackbits(arr, axis=1).astype(np.bool_)

    # -- bit images --------------------------------------------------------------------------------

    def raster(self, i: int) -> int:
        d = self.data
        self.need(i, i + 8, "GS v 0")
        if d[i + 2] != ord("0"):
            self.unknown.append(d[i : i + 3])
            return i + 3
        m = d[i + 3]
        xb = d[i + 4] + 256 * d[i + 5]
        rows = d[i + 6] + 256 * d[i + 7]
        end = i + 8 + xb * rows
        self.need(i, end, "GS v 0 image data")
        self.commands.append("GS v 0")
        bits = self.unpack(d[i + 8 : end], xb, rows)
        sx = 2 if m in (1, 3, 49, 51) else 1
        sy = 2 if m in (2, 3, 50, 51) else 1
        if bits.size:
            self.put_block(_scale(bits, sx, sy), "image")
        return end

    def esc_bit_image(self, i: int) -> int:
        d = self.data
        self.need(i, i + 5, "ESC *")
        m = d[i + 2]
        cols = d[i + 3] + 256 * d[i + 4]
        if m not in (0, 1, 32, 33):
            self.notes.append(f"ESC * mode {m} unknown: treated as 8-dot")
        per_col = 3 if m in (32, 33) else 1
        end = i + 5 + cols * per_col
        self.need(i, end, "ESC * image data")
        self.commands.append("ESC *")
        if cols == 0:
            return end
        raw = np.frombuffer(d[i + 5 : end], dtype=np.uint8).reshape(cols, per_col)
        bits = np.unpackbits(raw, axis=1).astype(np.bool_).T  # rows = dots top to bottom
        sx = 2 if m in (0, 32) else 1
        sy = 3 if per_col == 1 else 1
        bitmap = _scale(bits, sx, sy)
        self.add_item(_Item(bitmap, bitmap.shape[1], None))
        return end

    # -- barcodes ----------------------------------------------------------------------------------

    def barcode(self, i: int) -> int:
        d = self.data
        self.need(i, i + 3, "GS k")
        m = d[i + 2]
        if m <= 6:
            j = i + 3
            while j < len(d) and d[j] != 0:
                j += 1
            self.need(i, j + 1, "GS k data (no NUL terminator)")
            payload, end = d[i + 3 : j], j + 1
            kind = _EAN_FORMS.get(m) or _BARCODE_A_NAMES.get(m, "?")
        elif 65 <= m <= 78:
            self.need(i, i + 4, "GS k")
            end = i + 4 + d[i + 3]
            self.need(i, end, "GS k data")
            payload = d[i + 4 : end]
            kind = _EAN_FORMS.get(m) or ("CODE128" if m == 73 else _BARCODE_B_NAMES[m])
        else:
            self.unknown.append(d[i : i + 3])
            return i + 3
        self.commands.append("GS k")
        drawn = self.barcode_modules(kind, payload)
        if drawn is None:
            if kind in _BARCODE_B_NAMES.values():
                self.notes.append(f"barcode {kind} not supported by the renderer: not printed")
            else:
                self.notes.append(f"barcode {kind} data invalid: not printed")
            return end
        modules, hri = drawn
        self.print_barcode(modules, hri)
        return end

    @staticmethod
    def barcode_modules(kind: str, payload: bytes) -> tuple[str, str] | None:
        if kind in ("EAN13", "UPC-A", "EAN8"):
            if not payload.isdigit():
                return None
            digits = payload.decode("ascii")
            body = {"EAN13": 12, "UPC-A": 11, "EAN8": 7}[kind]
            if len(digits) == body:
                digits += str(_ean_check_digit(digits))
            elif len(digits) != body + 1:
                return None
            if kind == "EAN8":
                return _ean8_modules(digits), digits
            return _ean13_modules(digits if kind == "EAN13" else "0" + digits), digits
        if kind == "CODE128":
            parsed = _code128_values(payload)
            if parsed is None:
                return None
            values, hri = parsed
            return _code128_modules(values), hri
        return None

    def print_barcode(self, modules: str, hri: str) -> None:
        s = self.s
        row = np.frombuffer(modules.encode("ascii"), dtype=np.uint8) == ord("1")
        bars = np.repeat(row, s.bc_width)[np.newaxis, :].repeat(s.bc_height, axis=0)
        w = bars.shape[1]
        quiet = 10 * s.bc_width
        if w > self.paper:
            self.notes.append(f"barcode wider than the paper ({w} > {self.paper} dots): not printed")
            return
        parts: list[Ink] = []
        text = self.text_bitmap(hri, s.hri_font) if s.hri_pos else None
        full_w = max(w, text.shape[1] if text is not None else 0)

        def centred(bitmap: Ink) -> Ink:
            pad = full_w - bitmap.shape[1]
            return np.pad(bitmap, ((0, 0), (pad // 2, pad - pad // 2)))

        gap = np.zeros((4, full_w), dtype=np.bool_)
        if text is not None and s.hri_pos in (1, 3):
            parts += [centred(text), gap]
            self.lines.append(hri)
        parts.append(centred(bars))
        if text is not None and s.hri_pos in (2, 3):
            parts += [gap, centred(text)]
            self.lines.append(hri)
        block = np.vstack(parts)
        if self.line:
            self.flush()
        x = self.place_x(full_w, s.align)
        box = self.canvas.blit(x, self.y, block)
        if box is not None:
            x0, y0, x1, y1 = box
            self.regions.append((max(x0 - quiet, 0), y0, min(x1 + quiet, self.paper), y1))
        self.advance(block.shape[0])


# --------------------------------------------------------------------------------------------
# Reading codes back


def _read_codes(image: Image.Image, regions: list[tuple[int, int, int, int]]) -> list[DecodedCode]:
    import zxingcpp

    pad = 40

    def read(img: Image.Image, dx: int, dy: int) -> list[DecodedCode]:
        framed = Image.new("L", (img.width + 2 * pad, img.height + 2 * pad), 255)
        framed.paste(img.convert("L"), (pad, pad))
        out = []
        for r in zxingcpp.read_barcodes(framed):
            p = r.position
            xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
            ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
            box = (min(xs) - pad + dx, min(ys) - pad + dy, max(xs) - pad + dx, max(ys) - pad + dy)
            out.append(DecodedCode(r.format.name, r.text, box))
        return out

    found = read(image, 0, 0) if image.height else []
    for x0, y0, x1, y1 in regions:

        def inside(c: DecodedCode, x0: int = x0, y0: int = y0, x1: int = x1, y1: int = y1) -> bool:
            cx, cy = (c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2
            return x0 <= cx <= x1 and y0 <= cy <= y1

        if any(inside(c) for c in found):
            continue
        found.extend(c for c in read(image.crop((x0, y0, x1, y1)), x0, y0) if inside(c))
    found.sort(key=lambda c: (c.box[1], c.box[0]))
    return found


# --------------------------------------------------------------------------------------------
# Public API


def render(
    data: bytes,
    paper_dots: int = 576,
    font_path: str | None = None,
    *,
    code_pages: Mapping[int, str] | None = None,
    read_codes: bool = True,
) -> RenderedReceipt:
    """Interpret ESC/POS ``data`` as a printer with ``paper_dots`` dots per line would print it.

    ``code_pages`` maps ``ESC t`` numbers to Python codecs (default: the Epson table that
    python-escpos' "default" profile uses; see ``profile_code_pages``). Raises ``EscPosError``
    for truncated or malformed commands; unknown commands are skipped and listed in ``unknown``.
    """
    if not 8 <= paper_dots <= 4096:
        raise ValueError(f"paper width {paper_dots} dots out of range")
    interp = _Interpreter(bytes(data), paper_dots, _fonts(font_path), code_pages or EPSON_CODE_PAGES)
    interp.run()
    canvas = interp.canvas
    height = max(min(interp.y, MAX_HEIGHT), canvas.bottom, 1)
    ink = (
        canvas.ink[:height]
        if height <= canvas.ink.shape[0]
        else np.pad(canvas.ink, ((0, height - canvas.ink.shape[0]), (0, 0)))
    )
    image = Image.fromarray(~ink)  # mode "1": white paper, black dots
    codes = _read_codes(image, interp.regions) if read_codes and canvas.bottom else []
    if canvas.clipped:
        interp.notes.append(f"content past {MAX_HEIGHT} dot rows dropped")
    return RenderedReceipt(
        image=image,
        lines=interp.lines,
        codes=codes,
        cuts=len(interp.cut_positions),
        commands=interp.commands,
        unknown=interp.unknown,
        cut_positions=interp.cut_positions,
        drawer_pulses=interp.drawer_pulses,
        status_requests=interp.status_requests,
        left_margin=interp.left_margin,
        print_area_width=interp.print_area_width,
        notes=interp.notes,
        truncated=canvas.clipped or interp.y >= MAX_HEIGHT,
    )


@functools.lru_cache(maxsize=4)
def _fonts(font_path: str | None) -> _Fonts:
    return _Fonts(font_path)


def save_png(receipt: RenderedReceipt, path: str | os.PathLike[str], *, mark_cuts: bool = True) -> None:
    """Write the receipt as a PNG; cuts are shown as dashed grey lines unless ``mark_cuts`` is False."""
    image: Image.Image = receipt.image
    if mark_cuts and receipt.cut_positions:
        image = image.convert("L")
        draw = ImageDraw.Draw(image)
        for y in receipt.cut_positions:
            yy = min(y, image.height - 1)
            for x in range(0, image.width, 12):
                draw.line([(x, yy), (x + 6, yy)], fill=160)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, format="PNG")
