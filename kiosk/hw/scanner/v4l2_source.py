"""USB webcam through OpenCV's V4L2 backend.

OpenCV is not a dependency of the kiosk; it is imported in ``open()`` and only kiosks with a
USB webcam need it (``python3-opencv`` from Debian, or ``opencv-python-headless``). OpenCV's
``read()`` blocks until a frame arrives, up to the driver's own timeout when the camera has
just been unplugged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kiosk.hw.scanner import CameraGone


class V4l2Source:
    def __init__(self, device: str = "/dev/video0", width: int = 640, height: int = 480, fps: int = 15) -> None:
        self.device = device
        self.width = width
        self.height = height
        self.fps = fps
        self._cv2: Any = None
        self._cap: Any = None

    def open(self) -> None:
        try:
            import cv2
        except ImportError as exc:
            raise CameraGone(f"v4l2 camera {self.device}: OpenCV (cv2) is not installed") from exc
        cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise CameraGone(f"v4l2 camera {self.device}: cannot open")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # decode the newest frame, not a queue of old ones
        self._cv2 = cv2
        self._cap = cap

    def read(self, timeout_s: float) -> np.ndarray | None:
        cap = self._cap
        if cap is None:
            raise CameraGone(f"v4l2 camera {self.device}: not open")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise CameraGone(f"v4l2 camera {self.device}: no frame (unplugged?)")
        if frame.ndim == 3:
            frame = self._cv2.cvtColor(frame, self._cv2.COLOR_BGR2GRAY)
        return np.ascontiguousarray(frame, dtype=np.uint8)

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
