"""Barcode decoders: grey frame in, decoded texts out.

Two implementations of one small ``Decoder`` protocol: zxing-cpp (the default: faster and
reads more, including light-on-dark phone screens in one call) and pyzbar/ZBar (the
reference). Both only look for the two symbologies a loyalty card carries, QR Code and
EAN-13. The libraries are imported when a decoder is made, not when this module is imported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from kiosk.core.cards import CARD_PREFIX
from kiosk.errors import HardwareError

QR = "qr"
EAN13 = "ean13"


@dataclass(frozen=True)
class Decoded:
    """One symbol found in a frame: its text and format (``"qr"`` or ``"ean13"``)."""

    text: str
    format: str


class Decoder(Protocol):
    name: str

    def decode(self, grey: np.ndarray) -> list[Decoded]:
        """Every QR / EAN-13 symbol in a 2-D uint8 grey image (no duplicates)."""
        ...


class DecoderUnavailable(HardwareError):
    """The decoding library is not installed (or its native part is missing)."""


def _as_grey(grey: np.ndarray) -> np.ndarray:
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 grey image, got shape {grey.shape} dtype {grey.dtype}")
    return grey if grey.flags.c_contiguous else np.ascontiguousarray(grey)


def _unique(found: list[Decoded]) -> list[Decoded]:
    seen: set[Decoded] = set()
    out: list[Decoded] = []
    for item in found:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# --- activity gate and region of interest ---------------------------------------------------

_BLOCK = 8
"""Gate block size in samples of the 2x-subsampled frame (16x16 frame pixels)."""
GATE_MIN_BLOCKS = 6
"""Busy blocks a frame needs to be decoded. Over 200 generated empty frames the most was 4;
over every readable generated card frame (the bench's 200 and dim, blurred, noisy extremes)
the fewest was 27, and a QR code at the smallest size zxing-cpp reads covers about 16."""


@dataclass(frozen=True)
class Activity:
    """Where a frame has more local contrast than its own flat areas (see ``activity``)."""

    busy_blocks: int
    """Blocks of 16x16 pixels whose mean gradient stands out from the frame's quiet blocks."""
    box: tuple[int, int, int, int] | None
    """Bounding box ``(x0, y0, x1, y1)`` in frame pixels of the busy blocks, None when there are none."""

    @property
    def busy(self) -> bool:
        """Worth decoding: at least ``GATE_MIN_BLOCKS`` busy blocks."""
        return self.busy_blocks >= GATE_MIN_BLOCKS


def activity(grey: np.ndarray, *, ratio: float = 1.3, margin: float = 2.0) -> Activity:
    """Measure how much is going on in a grey frame, cheaply (about 0.2 ms for 640x480).

    The frame is subsampled 2x; every sample gets ``|dx| + |dy|`` to its right and lower
    neighbours, and these are averaged over blocks of 8x8 samples. A quiet block (background,
    card stock, a lighting gradient) scores about the sensor noise; the quarter of blocks that
    score lowest give that floor. A block is busy when it scores more than ``ratio`` times the
    floor plus ``margin`` grey levels. The floor adapts to the noise and the exposure, so a dim
    or blurred code still shows, while an empty counter, even a noisy one, does not.
    """
    grey = _as_grey(grey)
    sub = grey[::2, ::2].astype(np.int16)
    rows, cols = (sub.shape[0] - 1) // _BLOCK, (sub.shape[1] - 1) // _BLOCK
    if rows < 2 or cols < 2:  # too small to judge: let the decoder look at it
        return Activity(GATE_MIN_BLOCKS, (0, 0, grey.shape[1], grey.shape[0]))
    h, w = rows * _BLOCK, cols * _BLOCK
    base = sub[:h, :w]
    grad = np.abs(sub[:h, 1 : w + 1] - base)
    grad += np.abs(sub[1 : h + 1, :w] - base)
    score = grad.reshape(rows, _BLOCK, cols, _BLOCK).sum(axis=(1, 3), dtype=np.int32)
    floor = float(np.partition(score.ravel(), score.size // 4)[score.size // 4])
    busy = score > (ratio * floor + margin * _BLOCK * _BLOCK)
    count = int(busy.sum())
    if not count:
        return Activity(0, None)
    ys = np.flatnonzero(busy.any(axis=1))
    xs = np.flatnonzero(busy.any(axis=0))
    step = 2 * _BLOCK
    box = (int(xs[0]) * step, int(ys[0]) * step, (int(xs[-1]) + 1) * step, (int(ys[-1]) + 1) * step)
    return Activity(count, box)


def _crop(grey: np.ndarray, box: tuple[int, int, int, int], pad: int) -> np.ndarray:
    x0, y0, x1, y1 = box
    height, width = grey.shape
    return grey[max(0, y0 - pad) : min(height, y1 + pad), max(0, x0 - pad) : min(width, x1 + pad)]


def _resize(grey: np.ndarray, factor: float) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(grey)
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR))


def bar_angle(grey: np.ndarray) -> float:
    """Dominant gradient direction of an image, in degrees (-90..90]; for a barcode: across the bars.

    From the structure tensor (sums of gx*gx, gy*gy, gx*gy): half the angle of
    ``(Jxx - Jyy, 2 Jxy)``. ``PIL.Image.rotate`` by this angle turns the bars upright.
    """
    img = grey.astype(np.float32)
    gx = img[:-1, 1:] - img[:-1, :-1]
    gy = img[1:, :-1] - img[:-1, :-1]
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    return 0.5 * math.degrees(math.atan2(2.0 * jxy, jxx - jyy))


def _rotate(grey: np.ndarray, degrees: float) -> np.ndarray:
    from PIL import Image

    fill = int(np.median(grey[:: max(1, grey.shape[0] // 32), :: max(1, grey.shape[1] // 32)]))
    img = Image.fromarray(grey).rotate(degrees, Image.Resampling.BILINEAR, expand=True, fillcolor=fill)
    return np.asarray(img)


def plausible_ean(text: str, prefix: str = CARD_PREFIX) -> bool:
    """A rescued EAN-13 is kept only when it is thirteen digits with a right check digit and ``prefix``."""
    if len(text) != 13 or not text.isdigit() or not text.startswith(prefix):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(text[:12]))
    return (10 - total % 10) % 10 == int(text[12])


class ZxingDecoder:
    """zxing-cpp (3.x ``zxingcpp.read_barcodes``), limited to QR Code and EAN-13.

    Settings, chosen with ``bench/decode.py`` on 640x480 camera frames:

    * ``gate`` on: an activity check (``activity``, about 0.2 ms) runs first; a frame with
      fewer than ``GATE_MIN_BLOCKS`` blocks standing out from its own noise floor is reported
      empty without calling zxing-cpp (about 1.5 ms saved). The camera watches an empty counter
      most of the time, so this is most frames. The check errs towards "busy": a false "busy"
      only costs the decode, a false "empty" would lose a read, so its threshold sits several
      times below what any readable generated card frame scores, dim, blurred and noisy ones
      included. ``gate=False`` always decodes;
    * ``quick_pass`` on: a first zxing-cpp call with one global threshold and no rotate,
      invert or downscale retries (about 0.5 ms) reads most well-lit cards; only frames it
      misses go on to the full pass below;
    * ``formats`` QRCode and EAN13 only: the other detectors never run;
    * ``try_invert`` on: a phone in dark mode shows light modules on a dark screen; zxing-cpp
      retries the inverted bit matrix itself, far cheaper than decoding an inverted copy;
    * ``try_rotate`` on: EAN-13 bars held upright (QR finds its own orientation anyway);
    * ``try_downscale`` on: blurred or noisy codes often read at a smaller scale;
    * ``binarizer`` LocalAverage: copes with glare and uneven shop lighting where one global
      threshold fails;
    * ``ean_fallback``: when that finds nothing, one more EAN-13-only pass with a fixed
      threshold. zxing-cpp thresholds barcode rows by their own histogram, which loses thin
      spaces of a slightly blurred card printed on a dark background; the fixed threshold reads
      those (about +0.3 ms on a frame without any code);
    * ``rescue``: when a busy frame still yields nothing, the busy region is cropped and
      decoded again (1) upscaled 1.5x with LocalAverage (EAN-13 at about 2 pixels per module,
      a small tilted phone screen under glare) and (2) turned so that its dominant gradient
      runs horizontally (``bar_angle``) for an EAN-13-only pass with a fixed threshold (a small
      barcode rotated further than zxing-cpp's scan lines tolerate). An upscaled barcode can
      read as a wrong number with a valid check digit, so an EAN-13 from a rescue pass is kept
      only when ``plausible_ean`` holds (our cards start with ``CARD_PREFIX``); QR codes carry
      Reed-Solomon error correction and are kept as read. Only frames that are busy and still
      unread pay for this (about 2-4 ms).
    """

    name = "zxing"

    def __init__(
        self,
        *,
        try_rotate: bool = True,
        try_invert: bool = True,
        try_downscale: bool = True,
        binarizer: str = "LocalAverage",
        ean_fallback: bool = True,
        gate: bool = True,
        quick_pass: bool = True,
        rescue: bool = True,
    ) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise DecoderUnavailable(f"decoder zxing: zxing-cpp is not installed ({exc})") from exc
        self._zx: Any = zxingcpp
        fmt = zxingcpp.BarcodeFormat
        self._qr = fmt.QRCode
        self._gate = gate
        self._rescue = rescue
        self._options: dict[str, Any] = {
            "formats": (fmt.QRCode, fmt.EAN13),
            "try_rotate": try_rotate,
            "try_invert": try_invert,
            "try_downscale": try_downscale,
            "binarizer": getattr(zxingcpp.Binarizer, binarizer),
        }
        self._fallback: dict[str, Any] | None = None
        if ean_fallback:
            self._fallback = {
                "formats": (fmt.EAN13,),
                "try_rotate": try_rotate,
                "try_invert": False,
                "try_downscale": False,
                "binarizer": zxingcpp.Binarizer.FixedThreshold,
            }
        self._quick: dict[str, Any] | None = None
        if quick_pass:
            self._quick = {
                "formats": (fmt.QRCode, fmt.EAN13),
                "try_rotate": False,
                "try_invert": False,
                "try_downscale": False,
                "binarizer": zxingcpp.Binarizer.GlobalHistogram,
            }
        self._rescue_bars: dict[str, Any] = {
            "formats": (fmt.EAN13,),
            "try_rotate": False,
            "try_invert": False,
            "try_downscale": False,
            "binarizer": zxingcpp.Binarizer.FixedThreshold,
        }
        self._rescue_qr: dict[str, Any] = {
            "formats": (fmt.QRCode,),
            "try_rotate": False,
            "try_invert": try_invert,
            "try_downscale": False,
            "binarizer": zxingcpp.Binarizer.LocalAverage,
        }

    def _convert(self, results: Any) -> list[Decoded]:
        return [Decoded(r.text, QR if r.format == self._qr else EAN13) for r in results if r.valid]

    def _rescued(self, results: Any) -> list[Decoded]:
        return [d for d in self._convert(results) if d.format == QR or plausible_ean(d.text)]

    def decode(self, grey: np.ndarray) -> list[Decoded]:
        grey = _as_grey(grey)
        act = activity(grey) if self._gate or self._rescue else None
        if self._gate and act is not None and not act.busy:
            return []
        found: list[Decoded] = []
        if self._quick is not None:
            found = self._convert(self._zx.read_barcodes(grey, **self._quick))
        if not found:
            found = self._convert(self._zx.read_barcodes(grey, **self._options))
        if not found and self._fallback is not None:
            found = self._convert(self._zx.read_barcodes(grey, **self._fallback))
        if not found and self._rescue and act is not None and act.busy and act.box is not None:
            found = self._rescue_passes(_crop(grey, act.box, 16))
        return _unique(found)

    def _rescue_passes(self, crop: np.ndarray) -> list[Decoded]:
        upright = _rotate(crop, bar_angle(crop))
        found = self._rescued(self._zx.read_barcodes(upright, **self._rescue_bars))
        if not found:
            found = self._rescued(self._zx.read_barcodes(_resize(crop, 1.5), **self._rescue_qr))
        return found


class ZbarDecoder:
    """pyzbar (ZBar), limited to QRCODE and EAN13.

    ZBar does not read light-on-dark symbols, so with ``invert_pass`` (default) a frame that
    yields nothing is decoded a second time inverted. That doubles the cost of an empty frame.
    """

    name = "zbar"

    def __init__(self, *, invert_pass: bool = True) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:  # pragma: no cover - needs libzbar0
            raise DecoderUnavailable(f"decoder zbar: pyzbar/libzbar is not available ({exc})") from exc
        self._pyzbar: Any = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.EAN13]
        self._invert_pass = invert_pass

    def _read(self, grey: np.ndarray) -> list[Decoded]:
        height, width = grey.shape
        found: list[Decoded] = []
        for sym in self._pyzbar.decode((grey.tobytes(), width, height), symbols=self._symbols):
            fmt = QR if sym.type == "QRCODE" else EAN13
            try:
                text = sym.data.decode("utf-8")
            except UnicodeDecodeError:
                text = sym.data.decode("latin-1")
            found.append(Decoded(text, fmt))
        return found

    def decode(self, grey: np.ndarray) -> list[Decoded]:
        grey = _as_grey(grey)
        found = self._read(grey)
        if not found and self._invert_pass:
            found = self._read(255 - grey)
        return _unique(found)


def make_decoder(name: str) -> Decoder:
    """The decoder configured as ``hardware.scanner.decoder``: ``"zxing"`` or ``"zbar"``."""
    if name == "zxing":
        return ZxingDecoder()
    if name == "zbar":
        return ZbarDecoder()
    raise ValueError(f"unknown decoder {name!r} (expected 'zxing' or 'zbar')")
