"""A numeric pad for the phone, the date and the SMS code."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pygame

from kiosk.screens.widgets.base import Ctx, button
from kiosk.screens.widgets.keyboard import BACKSPACE


def numpad(ctx: Ctx, rect: pygame.Rect, on_key: Callable[[str], None], *, prefix: str = "pad") -> None:
    theme = ctx.theme
    gap = max(3, theme.gap)
    key_h = min((rect.height - 3 * gap) // 4, round(theme.target * 1.8))
    key_w = min((rect.width - 2 * gap) // 3, round(theme.target * 3.2))
    total_w = 3 * key_w + 2 * gap
    total_h = 4 * key_h + 3 * gap
    left = rect.left + (rect.width - total_w) // 2
    top = rect.top + (rect.height - total_h) // 2
    digits = ctx.t("kbd.digits")  # "1234567890"
    layout = [digits[0:3], digits[3:6], digits[6:9], " " + digits[9] + BACKSPACE]
    size = max(theme.min_size, min(theme.title_size, round(key_h * 0.5)))
    for r, row in enumerate(layout):
        for c, ch in enumerate(row):
            if ch == " ":
                continue
            cell = pygame.Rect(left + c * (key_w + gap), top + r * (key_h + gap), key_w, key_h)
            if ch == BACKSPACE:
                button(
                    ctx,
                    f"{prefix}:back",
                    cell,
                    ctx.t("kbd.backspace"),
                    lambda: on_key(BACKSPACE),
                    size=size,
                    bold=False,
                )
            else:
                button(ctx, f"{prefix}:{ch}", cell, ch, functools.partial(on_key, ch), style="ghost", size=size)
