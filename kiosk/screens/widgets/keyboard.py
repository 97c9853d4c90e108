"""On-screen keyboards: Russian ЙЦУКЕН, Latin QWERTY, digits and the symbols an e-mail needs."""

from __future__ import annotations

from collections.abc import Callable

import pygame

from kiosk.screens.widgets.base import Ctx, button

BACKSPACE = "\b"


class Keyboard:
    """State of one keyboard: layout (``ru`` / ``en`` / ``sym``) and shift. ``kind`` is ``name`` or ``email``."""

    def __init__(self, kind: str = "name") -> None:
        self.kind = kind
        self.mode = "ru" if kind == "name" else "en"
        self.shift = False

    def reset(self, lang: str = "ru") -> None:
        self.mode = ("ru" if lang == "ru" else "en") if self.kind == "name" else "en"
        self.shift = False

    def rows(self, ctx: Ctx) -> list[str]:
        if self.mode == "sym":
            return [ctx.t("kbd.digits"), ctx.t("kbd.symbols")]
        rows = ctx.t(f"kbd.rows_{self.mode}").split("|")
        return [r.upper() for r in rows] if self.shift else rows

    def draw(self, ctx: Ctx, rect: pygame.Rect, on_key: Callable[[str], None]) -> None:
        theme = ctx.theme
        gap = max(3, theme.gap // 2 + 1)
        rows = self.rows(ctx)
        n_rows = len(rows) + 1 + (1 if self.mode == "sym" else 0)
        n_rows = max(n_rows, 4)
        key_h = min((rect.height - gap * (n_rows - 1)) // n_rows, round(theme.target * 1.7))
        widest = max(12, *(len(r) + (2 if i == len(rows) - 1 else 0) for i, r in enumerate(rows)))
        key_w = min((rect.width - gap * (widest - 1)) // widest, round(theme.target * 2.0))
        total_h = n_rows * key_h + (n_rows - 1) * gap
        y = rect.top + (rect.height - total_h) // 2
        size = max(theme.min_size, min(theme.title_size, round(key_h * 0.45)))

        def key(label: str, x: int, w: int, value: str, *, name: str | None = None, style: str = "ghost") -> None:
            button(
                ctx,
                name or f"key:{label}",
                pygame.Rect(x, y, w, key_h),
                label,
                lambda: on_key(value),
                style=style,
                size=size,
                bold=False,
                max_lines=1,
            )

        for i, row in enumerate(rows):
            last = i == len(rows) - 1 and self.mode != "sym"
            count = len(row) + (2 if last else 0)
            width = count * key_w + (count - 1) * gap
            x = rect.left + (rect.width - width) // 2
            if last:
                key(
                    ctx.t("kbd.shift"),
                    x,
                    key_w,
                    "\x0e",
                    name="key:shift",
                    style="selected" if self.shift else "secondary",
                )
                x += key_w + gap
            for ch in row:
                key(ch, x, key_w, ch)
                x += key_w + gap
            if last:
                key(ctx.t("kbd.backspace"), x, key_w, BACKSPACE, name="key:backspace", style="secondary")
            y += key_h + gap
        if self.mode == "sym":
            # the backspace lives on its own row in the symbol layout
            x = rect.left + (rect.width - key_w * 2 - gap) // 2
            key(ctx.t("kbd.backspace"), x, key_w * 2 + gap, BACKSPACE, name="key:backspace", style="secondary")
            y += key_h + gap
        # bottom row: layout switches, extras, space
        items: list[tuple[str, str, str, float]] = []  # label, value, name, width in keys
        if self.kind == "name":
            if self.mode != "ru":
                items.append((ctx.t("kbd.to_ru"), "\x01ru", "key:to_ru", 1.5))
            if self.mode != "en":
                items.append((ctx.t("kbd.to_en"), "\x01en", "key:to_en", 1.5))
            if self.mode != "sym":
                items.append((ctx.t("kbd.to_sym"), "\x01sym", "key:to_sym", 1.5))
            items += [("-", "-", "key:-", 1), (ctx.t("kbd.space"), " ", "key:space", 4.5), ("'", "'", "key:'", 1)]
        else:
            items.append(
                (
                    ctx.t("kbd.to_en") if self.mode == "sym" else ctx.t("kbd.to_sym"),
                    "\x01" + ("en" if self.mode == "sym" else "sym"),
                    "key:to_en" if self.mode == "sym" else "key:to_sym",
                    1.5,
                )
            )
            items += [
                ("@", "@", "key:@", 1.5),
                (".", ".", "key:.", 1.5),
                ("-", "-", "key:-", 1),
                ("_", "_", "key:_", 1),
            ]
        units = sum(w for *_, w in items)
        unit = min(key_w, (rect.width - gap * (len(items) - 1)) / units)
        width = round(unit * units + gap * (len(items) - 1))
        x = rect.left + (rect.width - width) // 2
        for label, value, name, w in items:
            kw = round(unit * w)
            key(label, x, kw, value, name=name, style="secondary" if value.startswith("\x01") else "ghost")
            x += kw + gap

    def press(self, value: str) -> str | None:
        """Apply a key; returns the character to insert, BACKSPACE, or None for a layout key."""
        if value == "\x0e":
            self.shift = not self.shift
            return None
        if value.startswith("\x01"):
            self.mode = value[1:]
            self.shift = False
            return None
        return value
