"""A scanned card: first name, tier, balance, pending points and what is left to the next tier.

Also the answers when that cannot be shown: head office not reachable, card not found, or a bare
barcode (ours, but not proof of the card) that asks for the QR code instead.
"""

from __future__ import annotations

import pygame

from kiosk.core import program
from kiosk.core.program import format_number, plural_ru, progress_text
from kiosk.screens.base import Screen
from kiosk.screens.widgets import Ctx, button, split_v


def points(ctx: Ctx, n: int) -> str:
    if ctx.lang == "ru":
        unit = plural_ru(n, ctx.t("balance.unit_one"), ctx.t("balance.unit_few"), ctx.t("balance.unit_many"))
    else:
        unit = ctx.t("balance.unit_one") if n == 1 else ctx.t("balance.unit_many")
    return f"{format_number(n, ctx.lang)}\u00a0{unit}"


class BalanceScreen(Screen):
    name = "balance"

    def title(self, ctx: Ctx) -> str:
        return ctx.t("balance.title")

    @property
    def view_id(self) -> str:
        state = self.ui.balance
        return f"balance-{state[0] if state else 'none'}"

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        p = theme.palette
        mode, balance = self.ui.balance or ("loading", None)
        panel, row = split_v(body, [4, 1], theme.gap * 2)
        row.height = max(row.height, theme.button_h)
        row.bottom = body.bottom
        panel.height = row.top - theme.gap * 2 - panel.top
        pygame.draw.rect(ctx.surface, p.panel, panel, border_radius=theme.radius * 2)
        inner = panel.inflate(-2 * theme.pad, -2 * theme.pad)
        if mode == "ok" and balance is not None:
            lines: list[tuple[str, int, bool]] = [
                (ctx.t("balance.hello", name=balance.first_name), theme.title_size, True),
                (ctx.t("balance.points", points=points(ctx, balance.balance_points)), theme.huge_size, True),
            ]
            if balance.pending_points:
                lines.append(
                    (ctx.t("balance.pending", points=points(ctx, balance.pending_points)), theme.text_size, False)
                )
            tier = ctx.t("balance.tier", tier=balance.tier.name(ctx.lang)) if balance.tier else ctx.t("balance.no_tier")
            lines.append((tier, theme.text_size, False))
            progress = progress_text(program.tier_progress(self.ui.rules, balance.total_spent_rub), ctx.lang)
            if progress:
                lines.append((progress, theme.text_size, False))
            parts = split_v(inner, [1.6 if s == theme.huge_size else 1.0 for _, s, _ in lines], theme.gap)
            for (text, size, bold), rect in zip(lines, parts, strict=False):
                ctx.text(text, rect, size=size, bold=bold)
        else:
            key = {
                "loading": "balance.loading",
                "unavailable": "balance.unavailable",
                "not_found": "balance.not_found",
                "bare": "balance.scan_qr",
            }.get(mode, "balance.loading")
            ctx.text(ctx.t(key), inner, size=theme.title_size, color=p.text if mode == "loading" else p.danger)
        button(ctx, "finish", row, ctx.t("ui.finish"), self.ui.finish, style="primary")
