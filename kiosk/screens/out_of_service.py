"""Out of service (disk full, a fatal error): says so and whom to call, and shows nothing else."""

from __future__ import annotations

import pygame

from kiosk.screens.base import Screen
from kiosk.screens.widgets import Ctx, split_v


class OutOfServiceScreen(Screen):
    name = "out_of_service"

    def title(self, ctx: Ctx) -> str:
        return self.ui.cfg.kiosk.store_name.get(ctx.lang)

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        pygame.draw.rect(ctx.surface, theme.palette.panel, body, border_radius=theme.radius * 2)
        head, detail, call = split_v(body.inflate(-2 * theme.pad, -2 * theme.pad), [1, 0.8, 1.4], theme.gap * 2)
        ctx.text(ctx.t("fault.out_of_service"), head, size=theme.huge_size, bold=True, color=theme.palette.danger)
        if self.ui.fault == "DiskFullError":
            ctx.text(ctx.t("setup.disk"), detail, size=theme.text_size)
        ctx.text(ctx.t("fault.call", contact=self.ui.cfg.operator.contact), call, size=theme.title_size)
