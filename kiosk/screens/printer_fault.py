"""The printer stopped after a sign-up: the card is on screen and the job waits for staff."""

from __future__ import annotations

import pygame

from kiosk.screens.base import Screen
from kiosk.screens.cardview import card_view
from kiosk.screens.widgets import Ctx, button, split_h, split_v


class PrinterFaultScreen(Screen):
    name = "printer_fault"

    def title(self, ctx: Ctx) -> str:
        return ctx.t("fault.paper_title")

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        result = self.ui.result
        if theme.portrait:
            card_r, info = split_v(body, [1.3, 1], theme.gap * 2)
        else:
            info, card_r = split_h(body, [1.2, 1], theme.gap * 3)
        if result is not None:
            card_view(ctx, card_r, result.card_number, result.qr_payload)
        msg, row = split_v(info, [3, 1], theme.gap * 2)
        row.height = max(row.height, theme.button_h)
        row.bottom = info.bottom
        ctx.text(ctx.t("fault.paper", contact=self.ui.cfg.operator.contact), msg, size=theme.text_size)
        button(ctx, "finish", row, ctx.t("ui.finish"), self.ui.finish, style="primary")
