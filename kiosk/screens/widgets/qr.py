"""QR codes on screen: segno's module matrix turned into a crisp pygame surface (cached)."""

from __future__ import annotations

from collections import OrderedDict

import pygame
import segno

_CACHE: OrderedDict[tuple[str, int], pygame.Surface] = OrderedDict()


def qr_surface(payload: str, max_px: int) -> pygame.Surface:
    """The QR of ``payload`` with its quiet zone, as large as fits ``max_px`` in whole pixels per module."""
    key = (payload, max_px)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    code = segno.make(payload, error="m", micro=False)
    rows = [list(row) for row in code.matrix_iter(scale=1, border=4)]
    n = len(rows)
    base = pygame.Surface((n, n))
    base.fill((255, 255, 255))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                base.set_at((x, y), (0, 0, 0))
    scale = max(1, max_px // n)
    surf = pygame.transform.scale(base, (n * scale, n * scale))
    _CACHE[key] = surf
    if len(_CACHE) > 16:
        _CACHE.popitem(last=False)
    return surf


def forget() -> None:
    _CACHE.clear()
