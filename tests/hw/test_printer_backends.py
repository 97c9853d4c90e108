"""python-escpos backends against real transports: a device file, a TCP fake printer, a pty."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from kiosk.config import PrinterConfig
from kiosk.hw.printer import status as st
from kiosk.hw.printer.base import PaperOut, Printer, PrinterOffline, PrinterStatus, make_printer
from kiosk.hw.printer.file import FilePrinter
from kiosk.hw.printer.network import NetworkPrinter
from kiosk.hw.printer.serial import SerialPrinter
from kiosk.hw.printer.usb import UsbPrinter

# -- USB ---------------------------------------------------------------------------------------


def test_usb_arguments_have_a_timeout() -> None:
    cfg = PrinterConfig(backend="usb", usb_vendor=0x0483, usb_product=0x5743, timeout_s=2.5)
    printer = make_printer(cfg)
    assert isinstance(printer, UsbPrinter)
    kwargs = printer.escpos_kwargs()
    assert kwargs["idVendor"] == 0x0483 and kwargs["idProduct"] == 0x5743
    assert kwargs["timeout"] == 2500
    assert printer.name == "usb 0483:5743"


def test_usb_escpos_object_gets_the_timeout() -> None:
    pytest.importorskip("usb.core")
    conn = UsbPrinter(0x0483, 0x5743, timeout_ms=1500)._create()  # builds, does not open
    assert conn.timeout == 1500
    assert conn.usb_args == {"idVendor": 0x0483, "idProduct": 0x5743}


def test_usb_zero_timeout_refused() -> None:
    with pytest.raises(ValueError):
        UsbPrinter(0x0483, 0x5743, timeout_ms=0)


def test_usb_missing_device_is_offline_naming_it() -> None:
    pytest.importorskip("usb.core")
    printer = UsbPrinter(0xFFFE, 0xFFFD, timeout_ms=200)
    with pytest.raises(PrinterOffline, match=r"^printer usb fffe:fffd: "):
        printer.send(b"\x1b@")
    assert printer.status() is PrinterStatus.OFFLINE
    printer.close()


# -- File --------------------------------------------------------------------------------------


def test_file_backend_writes_exact_bytes_and_status_unknown(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = FilePrinter(str(target))
    assert isinstance(printer, Printer)
    printer.send(b"\x1b@hello\n")
    printer.send(b"\x1dV\x00")
    printer.close()
    assert target.read_bytes() == b"\x1b@hello\n\x1dV\x00"
    status = FilePrinter(str(target)).status()
    assert status is PrinterStatus.UNKNOWN
    assert status is not PrinterStatus.PAPER_OUT


def test_file_backend_missing_device_is_offline(tmp_path: Path) -> None:
    printer = FilePrinter(str(tmp_path / "no" / "lp0"))
    with pytest.raises(PrinterOffline, match=r"^printer file .*/no/lp0: "):
        printer.send(b"x")


# -- Network: a fake printer on a loopback socket that answers DLE EOT ------------------------


class FakeNetPrinter:
    def __init__(self, replies: dict[int, int | None]) -> None:
        self.replies = replies
        self.received = bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                while True:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    start = max(0, len(self.received) - 2)
                    self.received += chunk
                    # Answer every complete DLE EOT n in the stream, as a printer does.
                    at = self.received.find(b"\x10\x04", start)
                    while at != -1 and at + 2 < len(self.received):
                        reply = self.replies.get(self.received[at + 2])
                        if reply is not None:
                            conn.sendall(bytes((reply,)))
                        at = self.received.find(b"\x10\x04", at + 3)

    def close(self) -> None:
        self.server.close()


def test_network_send_and_status_from_replies() -> None:
    fake = FakeNetPrinter({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E})
    printer = NetworkPrinter("127.0.0.1", fake.port, timeout_s=1.0)
    try:
        printer.send(b"\x1b@job\n")
        assert printer.status() is PrinterStatus.PAPER_LOW
        fake.replies.update({1: 0x1A, 2: 0x32, 4: 0x7E})
        assert printer.status() is PrinterStatus.PAPER_OUT
    finally:
        printer.close()
        fake.close()
    assert fake.received.startswith(b"\x1b@job\n")
    assert st.query(1) in fake.received


def test_network_silent_printer_is_unknown_not_paper_out() -> None:
    fake = FakeNetPrinter({})
    printer = NetworkPrinter("127.0.0.1", fake.port, timeout_s=0.2)
    try:
        assert printer.status() is PrinterStatus.UNKNOWN
    finally:
        printer.close()
        fake.close()


def test_network_refused_is_offline_naming_device() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    printer = NetworkPrinter("127.0.0.1", port, timeout_s=0.5)
    with pytest.raises(PrinterOffline, match=rf"^printer network 127\.0\.0\.1:{port}: "):
        printer.send(b"x")
    assert printer.status() is PrinterStatus.OFFLINE


def test_fault_after_failed_write_uses_printer_answer() -> None:
    """A write that fails while the printer reports paper end raises PaperOut."""
    fake = FakeNetPrinter({1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E})
    printer = NetworkPrinter("127.0.0.1", fake.port, timeout_s=0.5)
    try:
        conn = printer._connection()
        real_raw = conn._raw

        def failing_job(msg: bytes) -> None:
            if msg.startswith(b"\x10\x04"):
                real_raw(msg)
            else:
                raise TimeoutError("timed out")

        conn._raw = failing_job
        with pytest.raises(PaperOut, match=r"^printer network 127\.0\.0\.1:\d+: timed out"):
            printer.send(b"\x1b@" + b"x" * 100)
    finally:
        printer.close()
        fake.close()


# -- Serial over a pseudo-terminal --------------------------------------------------------------


def test_serial_backend_over_pty() -> None:
    pytest.importorskip("serial")
    master, slave = os.openpty()
    try:
        printer = SerialPrinter(os.ttyname(slave), baudrate=9600, timeout_s=1.0, read_timeout_s=0.2, dsrdtr=False)
        printer.send(b"\x1b@serial\n")
        assert os.read(master, 100) == b"\x1b@serial\n"
        assert printer._conn.device.write_timeout == 1.0
        os.write(master, b"\x12")  # answers the first query only
        assert printer.status() in (PrinterStatus.READY, PrinterStatus.UNKNOWN)
        printer.close()
    finally:
        os.close(master)
        os.close(slave)


def test_serial_missing_port_is_offline() -> None:
    printer = SerialPrinter("/dev/nonexistent-tty", timeout_s=0.5)
    with pytest.raises(PrinterOffline, match=r"^printer serial /dev/nonexistent-tty: "):
        printer.send(b"x")
