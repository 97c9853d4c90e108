"""The screen a kiosk shows when it cannot start serving: no valid configuration, or a refused bundle.

It needs no configuration of its own (the display's size is whatever SDL gives), keeps the
systemd watchdog fed so the service is not restarted in a loop, and lists what is wrong in the
technician's words (file, key, reason) under a line for customers in both languages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pygame

from kiosk.i18n import t
from kiosk.screens.text import TextPainter
from kiosk.screens.theme import Theme

log = logging.getLogger(__name__)

DEFAULT_SIZE = (800, 480)
DEFAULT_DIAGONAL_IN = 7.0


def draw_setup_error(surface: pygame.Surface, painter: TextPainter, reason_key: str, details: list[str]) -> None:
    theme = painter.theme
    p = theme.palette
    w, h = surface.get_size()
    surface.fill(p.bg)
    pad = theme.pad
    head = pygame.Rect(pad, pad, w - 2 * pad, round(h * 0.16))
    body = pygame.Rect(pad, head.bottom + theme.gap, w - 2 * pad, round(h * 0.22))
    info = pygame.Rect(pad, body.bottom + theme.gap, w - 2 * pad, h - body.bottom - theme.gap - pad)
    painter.draw(surface, f"{t('ru', 'setup.title')} / {t('en', 'setup.title')}", head, bold=True, color=p.danger)
    painter.draw(surface, f"{t('ru', reason_key)}\n{t('en', reason_key)}", body, size=theme.text_size)
    pygame.draw.rect(surface, p.panel, info, border_radius=theme.radius)
    painter.draw(
        surface,
        "\n".join(details[:12]),
        info.inflate(-2 * pad, -2 * pad),
        size=theme.small_size,
        align="left",
        valign="top",
    )


def show_setup_error(
    reason_key: str,
    details: list[str],
    *,
    on_frame: Callable[[], object] | None = None,
    on_first_frame: Callable[[], object] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Open the display and show the problem until stopped (or the window is closed)."""
    pygame.display.init()
    pygame.font.init()
    info = pygame.display.Info()
    size = (info.current_w, info.current_h) if info.current_w > 0 and info.current_h > 0 else DEFAULT_SIZE
    surface = pygame.display.set_mode(size)
    painter = TextPainter(Theme(size[0], size[1], DEFAULT_DIAGONAL_IN))
    for line in details:
        log.error("not set up: %s", line)
    draw_setup_error(surface, painter, reason_key, details)
    pygame.display.flip()
    if on_first_frame is not None:
        on_first_frame()
    while not should_stop():
        if any(e.type == pygame.QUIT for e in pygame.event.get()):
            break
        if on_frame is not None:
            on_frame()
        time.sleep(0.5)
