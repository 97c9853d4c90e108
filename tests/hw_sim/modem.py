"""A simulated GSM modem on a real pseudo-terminal.

The modem runs in a thread on the master side of ``os.openpty()``; the code under test opens
:attr:`SimModem.path` (the slave device) with pyserial exactly as it would open ``/dev/ttyUSB2``. It speaks
the 3GPP TS 27.005 text-mode dialogue (``AT``, ``ATE``, ``AT+CMEE``, ``AT+CMGF``, ``AT+CSCS``,
``AT+CSMP``, ``AT+CMGS`` with the ``> `` prompt and Ctrl-Z, ``AT+CPIN?``, ``AT+CREG?``, ``AT+CSQ``) and
records what it "sent" as the recipient would see it: the TE character set is decoded (``GSM`` through
the GSM 7-bit default alphabet, ``UCS2`` from hex) and, when the data coding set by ``AT+CSMP`` is 7-bit
(0), characters outside the GSM alphabet arrive as ``?``.

Fault modes (attributes, changeable while running): ``silent`` (never answers), ``cms_error`` (the
submit fails with ``+CMS ERROR: n``), ``no_network`` (not registered; the submit fails with 331),
``delay_s`` (every answer comes late), ``drop_after_prompt`` (shows ``> `` and then goes quiet),
``sim_missing`` (``AT+CPIN?`` fails with ``+CME ERROR: 10``).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import threading
import time
import tty
from dataclasses import dataclass, field
from types import TracebackType

# GSM 03.38 / 3GPP TS 23.038 default alphabet, codes 0x00..0x7F (0x1B is the escape to the extension table).
GSM7_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(GSM7_ALPHABET) == 128


@dataclass(frozen=True)
class SentSms:
    number: str
    text: str
    charset: str
    dcs: int


@dataclass
class SimModem:
    silent: bool = False
    cms_error: int | None = None
    no_network: bool = False
    delay_s: float = 0.0
    drop_after_prompt: bool = False
    sim_missing: bool = False
    echo: bool = True
    csq: int = 20
    sent: list[SentSms] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    """Every command line received (a record for assertions; holds numbers, as a real modem's log would)."""

    def __post_init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-modem", daemon=True)
        self._cmee = 0
        self._text_mode = False
        self._charset = "GSM"
        self._dcs = 0
        self._line = bytearray()
        self._message: bytearray | None = None
        self._pending_number = ""
        self._mr = 0
        self._thread.start()

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> SimModem:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- the modem -------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.02)
                continue
            if self.silent:
                continue
            for byte in data:
                self._feed(byte)

    def _write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def _reply(self, *lines: str) -> None:
        if self.delay_s:
            self._stop.wait(self.delay_s)
        for line in lines:
            self._write(b"\r\n" + line.encode("ascii") + b"\r\n")

    def _error(self, kind: str, number: int) -> None:
        self._reply(f"+{kind} ERROR: {number}" if self._cmee else "ERROR")

    def _feed(self, byte: int) -> None:
        if self._message is not None:
            if byte == 0x1A:
                body, self._message = bytes(self._message), None
                self._submit(body)
            elif byte == 0x1B:
                self._message = None
                self._reply("OK")
            else:
                self._message.append(byte)
            return
        if self.echo:
            self._write(bytes([byte]))
        if byte == 0x0D:
            line, self._line = self._line.decode("latin-1").strip(), bytearray()
            if line:
                self.commands.append(line)
                self._command(line)
        elif byte == 0x1B:
            self._line.clear()
        elif byte != 0x0A:
            self._line.append(byte)

    def _decode(self, raw: str) -> str:
        if self._charset == "UCS2":
            return bytes.fromhex(raw).decode("utf-16-be")
        if self._charset == "GSM":
            return "".join(GSM7_ALPHABET[ord(ch) & 0x7F] for ch in raw)
        return raw  # IRA

    def _command(self, line: str) -> None:
        upper = line.upper()
        if not upper.startswith("AT"):
            self._reply("ERROR")
            return
        cmd = line[2:]
        up = cmd.upper()
        if up == "":
            self._reply("OK")
        elif re.fullmatch(r"E[01]?", up):
            self.echo = up.endswith("1")
            self._reply("OK")
        elif m := re.fullmatch(r"\+CMEE=([012])", up):
            self._cmee = int(m.group(1))
            self._reply("OK")
        elif m := re.fullmatch(r"\+CMGF=([01])", up):
            self._text_mode = m.group(1) == "1"
            self._reply("OK")
        elif m := re.fullmatch(r'\+CSCS="(GSM|IRA|UCS2)"', up):
            self._charset = m.group(1)
            self._reply("OK")
        elif m := re.fullmatch(r"\+CSMP=(\d+),(\d+),(\d+),(\d+)", up):
            self._dcs = int(m.group(4))
            self._reply("OK")
        elif up == "+CPIN?":
            if self.sim_missing:
                self._error("CME", 10)
            else:
                self._reply("+CPIN: READY", "OK")
        elif up == "+CREG?":
            self._reply(f"+CREG: 0,{0 if self.no_network else 1}", "OK")
        elif up == "+CSQ":
            self._reply(f"+CSQ: {99 if self.no_network else self.csq},99", "OK")
        elif m := re.fullmatch(r'\+CMGS="([^"]*)"(?:,(\d+))?', cmd, flags=re.IGNORECASE):
            if not self._text_mode:
                self._error("CMS", 304)
                return
            try:
                self._pending_number = self._decode(m.group(1))
            except ValueError:
                self._error("CMS", 305)
                return
            if self.delay_s:
                self._stop.wait(self.delay_s)
            self._write(b"\r\n> ")
            self._message = bytearray()
        else:
            self._reply("ERROR")

    def _submit(self, body: bytes) -> None:
        if self.drop_after_prompt:
            return
        if self.sim_missing:
            self._error("CMS", 310)
            return
        if self.no_network:
            self._error("CMS", 331)
            return
        if self.cms_error is not None:
            self._error("CMS", self.cms_error)
            return
        try:
            text = self._decode(body.decode("latin-1"))
        except ValueError:
            self._error("CMS", 305)
            return
        if self._dcs == 0:
            text = "".join(ch if ch in GSM7_ALPHABET else "?" for ch in text)
        self.sent.append(SentSms(self._pending_number, text, self._charset, self._dcs))
        self._mr = (self._mr + 1) % 256
        self._reply(f"+CMGS: {self._mr}", "OK")
