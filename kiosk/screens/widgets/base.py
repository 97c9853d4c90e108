"""Immediate-mode drawing context: each frame the screen draws its widgets and registers their targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pygame

from kiosk.i18n import t
from kiosk.screens.text import Layout, TextPainter
from kiosk.screens.theme import RGB, Theme

if TYPE_CHECKING:
    from kiosk.screens.widgets.scroll import ScrollView


@dataclass
class Target:
    """Something a finger can tap: its name (for tests and the virtual customer), where, and what it does."""

    name: str
    rect: pygame.Rect
    on_tap: Callable[[], object] | None
    enabled: bool = True


@dataclass
class Ctx:
    surface: pygame.Surface
    theme: Theme
    painter: TextPainter
    lang: str
    targets: list[Target] = field(default_factory=list)
    scrollers: list[ScrollView] = field(default_factory=list)

    def t(self, key: str, **values: object) -> str:
        return t(self.lang, key, **values)

    def text(self, text: str, rect: pygame.Rect, **kw: object) -> Layout:
        return self.painter.draw(self.surface, text, rect, **kw)  # type: ignore[arg-type]

    def target(self, name: str, rect: pygame.Rect, on_tap: Callable[[], object] | None, enabled: bool = True) -> None:
        self.targets.append(Target(name, pygame.Rect(rect), on_tap, enabled))

    def modal(self) -> None:
        """An overlay takes over: what was registered below it can no longer be tapped."""
        self.targets.clear()
        self.scrollers.clear()

    @property
    def full(self) -> pygame.Rect:
        return self.surface.get_rect()


STYLES = ("primary", "secondary", "ghost", "danger", "selected")


def _colours(ctx: Ctx, style: str, enabled: bool) -> tuple[RGB, RGB]:
    p = ctx.theme.palette
    if not enabled:
        return p.disabled, p.disabled_text
    if style == "primary":
        return p.accent, p.accent_text
    if style == "danger":
        return p.danger, p.accent_text
    if style == "selected":
        return p.ok, p.accent_text
    if style == "ghost":
        return p.panel, p.text
    return p.secondary, p.secondary_text


def button(
    ctx: Ctx,
    name: str,
    rect: pygame.Rect,
    label: str,
    on_tap: Callable[[], object] | None,
    *,
    style: str = "secondary",
    enabled: bool = True,
    size: int | None = None,
    bold: bool = True,
    max_lines: int = 3,
) -> None:
    theme = ctx.theme
    bg, fg = _colours(ctx, style, enabled)
    pygame.draw.rect(ctx.surface, bg, rect, border_radius=theme.radius)
    if style == "ghost":
        pygame.draw.rect(ctx.surface, theme.palette.line, rect, width=2, border_radius=theme.radius)
    inset = max(2, min(theme.pad, rect.height // 8, rect.width // 10))
    ctx.text(
        label, rect.inflate(-2 * inset, -inset), size=size or theme.text_size, bold=bold, color=fg, max_lines=max_lines
    )
    ctx.target(name, rect, on_tap, enabled)


def checkbox(ctx: Ctx, name: str, rect: pygame.Rect, checked: bool, label: str, on_tap: Callable[[], None]) -> None:
    """A large tick box with its label; the whole row is the target."""
    theme = ctx.theme
    p = theme.palette
    pygame.draw.rect(ctx.surface, p.panel, rect, border_radius=theme.radius)
    box = min(rect.height - 2 * theme.gap, theme.target)
    box_rect = pygame.Rect(rect.left + theme.gap, rect.centery - box // 2, box, box)
    pygame.draw.rect(ctx.surface, p.panel, box_rect, border_radius=theme.radius // 2)
    pygame.draw.rect(ctx.surface, p.accent, box_rect, width=max(2, box // 14), border_radius=theme.radius // 2)
    if checked:
        w = max(3, box // 8)
        pts = [
            (box_rect.left + box * 0.2, box_rect.top + box * 0.52),
            (box_rect.left + box * 0.42, box_rect.top + box * 0.74),
            (box_rect.left + box * 0.8, box_rect.top + box * 0.28),
        ]
        pygame.draw.lines(ctx.surface, p.ok, False, pts, w)
    label_rect = pygame.Rect(
        box_rect.right + theme.gap * 2, rect.top + 2, rect.right - box_rect.right - theme.gap * 3, rect.height - 4
    )
    ctx.text(label, label_rect, size=theme.text_size, align="left")
    ctx.target(name, rect, on_tap)


def field_box(
    ctx: Ctx, rect: pygame.Rect, shown: str, *, placeholder: bool, focused: bool, error: bool, size: int | None = None
) -> None:
    """A text field showing ``shown`` (the value, or its mask as a placeholder)."""
    theme = ctx.theme
    p = theme.palette
    pygame.draw.rect(ctx.surface, p.panel, rect, border_radius=theme.radius)
    colour = p.danger if error else (p.focus if focused else p.line)
    pygame.draw.rect(ctx.surface, colour, rect, width=3 if (focused or error) else 2, border_radius=theme.radius)
    inner = rect.inflate(-2 * theme.pad, -theme.gap)
    ctx.text(
        shown, inner, size=size or theme.title_size, color=p.muted if placeholder else p.text, align="left", max_lines=1
    )
    if focused and not placeholder:
        lay = ctx.painter.layout(shown, inner.width, inner.height, size or theme.title_size, False, theme.min_size, 1)
        width = ctx.painter.theme.font(lay.size).size(lay.lines[0] if lay.lines else "")[0]
        x = min(inner.left + width + 3, inner.right - 2)
        pygame.draw.line(
            ctx.surface, p.focus, (x, inner.top + inner.height // 5), (x, inner.bottom - inner.height // 5), 3
        )


def split_h(rect: pygame.Rect, weights: list[float], gap: int) -> list[pygame.Rect]:
    """Split ``rect`` into columns by weight with ``gap`` between them."""
    total = sum(weights)
    free = rect.width - gap * (len(weights) - 1)
    out: list[pygame.Rect] = []
    x = rect.left
    for i, w in enumerate(weights):
        width = round(free * w / total) if i < len(weights) - 1 else rect.right - x
        out.append(pygame.Rect(x, rect.top, width, rect.height))
        x += width + gap
    return out


def split_v(rect: pygame.Rect, weights: list[float], gap: int) -> list[pygame.Rect]:
    total = sum(weights)
    free = rect.height - gap * (len(weights) - 1)
    out: list[pygame.Rect] = []
    y = rect.top
    for i, w in enumerate(weights):
        height = round(free * w / total) if i < len(weights) - 1 else rect.bottom - y
        out.append(pygame.Rect(rect.left, y, rect.width, height))
        y += height + gap
    return out
