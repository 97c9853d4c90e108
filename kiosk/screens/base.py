"""What every screen has: a top bar (title or step indicator, language button, cancel) and a body."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygame

from kiosk.screens.widgets import Ctx, button, steps

if TYPE_CHECKING:
    from kiosk.screens.ui import KioskUI


class Screen:
    name = "screen"
    step: str | None = None
    """The sign-up step shown in the indicator (None: a title is shown instead)."""
    cancellable = False
    in_session = False
    """True for the screens that belong to a sign-up session (idle warning applies)."""

    def __init__(self, ui: KioskUI) -> None:
        self.ui = ui

    def enter(self) -> None:
        """Called when the screen is shown."""

    def clear(self) -> None:
        """Forget everything typed or shown about a customer."""

    @property
    def view_id(self) -> str:
        return self.name

    def tick(self, now: float) -> bool:
        """Time passed; True when the screen must be redrawn."""
        return False

    def title(self, ctx: Ctx) -> str:
        return ""

    def draw(self, ctx: Ctx) -> None:
        body = self.chrome(ctx)
        self.draw_body(ctx, body)

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        raise NotImplementedError

    def chrome(self, ctx: Ctx) -> pygame.Rect:
        """Draw the top bar; returns the body rectangle."""
        theme = ctx.theme
        p = theme.palette
        full = ctx.full
        bar = pygame.Rect(0, 0, full.width, theme.bar_h)
        pygame.draw.rect(ctx.surface, p.bar, bar)
        inner = bar.inflate(-2 * theme.pad, -2 * theme.gap)
        bw = max(theme.target, round(full.width * (0.2 if theme.portrait else 0.14)))
        right = inner.right
        lang_rect = pygame.Rect(right - bw, inner.top, bw, inner.height)
        button(
            ctx, "lang", lang_rect, ctx.t("ui.lang_switch"), self.ui.toggle_lang, style="ghost", size=theme.small_size
        )
        right = lang_rect.left - theme.gap
        if self.cancellable:
            cancel_rect = pygame.Rect(right - bw, inner.top, bw, inner.height)
            button(
                ctx, "cancel", cancel_rect, ctx.t("ui.cancel"), self.ui.cancel, style="secondary", size=theme.small_size
            )
            right = cancel_rect.left - theme.gap
        left = pygame.Rect(inner.left, inner.top, right - inner.left - theme.gap, inner.height)
        top = bar.bottom
        if self.step is not None and theme.portrait:
            # a narrow screen gets the step indicator on a strip of its own
            strip = pygame.Rect(0, bar.bottom, full.width, round(theme.bar_h * 0.7))
            pygame.draw.rect(ctx.surface, p.bar, strip)
            steps(ctx, strip.inflate(-2 * theme.pad, -theme.gap), self.step)
            top = strip.bottom
        elif self.step is not None:
            steps(ctx, left, self.step)
        else:
            ctx.text(
                self.title(ctx), left, size=theme.text_size, bold=True, color=p.bar_text, align="left", max_lines=2
            )
        return pygame.Rect(
            theme.pad, top + theme.gap, full.width - 2 * theme.pad, full.height - top - theme.gap - theme.pad
        )
