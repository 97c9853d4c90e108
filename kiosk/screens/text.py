"""The one way text reaches the screen: fit it into a box (wrap, then shrink), or record a layout error.

Every frame starts a ``FrameRecord``: the texts drawn (tests assert what a customer saw) and the
overflows (a text that did not fit its box even at the minimum size). Rendered lines and layouts
are cached; ``forget`` drops every cache, which the kiosk does when a customer's session ends so
no rendering of what they typed stays in memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import pygame

from kiosk.screens.theme import RGB, Theme

_LINE_CACHE_MAX = 1500
_LAYOUT_CACHE_MAX = 3000


@dataclass
class FrameRecord:
    texts: list[str] = field(default_factory=list)
    overflows: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    lines: tuple[str, ...]
    size: int
    bold: bool
    line_h: int
    fits: bool

    @property
    def height(self) -> int:
        return self.line_h * len(self.lines)


def wrap(font: pygame.font.Font, text: str, width: int, *, break_words: bool) -> list[str] | None:
    """Greedy word wrap; None when a word is wider than ``width`` and ``break_words`` is off."""
    lines: list[str] = []
    for para in text.split("\n"):
        current = ""
        for word in para.split(" "):
            candidate = f"{current} {word}" if current else word
            if font.size(candidate)[0] <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if font.size(word)[0] <= width:
                current = word
                continue
            if not break_words:
                return None
            piece = ""
            for ch in word:
                if font.size(piece + ch)[0] <= width or not piece:
                    piece += ch
                else:
                    lines.append(piece)
                    piece = ch
            current = piece
        lines.append(current)
    return lines


class TextPainter:
    def __init__(self, theme: Theme) -> None:
        self.theme = theme
        self.record = FrameRecord()
        self._lines: OrderedDict[tuple[str, int, bool, RGB], pygame.Surface] = OrderedDict()
        self._layouts: OrderedDict[tuple[str, int, int, int, bool, int, int], Layout] = OrderedDict()

    def begin_frame(self) -> None:
        self.record = FrameRecord()

    def forget(self) -> None:
        """Drop every cached rendering and the last frame's record."""
        self._lines.clear()
        self._layouts.clear()
        self.record = FrameRecord()

    # --- measuring ---------------------------------------------------------------------------

    def layout(
        self, text: str, width: int, height: int, size: int, bold: bool, min_size: int, max_lines: int
    ) -> Layout:
        key = (text, width, height, size, bold, min_size, max_lines)
        cached = self._layouts.get(key)
        if cached is not None:
            self._layouts.move_to_end(key)
            return cached
        result = self._fit(text, width, height, size, bold, min_size, max_lines)
        self._layouts[key] = result
        if len(self._layouts) > _LAYOUT_CACHE_MAX:
            self._layouts.popitem(last=False)
        return result

    def _fit(self, text: str, width: int, height: int, size: int, bold: bool, min_size: int, max_lines: int) -> Layout:
        min_size = min(min_size, size)
        sizes: list[int] = []
        s = size
        while s > min_size:
            sizes.append(s)
            s = min(s - 1, round(s * 0.92))
        sizes.append(min_size)
        for break_words in (False, True):
            for s in sizes if not break_words else [min_size]:
                font = self.theme.font(s, bold)
                line_h = font.get_linesize()
                lines = wrap(font, text, max(1, width), break_words=break_words)
                if lines is None:
                    continue
                if len(lines) <= max_lines and line_h * len(lines) <= height:
                    return Layout(tuple(lines), s, bold, line_h, True)
        font = self.theme.font(min_size, bold)
        lines = wrap(font, text, max(1, width), break_words=True) or [text]
        line_h = font.get_linesize()
        keep = max(1, min(max_lines, height // max(1, line_h)))
        return Layout(tuple(lines[:keep]), min_size, bold, line_h, False)

    def line(self, text: str, size: int, bold: bool, color: RGB) -> pygame.Surface:
        key = (text, size, bold, color)
        surf = self._lines.get(key)
        if surf is None:
            surf = self.theme.font(size, bold).render(text, True, color)
            self._lines[key] = surf
            if len(self._lines) > _LINE_CACHE_MAX:
                self._lines.popitem(last=False)
        else:
            self._lines.move_to_end(key)
        return surf

    # --- drawing -----------------------------------------------------------------------------

    def draw(
        self,
        surface: pygame.Surface,
        text: str,
        rect: pygame.Rect,
        *,
        size: int | None = None,
        bold: bool = False,
        color: RGB | None = None,
        align: str = "center",
        valign: str = "center",
        min_size: int | None = None,
        max_lines: int = 99,
    ) -> Layout:
        """Draw ``text`` fitted into ``rect``; an overflow is recorded, never silently clipped."""
        theme = self.theme
        size = size or theme.text_size
        layout = self.layout(text, rect.width, rect.height, size, bold, min_size or theme.min_size, max_lines)
        self.record.texts.append(text)
        if not layout.fits:
            self.record.overflows.append(f"{text[:60]!r} in {rect.width}x{rect.height} at {rect.topleft}")
        colour = color or theme.palette.text
        total = layout.height
        if valign == "top":
            y = rect.top
        elif valign == "bottom":
            y = rect.bottom - total
        else:
            y = rect.top + (rect.height - total) // 2
        for line_text in layout.lines:
            surf = self.line(line_text, layout.size, bold, colour)
            if align == "left":
                x = rect.left
            elif align == "right":
                x = rect.right - surf.get_width()
            else:
                x = rect.left + (rect.width - surf.get_width()) // 2
            surface.blit(surf, (x, y))
            y += layout.line_h
        return layout
