"""Network (raw TCP, usually port 9100) printer through python-escpos ``Network``.

The socket timeout covers connecting, sending and reading status replies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.hw.printer.base import EscposBackend

if TYPE_CHECKING:
    from kiosk.config import PrinterConfig


class NetworkPrinter(EscposBackend):
    kind = "network"

    def __init__(self, host: str, port: int = 9100, *, timeout_s: float = 5.0, profile: str = "default") -> None:
        if timeout_s <= 0:
            raise ValueError("network printer timeout must be positive")
        super().__init__(f"{host}:{port}")
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.profile = profile

    @classmethod
    def from_config(cls, cfg: PrinterConfig) -> NetworkPrinter:
        if not cfg.host:
            raise ValueError("backend 'network' needs host")
        return cls(cfg.host, cfg.port, timeout_s=cfg.timeout_s, profile=cfg.profile)

    def escpos_kwargs(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "timeout": self.timeout_s, "profile": self.profile}

    def _create(self) -> Any:
        from escpos.printer import Network

        return Network(**self.escpos_kwargs())

    def _read_timeout_errors(self) -> tuple[type[BaseException], ...]:
        return (TimeoutError,)
