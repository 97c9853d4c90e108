"""Raspberry Pi camera through picamera2 (libcamera).

The camera runs a preview configuration with a second, low-resolution ``lores`` stream in
YUV420; decoding uses only its Y (luminance) plane, which costs no colour conversion. Cameras
with autofocus (Camera Module 3) are set to continuous focus in the macro range, since a card
is held close to the lens. picamera2 imports ``libcamera`` at the top, which exists only on a
Pi, so both are imported in ``open()``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from kiosk.hw.scanner import CameraGone

log = logging.getLogger(__name__)

STALL_S = 2.0
"""No frame for this long means the camera is gone."""


class Picamera2Source:
    def __init__(self, width: int = 640, height: int = 480, *, fps: int = 15, camera_num: int = 0) -> None:
        self.width = width
        self.height = height
        self.fps = fps
        self.camera_num = camera_num
        self._cam: Any = None
        self._last_frame_at = 0.0

    def open(self) -> None:
        try:
            from libcamera import controls
            from picamera2 import Picamera2
        except ImportError as exc:
            raise CameraGone(f"picamera2 camera: picamera2/libcamera not installed ({exc})") from exc
        try:
            cam = Picamera2(self.camera_num)
        except Exception as exc:  # IndexError when no camera, RuntimeError when it is busy
            raise CameraGone(f"picamera2 camera {self.camera_num}: cannot open ({exc})") from exc
        try:
            frame_us = int(1_000_000 / self.fps)
            config = cam.create_preview_configuration(
                main={"size": (self.width, self.height)},
                lores={"size": (self.width, self.height), "format": "YUV420"},
                controls={"FrameDurationLimits": (frame_us, frame_us)},
            )
            cam.configure(config)
            cam.start()
            if "AfMode" in cam.camera_controls:
                cam.set_controls({"AfMode": controls.AfModeEnum.Continuous, "AfRange": controls.AfRangeEnum.Macro})
        except Exception as exc:
            try:
                cam.close()
            except Exception as close_exc:
                log.debug("closing the camera after a failed start: %s", close_exc)
            raise CameraGone(f"picamera2 camera {self.camera_num}: cannot start ({exc})") from exc
        self._cam = cam
        self._last_frame_at = time.monotonic()

    def read(self, timeout_s: float) -> np.ndarray | None:
        cam = self._cam
        if cam is None:
            raise CameraGone("picamera2 camera: not open")
        try:
            yuv = cam.capture_array("lores", wait=timeout_s)
        except TimeoutError:
            if time.monotonic() - self._last_frame_at > STALL_S:
                raise CameraGone(f"picamera2 camera: no frame for {STALL_S:.0f} s") from None
            return None
        except Exception as exc:
            raise CameraGone(f"picamera2 camera: capture failed ({exc})") from exc
        self._last_frame_at = time.monotonic()
        # YUV420 planar: the first ``height`` rows are the Y plane; rows may be padded to a stride.
        return np.ascontiguousarray(yuv[: self.height, : self.width])

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is None:
            return
        try:
            cam.stop()
        finally:
            cam.close()
