"""Serial (RS-232 / USB-serial) printer through python-escpos ``Serial`` and pyserial.

pyserial writes without a timeout by default; with hardware flow control a printer that is out
of paper holds the line and the write would block forever. We set ``write_timeout`` on the open
port, and release the port without ``flush`` (which waits for the output to drain).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.hw.printer.base import EscposBackend

if TYPE_CHECKING:
    from kiosk.config import PrinterConfig


class SerialPrinter(EscposBackend):
    kind = "serial"

    def __init__(
        self,
        devfile: str,
        *,
        baudrate: int = 9600,
        timeout_s: float = 5.0,
        read_timeout_s: float = 0.5,
        dsrdtr: bool = True,
        profile: str = "default",
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("serial printer write timeout must be positive")
        super().__init__(devfile)
        self.devfile = devfile
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.read_timeout_s = read_timeout_s
        self.dsrdtr = dsrdtr
        self.profile = profile

    @classmethod
    def from_config(cls, cfg: PrinterConfig) -> SerialPrinter:
        return cls(cfg.serial_device, baudrate=cfg.serial_baud, timeout_s=cfg.timeout_s, profile=cfg.profile)

    def escpos_kwargs(self) -> dict[str, Any]:
        """Arguments for ``escpos.printer.Serial`` (8N1; ``timeout`` is pyserial's read timeout)."""
        return {
            "devfile": self.devfile,
            "baudrate": self.baudrate,
            "bytesize": 8,
            "timeout": self.read_timeout_s,
            "dsrdtr": self.dsrdtr,
            "profile": self.profile,
        }

    def _create(self) -> Any:
        from escpos.printer import Serial

        return Serial(**self.escpos_kwargs())

    def _after_open(self, conn: Any) -> None:
        conn.device.write_timeout = self.timeout_s

    def _release(self, conn: Any) -> None:
        port = conn._device
        conn._device = False  # python-escpos's close() would flush, i.e. wait for a stalled printer
        if port:
            try:
                port.reset_output_buffer()
            finally:
                port.close()
