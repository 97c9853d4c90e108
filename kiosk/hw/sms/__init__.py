"""Sending one-time codes by SMS.

One interface, :class:`SmsSender`, with one backend per file:

* ``console`` (:mod:`kiosk.hw.sms.console`): development only; logs the message and keeps it in memory;
* ``modem`` (:mod:`kiosk.hw.sms.modem`): a local GSM modem spoken to with AT commands over pyserial;
* ``http`` (:mod:`kiosk.hw.sms.http`): a generic HTTP provider taking a JSON POST;
* ``hq``: relayed through head office over the MQTT link; the sync layer supplies the relay callable.

``send`` blocks (the application calls it from a worker thread, never from the frame loop) and raises an
:class:`SmsError` subclass on failure. Error messages name what failed and never contain the phone number
or the text of the message (which holds the code).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.core.validation import mask_phone
from kiosk.errors import ConfigError, HardwareError

if TYPE_CHECKING:
    from kiosk.config import SmsConfig

__all__ = [
    "HqRelay",
    "SmsError",
    "SmsRejected",
    "SmsSender",
    "SmsTimeout",
    "SmsUnavailable",
    "make_sms_sender",
    "mask_phone",
]


GSM_SINGLE = 160
"""Characters in one SMS in the GSM 7-bit alphabet (an extension character takes two)."""
UCS2_SINGLE = 70
"""UTF-16 code units in one SMS in UCS-2 (any text with a character outside the GSM alphabet)."""

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def sms_length(text: str) -> tuple[int, int]:
    """``(length, limit)`` of ``text`` as one SMS: GSM 7-bit septets and 160, or UCS-2 units and 70."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text):
        return sum(2 if ch in _GSM_EXTENSION else 1 for ch in text), GSM_SINGLE
    return len(text.encode("utf-16-le")) // 2, UCS2_SINGLE


def fits_one_sms(text: str) -> bool:
    length, limit = sms_length(text)
    return 0 < length <= limit


def code_message(lang: str, code: str, store: str) -> str:
    """The one-time-code SMS: with the store's name when it still fits one message, else without.

    One message, because a code split over two can arrive in the wrong order or half, and the GSM
    modem backend and head office's relay both refuse longer texts.
    """
    from kiosk.i18n import t

    text = t(lang, "sms.code", code=code, store=store)
    return text if fits_one_sms(text) else t(lang, "sms.code_short", code=code)


class SmsSender(Protocol):
    """Something that delivers one text message to one phone."""

    def send(self, phone_e164: str, text: str) -> None:
        """Send ``text`` to ``phone_e164``; block until accepted for delivery or raise ``SmsError``."""
        ...


HqRelay = Callable[[str, str], None]
"""``relay(phone_e164, text)``: hands a message to head office; raises ``SmsError`` like a sender."""


class SmsError(HardwareError):
    """Sending an SMS failed. The message names the backend and the cause, never the phone or the text."""

    retryable: bool = False


class SmsTimeout(SmsError):
    """The device or provider did not answer in time."""

    retryable = True


class SmsRejected(SmsError):
    """The provider or the network refused the message; ``code`` is a stable identifier of the reason.

    Codes: ``cms-<n>``/``cme-<n>`` (modem error numbers), ``error`` (a bare modem ``ERROR``),
    ``too-long`` (text does not fit one SMS), ``http-3xx``/``http-4xx`` (``status`` holds the HTTP status).
    """

    def __init__(self, message: str, code: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class SmsUnavailable(SmsError):
    """The device or provider cannot be reached (port missing, connection refused, server error)."""

    retryable = True


class _RelaySms:
    """The ``hq`` backend: hands each message to the relay supplied by the sync link."""

    def __init__(self, relay: HqRelay) -> None:
        self._relay = relay

    def send(self, phone_e164: str, text: str) -> None:
        self._relay(phone_e164, text)


def make_sms_sender(
    cfg: SmsConfig,
    secrets_dir: Path,
    *,
    hq_relay: HqRelay | None = None,
    source: str = "config",
) -> SmsSender:
    """Build the sender chosen by ``cfg.backend``.

    ``secrets_dir`` holds the HTTP provider's Authorization value; ``hq_relay`` is required by the
    ``hq`` backend and comes from the sync link; ``source`` names the configuration file in errors.
    """
    if cfg.backend == "console":
        from kiosk.hw.sms.console import ConsoleSms

        return ConsoleSms()
    if cfg.backend == "modem":
        from kiosk.hw.sms.modem import ModemSms

        return ModemSms(cfg.modem_device, baud=cfg.modem_baud, timeout_s=cfg.timeout_s)
    if cfg.backend == "http":
        from kiosk.hw.sms.http import HttpSms

        return HttpSms.from_config(cfg, secrets_dir, source=source)
    if cfg.backend == "hq":
        if hq_relay is None:
            raise ConfigError(
                source,
                [("hardware.sms.backend", "the hq backend needs the sync link (no head-office relay is set up)")],
            )
        return _RelaySms(hq_relay)
    raise ConfigError(source, [("hardware.sms.backend", f"unknown SMS backend {cfg.backend!r}")])
