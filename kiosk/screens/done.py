"""Done: the card number and its QR code, printing progress, and "take your card and your consent copy"."""

from __future__ import annotations

import pygame

from kiosk.screens.base import Screen
from kiosk.screens.cardview import card_view
from kiosk.screens.widgets import Ctx, button, qr_surface, split_h, split_v


class DoneScreen(Screen):
    name = "done"
    step = "done"

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        p = theme.palette
        result = self.ui.result
        if result is None:
            return
        printing = self.ui.printing
        total = len(printing.jobs)
        done = len(printing.done)
        if theme.portrait:
            card_r, info = split_v(body, [1.3, 1], theme.gap * 2)
        else:
            info, card_r = split_h(body, [1.2, 1], theme.gap * 3)
        card_view(ctx, card_r, result.card_number, result.qr_payload)
        wallet = result.wallet_url
        weights = [1.0, 1.0, 0.8] + ([1.8] if wallet else [])
        parts = split_v(info, weights, theme.gap)
        row = parts[2]
        row.height = max(row.height, theme.button_h)
        row.bottom = info.bottom
        ctx.text(
            ctx.t("done.title", name=result.first_name), parts[0], size=theme.title_size, bold=True, color=p.accent
        )
        status = ctx.t("done.printed") if total and done >= total else ctx.t("done.printing", done=done, total=total)
        if not total:
            status = ctx.t("done.show_qr")
        ctx.text(status, parts[1], size=theme.text_size)
        if wallet:
            box = parts[3]
            label, code = split_v(box, [0.4, 2], theme.gap)
            ctx.text(ctx.t("done.wallet"), label, size=theme.small_size, color=p.muted)
            surf = qr_surface(wallet, min(code.width, code.height))
            ctx.surface.blit(surf, surf.get_rect(center=code.center))
        button(ctx, "finish", row, ctx.t("ui.finish"), self.ui.finish, style="primary")
