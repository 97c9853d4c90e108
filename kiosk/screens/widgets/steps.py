"""The sign-up step indicator: rules, form, consent, code, card."""

from __future__ import annotations

import pygame

from kiosk.screens.widgets.base import Ctx

STEPS = ("rules", "form", "consent", "code", "done")


def steps(ctx: Ctx, rect: pygame.Rect, current: str) -> None:
    theme = ctx.theme
    p = theme.palette
    n = len(STEPS)
    w = rect.width // n
    index = STEPS.index(current) if current in STEPS else -1
    for i, step in enumerate(STEPS):
        cell = pygame.Rect(rect.left + i * w, rect.top, w, rect.height)
        colour = p.bar_text if i == index else (220, 200, 190) if i < index else (190, 150, 130)
        bar = pygame.Rect(cell.left + 3, cell.bottom - max(3, theme.gap // 2), cell.width - 6, max(3, theme.gap // 2))
        pygame.draw.rect(ctx.surface, colour, bar)
        ctx.text(
            f"{i + 1}. {ctx.t('ui.step_' + step)}",
            cell.inflate(-4, -theme.gap),
            size=theme.small_size,
            bold=i == index,
            color=colour,
            max_lines=2,
        )
