"""The sign-up form: one field at a time, with the right keyboard for each and inline errors."""

from __future__ import annotations

import functools

import pygame

from kiosk.screens.base import Screen
from kiosk.screens.widgets import BACKSPACE, Ctx, Keyboard, button, field_box, numpad, split_h, split_v

PHONE_DIGITS = 10
DATE_DIGITS = 8
MAX_LEN = {"name": 60, "email": 100}


def fill_mask(mask: str, digits: str, slots: str) -> str:
    """Put ``digits`` into the ``slots`` characters of ``mask`` in order."""
    out = []
    it = iter(digits)
    for ch in mask:
        if ch in slots:
            out.append(next(it, ch))
        else:
            out.append(ch)
    return "".join(out)


class FormScreen(Screen):
    name = "form"
    step = "form"
    cancellable = True
    in_session = True

    def __init__(self, ui: object) -> None:
        super().__init__(ui)  # type: ignore[arg-type]
        self.name_kb = Keyboard("name")
        self.email_kb = Keyboard("email")
        self.clear()

    def clear(self) -> None:
        self.index = 0
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.name_kb.reset()
        self.email_kb.reset()

    def enter(self) -> None:
        self.name_kb.reset(self.ui.lang)
        self.name_kb.shift = not self.values.get("name")

    @property
    def fields(self) -> list[str]:
        session = self.ui.session
        return [f.value for f in session.rules.collected] if session is not None else []

    @property
    def current(self) -> str:
        fields = self.fields
        return fields[min(self.index, len(fields) - 1)] if fields else ""

    @property
    def view_id(self) -> str:
        return f"form-{self.current}"

    def focus_field(self, name: str) -> None:
        if name in self.fields:
            self.index = self.fields.index(name)

    def required(self, name: str) -> bool:
        session = self.ui.session
        return session is not None and any(f.value == name for f in session.rules.required)

    # --- values ------------------------------------------------------------------------------

    def submitted(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in self.fields:
            raw = self.values.get(name, "")
            if name == "phone":
                out[name] = f"+7{raw}" if raw else ""
            elif name == "birth_date":
                out[name] = fill_mask("##.##.####", raw, "#").replace("#", "") if raw else ""
            else:
                out[name] = raw
        return out

    def shown(self, ctx: Ctx, name: str) -> tuple[str, bool]:
        raw = self.values.get(name, "")
        if name == "phone":
            mask = ctx.t("form.phone_mask")
            return (fill_mask(mask, raw, "_"), not raw)
        if name == "birth_date":
            mask = ctx.t("form.date_mask")
            slots = "".join(sorted({ch for ch in mask if ch != "."}))
            return (fill_mask(mask, raw, slots), not raw)
        if name == "gender":
            return (ctx.t(f"form.{raw}") if raw else "", not raw)
        return (raw, False)

    def key(self, value: str) -> None:
        name = self.current
        kb = self.name_kb if name == "name" else self.email_kb
        raw = self.values.get(name, "")
        if name in ("name", "email"):
            ch = kb.press(value)
            if ch is None:
                return
        else:
            ch = value
        self.errors.pop(name, None)
        if ch == BACKSPACE:
            raw = raw[:-1]
        elif name == "phone" and raw == "" and ch == "8":
            # "8 916 ..." is how most people write a Russian mobile: the mask already shows +7,
            # and no number after +7 starts with 8, so the habit is absorbed instead of
            # shifting every digit by one
            return
        else:
            limit = {"phone": PHONE_DIGITS, "birth_date": DATE_DIGITS}.get(name, MAX_LEN.get(name, 60))
            if len(raw) >= limit:
                return
            raw += ch
            if name == "name" and kb.shift and ch.isalpha():
                kb.shift = False
        if name == "name" and kb.mode != "sym":
            kb.shift = raw == "" or raw.endswith((" ", "-"))
        self.values[name] = raw

    def choose_gender(self, value: str) -> None:
        self.values["gender"] = value
        self.errors.pop("gender", None)
        self.next()

    # --- moving ------------------------------------------------------------------------------

    def next(self) -> None:
        name = self.current
        reason = self.ui.check_field(self.submitted(), name)
        if reason is not None:
            self.errors[name] = reason
            return
        self.errors.pop(name, None)
        if self.index < len(self.fields) - 1:
            self.index += 1
            if self.current == "name":
                self.name_kb.shift = not self.values.get("name")
            return
        errors = self.ui.submit_form(self.submitted())
        if errors:
            self.errors = dict(errors)
            self.focus_field(next(f for f in self.fields if f in errors))

    def skip(self) -> None:
        self.values.pop(self.current, None)
        self.errors.pop(self.current, None)
        self.next()

    def back(self) -> None:
        if self.index == 0:
            self.ui.back_to_rules()
        else:
            self.index -= 1

    # --- drawing -----------------------------------------------------------------------------

    def draw_body(self, ctx: Ctx, body: pygame.Rect) -> None:
        theme = ctx.theme
        p = theme.palette
        name = self.current
        fields = self.fields
        label = ctx.t(f"form.{name}")
        if not self.required(name):
            label = f"{label} ({ctx.t('form.optional')})"
        bh = theme.button_h
        last = self.index == len(fields) - 1
        next_label = ctx.t("form.submit") if last else ctx.t("ui.next")
        if theme.portrait:
            head, field_row, err, pad, row = split_v(body, [0.7, 0.8, 0.6, 4.6, 0.8], theme.gap)
            row.height = max(row.height, bh)
            field_r = field_row
            back_r, next_r = split_h(row, [1, 1.4], theme.gap * 2)
        else:
            kb_gap = max(3, theme.gap // 2 + 1)
            kb_h = max(round(body.height * 0.56), 4 * theme.target + 3 * kb_gap)
            pad = pygame.Rect(body.left, body.bottom - kb_h, body.width, kb_h)
            top = pygame.Rect(body.left, body.top, body.width, pad.top - theme.gap - body.top)
            head, field_row, err = split_v(top, [0.7, 1.0, 0.6], theme.gap)
            field_row.height = max(field_row.height, theme.target)
            back_r, field_r, next_r = split_h(field_row, [1, 3.6, 1.2], theme.gap)
        step_w = max(theme.target * 2, head.width // 4)
        count_r = pygame.Rect(head.right - step_w, head.top, step_w, head.height)
        label_r = pygame.Rect(head.left, head.top, head.width - step_w - theme.gap, head.height)
        ctx.text(label, label_r, size=theme.text_size, bold=True, align="left", max_lines=2)
        ctx.text(
            ctx.t("form.field_of", n=self.index + 1, total=len(fields)),
            count_r,
            size=theme.small_size,
            color=p.muted,
            align="right",
        )
        shown, placeholder = self.shown(ctx, name)
        error = self.errors.get(name)
        field_box(
            ctx, field_r, shown, placeholder=placeholder, focused=True, error=error is not None, size=theme.title_size
        )
        ctx.target(f"field:{name}", field_r, None)
        if error is not None:
            min_age = self.ui.cfg.form.min_age
            ctx.text(
                ctx.t(f"reason.{error}", min_age=min_age),
                err,
                size=theme.text_size,
                color=p.danger,
                align="left",
                max_lines=2,
            )
        button(ctx, "back", back_r, ctx.t("ui.back"), self.back)
        button(ctx, "next", next_r, next_label, self.next, style="primary")
        if name == "name":
            self.name_kb.draw(ctx, pad, self.key)
        elif name == "email":
            self.email_kb.draw(ctx, pad, self.key)
        elif name in ("phone", "birth_date"):
            numpad(ctx, pad, self.key)
        elif name == "gender":
            self._gender(ctx, pad)

    def _gender(self, ctx: Ctx, area: pygame.Rect) -> None:
        theme = ctx.theme
        chosen = self.values.get("gender", "")
        h = min(area.height, max(theme.target * 2, theme.button_h * 2))
        row = pygame.Rect(area.left, area.top + (area.height - h) // 3, area.width, h)
        parts = split_h(row, [1, 1] + ([0.8] if not self.required("gender") else []), theme.gap * 2)
        for value, rect in zip(("female", "male"), parts, strict=False):
            style = "selected" if chosen == value else "ghost"
            button(
                ctx,
                f"gender:{value}",
                rect,
                ctx.t(f"form.{value}"),
                functools.partial(self.choose_gender, value),
                style=style,
                size=theme.title_size,
            )
        if len(parts) == 3:
            button(ctx, "skip", parts[2], ctx.t("form.skip"), self.skip)
