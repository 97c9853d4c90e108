"""Decoding of the ESC/POS real-time status replies (``DLE EOT n``).

Every reply is one byte. Bits 1 and 4 are always set and bits 0 and 7 always clear, which lets
us tell a real status byte from noise or an echo (``(byte & 0x93) == 0x12``). The meaning of the
other bits, from the Epson ESC/POS command reference:

``DLE EOT 1`` (printer status)
    bit 2 drawer kick-out connector pin 3, bit 3 offline, bit 5 waiting for online recovery,
    bit 6 paper feed button pressed.
``DLE EOT 2`` (offline cause)
    bit 2 cover open, bit 3 paper being fed by the feed button, bit 5 printing stopped by
    paper end, bit 6 an error occurred.
``DLE EOT 3`` (error cause)
    bit 2 mechanical error, bit 3 auto-cutter error, bit 5 unrecoverable error,
    bit 6 automatically recoverable error (e.g. head temperature).
``DLE EOT 4`` (roll paper sensor)
    bits 2-3 roll paper near-end sensor (paper near its end), bits 5-6 roll paper end sensor
    (no paper).

Pure functions, no I/O: backends send the queries, collect the bytes and call ``combine``.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.hw.printer.base import PrinterStatus

FIXED_MASK = 0x93
FIXED_VALUE = 0x12

PRINTER = 1
OFFLINE_CAUSE = 2
ERROR_CAUSE = 3
PAPER_SENSOR = 4
QUERIES: tuple[int, ...] = (PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER_SENSOR)

# DLE EOT 1
BIT_OFFLINE = 0x08
# DLE EOT 2
BIT_COVER_OPEN = 0x04
BIT_FEED_BUTTON = 0x08
BIT_PAPER_END_STOP = 0x20
BIT_ERROR = 0x40
# DLE EOT 3
BIT_MECHANICAL = 0x04
BIT_AUTOCUTTER = 0x08
BIT_UNRECOVERABLE = 0x20
BIT_AUTO_RECOVERABLE = 0x40
# DLE EOT 4
BITS_NEAR_END = 0x0C
BITS_PAPER_END = 0x60

# When several replies disagree, the one a person can act on wins.
_PRECEDENCE: tuple[PrinterStatus, ...] = (
    PrinterStatus.COVER_OPEN,
    PrinterStatus.PAPER_OUT,
    PrinterStatus.ERROR,
    PrinterStatus.OFFLINE,
    PrinterStatus.PAPER_LOW,
    PrinterStatus.READY,
)


def query(n: int) -> bytes:
    """The bytes of ``DLE EOT n``."""
    if n not in QUERIES:
        raise ValueError(f"DLE EOT n must be 1..4, got {n}")
    return bytes((0x10, 0x04, n))


def is_status_byte(byte: int) -> bool:
    return 0 <= byte <= 0xFF and (byte & FIXED_MASK) == FIXED_VALUE


def parse_dle_eot(n: int, byte: int | None) -> PrinterStatus:
    """What one reply to ``DLE EOT n`` says; UNKNOWN for no reply or a byte that is not a status."""
    if n not in QUERIES:
        raise ValueError(f"DLE EOT n must be 1..4, got {n}")
    if byte is None or not is_status_byte(byte):
        return PrinterStatus.UNKNOWN
    if n == PRINTER:
        return PrinterStatus.OFFLINE if byte & BIT_OFFLINE else PrinterStatus.READY
    if n == OFFLINE_CAUSE:
        if byte & BIT_COVER_OPEN:
            return PrinterStatus.COVER_OPEN
        if byte & BIT_PAPER_END_STOP:
            return PrinterStatus.PAPER_OUT
        if byte & BIT_ERROR:
            return PrinterStatus.ERROR
        if byte & BIT_FEED_BUTTON:
            return PrinterStatus.OFFLINE
        return PrinterStatus.READY
    if n == ERROR_CAUSE:
        if byte & (BIT_MECHANICAL | BIT_AUTOCUTTER | BIT_UNRECOVERABLE | BIT_AUTO_RECOVERABLE):
            return PrinterStatus.ERROR
        return PrinterStatus.READY
    if byte & BITS_PAPER_END:
        return PrinterStatus.PAPER_OUT
    if byte & BITS_NEAR_END:
        return PrinterStatus.PAPER_LOW
    return PrinterStatus.READY


def combine(replies: Mapping[int, int | None]) -> PrinterStatus:
    """One status from the replies to several queries (``{n: byte or None}``).

    Replies that are missing or not status bytes are ignored; if none is usable the answer is
    UNKNOWN, never PAPER_OUT: a printer that does not answer has not told us it is empty.
    """
    found = {parse_dle_eot(n, b) for n, b in replies.items()} - {PrinterStatus.UNKNOWN}
    for status in _PRECEDENCE:
        if status in found:
            return status
    return PrinterStatus.UNKNOWN


def pick_reply(data: bytes) -> int | None:
    """The status byte in what a transport read back (the last well-formed one), or None."""
    for byte in reversed(data):
        if is_status_byte(byte):
            return byte
    return None
