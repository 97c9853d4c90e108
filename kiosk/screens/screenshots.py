"""Render every screen at every supported size in both languages (``python -m kiosk screenshots``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from kiosk.i18n import LANGS
from kiosk.screens.gallery import SIZES, states


def render_all(
    out: Path | None = None,
    sizes: dict[tuple[int, int], float] | None = None,
    langs: tuple[str, ...] = LANGS,
) -> list[dict[str, Any]]:
    """Draw each state; returns one record per picture: size, lang, state, overflows, small targets.

    With ``out`` the pictures are saved as ``out/<W>x<H>/<lang>/<NN>-<state>.png``.
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    from kiosk.app import build
    from kiosk.demo import demo_config

    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kiosk-shots-") as tmp:
        cfg = demo_config(Path(tmp))
        kiosk = build(cfg, scanner=False)
        ui = kiosk.ui
        try:
            for (w, h), diagonal in (sizes or SIZES).items():
                ui.resize(w, h, diagonal)
                for lang in langs:
                    for i, state in enumerate(states(ui)):
                        ui.lang = lang
                        ui.dirty = True
                        ui.draw()
                        limit = ui.theme.target - 1
                        small = [
                            f"{t.name} {t.rect.width}x{t.rect.height}"
                            for t in ui.targets
                            if t.rect.width < limit or t.rect.height < limit
                        ]
                        records.append(
                            {
                                "size": f"{w}x{h}",
                                "lang": lang,
                                "state": state,
                                "overflows": list(ui.painter.record.overflows),
                                "small_targets": small,
                                "texts": list(ui.painter.record.texts),
                            }
                        )
                        if out is not None:
                            path = out / f"{w}x{h}" / lang / f"{i + 1:02d}-{state}.png"
                            path.parent.mkdir(parents=True, exist_ok=True)
                            pygame.image.save(ui.surface, str(path))
        finally:
            kiosk.close()
    return records
