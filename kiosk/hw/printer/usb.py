"""USB printer through python-escpos ``Usb`` (pyusb/libusb), with a write timeout.

python-escpos defaults to ``timeout=0``, which pyusb treats as "wait forever": a printer that
stops taking data (paper out, cover open) would then hang the print thread for good. We always
pass a timeout in milliseconds, and use the same figure for status reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.hw.printer.base import EscposBackend, PrinterOffline

if TYPE_CHECKING:
    from kiosk.config import PrinterConfig

DEFAULT_IN_EP = 0x82
DEFAULT_OUT_EP = 0x01


class UsbPrinter(EscposBackend):
    kind = "usb"

    def __init__(
        self,
        vendor: int,
        product: int,
        *,
        timeout_ms: int = 5000,
        profile: str = "default",
        in_ep: int = DEFAULT_IN_EP,
        out_ep: int = DEFAULT_OUT_EP,
    ) -> None:
        if timeout_ms <= 0:
            raise ValueError("USB printer timeout must be positive (0 means wait forever)")
        super().__init__(f"{vendor:04x}:{product:04x}")
        self.vendor = vendor
        self.product = product
        self.timeout_ms = int(timeout_ms)
        self.profile = profile
        self.in_ep = in_ep
        self.out_ep = out_ep

    @classmethod
    def from_config(cls, cfg: PrinterConfig) -> UsbPrinter:
        if cfg.usb_vendor is None or cfg.usb_product is None:
            raise ValueError("backend 'usb' needs usb_vendor and usb_product")
        return cls(
            cfg.usb_vendor,
            cfg.usb_product,
            timeout_ms=max(1, round(cfg.timeout_s * 1000)),
            profile=cfg.profile,
        )

    def escpos_kwargs(self) -> dict[str, Any]:
        """Arguments for ``escpos.printer.Usb``."""
        return {
            "idVendor": self.vendor,
            "idProduct": self.product,
            "timeout": self.timeout_ms,
            "in_ep": self.in_ep,
            "out_ep": self.out_ep,
            "profile": self.profile,
        }

    def _create(self) -> Any:
        from escpos.printer import Usb

        # Without pyusb, python-escpos's Usb raises from its destructor; refuse before building one.
        if not Usb.is_usable():
            raise PrinterOffline(f"printer {self.name}: pyusb is not installed")
        return Usb(**self.escpos_kwargs())

    def _after_open(self, conn: Any) -> None:
        device = conn.device
        if device is None:
            raise PrinterOffline(f"printer {self.name}: not found")
        device.default_timeout = self.timeout_ms  # used by reads (status replies)

    def _read_timeout_errors(self) -> tuple[type[BaseException], ...]:
        import usb.core

        return (usb.core.USBTimeoutError,)
