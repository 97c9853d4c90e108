"""The new card on screen: its number and QR code (shared by the done and printer-fault screens)."""

from __future__ import annotations

import pygame

from kiosk.core.cards import display_number
from kiosk.screens.widgets import Ctx, qr_surface, split_v


def card_view(ctx: Ctx, rect: pygame.Rect, card: str, payload: str) -> None:
    theme = ctx.theme
    p = theme.palette
    pygame.draw.rect(ctx.surface, p.panel, rect, border_radius=theme.radius * 2)
    label, number, code, hint = split_v(rect.inflate(-2 * theme.pad, -2 * theme.gap), [0.5, 0.7, 3.2, 0.5], theme.gap)
    ctx.text(ctx.t("done.card"), label, size=theme.small_size, color=p.muted)
    ctx.text(display_number(card), number, size=theme.title_size, bold=True, max_lines=1)
    surf = qr_surface(payload, min(code.width, code.height))
    ctx.surface.blit(surf, surf.get_rect(center=code.center))
    ctx.text(ctx.t("done.show_qr"), hint, size=theme.small_size, color=p.muted)
