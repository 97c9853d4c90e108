"""Answering the kiosks' RPC requests: card lookup, phone lookup and the SMS relay.

Parameters and results (inside the sealed parts of ``kiosk.sync.contract``'s RPC envelopes):

* ``card_lookup`` ``{"card": str}`` -> ``Balance.to_dict()`` (``kiosk.lookup``), or error ``not_found``;
* ``phone_lookup`` ``{"phone": E.164}`` -> ``{"member": bool}``;
* ``send_sms`` ``{"phone": E.164, "text": str}`` -> ``{"sent": true}``, or error ``rate_limited``
  (the per-phone daily or per-kiosk hourly cap, counted here under an HMAC of the phone) or
  ``sms_failed``.

Lookups are limited per kiosk (``lookup_limit`` in any ``lookup_window_s``, both kinds together,
counted in memory): beyond that the answer is ``rate_limited``, so a kiosk cannot enumerate cards or
test which phones are members. The SMS relay only carries one-time-code messages (``is_code_sms``):
one SMS (160 GSM 7-bit characters, or 70 UCS-2 ones), a 4-8 digit code standing as a word of its own
and no link; anything else is ``bad_request``, so a kiosk cannot send arbitrary texts under the
store's name.

Anything malformed is ``bad_request``; an unexpected failure is ``internal``. Error codes carry no data.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hq import records
from hq.keys import HqKeys
from hq.settings import HqSettings
from kiosk.core.validation import mask_phone, normalize_phone
from kiosk.hw.sms import SmsError, SmsSender, fits_one_sms

log = logging.getLogger(__name__)

LOOKUP_LIMIT = 30
LOOKUP_WINDOW_S = 60.0

_CODE_WORD = re.compile(r"(?<!\w)[0-9]{4,8}(?!\w)")
_LINK_MARKS = ("http", "www.", "://")


def is_code_sms(text: str) -> bool:
    """A one-time-code message: fits one SMS, has a 4-8 digit code as a word, carries no link."""
    if not fits_one_sms(text):
        return False
    lowered = text.casefold()
    if any(mark in lowered for mark in _LINK_MARKS):
        return False
    return _CODE_WORD.search(text) is not None


Result = tuple[dict[str, Any] | None, str | None]


def _console_sms() -> SmsSender:
    from kiosk.hw.sms.console import ConsoleSms

    return ConsoleSms()


@dataclass
class RpcHandler:
    engine: Engine
    keys: HqKeys
    settings: HqSettings
    sms: SmsSender = field(default_factory=_console_sms)
    clock: Callable[[], float] = time.time
    lookup_limit: int = LOOKUP_LIMIT
    lookup_window_s: float = LOOKUP_WINDOW_S
    _sms_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _lookup_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _lookups: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)

    def _lookup_allowed(self, kiosk_id: str) -> bool:
        """Count one lookup by ``kiosk_id``; False once it has had ``lookup_limit`` in the window."""
        with self._lookup_lock:
            now = self.clock()
            horizon = now - self.lookup_window_s
            for kid in [k for k, times in self._lookups.items() if not times or times[-1] <= horizon]:
                del self._lookups[kid]  # idle kiosks cost nothing
            times = self._lookups.setdefault(kiosk_id, deque())
            while times and times[0] <= horizon:
                times.popleft()
            if len(times) >= self.lookup_limit:
                return False
            times.append(now)
            return True

    def handle(self, kiosk_id: str, method: str, params: dict[str, Any]) -> Result:
        """``(result, None)`` or ``(None, error_code)``."""
        try:
            if method in ("card_lookup", "phone_lookup") and not self._lookup_allowed(kiosk_id):
                log.info("RPC %s from %s refused: lookup rate limited", method, kiosk_id)
                return None, "rate_limited"
            if method == "card_lookup":
                return self.card_lookup(params)
            if method == "phone_lookup":
                return self.phone_lookup(params)
            if method == "send_sms":
                return self.send_sms(kiosk_id, params)
        except SQLAlchemyError:
            log.exception("RPC %s from %s: database failure", method, kiosk_id)
            return None, "internal"
        return None, "bad_request"

    def card_lookup(self, params: dict[str, Any]) -> Result:
        card = params.get("card")
        if not isinstance(card, str) or not 0 < len(card) <= 32:
            return None, "bad_request"
        try:
            return records.balance(self.engine, self.settings.rules, card, now=self.clock()).to_dict(), None
        except records.UnknownCard:
            return None, "not_found"

    def _phone(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        normal = normalize_phone(value, self.settings.otp.allowed_country_codes)
        return normal if isinstance(normal, str) and normal == value else None

    def phone_lookup(self, params: dict[str, Any]) -> Result:
        phone = self._phone(params.get("phone"))
        if phone is None:
            return None, "bad_request"
        return {"member": records.phone_is_member(self.engine, phone)}, None

    def send_sms(self, kiosk_id: str, params: dict[str, Any]) -> Result:
        phone = self._phone(params.get("phone"))
        text = params.get("text")
        if phone is None or not isinstance(text, str) or not is_code_sms(text):
            return None, "bad_request"
        otp = self.settings.otp
        key = self.keys.phone_key(phone)
        with self._sms_lock:
            now = self.clock()
            per_phone, per_kiosk = records.sms_counts(self.engine, key, kiosk_id, now)
            if per_phone >= otp.per_phone_daily_cap or per_kiosk >= otp.per_kiosk_hourly_cap:
                log.info("SMS to %s from %s refused: rate limited", mask_phone(phone), kiosk_id)
                return None, "rate_limited"
            try:
                self.sms.send(phone, text)
            except SmsError as exc:
                log.warning("SMS to %s from %s failed: %s", mask_phone(phone), kiosk_id, type(exc).__name__)
                return None, "sms_failed"
            records.record_sms(self.engine, key, kiosk_id, now)
        log.info("SMS to %s relayed for %s", mask_phone(phone), kiosk_id)
        return {"sent": True}, None
