"""USB/serial 2D barcode module acting as a keyboard, read through python-evdev.

The module "types" each code followed by ENTER. The device is grabbed exclusively, so those
keystrokes never reach the console or the UI. Key events are turned into text by
``KeyMapper``, which is pure (no device, no evdev import) and assumes the US layout that such
modules send by default. python-evdev is imported in ``open()``.
"""

from __future__ import annotations

import collections
import errno
import select
from typing import Any

from kiosk.hw.scanner import ScannerGone

# Key codes from linux/input-event-codes.h (stable kernel ABI).
EV_KEY = 1
KEY_ESC = 1
KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0 = range(2, 12)
KEY_MINUS = 12
KEY_EQUAL = 13
KEY_BACKSPACE = 14
KEY_TAB = 15
KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P = range(16, 26)
KEY_LEFTBRACE = 26
KEY_RIGHTBRACE = 27
KEY_ENTER = 28
KEY_LEFTCTRL = 29
KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L = range(30, 39)
KEY_SEMICOLON = 39
KEY_APOSTROPHE = 40
KEY_GRAVE = 41
KEY_LEFTSHIFT = 42
KEY_BACKSLASH = 43
KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M = range(44, 51)
KEY_COMMA = 51
KEY_DOT = 52
KEY_SLASH = 53
KEY_RIGHTSHIFT = 54
KEY_KPASTERISK = 55
KEY_SPACE = 57
KEY_CAPSLOCK = 58
KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPMINUS = 71, 72, 73, 74
KEY_KP4, KEY_KP5, KEY_KP6, KEY_KPPLUS = 75, 76, 77, 78
KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP0, KEY_KPDOT = 79, 80, 81, 82, 83
KEY_KPENTER = 96
KEY_KPSLASH = 98

KEY_UP = 0
KEY_DOWN = 1
KEY_HOLD = 2

_LETTERS = {
    KEY_A: "a", KEY_B: "b", KEY_C: "c", KEY_D: "d", KEY_E: "e", KEY_F: "f", KEY_G: "g", KEY_H: "h",
    KEY_I: "i", KEY_J: "j", KEY_K: "k", KEY_L: "l", KEY_M: "m", KEY_N: "n", KEY_O: "o", KEY_P: "p",
    KEY_Q: "q", KEY_R: "r", KEY_S: "s", KEY_T: "t", KEY_U: "u", KEY_V: "v", KEY_W: "w", KEY_X: "x",
    KEY_Y: "y", KEY_Z: "z",
}  # fmt: skip

# code -> (unshifted, shifted), US layout
_KEYS: dict[int, tuple[str, str]] = {
    KEY_1: ("1", "!"), KEY_2: ("2", "@"), KEY_3: ("3", "#"), KEY_4: ("4", "$"), KEY_5: ("5", "%"),
    KEY_6: ("6", "^"), KEY_7: ("7", "&"), KEY_8: ("8", "*"), KEY_9: ("9", "("), KEY_0: ("0", ")"),
    KEY_MINUS: ("-", "_"), KEY_EQUAL: ("=", "+"), KEY_LEFTBRACE: ("[", "{"), KEY_RIGHTBRACE: ("]", "}"),
    KEY_SEMICOLON: (";", ":"), KEY_APOSTROPHE: ("'", '"'), KEY_GRAVE: ("`", "~"), KEY_BACKSLASH: ("\\", "|"),
    KEY_COMMA: (",", "<"), KEY_DOT: (".", ">"), KEY_SLASH: ("/", "?"), KEY_SPACE: (" ", " "),
    KEY_KP0: ("0", "0"), KEY_KP1: ("1", "1"), KEY_KP2: ("2", "2"), KEY_KP3: ("3", "3"), KEY_KP4: ("4", "4"),
    KEY_KP5: ("5", "5"), KEY_KP6: ("6", "6"), KEY_KP7: ("7", "7"), KEY_KP8: ("8", "8"), KEY_KP9: ("9", "9"),
    KEY_KPMINUS: ("-", "-"), KEY_KPPLUS: ("+", "+"), KEY_KPASTERISK: ("*", "*"), KEY_KPSLASH: ("/", "/"),
    KEY_KPDOT: (".", "."),
}  # fmt: skip
_KEYS.update({code: (ch, ch.upper()) for code, ch in _LETTERS.items()})

_SHIFTS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
_ENTERS = frozenset({KEY_ENTER, KEY_KPENTER})

MAX_LINE = 512
"""Longer input is not a card code (or a stuck key); it is dropped."""


class KeyMapper:
    """Turns key events (code, value) into ENTER-terminated lines of text."""

    def __init__(self) -> None:
        self._shift: set[int] = set()
        self._caps = False
        self._buf: list[str] = []
        self._overflow = False

    def feed(self, code: int, value: int) -> str | None:
        """One EV_KEY event; returns a completed line (without the ENTER) or None."""
        if code in _SHIFTS:
            if value == KEY_UP:
                self._shift.discard(code)
            else:
                self._shift.add(code)
            return None
        if value != KEY_DOWN:  # releases and auto-repeat carry no new characters
            return None
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        if code in _ENTERS:
            line = "".join(self._buf)
            overflow = self._overflow
            self._buf.clear()
            self._overflow = False
            return None if overflow or not line else line
        if code == KEY_BACKSPACE:
            if self._buf:
                self._buf.pop()
            return None
        if code == KEY_ESC:
            self._buf.clear()
            return None
        pair = _KEYS.get(code)
        if pair is None:
            return None
        shifted = bool(self._shift)
        if code in _LETTERS and self._caps:
            shifted = not shifted
        if len(self._buf) >= MAX_LINE:
            self._overflow = True
            return None
        self._buf.append(pair[1] if shifted else pair[0])
        return None

    def feed_all(self, events: list[tuple[int, int]]) -> list[str]:
        """Every line completed by a sequence of (code, value) key events."""
        lines: list[str] = []
        for code, value in events:
            line = self.feed(code, value)
            if line is not None:
                lines.append(line)
        return lines


class EvdevSource:
    """A ``CodeSource`` reading an input device such as ``/dev/input/by-id/usb-...-event-kbd``."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._dev: Any = None
        self._mapper = KeyMapper()
        self._lines: collections.deque[str] = collections.deque()

    def open(self) -> None:
        try:
            import evdev
        except ImportError as exc:
            raise ScannerGone(f"barcode module {self.device}: python-evdev is not installed") from exc
        try:
            dev = evdev.InputDevice(self.device)
        except OSError as exc:
            raise ScannerGone(f"barcode module {self.device}: cannot open ({exc.strerror})") from exc
        try:
            dev.grab()  # keystrokes go to the kiosk only
        except OSError as exc:
            dev.close()
            raise ScannerGone(f"barcode module {self.device}: cannot grab ({exc.strerror})") from exc
        self._dev = dev
        self._mapper = KeyMapper()
        self._lines.clear()

    def read_line(self, timeout_s: float) -> str | None:
        if self._lines:
            return self._lines.popleft()
        dev = self._dev
        if dev is None:
            raise ScannerGone(f"barcode module {self.device}: not open")
        try:
            ready, _, _ = select.select([dev.fd], [], [], timeout_s)
            if not ready:
                return None
            for event in dev.read():
                if event.type == EV_KEY:
                    line = self._mapper.feed(event.code, event.value)
                    if line is not None:
                        self._lines.append(line)
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.EBADF, errno.EIO):
                raise ScannerGone(f"barcode module {self.device}: device gone") from exc
            raise
        return self._lines.popleft() if self._lines else None

    def close(self) -> None:
        dev, self._dev = self._dev, None
        if dev is None:
            return
        try:
            dev.ungrab()
        except OSError:
            pass  # already gone
        finally:
            dev.close()
