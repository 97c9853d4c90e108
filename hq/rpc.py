"""Answering the kiosks' RPC requests: card lookup, phone lookup and the SMS relay.

Parameters and results (inside the sealed parts of ``kiosk.sync.contract``'s RPC envelopes):

* ``card_lookup`` ``{"card": str}`` -> ``Balance.to_dict()`` (``kiosk.lookup``), or error ``not_found``;
* ``phone_lookup`` ``{"phone": E.164}`` -> ``{"member": bool}``;
* ``send_sms`` ``{"phone": E.164, "text": str}`` -> ``{"sent": true}``, or error ``rate_limited``
  (the per-phone daily or per-kiosk hourly cap, counted here under an HMAC of the phone) or
  ``sms_failed``.

Anything malformed is ``bad_request``; an unexpected failure is ``internal``. Error codes carry no data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hq import records
from hq.keys import HqKeys
from hq.settings import HqSettings
from kiosk.core.validation import mask_phone, normalize_phone
from kiosk.hw.sms import SmsError, SmsSender

log = logging.getLogger(__name__)

MAX_SMS_TEXT = 480

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
    _sms_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def handle(self, kiosk_id: str, method: str, params: dict[str, Any]) -> Result:
        """``(result, None)`` or ``(None, error_code)``."""
        try:
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
        if phone is None or not isinstance(text, str) or not 0 < len(text) <= MAX_SMS_TEXT:
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
