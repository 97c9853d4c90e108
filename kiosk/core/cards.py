"""Loyalty card numbers and the payloads scanned back from cards.

A card number is a valid EAN-13 in the GS1 restricted-circulation range (first digit ``2``),
so any till scanner reads it as an in-store code. Kiosks never ask head office for numbers:
each number embeds the issuing kiosk, which makes numbers unique across the fleet::

    2 KKKK SSSSSSS C
    | |    |       +-- EAN-13 check digit
    | |    +---------- sequence inside the kiosk, 0000001..9999999
    | +--------------- kiosk number, 0001..9999
    +----------------- in-store prefix

The QR code printed on a receipt and shown on screen carries ``LC1:<card>.<tag>``, where the
tag is a short HMAC over the card number: it holds no personal data, and forged or enumerated
codes are rejected (DESIGN.md section 4, invariant 7). Everything in the payload is upper-case
letters, digits, ``:`` and ``.``, so the QR stays in the dense alphanumeric mode.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from stdnum import ean

log = logging.getLogger(__name__)

CARD_PREFIX = "2"
CARD_LENGTH = 13
KIOSK_MIN, KIOSK_MAX = 1, 9999
SEQ_MIN, SEQ_MAX = 1, 9_999_999

QR_VERSION = 1
QR_PREFIX = f"LC{QR_VERSION}:"
TAG_BYTES = 5
"""40 bits of HMAC-SHA256: eight base32 characters."""
TAG_LENGTH = 8
MAX_SCAN_LENGTH = 256
"""Longer scans are rejected before any other work is done on them."""

_TAG_CONTEXT = b"card-qr:v1:"
_DIGITS = frozenset("0123456789")
# "LC" + a version + ":" + anything; the version is compared separately so that a newer
# payload is reported as such rather than as garbage.
_QR_RE = re.compile(r"LC([0-9]{1,3}):(.*)", re.ASCII | re.DOTALL)
_QR_V1_BODY_RE = re.compile(r"([0-9]{13})\.([A-Z2-7]{8})", re.ASCII)
_OTHER_EAN_LENGTHS = (8, 12, 14)  # EAN-8, UPC-A, GTIN-14: product barcodes, never our cards


class ScanReason(StrEnum):
    """Why a scanned text is not accepted as one of our cards."""

    EMPTY = "empty"
    """Nothing but whitespace."""
    TOO_LONG = "too_long"
    """Longer than any payload we produce (checked first, before any parsing)."""
    NOT_OURS = "not_ours"
    """Something else entirely: a URL, words, control characters."""
    BAD_FORMAT = "bad_format"
    """Looks like a card number or our QR payload but its layout is wrong."""
    BAD_CHECK_DIGIT = "bad_check_digit"
    """Thirteen digits whose EAN check digit does not match (a misread or a typo)."""
    FOREIGN_PREFIX = "foreign_prefix"
    """A valid product barcode (EAN-13 not starting with 2, EAN-8, UPC-A, GTIN-14) or an
    in-store code outside the kiosk and sequence ranges our cards use."""
    BAD_TAG = "bad_tag"
    """Our QR layout with a tag that does not verify: forged, enumerated or from another fleet key."""
    UNKNOWN_VERSION = "unknown_version"
    """Our QR prefix with a payload version this kiosk does not know."""


@dataclass(frozen=True)
class CardScan:
    """A scan that names one of our cards.

    ``authenticated`` is True only for our QR payload with a valid tag; a bare EAN-13 barcode
    of ours is accepted but is not proof that the card was issued by the fleet.
    """

    card: str
    authenticated: bool


@dataclass(frozen=True)
class ScanRejection:
    reason: ScanReason


def _is_ascii_digits(text: str) -> bool:
    return bool(text) and all(ch in _DIGITS for ch in text)


def card_number(kiosk_number: int, seq: int) -> str:
    """The card number for the ``seq``-th card issued by kiosk ``kiosk_number``.

    Raises ``ValueError`` for numbers outside 1..9999 and 1..9_999_999 (a programming error:
    the configuration and the store keep both in range).
    """
    for name, value, low, high in (
        ("kiosk_number", kiosk_number, KIOSK_MIN, KIOSK_MAX),
        ("seq", seq, SEQ_MIN, SEQ_MAX),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {type(value).__name__}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    body = f"{CARD_PREFIX}{kiosk_number:04d}{seq:07d}"
    return body + ean.calc_check_digit(body)


def card_parts(card: str) -> tuple[int, int]:
    """``(kiosk_number, seq)`` of a card number; ``ValueError`` when it is not one of ours."""
    if not is_card_number(card):
        raise ValueError("not a card number of ours")
    return int(card[1:5]), int(card[5:12])


def is_card_number(text: str) -> bool:
    """True for exactly the strings ``card_number`` can produce."""
    return (
        isinstance(text, str)
        and len(text) == CARD_LENGTH
        and _is_ascii_digits(text)
        and text.startswith(CARD_PREFIX)
        and ean.calc_check_digit(text[:-1]) == text[-1]
        and KIOSK_MIN <= int(text[1:5]) <= KIOSK_MAX
        and SEQ_MIN <= int(text[5:12]) <= SEQ_MAX
    )


def _tag(card: str, mac_key: bytes) -> str:
    digest = hmac.new(mac_key, _TAG_CONTEXT + card.encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest[:TAG_BYTES]).decode("ascii").rstrip("=")


def qr_payload(card: str, mac_key: bytes) -> str:
    """``LC1:<card>.<tag>`` for a card of ours; ``ValueError`` for anything else."""
    if not is_card_number(card):
        raise ValueError("not a card number of ours")
    return f"{QR_PREFIX}{card}.{_tag(card, mac_key)}"


def _check_digits(digits: str) -> ScanRejection | None:
    """Classify an all-ASCII-digit string; None when it is one of our card numbers."""
    if len(digits) == CARD_LENGTH:
        if ean.calc_check_digit(digits[:-1]) != digits[-1]:
            return ScanRejection(ScanReason.BAD_CHECK_DIGIT)
        if not is_card_number(digits):
            return ScanRejection(ScanReason.FOREIGN_PREFIX)
        return None
    if len(digits) in _OTHER_EAN_LENGTHS and ean.is_valid(digits):
        return ScanRejection(ScanReason.FOREIGN_PREFIX)
    return ScanRejection(ScanReason.BAD_FORMAT)


def _parse_qr(version: str, body: str, mac_key: bytes) -> CardScan | ScanRejection:
    if version != str(QR_VERSION):
        return ScanRejection(ScanReason.UNKNOWN_VERSION)
    m = _QR_V1_BODY_RE.fullmatch(body)
    if m is None:
        return ScanRejection(ScanReason.BAD_FORMAT)
    card, tag = m.group(1), m.group(2)
    rejection = _check_digits(card)
    if rejection is not None:
        return rejection
    if not hmac.compare_digest(tag, _tag(card, mac_key)):
        return ScanRejection(ScanReason.BAD_TAG)
    return CardScan(card=card, authenticated=True)


def parse_scan(text: str, mac_key: bytes) -> CardScan | ScanRejection:
    """Classify whatever a scanner produced. Never raises.

    Accepts our QR payload (tag checked in constant time) and a bare EAN-13 card number of ours.
    Surrounding whitespace (a keyboard-wedge scanner's Enter) is ignored, and so is the case of
    the QR payload (a scanner typing with Caps Lock on).
    """
    if not isinstance(text, str):
        return ScanRejection(ScanReason.NOT_OURS)
    if len(text) > MAX_SCAN_LENGTH:
        return ScanRejection(ScanReason.TOO_LONG)
    text = text.strip()
    if not text:
        return ScanRejection(ScanReason.EMPTY)
    if _is_ascii_digits(text):
        rejection = _check_digits(text)
        return rejection if rejection is not None else CardScan(card=text, authenticated=False)
    if text.isdigit():  # decimal digits of another script, such as "٢٠٠..."
        return ScanRejection(ScanReason.BAD_FORMAT)
    if text.isascii():
        m = _QR_RE.fullmatch(text.upper())
        if m is not None:
            return _parse_qr(m.group(1), m.group(2), mac_key)
    return ScanRejection(ScanReason.NOT_OURS)


def wallet_url(template: str | None, card: str) -> str | None:
    """The "add to phone wallet" link for a card, or None when the programme has none."""
    if not template:
        return None
    return template.replace("{card}", card)


def display_number(card: str) -> str:
    """How people see a card number, on screen and on paper: prefix, kiosk, sequence, check digit.

    ``2000100000014`` -> ``2 0001 0000001 4``; anything that is not 13 characters is returned as is.
    """
    if len(card) != 13:
        return card
    return f"{card[0]} {card[1:5]} {card[5:12]} {card[12]}"
