"""The SMS code: the masked number it went to, a numeric pad, attempts left and a resend countdown."""

from __future__ import annotations

import math
from typing import Any

import pygame

from kiosk.core import otp
from kiosk.core.validation import mask_phone
from kiosk.screens.base import Screen
from kiosk.screens.widgets import BACKSPACE, Ctx, button, numpad, split_h, split_v
from kiosk.signup import CodeRejected


class CodeScreen(Screen):
    name = "code"
    step = "code"
    cancellable = True
    in_session = True

    def __init__(self, ui: object) -> None:
        super().__init__(ui)  # type: ignore[arg-type]
        self.clear()

    def clear(self) -> None:
        self.digits = ""
        self.state = "idle"  # sending / sent / failed / refused / exhausted
        self.message: tuple[str, dict[str, Any]] | None = None
        self.attempts_left: int | None = None
        self._shown_left: int | None = None

    @property
    def view_id(self) -> str:
        return f"code-{self.state}"

    # --- called by the journey ---------------------------------------------------------------

    def sending(self) -> None:
        self.state = "sending"
        self.message = None

    def sent(self, _value: object, error: BaseException | None) -> None:
        if self.state != "sending":
            return
        if error is not None:
            self.state = "failed"
            self.message = ("code.send_failed", {})
        else:
            self.state = "sent"

    def refused(self, refused: otp.Refused) -> None:
        self.state = "refused"
        seconds = math.ceil(refused.retry_after_s or 0)
        self.message = (f"otp.{refused.reason.value}", {"seconds": seconds})

    def rejected(self, outcome: CodeRejected) -> None:
        self.digits = ""
        self.attempts_left = outcome.attempts_left
        if outcome.ended:
            self.clear()
            self.state = "exhausted"
            self.message = ("otp.attempts_exhausted", {})
            return
        self.message = (f"otp.{outcome.reason.value}", {"left": outcome.attempts_left})

    # --- input -------------------------------------------------------------------------------

    def key(self, value: str) -> None:
        if self.state == "exhausted":
            return
        if value == BACKSPACE:
            self.digits = self.digits[:-1]
            return
        length = self.ui.cfg.otp.length
        if len(self.digits) < length:
            self.digits += value
        if len(self.digits) == length:
            entered = self.digits
            self.digits = ""
            self.ui.confirm_code(entered)

    def resend_left(self, now: float) -> int:
        session = self.ui.session
        if session is None or session.challenge is None:
            return 0
        return max(0, math.ceil(session.challenge.resend_at - now))

    def tick(self, now: float) -> bool:
        left = self.resend_left(now)
        changed = left != self._shown_left
        self._shown_left = left
        return changed

    def start_again(self) -> None:
        self.ui.cancel()

    # --- drawing -----------------------------------------------------------------------------

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        p = theme.palette
        session = self.ui.session
        if theme.portrait:
            info, pad = split_v(body, [1.1, 1], theme.gap * 2)
        else:
            info, pad = split_h(body, [1.3, 1], theme.gap * 3)
        sent_r, code_r, att_r, msg_r, row = split_v(info, [0.9, 1.1, 0.5, 0.9, 0.8], theme.gap)
        row.height = max(row.height, theme.target)
        row.bottom = info.bottom
        if self.state == "exhausted" or session is None:
            ctx.text(
                ctx.t("otp.attempts_exhausted"), info.inflate(0, -row.height * 2), size=theme.title_size, color=p.danger
            )
            button(ctx, "start_again", row, ctx.t("code.start_again"), self.start_again, style="primary")
            return
        phone = mask_phone(session.customer.phone).replace(" ", "\u00a0") if session.customer else ""
        sent_text = ctx.t("code.sending") if self.state == "sending" else ctx.t("code.sent_to", phone=phone)
        ctx.text(sent_text, sent_r, size=theme.text_size, align="left")
        length = self.ui.cfg.otp.length
        cells = " ".join(self.digits[i] if i < len(self.digits) else "_" for i in range(length))
        pygame.draw.rect(ctx.surface, p.panel, code_r, border_radius=theme.radius)
        ctx.text(cells, code_r.inflate(-theme.pad, -theme.gap), size=theme.huge_size, bold=True, max_lines=1)
        left = (
            self.attempts_left
            if self.attempts_left is not None
            else (session.challenge.attempts_left if session.challenge else None)
        )
        if left is not None:
            ctx.text(ctx.t("code.attempts", left=left), att_r, size=theme.small_size, color=p.muted, align="left")
        if self.message is not None:
            key, values = self.message
            ctx.text(ctx.t(key, **values), msg_r, size=theme.text_size, color=p.danger, align="left", max_lines=3)
        change_r, resend_r = split_h(row, [1, 1.2], theme.gap * 2)
        button(
            ctx, "change_number", change_r, ctx.t("code.change_number"), self.ui.change_number, size=theme.small_size
        )
        wait = self.resend_left(self.ui.clock())
        label = ctx.t("code.resend_in", seconds=wait) if wait > 0 else ctx.t("code.resend")
        button(
            ctx,
            "resend",
            resend_r,
            label,
            self.ui.send_code,
            enabled=wait == 0 and self.state != "sending",
            size=theme.small_size,
        )
        numpad(ctx, pad, self.key)
