"""The programme rules: the short summary and the full rules document, scrollable."""

from __future__ import annotations

import pygame

from kiosk.core import program
from kiosk.screens.base import Screen
from kiosk.screens.widgets import Ctx, ScrollView, button, split_h, split_v


class RulesScreen(Screen):
    name = "rules"
    step = "rules"
    cancellable = True
    in_session = True

    def __init__(self, ui: object) -> None:
        super().__init__(ui)  # type: ignore[arg-type]
        self.doc = ScrollView("rules_doc")

    def enter(self) -> None:
        self.doc.reset()

    def clear(self) -> None:
        self.doc.reset()

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        p = theme.palette
        rules = self.ui.rules
        summary = [line for line in program.summary_lines(rules, ctx.lang) if line]
        bh = theme.button_h
        if theme.portrait:
            top, doc, row = split_v(body, [1.3, 3, 0.5], theme.gap * 2)
            row.height = max(row.height, bh)
            row.bottom = body.bottom
            doc.height = row.top - theme.gap * 2 - doc.top
            side = top
        else:
            side, doc = split_h(body, [2, 3], theme.gap * 2)
            row = pygame.Rect(side.left, side.bottom - bh, side.width, bh)
            side = pygame.Rect(side.left, side.top, side.width, row.top - theme.gap * 2 - side.top)
        pygame.draw.rect(ctx.surface, p.panel, side, border_radius=theme.radius * 2)
        parts = split_v(side.inflate(-2 * theme.pad, -2 * theme.gap), [1.0] + [1.0] * len(summary), theme.gap)
        ctx.text(ctx.t("rules.summary"), parts[0], size=theme.text_size, bold=True, color=p.accent)
        for line, rect in zip(summary, parts[1:], strict=False):
            ctx.text(line, rect, size=theme.text_size, align="left")
        self.doc.draw(ctx, doc, program.rules_document(rules, ctx.lang))
        back, accept = split_h(row, [1, 1.6], theme.gap * 2)
        button(ctx, "back", back, ctx.t("ui.back"), self.ui.cancel)
        button(ctx, "accept", accept, ctx.t("rules.accept"), self.ui.accept_rules, style="primary")
