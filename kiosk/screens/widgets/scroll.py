"""A scrollable document: dragged with a finger or moved a page at a time with two buttons."""

from __future__ import annotations

import pygame

from kiosk.screens.text import wrap
from kiosk.screens.widgets.base import Ctx, button


class ScrollView:
    def __init__(self, name: str) -> None:
        self.name = name
        self.offset = 0
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.content_h = 0
        self._lines: list[str] = []
        self._key: tuple[str, int, int] | None = None
        self._line_h = 1

    def reset(self) -> None:
        self.offset = 0
        self._lines = []
        self._key = None

    @property
    def max_offset(self) -> int:
        return max(0, self.content_h - self.rect.height)

    @property
    def at_end(self) -> bool:
        return self.offset >= self.max_offset

    def scroll_by(self, dy: int) -> bool:
        new = max(0, min(self.max_offset, self.offset + dy))
        changed = new != self.offset
        self.offset = new
        return changed

    def draw(self, ctx: Ctx, rect: pygame.Rect, text: str, *, size: int | None = None) -> None:
        theme = ctx.theme
        p = theme.palette
        size = size or theme.small_size
        bw = theme.target
        view = pygame.Rect(rect.left, rect.top, rect.width - bw - theme.gap, rect.height)
        pygame.draw.rect(ctx.surface, p.panel, view, border_radius=theme.radius)
        inner = view.inflate(-2 * theme.pad, -2 * theme.gap)
        key = (text, inner.width, size)
        font = theme.font(size)
        if key != self._key:
            self._lines = wrap(font, text, inner.width, break_words=True) or []
            self._key = key
            self._line_h = font.get_linesize()
        self.rect = inner
        self.content_h = self._line_h * len(self._lines) + theme.gap
        self.offset = max(0, min(self.offset, self.max_offset))
        ctx.painter.record.texts.append(text)
        clip = ctx.surface.get_clip()
        ctx.surface.set_clip(inner)
        first = self.offset // self._line_h
        y = inner.top - (self.offset % self._line_h)
        for line in self._lines[first:]:
            if y > inner.bottom:
                break
            if line:
                ctx.surface.blit(ctx.painter.line(line, size, False, p.text), (inner.left, y))
            y += self._line_h
        ctx.surface.set_clip(clip)
        if self.max_offset > 0:  # position bar
            track = pygame.Rect(view.right - 5, inner.top, 4, inner.height)
            bar_h = max(theme.gap * 3, track.height * inner.height // max(1, self.content_h))
            bar_y = track.top + (track.height - bar_h) * self.offset // max(1, self.max_offset)
            pygame.draw.rect(ctx.surface, p.line, (track.left, bar_y, track.width, bar_h), border_radius=2)
        half = (rect.height - theme.gap) // 2
        page = max(self._line_h, inner.height - 2 * self._line_h)
        up = pygame.Rect(view.right + theme.gap, rect.top, bw, half)
        down = pygame.Rect(view.right + theme.gap, rect.top + half + theme.gap, bw, rect.height - half - theme.gap)
        button(
            ctx, f"{self.name}:up", up, ctx.t("ui.scroll_up"), lambda: self.scroll_by(-page), enabled=self.offset > 0
        )
        button(
            ctx,
            f"{self.name}:down",
            down,
            ctx.t("ui.scroll_down"),
            lambda: self.scroll_by(page),
            enabled=not self.at_end,
        )
        ctx.scrollers.append(self)
