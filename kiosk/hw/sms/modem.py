"""SMS through a local GSM modem, spoken to with AT commands (3GPP TS 27.005 text mode) over pyserial.

Each send opens the port, sets the modem up and submits one message:

``AT`` / ``ATE0`` (no echo) / ``AT+CMEE=1`` (numeric error codes) / ``AT+CMGF=1`` (text mode) /
``AT+CSCS`` + ``AT+CSMP`` (character set and data coding) / ``AT+CMGS="<number>"`` -> ``> `` prompt ->
text + Ctrl-Z -> ``+CMGS: <mr>`` and ``OK``.

Text made only of characters whose GSM 7-bit code equals their ASCII code goes as ``CSCS="GSM"`` with
data coding 0 (up to 160 characters); anything else (Cyrillic, ``@``, ``_``, ...) goes as ``CSCS="UCS2"``
with data coding 8 (up to 70 UTF-16 units), the number and the text written as UCS2 hex.

Every read has a deadline: a single command waits at most ``command_timeout_s`` and the whole send at
most ``timeout_s``. Opening the port per send keeps the kiosk working across a modem reset or a USB
re-plug. On a Raspberry Pi, ModemManager must not own the port (it is opened with an exclusive lock).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kiosk.hw.sms import SmsRejected, SmsTimeout, SmsUnavailable

if TYPE_CHECKING:
    import serial

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"

# +CMS ERROR codes (3GPP TS 27.005 3.2.5) worth a clear message.
CMS_ERRORS: dict[int, str] = {
    300: "ME failure",
    301: "SMS service of ME reserved",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    312: "PH-SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    315: "SIM wrong",
    316: "SIM PUK required",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}

# +CME ERROR codes (3GPP TS 27.007 9.2.1) a modem may give for the set-up commands.
CME_ERRORS: dict[int, str] = {
    0: "phone failure",
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    30: "no network service",
    31: "network timeout",
    32: "network not allowed, emergency calls only",
    100: "unknown error",
}

# ASCII characters whose GSM 7-bit default alphabet code is the same byte (3GPP TS 23.038 6.2.1).
_GSM_SAME_AS_ASCII = frozenset("\n !\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
GSM_MAX_CHARS = 160
UCS2_MAX_UNITS = 70

_ERROR_RE = re.compile(r"^\+(CMS|CME) ERROR:\s*(.*)$")
_FINAL_OK = "OK"


def fits_gsm7(text: str) -> bool:
    """True when every character of ``text`` can go to the modem unchanged under ``CSCS="GSM"``."""
    return all(ch in _GSM_SAME_AS_ASCII for ch in text)


def ucs2_hex(text: str) -> str:
    """``text`` as the upper-case hex of its UTF-16 big-endian code units (the ``UCS2`` character set)."""
    return text.encode("utf-16-be").hex().upper()


class Registration(StrEnum):
    """Network registration status from ``AT+CREG?``."""

    NOT_REGISTERED = "not-registered"
    HOME = "home"
    SEARCHING = "searching"
    DENIED = "denied"
    UNKNOWN = "unknown"
    ROAMING = "roaming"


_CREG_STAT = {
    0: Registration.NOT_REGISTERED,
    1: Registration.HOME,
    2: Registration.SEARCHING,
    3: Registration.DENIED,
    4: Registration.UNKNOWN,
    5: Registration.ROAMING,
}


@dataclass(frozen=True)
class ModemStatus:
    """What ``ModemSms.check`` found; ``sim`` is the ``+CPIN`` answer (``READY``) or the error's name."""

    device: str
    sim: str
    registration: Registration
    signal_csq: int | None
    """The raw ``+CSQ`` RSSI value 0..31; None when the modem reports 99 (not known)."""

    @property
    def signal_dbm(self) -> int | None:
        if self.signal_csq is None:
            return None
        return -113 + 2 * self.signal_csq

    @property
    def ok(self) -> bool:
        return self.sim == "READY" and self.registration in (Registration.HOME, Registration.ROAMING)


def _describe(code: str) -> str:
    """The meaning of an error code made by this module (``cme-10`` -> ``SIM not inserted``)."""
    kind, _, number = code.partition("-")
    table = {"cms": CMS_ERRORS, "cme": CME_ERRORS}.get(kind, {})
    return table.get(int(number), code) if number.isdigit() else code


def _command_name(cmd: str) -> str:
    """The part of a command that is safe to show: ``AT+CMGS="..."`` -> ``AT+CMGS``."""
    return re.split(r"[=?]", cmd, maxsplit=1)[0]


class _Link:
    """One open port with a line reader whose every wait ends at a deadline."""

    def __init__(self, port: serial.Serial, device: str, deadline: float, command_timeout_s: float) -> None:
        self.port = port
        self.device = device
        self.deadline = deadline
        self.command_timeout_s = command_timeout_s
        self._buf = bytearray()

    def _until(self, timeout: float | None) -> float:
        limit = self.command_timeout_s if timeout is None else timeout
        return min(self.deadline, time.monotonic() + limit)

    def write(self, data: bytes) -> None:
        import serial

        try:
            self.port.write(data)
            self.port.flush()
        except serial.SerialTimeoutException:
            raise SmsTimeout(f"SMS modem {self.device}: writing to the port timed out") from None
        except (serial.SerialException, OSError) as exc:
            raise SmsUnavailable(f"SMS modem {self.device}: the port failed while writing: {exc}") from None

    def _fill(self, until: float) -> bool:
        """Read what arrives before ``until``; False when nothing came."""
        import serial

        remaining = until - time.monotonic()
        if remaining <= 0:
            return False
        self.port.timeout = min(remaining, 0.05)
        try:
            chunk = self.port.read(max(1, self.port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise SmsUnavailable(f"SMS modem {self.device}: the port failed while reading: {exc}") from None
        self._buf.extend(chunk)
        return bool(chunk)

    def _take_line(self) -> str | None:
        """Pop one complete non-empty line from the buffer."""
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                return None
            raw = bytes(self._buf[:end])
            del self._buf[: end + 1]
            line = raw.decode("ascii", errors="replace").strip()
            if line:
                return line

    def _take_prompt(self) -> bool:
        while self._buf and self._buf[0] in (0x0D, 0x0A):
            del self._buf[:1]
        if self._buf[:1] == b">":
            del self._buf[: 2 if self._buf[1:2] == b" " else 1]
            return True
        return False

    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Send ``cmd`` and return the information lines before ``OK``; raise on an error or silence."""
        name = _command_name(cmd)
        log.debug("SMS modem %s: %s", self.device, name)
        self.write(cmd.encode("ascii") + b"\r")
        return self.read_result(name, cmd, self._until(timeout))

    def read_result(self, name: str, echo: str | None, until: float) -> list[str]:
        info: list[str] = []
        while True:
            line = self._take_line()
            if line is None:
                if not self._fill(until) and time.monotonic() >= until:
                    raise SmsTimeout(f"SMS modem {self.device}: no answer to {name}")
                continue
            if echo is not None and line == echo:
                continue
            if line == _FINAL_OK:
                return info
            self._raise_if_error(name, line)
            info.append(line)

    def wait_prompt(self, name: str, until: float) -> None:
        while True:
            if self._take_prompt():
                return
            line = self._take_line()
            if line is not None:
                self._raise_if_error(name, line)
                continue  # echo or an unsolicited result code
            if not self._fill(until) and time.monotonic() >= until:
                raise SmsTimeout(f"SMS modem {self.device}: no '>' prompt after {name}")

    def _raise_if_error(self, name: str, line: str) -> None:
        if line == "ERROR":
            raise SmsRejected(f"SMS modem {self.device}: {name} failed with ERROR", code="error")
        match = _ERROR_RE.match(line)
        if match is None:
            return
        kind, detail = match.group(1), match.group(2).strip()
        table = CMS_ERRORS if kind == "CMS" else CME_ERRORS
        if detail.isdigit():
            number = int(detail)
            meaning = table.get(number, "error not in the standard list")
            raise SmsRejected(
                f"SMS modem {self.device}: {name} failed: +{kind} ERROR {number} ({meaning})",
                code=f"{kind.lower()}-{number}",
            )
        raise SmsRejected(
            f"SMS modem {self.device}: {name} failed: +{kind} ERROR ({detail[:60]})", code=f"{kind.lower()}-text"
        )


class ModemSms:
    """Sends SMS through a GSM modem on a serial port; see the module notes for the AT dialogue."""

    def __init__(
        self,
        device: str,
        *,
        baud: int = 115200,
        timeout_s: float = 20.0,
        command_timeout_s: float = 3.0,
    ) -> None:
        self.device = device
        self.baud = baud
        self.timeout_s = timeout_s
        self.command_timeout_s = min(command_timeout_s, timeout_s)
        self._lock = threading.Lock()

    def _open(self) -> Any:
        import serial

        try:
            return serial.Serial(
                self.device,
                self.baud,
                timeout=0.05,
                write_timeout=self.command_timeout_s,
                exclusive=True,
            )
        except (serial.SerialException, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SmsUnavailable(f"SMS modem {self.device}: cannot open the port: {reason}") from None

    def _start(self, link: _Link) -> None:
        link.port.reset_input_buffer()
        try:
            link.command("AT", timeout=min(1.0, self.command_timeout_s))
        except SmsTimeout:
            # A modem may drop the first command after power-up or leave a half-typed line behind.
            link.write(ESC + b"\r")
            link.command("AT")
        link.command("ATE0")
        link.command("AT+CMEE=1")

    def send(self, phone_e164: str, text: str) -> None:
        gsm = fits_gsm7(text)
        if gsm and len(text) > GSM_MAX_CHARS:
            raise SmsRejected(f"SMS modem {self.device}: text longer than {GSM_MAX_CHARS} characters", "too-long")
        if not gsm and len(text.encode("utf-16-be")) // 2 > UCS2_MAX_UNITS:
            raise SmsRejected(f"SMS modem {self.device}: text longer than {UCS2_MAX_UNITS} UCS2 characters", "too-long")
        with self._lock:
            deadline = time.monotonic() + self.timeout_s
            port = self._open()
            try:
                link = _Link(port, self.device, deadline, self.command_timeout_s)
                self._submit(link, phone_e164, text, gsm)
            finally:
                port.close()

    def _submit(self, link: _Link, phone: str, text: str, gsm: bool) -> None:
        self._start(link)
        link.command("AT+CMGF=1")
        if gsm:
            link.command('AT+CSCS="GSM"')
            link.command("AT+CSMP=17,167,0,0")
            number, body = phone, text.encode("ascii")
        else:
            link.command('AT+CSCS="UCS2"')
            link.command("AT+CSMP=17,167,0,8")
            number, body = ucs2_hex(phone), ucs2_hex(text).encode("ascii")
        link.write(f'AT+CMGS="{number}"\r'.encode("ascii"))
        link.wait_prompt("AT+CMGS", link._until(None))
        link.write(body + CTRL_Z)
        try:
            info = link.read_result("AT+CMGS", None, link.deadline)
        except SmsTimeout:
            link.write(ESC)  # leave the modem out of message-entry mode
            raise
        reference = next((line for line in info if line.startswith("+CMGS:")), None)
        log.info("SMS modem %s: message accepted by the network (%s)", self.device, reference or "no reference")

    def check(self) -> ModemStatus:
        """Selftest: the modem answers, the SIM is ready, the network registration and signal strength.

        Raises ``SmsUnavailable`` when the port cannot be opened and ``SmsTimeout`` when the modem is silent.
        """
        with self._lock:
            deadline = time.monotonic() + self.timeout_s
            port = self._open()
            try:
                link = _Link(port, self.device, deadline, self.command_timeout_s)
                self._start(link)
                try:
                    cpin = link.command("AT+CPIN?")
                    sim = next((ln.split(":", 1)[1].strip() for ln in cpin if ln.startswith("+CPIN:")), "unknown")
                except SmsRejected as exc:
                    sim = _describe(exc.code)
                registration = Registration.UNKNOWN
                for line in link.command("AT+CREG?"):
                    match = re.match(r"^\+CREG:\s*\d+\s*,\s*(\d+)", line)
                    if match:
                        registration = _CREG_STAT.get(int(match.group(1)), Registration.UNKNOWN)
                csq: int | None = None
                for line in link.command("AT+CSQ"):
                    match = re.match(r"^\+CSQ:\s*(\d+)\s*,", line)
                    if match and int(match.group(1)) <= 31:
                        csq = int(match.group(1))
                return ModemStatus(self.device, sim, registration, csq)
            finally:
                port.close()
