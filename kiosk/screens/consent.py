"""Consent: the processing consent as one scrollable document, then the advertising consent.

Each has its own box, unticked when shown; "Continue" works only with the processing box ticked.
"""

from __future__ import annotations

import pygame

from kiosk.core.consent import ConsentKind
from kiosk.screens.base import Screen
from kiosk.screens.widgets import Ctx, ScrollView, button, checkbox, split_h, split_v


class ConsentScreen(Screen):
    name = "consent"
    step = "consent"
    cancellable = True
    in_session = True

    def __init__(self, ui: object) -> None:
        super().__init__(ui)  # type: ignore[arg-type]
        self.doc = ScrollView("consent_doc")
        self.clear()

    def clear(self) -> None:
        self.phase = "processing"
        self.processing = False
        self.ads = False
        self.doc.reset()

    def enter(self) -> None:
        self.clear()
        self.ui.consent_shown()

    @property
    def view_id(self) -> str:
        return f"consent-{self.phase}"

    def toggle(self) -> None:
        if self.phase == "processing":
            self.processing = not self.processing
        else:
            self.ads = not self.ads

    def go_on(self) -> None:
        if self.phase == "processing":
            if self.processing:
                self.phase = "ads"
                self.doc.reset()
            return
        self.ui.give_consent(self.processing, self.ads)

    def back(self) -> None:
        if self.phase == "ads":
            self.phase = "processing"
            self.doc.reset()
            return
        session = self.ui.session
        if session is not None:
            session.back(self.ui.clock())
        self.ui.go("form")

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        p = theme.palette
        processing = self.phase == "processing"
        kind = ConsentKind.PROCESSING if processing else ConsentKind.ADVERTISING
        doc = self.ui.service.document(kind, ctx.lang)
        ticked = self.processing if processing else self.ads
        title, text_r, hint, box, row = split_v(body, [0.55, 4.0, 0.45, 0.9, 0.9], theme.gap)
        for r in (box, row):
            r.height = max(r.height, theme.target)
        row.bottom = body.bottom
        box.bottom = row.top - theme.gap
        hint.bottom = box.top - theme.gap
        text_r.height = hint.top - theme.gap - text_r.top
        ctx.text(
            ctx.t("consent.title" if processing else "consent.ads_title"),
            title,
            size=theme.text_size,
            bold=True,
            align="left",
            max_lines=1,
        )
        self.doc.draw(ctx, text_r, doc.text)
        if processing and not ticked:
            ctx.text(ctx.t("consent.need_tick"), hint, size=theme.small_size, color=p.danger, align="left", max_lines=1)
        elif not processing:
            ctx.text(
                ctx.t("consent.ads_optional"), hint, size=theme.small_size, color=p.muted, align="left", max_lines=1
            )
        label = ctx.t("consent.agree" if processing else "consent.agree_ads")
        checkbox(ctx, "tick:processing" if processing else "tick:ads", box, ticked, label, self.toggle)
        back, go = split_h(row, [1, 1.6], theme.gap * 2)
        button(ctx, "back", back, ctx.t("ui.back"), self.back)
        button(ctx, "continue", go, ctx.t("ui.continue"), self.go_on, style="primary", enabled=self.processing)
