"""The printer interface every backend implements, its status values and its faults.

A backend turns bytes into paper. ``send`` either hands the whole job to the device or raises a
``PrinterFault`` naming the device; ``status`` asks the printer with ``DLE EOT`` where the
transport can read answers, and says UNKNOWN where it cannot (a write-only device file). UNKNOWN
is never reported as "paper out": the kiosk only tells staff the roll is empty when the printer
said so.

``EscposBackend`` is the shared plumbing of the python-escpos backends (usb, serial, network,
file): one lazily opened connection, transport errors mapped to faults, status queries. Device
libraries are imported inside the backends, so this package imports on any machine.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from kiosk.errors import HardwareError

if TYPE_CHECKING:
    from kiosk.config import PrinterConfig

log = logging.getLogger(__name__)


class PrinterStatus(StrEnum):
    READY = "ready"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    ERROR = "error"
    UNKNOWN = "unknown"
    """The transport cannot read status (or the printer did not answer); not a fault by itself."""


HOLDING_STATUSES = frozenset(
    {PrinterStatus.PAPER_OUT, PrinterStatus.COVER_OPEN, PrinterStatus.OFFLINE, PrinterStatus.ERROR}
)
"""States in which a job cannot be printed; jobs wait until the printer leaves them."""


class PrinterFault(HardwareError):
    """A job could not be handed to the printer; the message names the device."""

    status: PrinterStatus = PrinterStatus.ERROR


class PaperOut(PrinterFault):
    status = PrinterStatus.PAPER_OUT


class CoverOpen(PrinterFault):
    status = PrinterStatus.COVER_OPEN


class PrinterOffline(PrinterFault):
    status = PrinterStatus.OFFLINE


def fault_for(status: PrinterStatus, message: str) -> PrinterFault:
    """The fault that matches what the printer reported after a failed write."""
    if status is PrinterStatus.PAPER_OUT:
        return PaperOut(message)
    if status is PrinterStatus.COVER_OPEN:
        return CoverOpen(message)
    return PrinterOffline(message)


@runtime_checkable
class Printer(Protocol):
    def send(self, data: bytes) -> None:
        """Hand one whole job to the device; raise a ``PrinterFault`` if it cannot be done."""

    def status(self) -> PrinterStatus:
        """The printer's state from ``DLE EOT 1..4``; UNKNOWN where the transport cannot read."""

    def close(self) -> None:
        """Release the device; a later ``send`` opens it again."""


class EscposBackend:
    """A backend built on one python-escpos printer class.

    Subclasses set ``kind``, ``device`` and ``can_read`` and implement ``_create`` (build the
    escpos object, importing python-escpos inside). The escpos object is opened on first use and
    dropped after a transport error so that the next job opens the device again (the cable may
    have been re-plugged). Calls are serialised by a lock; they are meant for the print worker's
    thread, never the UI thread: every transport has a timeout, but a timeout is still seconds.
    """

    kind = "escpos"
    can_read = True

    def __init__(self, device: str) -> None:
        self.device = device
        self._conn: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"{self.kind} {self.device}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # -- to implement -------------------------------------------------------------------
    def _create(self) -> Any:
        raise NotImplementedError

    def _after_open(self, conn: Any) -> None:
        """Adjust the opened connection (timeouts)."""

    def _transport_errors(self) -> tuple[type[BaseException], ...]:
        from escpos.exceptions import Error as EscposError

        return (OSError, EscposError, AssertionError, ValueError)

    def _read_timeout_errors(self) -> tuple[type[BaseException], ...]:
        return ()

    def _release(self, conn: Any) -> None:
        conn.close()

    # -- plumbing -----------------------------------------------------------------------
    def _connection(self) -> Any:
        if self._conn is None:
            conn = self._create()
            try:
                conn.open()
                self._after_open(conn)
            except BaseException:
                self._release_quietly(conn)
                raise
            self._conn = conn
        return self._conn

    def _release_quietly(self, conn: Any) -> None:
        try:
            self._release(conn)
        except Exception as exc:  # releasing a broken device must not hide the original fault
            log.debug("printer %s: release failed: %s", self.name, exc)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._release_quietly(conn)

    def _message(self, exc: BaseException) -> str:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return f"printer {self.name}: {detail}"

    def send(self, data: bytes) -> None:
        with self._lock:
            try:
                self._connection()._raw(bytes(data))
                return
            except PrinterFault:
                self._drop()
                raise
            except self._transport_errors() as exc:
                message = self._message(exc)
                cause: BaseException = exc
            # Ask the printer why (paper end and an open cover stop the transfer too).
            status = self._query() if self._conn is not None else PrinterStatus.OFFLINE
            if status in (PrinterStatus.OFFLINE, PrinterStatus.ERROR, PrinterStatus.UNKNOWN):
                self._drop()
            log.warning("%s (status %s)", message, status)
            raise fault_for(status, message) from cause

    def status(self) -> PrinterStatus:
        with self._lock:
            if not self.can_read:
                return PrinterStatus.UNKNOWN
            try:
                self._connection()
            except PrinterFault:
                return PrinterStatus.OFFLINE
            except self._transport_errors() as exc:
                log.debug("%s", self._message(exc))
                self._drop()
                return PrinterStatus.OFFLINE
            return self._query()

    def _query(self) -> PrinterStatus:
        """Send DLE EOT 1..4 on the open connection and combine the replies (lock held)."""
        from kiosk.hw.printer import status as st

        if not self.can_read:
            return PrinterStatus.UNKNOWN
        conn = self._conn
        replies: dict[int, int | None] = {}
        try:
            for n in st.QUERIES:
                conn._raw(st.query(n))
                try:
                    data = bytes(conn._read())
                except self._read_timeout_errors():
                    data = b""
                replies[n] = st.pick_reply(data)
                if n == st.PRINTER and replies[n] is None:
                    break  # no answer to the basic query: this printer does not report status
        except NotImplementedError:
            return PrinterStatus.UNKNOWN
        except self._transport_errors() as exc:
            log.debug("%s", self._message(exc))
            self._drop()
            return PrinterStatus.OFFLINE
        return st.combine(replies)

    def close(self) -> None:
        with self._lock:
            self._drop()


def make_printer(cfg: PrinterConfig, *, out_dir: Path | None = None) -> Printer:
    """The backend named by ``[hardware.printer]``; ``out_dir`` only applies to the simulator."""
    if cfg.backend == "usb":
        from kiosk.hw.printer.usb import UsbPrinter

        return UsbPrinter.from_config(cfg)
    if cfg.backend == "serial":
        from kiosk.hw.printer.serial import SerialPrinter

        return SerialPrinter.from_config(cfg)
    if cfg.backend == "network":
        from kiosk.hw.printer.network import NetworkPrinter

        return NetworkPrinter.from_config(cfg)
    if cfg.backend == "file":
        from kiosk.hw.printer.file import FilePrinter

        return FilePrinter.from_config(cfg)
    from kiosk.hw.printer.sim import SimPrinter

    return SimPrinter(paper_mm=cfg.paper_mm, out_dir=out_dir)
