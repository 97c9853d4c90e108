"""Simulated camera: image files or generated scenes, delivered at a real frame rate.

What the camera sees is either the configured image files (``hardware.scanner.sim_images``,
shown in turn, each for ``hold_s`` with ``gap_s`` of empty view between them) or whatever a
test or the demo puts in front of it with ``show()``. ``camera_gone()`` / ``camera_back()``
inject a device failure: while gone, ``open()`` and ``read()`` raise ``CameraGone``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kiosk.hw.scanner import CameraGone
from kiosk.hw.scanner.scene import Difficulty, empty_scene, render, scene_params

if TYPE_CHECKING:
    from kiosk.config import ScannerConfig


class SimSource:
    """A ``FrameSource`` that needs no hardware."""

    def __init__(
        self,
        images: Sequence[str | Path] = (),
        *,
        fps: float = 15,
        hold_s: float = 2.0,
        gap_s: float = 1.5,
        seed: int = 0,
    ) -> None:
        self._paths = [Path(p) for p in images]
        self._period = 1.0 / fps
        self._hold_s = hold_s
        self._gap_s = gap_s
        self._seed = seed
        self._lock = threading.Lock()
        self._gone = threading.Event()
        self._open = False
        self._empty = [empty_scene(seed + i) for i in range(2)]
        self._shown: list[np.ndarray] | None = None
        self._files: list[np.ndarray] = []
        self._next_at = 0.0
        self._index = 0
        self._started = 0.0
        self.frames_read = 0

    @classmethod
    def from_config(cls, cfg: ScannerConfig) -> SimSource:
        return cls(cfg.sim_images, fps=cfg.fps)

    # --- what the camera sees ---------------------------------------------------------------

    def show(
        self, payload: str, *, difficulty: Difficulty = "easy", seed: int = 0, variants: int = 3, **overrides: object
    ) -> None:
        """Hold a card carrying ``payload`` in front of the camera until ``clear()``.

        The frames differ a little (noise, glare position) like a hand-held card does.
        """
        params = scene_params(seed, difficulty, **overrides)
        frames = [render(payload, params, seed * 1000 + i) for i in range(max(1, variants))]
        with self._lock:
            self._shown = frames

    def show_frames(self, frames: Sequence[np.ndarray]) -> None:
        """Show these exact frames in turn until ``clear()``."""
        if not frames:
            raise ValueError("show_frames needs at least one frame")
        with self._lock:
            self._shown = [np.ascontiguousarray(f, dtype=np.uint8) for f in frames]

    def clear(self) -> None:
        """Take the card away: the camera sees the empty counter again."""
        with self._lock:
            self._shown = None

    def camera_gone(self) -> None:
        """Simulate the camera disappearing (cable pulled, driver crash)."""
        self._gone.set()

    def camera_back(self) -> None:
        self._gone.clear()

    # --- FrameSource --------------------------------------------------------------------------

    def open(self) -> None:
        if self._gone.is_set():
            raise CameraGone("sim camera: device not found")
        files: list[np.ndarray] = []
        for path in self._paths:
            try:
                from PIL import Image

                with Image.open(path) as img:
                    files.append(np.asarray(img.convert("L"), dtype=np.uint8).copy())
            except OSError as exc:
                raise CameraGone(f"sim camera: cannot read image {path}: {exc}") from exc
        self._files = files
        self._open = True
        self._started = time.monotonic()
        self._next_at = self._started

    def close(self) -> None:
        self._open = False

    def _current(self, now: float) -> np.ndarray:
        with self._lock:
            shown = self._shown
        self._index += 1
        if shown is not None:
            return shown[self._index % len(shown)]
        if self._files:
            cycle = self._hold_s + self._gap_s
            t = (now - self._started) % (cycle * len(self._files))
            slot, within = divmod(t, cycle)
            if within < self._hold_s:
                return self._files[int(slot)]
        return self._empty[self._index % len(self._empty)]

    def read(self, timeout_s: float) -> np.ndarray | None:
        if self._gone.is_set():
            raise CameraGone("sim camera: no frames, device gone")
        if not self._open:
            raise CameraGone("sim camera: not open")
        now = time.monotonic()
        if now < self._next_at:
            wait = self._next_at - now
            if wait > timeout_s:
                time.sleep(timeout_s)
                return None
            time.sleep(wait)
            now = time.monotonic()
        if self._gone.is_set():
            raise CameraGone("sim camera: no frames, device gone")
        self._next_at = max(self._next_at + self._period, now - self._period)
        self.frames_read += 1
        return self._current(now)
