"""Card scanner: a camera (or a keyboard-wedge barcode module) that reads loyalty cards.

The pieces:

* a ``FrameSource`` (Pi camera, USB webcam, simulator) delivers grey frames, or a
  ``CodeSource`` (a USB 2D barcode module acting as a keyboard) delivers decoded lines;
* a ``Decoder`` (``decode.py``: zxing-cpp by default, pyzbar) finds QR / EAN-13 symbols;
* a ``DecodeStage`` (``stage.py``) turns per-frame results into one report per presentation of
  a card, classifying each code with the injected ``classify`` callable;
* the ``ScannerService`` (``service.py``) runs all of this on its own thread and puts
  ``ScanEvent`` / ``ScannerFault`` / ``ScannerRecovered`` objects on a queue for the UI loop.

Device libraries (picamera2, OpenCV, python-evdev) are imported only when a backend opens its
device, so this package imports on any machine.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from kiosk.errors import HardwareError

if TYPE_CHECKING:
    from kiosk.config import ScannerConfig
    from kiosk.hw.scanner.service import ScannerService

__all__ = [
    "CameraGone",
    "CodeSource",
    "Frame",
    "FrameSource",
    "ScanEvent",
    "ScannerFault",
    "ScannerGone",
    "ScannerRecovered",
    "make_scanner",
    "make_source",
]


class ScannerGone(HardwareError):
    """The scanning device disappeared (unplugged, driver reset, permission lost)."""


class CameraGone(ScannerGone):
    """The camera disappeared or stopped delivering frames."""


@dataclass(frozen=True)
class Frame:
    """One grey camera frame: a 2-D uint8 array and the monotonic time it was taken."""

    grey: np.ndarray
    at: float

    def __post_init__(self) -> None:
        if self.grey.ndim != 2 or self.grey.dtype != np.uint8:
            raise ValueError(f"a frame is a 2-D uint8 array, got shape {self.grey.shape} dtype {self.grey.dtype}")


@runtime_checkable
class FrameSource(Protocol):
    """A camera. ``read`` raises ``CameraGone`` (or an ``OSError``) when the device goes away."""

    def open(self) -> None: ...

    def read(self, timeout_s: float) -> np.ndarray | None:
        """The next grey frame, or None if none arrived within ``timeout_s``."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class CodeSource(Protocol):
    """A device that decodes by itself and delivers text (a keyboard-wedge barcode module)."""

    def open(self) -> None: ...

    def read_line(self, timeout_s: float) -> str | None:
        """The next complete code, or None if none arrived within ``timeout_s``."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ScanEvent:
    """A code presented to the scanner, once per presentation.

    ``result`` is what ``classify(text)`` returned (a ``CardScan`` or a ``ScanRejection`` from
    ``kiosk.core.cards``). ``ignored`` is True when the code is not one of our cards (a foreign
    barcode, a forged or damaged QR); ``reason`` then says why, as a short code.
    """

    text: str
    format: str
    at: float
    result: object
    ignored: bool = False
    reason: str | None = None

    def __repr__(self) -> str:  # codes stay out of logs and tracebacks
        return f"ScanEvent(format={self.format!r}, at={self.at:.3f}, ignored={self.ignored}, reason={self.reason!r})"


@dataclass(frozen=True)
class ScannerFault:
    """The scanner stopped working; reported once until it recovers."""

    message: str
    at: float


@dataclass(frozen=True)
class ScannerRecovered:
    """The scanner works again after a ``ScannerFault``."""

    message: str
    at: float


ScannerMessage = ScanEvent | ScannerFault | ScannerRecovered


def make_source(cfg: ScannerConfig) -> FrameSource | CodeSource:
    """The device backend named by ``cfg.backend``; nothing is opened yet."""
    if cfg.backend == "sim":
        from kiosk.hw.scanner.sim_source import SimSource

        return SimSource.from_config(cfg)
    if cfg.backend == "picamera2":
        from kiosk.hw.scanner.picamera2_source import Picamera2Source

        return Picamera2Source(cfg.width, cfg.height, fps=cfg.fps)
    if cfg.backend == "v4l2":
        from kiosk.hw.scanner.v4l2_source import V4l2Source

        return V4l2Source(cfg.device or "/dev/video0", cfg.width, cfg.height, cfg.fps)
    if cfg.backend == "evdev":
        from kiosk.hw.scanner.evdev_source import EvdevSource

        if not cfg.device:
            raise ValueError("hardware.scanner.device is required for backend 'evdev'")
        return EvdevSource(cfg.device)
    raise ValueError(f"unknown scanner backend {cfg.backend!r}")


def make_scanner(
    cfg: ScannerConfig,
    classify: Callable[[str], object],
    out_queue: queue.Queue[ScannerMessage],
    *,
    is_rejection: Callable[[object], bool] | None = None,
) -> ScannerService:
    """A ready-to-start ``ScannerService`` for the configured backend and decoder.

    ``classify`` turns a decoded text into a card or a rejection (``kiosk.core.cards.parse_scan``
    with the MAC key bound). ``is_rejection`` tells the two apart; by default a result is a
    rejection when it is None, an exception, or of a class whose name ends in ``Rejection``.
    """
    from kiosk.hw.scanner.decode import make_decoder
    from kiosk.hw.scanner.service import ScannerService

    source = make_source(cfg)
    decoder = make_decoder(cfg.decoder) if isinstance(source, FrameSource) else None
    return ScannerService(
        source,
        classify,
        out_queue,
        decoder=decoder,
        fps=cfg.fps,
        is_rejection=is_rejection,
    )
