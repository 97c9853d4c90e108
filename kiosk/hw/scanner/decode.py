"""Barcode decoders: grey frame in, decoded texts out.

Two implementations of one small ``Decoder`` protocol: zxing-cpp (the default: faster and
reads more, including light-on-dark phone screens in one call) and pyzbar/ZBar (the
reference). Both only look for the two symbologies a loyalty card carries, QR Code and
EAN-13. The libraries are imported when a decoder is made, not when this module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

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


class ZxingDecoder:
    """zxing-cpp (3.x ``zxingcpp.read_barcodes``), limited to QR Code and EAN-13.

    Settings, chosen with ``bench/decode.py`` on 640x480 camera frames:

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
      those (about +0.3 ms on a frame without any code).
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
    ) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise DecoderUnavailable(f"decoder zxing: zxing-cpp is not installed ({exc})") from exc
        self._zx: Any = zxingcpp
        fmt = zxingcpp.BarcodeFormat
        self._qr = fmt.QRCode
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

    def _convert(self, results: Any) -> list[Decoded]:
        return [Decoded(r.text, QR if r.format == self._qr else EAN13) for r in results if r.valid]

    def decode(self, grey: np.ndarray) -> list[Decoded]:
        grey = _as_grey(grey)
        found = self._convert(self._zx.read_barcodes(grey, **self._options))
        if not found and self._fallback is not None:
            found = self._convert(self._zx.read_barcodes(grey, **self._fallback))
        return _unique(found)


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
