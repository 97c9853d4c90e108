"""Things drawn over any screen: the "are you still there?" warning, a short notice, the dimmed idle state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygame

from kiosk.screens.widgets import Ctx, button, split_v

if TYPE_CHECKING:
    from kiosk.screens.ui import KioskUI

_DIM: dict[tuple[int, int], pygame.Surface] = {}


def _shade(ctx: Ctx, alpha: int) -> None:
    size = ctx.surface.get_size()
    key = (size[0] * 1000 + alpha, size[1])
    shade = _DIM.get(key)
    if shade is None:
        shade = pygame.Surface(size, pygame.SRCALPHA)
        shade.fill((0, 0, 0, alpha))
        _DIM[key] = shade
    ctx.surface.blit(shade, (0, 0))


def idle_warning(ctx: Ctx, ui: KioskUI) -> None:
    ctx.modal()
    _shade(ctx, 150)
    theme = ctx.theme
    full = ctx.full
    w = min(full.width - 2 * theme.pad, max(theme.target * 6, round(full.width * 0.6)))
    h = min(full.height - 2 * theme.pad, max(theme.target * 4, round(full.height * 0.5)))
    box = pygame.Rect(0, 0, w, h)
    box.center = full.center
    pygame.draw.rect(ctx.surface, theme.palette.panel, box, border_radius=theme.radius * 2)
    title, body, row = split_v(box.inflate(-2 * theme.pad, -2 * theme.pad), [1, 1.2, 1.2], theme.gap)
    ctx.text(ctx.t("idle.title"), title, size=theme.title_size, bold=True)
    ctx.text(ctx.t("idle.body", seconds=ui.idle_seconds_left()), body)
    bh = max(theme.target, min(row.height, theme.button_h))
    bw = min(row.width, max(theme.target * 4, row.width * 2 // 3))
    button(
        ctx,
        "idle:stay",
        pygame.Rect(row.centerx - bw // 2, row.bottom - bh, bw, bh),
        ctx.t("idle.stay"),
        ui.note_input,
        style="primary",
    )


def toast(ctx: Ctx, text: str) -> None:
    theme = ctx.theme
    full = ctx.full
    h = max(theme.target, theme.button_h)
    box = pygame.Rect(theme.pad, full.bottom - h - theme.pad, full.width - 2 * theme.pad, h)
    pygame.draw.rect(ctx.surface, theme.palette.text, box, border_radius=theme.radius)
    ctx.text(text, box.inflate(-2 * theme.pad, -theme.gap), color=theme.palette.panel)


def dim(ctx: Ctx) -> None:
    ctx.modal()
    _shade(ctx, 170)
