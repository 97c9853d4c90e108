"""The attract screen: the programme's pitch, "Join", and "scan your card" while the scanner watches."""

from __future__ import annotations

import pygame

from kiosk.core import program
from kiosk.screens.base import Screen
from kiosk.screens.widgets import Ctx, button, split_h, split_v


class AttractScreen(Screen):
    name = "attract"

    def title(self, ctx: Ctx) -> str:
        return self.ui.cfg.kiosk.store_name.get(ctx.lang)

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        p = theme.palette
        rules = self.ui.rules
        pitch = program.pitch(rules, ctx.lang)
        summary = [line for line in program.summary_lines(rules, ctx.lang) if line and line != pitch]
        if theme.portrait:
            info, action = split_v(body, [3, 2], theme.gap * 2)
        else:
            info, action = split_h(body, [3, 2], theme.gap * 3)
        pygame.draw.rect(ctx.surface, p.panel, info, border_radius=theme.radius * 2)
        inner = info.inflate(-2 * theme.pad, -2 * theme.pad)
        parts = split_v(inner, [1.3, 1.4] + [1.0] * len(summary), theme.gap)
        ctx.text(rules.name.get(ctx.lang), parts[0], size=theme.huge_size, bold=True, color=p.accent, max_lines=2)
        ctx.text(pitch, parts[1], size=theme.title_size, bold=True)
        for line, rect in zip(summary, parts[2:], strict=False):
            ctx.text(line, rect, size=theme.text_size, color=p.muted)
        join_h, scan_h = split_v(action, [1.2, 1], theme.gap * 2)
        button(ctx, "join", join_h, ctx.t("attract.join"), self.ui.start_signup, style="primary", size=theme.huge_size)
        scan_key = "attract.scan" if self.ui.scanner_ok else "attract.scanner_off"
        pygame.draw.rect(ctx.surface, p.secondary, scan_h, border_radius=theme.radius * 2)
        ctx.text(
            ctx.t(scan_key),
            scan_h.inflate(-2 * theme.pad, -2 * theme.gap),
            size=theme.text_size,
            color=p.secondary_text,
        )
