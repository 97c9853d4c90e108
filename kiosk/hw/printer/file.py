"""A printer reached through a device file (``/dev/usb/lp0``, a parallel port) via python-escpos ``File``.

The kernel's printer device is write-only for us: python-escpos 3.1 ``File`` has no ``_read``,
so status is always UNKNOWN here (never "paper out"). A write to a stalled printer blocks in
the kernel for as long as the driver lets it; the print worker's thread absorbs that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.hw.printer.base import EscposBackend

if TYPE_CHECKING:
    from kiosk.config import PrinterConfig


class FilePrinter(EscposBackend):
    kind = "file"
    can_read = False

    def __init__(self, path: str = "/dev/usb/lp0", *, profile: str = "default") -> None:
        super().__init__(path)
        self.path = path
        self.profile = profile

    @classmethod
    def from_config(cls, cfg: PrinterConfig) -> FilePrinter:
        return cls(cfg.file_path, profile=cfg.profile)

    def _create(self) -> Any:
        from escpos.printer import File

        return File(devfile=self.path, auto_flush=True, profile=self.profile)
