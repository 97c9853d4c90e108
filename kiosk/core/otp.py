"""One-time codes that confirm consent by SMS.

Pure rules, no I/O: the caller passes the time (UNIX seconds), the send counts the store has
counted, and the previous challenge; it persists what comes back.

Neither a code nor a phone number is ever kept. A challenge holds
``code_mac = HMAC-SHA256(key, phone_key + ":" + code)`` and the phone only as ``phone_key``:
the first 20 bits of ``HMAC-SHA256(key, "phone:" + e164)``; rate limits are keyed by it too.

Why only 20 bits: the key sits on the same SD card as the database, and there are only about a
billion Russian mobile numbers, so a full HMAC could be reversed by trying them all. A 20-bit
pseudonym is shared by about a thousand numbers (10**9 / 2**20), so it says nothing about which
one it was, yet two customers of one kiosk on one day almost never share one (and if they do,
they only share the daily cap of codes).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from kiosk.core.model import OtpPolicy

log = logging.getLogger(__name__)

DICT_VERSION = 1
_HEX_RE = re.compile(r"[0-9a-f]+", re.ASCII)
_DIGITS = frozenset("0123456789")
_SMS_CAPABLE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_MAX_PHONE_INPUT = 64


class Refusal(StrEnum):
    """Why a code was not sent or not accepted; the screens translate these."""

    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    INVALID_PHONE = "invalid_phone"
    NOT_MOBILE = "not_mobile"
    """A valid number that cannot receive SMS (a landline, a toll-free number, ...)."""
    PHONE_DAILY_CAP = "phone_daily_cap"
    KIOSK_HOURLY_CAP = "kiosk_hourly_cap"
    RESEND_TOO_SOON = "resend_too_soon"
    EXPIRED = "expired"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    ALREADY_USED = "already_used"
    WRONG_CODE = "wrong_code"


@dataclass(frozen=True)
class Challenge:
    """One outstanding code for one phone; safe to persist (holds neither the code nor the phone)."""

    phone_key: str
    code_mac: str
    """Hex HMAC of the current code; a resend replaces it."""
    issued_at: float
    """When the current code was issued (the latest send)."""
    expires_at: float
    resend_at: float
    """Earliest time another code may be sent for this challenge."""
    attempts_left: int
    sends: int
    """How many codes have been sent in this challenge."""
    used: bool = False


@dataclass(frozen=True)
class Issued:
    """A new code. ``code`` goes to the SMS sender only; the caller must not keep or log it."""

    challenge: Challenge
    code: str

    def __repr__(self) -> str:  # keep the code out of tracebacks and debug logs
        return f"Issued(challenge={self.challenge!r}, code=<{len(self.code)} digits>)"


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Verified:
    challenge: Challenge
    """The challenge with ``used=True``; persist it so the code cannot be replayed."""


@dataclass(frozen=True)
class RateCounts:
    """Codes already sent, counted by the store from persisted send times."""

    phone_sends_24h: int
    """To this ``phone_key`` in the last 24 hours (from any challenge)."""
    kiosk_sends_1h: int
    """By this kiosk in the last hour."""


PHONE_KEY_HEX = 5  # 20 bits: see the module docstring


def phone_key(key: bytes, e164: str) -> str:
    """The pseudonym a phone number is stored and rate-limited under (20 bits of HMAC-SHA256, hex).

    ``e164`` must already be normalised (``+79991234567``): the same number written differently
    gives a different key. ``issue`` normalises before calling this.
    """
    return hmac.new(key, b"phone:" + e164.encode("utf-8"), hashlib.sha256).hexdigest()[:PHONE_KEY_HEX]


def _code_mac(key: bytes, pkey: str, code: str) -> str:
    return hmac.new(key, f"{pkey}:{code}".encode("ascii"), hashlib.sha256).hexdigest()


def _new_code(length: int) -> str:
    return f"{secrets.randbelow(10**length):0{length}d}"


def issue(
    policy: OtpPolicy,
    key: bytes,
    e164: str,
    now: float,
    counts: RateCounts,
    previous: Challenge | None = None,
) -> Issued | Refused:
    """Send a new code for ``e164``, or say why not.

    Checks, in order: the country calling code is allowed (before anything else); the number is
    valid and can receive SMS; the resend cooldown of ``previous`` (when it is an unused
    challenge for the same phone); the per-phone daily and per-kiosk hourly caps. A resend
    replaces the old code: the old one stops working, attempts start again, ``sends`` grows.
    """
    if not isinstance(e164, str) or len(e164) > _MAX_PHONE_INPUT:
        return _refuse(Refused(Refusal.INVALID_PHONE))
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return _refuse(Refused(Refusal.INVALID_PHONE))
    if number.country_code not in policy.allowed_country_codes:
        return _refuse(Refused(Refusal.COUNTRY_NOT_ALLOWED))
    if not phonenumbers.is_valid_number(number):
        return _refuse(Refused(Refusal.INVALID_PHONE))
    if phonenumbers.number_type(number) not in _SMS_CAPABLE:
        return _refuse(Refused(Refusal.NOT_MOBILE))

    pkey = phone_key(key, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    resend = previous is not None and not previous.used and hmac.compare_digest(previous.phone_key, pkey)
    if resend and previous is not None and now < previous.resend_at:
        return _refuse(Refused(Refusal.RESEND_TOO_SOON, retry_after_s=previous.resend_at - now))
    if counts.phone_sends_24h >= policy.per_phone_daily_cap:
        return _refuse(Refused(Refusal.PHONE_DAILY_CAP))
    if counts.kiosk_sends_1h >= policy.per_kiosk_hourly_cap:
        return _refuse(Refused(Refusal.KIOSK_HOURLY_CAP))

    code = _new_code(policy.length)
    challenge = Challenge(
        phone_key=pkey,
        code_mac=_code_mac(key, pkey, code),
        issued_at=now,
        expires_at=now + policy.lifetime_s,
        resend_at=now + policy.resend_cooldown_s,
        attempts_left=policy.max_attempts,
        sends=(previous.sends + 1) if (resend and previous is not None) else 1,
    )
    log.debug("one-time code issued (send %d of this challenge)", challenge.sends)
    return Issued(challenge=challenge, code=code)


def _refuse(refused: Refused) -> Refused:
    log.debug("one-time code refused: %s", refused.reason.value)
    return refused


def verify(
    policy: OtpPolicy, key: bytes, challenge: Challenge, entered: str, now: float
) -> Verified | tuple[Refused, Challenge]:
    """Check a typed code against ``challenge``. Never raises.

    Returns ``Verified`` (with the challenge marked used) or the refusal together with the
    challenge to persist (one attempt fewer after a wrong code). Spaces in ``entered`` are
    ignored; anything that is not ``policy.length`` ASCII digits counts as a wrong attempt.
    """
    if challenge.used:
        return Refused(Refusal.ALREADY_USED), challenge
    if now >= challenge.expires_at:
        return Refused(Refusal.EXPIRED), challenge
    if challenge.attempts_left <= 0:
        return Refused(Refusal.ATTEMPTS_EXHAUSTED), challenge

    candidate = "".join(entered.split()) if isinstance(entered, str) else ""
    well_formed = len(candidate) == policy.length and all(ch in _DIGITS for ch in candidate)
    if well_formed and hmac.compare_digest(_code_mac(key, challenge.phone_key, candidate), challenge.code_mac):
        log.debug("one-time code confirmed")
        return Verified(challenge=replace(challenge, used=True))

    updated = replace(challenge, attempts_left=challenge.attempts_left - 1)
    log.debug("wrong one-time code (%d attempts left)", updated.attempts_left)
    return Refused(Refusal.WRONG_CODE), updated


# --- Persistence -------------------------------------------------------------------------


def challenge_to_dict(c: Challenge) -> dict[str, object]:
    """A JSON-safe form of a challenge (plain str, float, int and bool values)."""
    return {
        "v": DICT_VERSION,
        "phone_key": c.phone_key,
        "code_mac": c.code_mac,
        "issued_at": float(c.issued_at),
        "expires_at": float(c.expires_at),
        "resend_at": float(c.resend_at),
        "attempts_left": int(c.attempts_left),
        "sends": int(c.sends),
        "used": bool(c.used),
    }


def _hex(d: Mapping[str, object], name: str, digits: int = 64) -> str:
    value = d.get(name)
    if not isinstance(value, str) or len(value) != digits or _HEX_RE.fullmatch(value) is None:
        raise ValueError(f"challenge field {name!r} must be {digits} lower-case hex digits")
    return value


def _time(d: Mapping[str, object], name: str) -> float:
    value = d.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"challenge field {name!r} must be a finite number")
    return float(value)


def _count(d: Mapping[str, object], name: str) -> int:
    value = d.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"challenge field {name!r} must be a non-negative integer")
    return value


def challenge_from_dict(d: Mapping[str, object]) -> Challenge:
    """The inverse of ``challenge_to_dict``; ``ValueError`` for a malformed or unknown record."""
    if not isinstance(d, Mapping):
        raise ValueError("a challenge record must be a mapping")
    if d.get("v") != DICT_VERSION:
        raise ValueError(f"unknown challenge record version {d.get('v')!r}")
    used = d.get("used")
    if not isinstance(used, bool):
        raise ValueError("challenge field 'used' must be a boolean")
    return Challenge(
        phone_key=_hex(d, "phone_key", PHONE_KEY_HEX),
        code_mac=_hex(d, "code_mac"),
        issued_at=_time(d, "issued_at"),
        expires_at=_time(d, "expires_at"),
        resend_at=_time(d, "resend_at"),
        attempts_left=_count(d, "attempts_left"),
        sends=_count(d, "sends"),
        used=used,
    )
