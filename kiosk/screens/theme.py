"""Colours, sizes and the one font of the screens, all scaled from the display's size.

Sizes come from the physical pixel density (``px_per_mm`` from the resolution and the diagonal),
so a touch target is at least 9 mm on any panel, and from the short side of the screen, so text
grows on large displays. The font is DejaVu Sans (Debian ``fonts-dejavu-core``); ``check_glyphs``
proves at start-up that it can draw every character of every text the screens may show.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pygame

from kiosk.errors import ExitCode, KioskError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
TARGET_MM = 9.0

RGB = tuple[int, int, int]


class FontError(KioskError, RuntimeError):
    """The screen font is missing or cannot draw a character the screens need."""

    exit_code = ExitCode.CONFIG


@dataclass(frozen=True)
class Palette:
    bg: RGB = (246, 242, 236)
    panel: RGB = (255, 255, 255)
    text: RGB = (38, 30, 26)
    muted: RGB = (112, 100, 92)
    accent: RGB = (122, 62, 36)
    accent_text: RGB = (255, 255, 255)
    secondary: RGB = (232, 224, 214)
    secondary_text: RGB = (60, 44, 36)
    disabled: RGB = (214, 208, 202)
    disabled_text: RGB = (150, 142, 136)
    danger: RGB = (178, 34, 34)
    ok: RGB = (40, 120, 60)
    line: RGB = (200, 190, 180)
    focus: RGB = (122, 62, 36)
    key: RGB = (255, 255, 255)
    bar: RGB = (122, 62, 36)
    bar_text: RGB = (255, 255, 255)


class Theme:
    """Everything size-dependent, computed once per display size."""

    def __init__(self, width: int, height: int, diagonal_in: float) -> None:
        self.width = width
        self.height = height
        self.diagonal_in = diagonal_in
        self.palette = Palette()
        self.px_per_mm = math.hypot(width, height) / (diagonal_in * 25.4)
        self.target = math.ceil(TARGET_MM * self.px_per_mm)
        short = min(width, height)
        self.portrait = height > width
        self.pad = max(6, round(short * 0.018))
        self.gap = max(4, round(short * 0.012))
        self.radius = max(4, round(short * 0.014))
        self.min_size = max(12, round(2.3 * self.px_per_mm))
        self.small_size = max(self.min_size + 1, round(short / 30))
        self.text_size = max(self.min_size + 3, round(short / 23))
        self.title_size = max(self.text_size + 4, round(short / 15))
        self.huge_size = max(self.title_size + 6, round(short / 10))
        self.bar_h = max(self.target + 2 * self.gap, round(short * 0.13))
        self.button_h = max(self.target, round(short * 0.12))
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        key = (size, bold)
        font = self._fonts.get(key)
        if font is None:
            font = load_font(size, bold)
            self._fonts[key] = font
        return font

    def mm(self, value: float) -> int:
        return round(value * self.px_per_mm)


def load_font(size: int, bold: bool = False) -> pygame.font.Font:
    path = FONT_BOLD if bold else FONT_REGULAR
    if not path.is_file():
        raise FontError(f"screen font {path} is missing (install the fonts-dejavu-core package)")
    return pygame.font.Font(str(path), size)


def check_glyphs(texts: Iterable[tuple[str, str]]) -> None:
    """Raise ``FontError`` naming the text's key and the character the font cannot draw.

    ``texts`` holds ``(key, text)`` pairs; both the regular and the bold face are checked.
    """
    import pygame.freetype

    pygame.freetype.init()
    faces = []
    for path in (FONT_REGULAR, FONT_BOLD):
        if not path.is_file():
            raise FontError(f"screen font {path} is missing (install the fonts-dejavu-core package)")
        faces.append(pygame.freetype.Font(str(path), 16))
    seen: set[str] = set()
    for key, text in texts:
        for ch in set(text) - seen:
            if ch in "\n\r\t":
                continue
            for face in faces:
                # freetype answers None for a character the face has no glyph for
                if face.get_metrics(ch)[0] is None:
                    raise FontError(
                        f"screen font cannot draw {ch!r} (U+{ord(ch):04X}) used by {key!r}; change the text or the font"
                    )
            seen.add(ch)
