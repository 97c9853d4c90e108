from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from stdnum import ean

from kiosk.core.cards import (
    QR_PREFIX,
    CardScan,
    ScanReason,
    ScanRejection,
    card_number,
    card_parts,
    is_card_number,
    parse_scan,
    qr_payload,
    wallet_url,
)

KEY = b"fleet card key, 32 bytes long..."
OTHER_KEY = b"another fleet's card key........"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
FOREIGN_EAN = "460000000000" + ean.calc_check_digit("460000000000")  # a valid EAN-13 from another shop
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

kiosks = st.integers(1, 9999)
seqs = st.integers(1, 9_999_999)


def rejected(result: CardScan | ScanRejection) -> ScanReason:
    assert isinstance(result, ScanRejection), result
    return result.reason


# --- card numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(("kiosk", "seq"), [(1, 1), (9999, 9_999_999), (42, 1234)])
def test_card_number_is_valid_in_store_ean13(kiosk: int, seq: int) -> None:
    card = card_number(kiosk, seq)
    assert len(card) == 13 and card.isascii() and card.isdigit()
    assert card.startswith("2")
    assert ean.is_valid(card)
    assert card[1:5] == f"{kiosk:04d}"
    assert card[5:12] == f"{seq:07d}"
    assert is_card_number(card)
    assert card_parts(card) == (kiosk, seq)


def test_known_card_number() -> None:
    # "200010000001": weights 1,3,1,3,... from the left give 2*1 + 1*1 + 1*3 = 6, check digit 10 - 6 = 4
    assert card_number(1, 1) == "2000100000014"
    assert card_number(9999, 9_999_999) == "2999999999991"


@pytest.mark.parametrize(("kiosk", "seq"), [(0, 1), (10_000, 1), (1, 0), (1, 10_000_000), (-1, 5), (True, 1), (1.0, 1)])
def test_card_number_rejects_out_of_range(kiosk: object, seq: object) -> None:
    with pytest.raises(ValueError):
        card_number(kiosk, seq)  # type: ignore[arg-type]


@given(kiosks, seqs, kiosks, seqs)
def test_card_numbers_never_collide(k1: int, s1: int, k2: int, s2: int) -> None:
    same_pair = (k1, s1) == (k2, s2)
    assert (card_number(k1, s1) == card_number(k2, s2)) == same_pair


@given(kiosks, seqs)
def test_card_number_round_trips_through_parts(kiosk: int, seq: int) -> None:
    card = card_number(kiosk, seq)
    assert ean.is_valid(card) and is_card_number(card)
    assert card_parts(card) == (kiosk, seq)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "200010000001",  # 12 digits
        "20001000000140",  # 14 digits
        "2000100000015",  # wrong check digit
        FOREIGN_EAN,  # valid EAN-13, foreign prefix
        "200000000001" + ean.calc_check_digit("200000000001"),  # kiosk 0000
        "200010000000" + ean.calc_check_digit("200010000000"),  # sequence 0
        "٢٠٠٠١٠٠٠٠٠٠١٤",  # Arabic-Indic digits
        " 2000100000014",
    ],
)
def test_is_card_number_false(text: str) -> None:
    assert not is_card_number(text)


def test_card_parts_rejects_foreign() -> None:
    with pytest.raises(ValueError):
        card_parts(FOREIGN_EAN)


# --- QR payloads ------------------------------------------------------------------------


def test_qr_payload_layout_and_tag() -> None:
    card = card_number(7, 123)
    payload = qr_payload(card, KEY)
    assert payload.startswith(QR_PREFIX) and QR_PREFIX == "LC1:"
    body, tag = payload[len(QR_PREFIX) :].split(".")
    assert body == card
    assert len(tag) == 8 and set(tag) <= set(BASE32)
    # the tag is the first 40 bits of HMAC-SHA256 over the context and the card, base32 without padding
    digest = hmac.new(KEY, b"card-qr:v1:" + card.encode(), hashlib.sha256).digest()
    assert base64.b32decode(tag) == digest[:5]
    assert qr_payload(card, OTHER_KEY) != payload


def test_qr_payload_refuses_non_card() -> None:
    with pytest.raises(ValueError):
        qr_payload(FOREIGN_EAN, KEY)
    with pytest.raises(ValueError):
        qr_payload("2000100000015", KEY)


@given(kiosks, seqs)
def test_qr_payload_round_trips(kiosk: int, seq: int) -> None:
    card = card_number(kiosk, seq)
    payload = qr_payload(card, KEY)
    assert set(payload) <= QR_ALPHANUMERIC
    assert parse_scan(payload, KEY) == CardScan(card=card, authenticated=True)
    # a keyboard-wedge scanner adds a newline; Caps Lock turns the payload to lower case
    assert parse_scan(payload + "\r\n", KEY) == CardScan(card=card, authenticated=True)
    assert parse_scan(payload.lower(), KEY) == CardScan(card=card, authenticated=True)


@pytest.mark.parametrize(("kiosk", "seq"), [(1, 1), (9999, 9_999_999), (321, 4567)])
def test_payload_encodes_as_alphanumeric_qr(kiosk: int, seq: int) -> None:
    payload = qr_payload(card_number(kiosk, seq), KEY)
    assert segno.make(payload).mode == "alphanumeric"


def test_every_single_character_change_is_rejected() -> None:
    card = card_number(1234, 567_890)
    payload = qr_payload(card, KEY)
    start = len(QR_PREFIX)
    dot = payload.index(".")
    for i in range(start, len(payload)):
        if i == dot:
            continue
        alphabet = "0123456789" if i < dot else BASE32
        for replacement in alphabet:
            if replacement == payload[i]:
                continue
            forged = payload[:i] + replacement + payload[i + 1 :]
            reason = rejected(parse_scan(forged, KEY))
            expected = ScanReason.BAD_CHECK_DIGIT if i < dot else ScanReason.BAD_TAG
            assert reason is expected, (i, replacement)


def test_changing_the_card_and_its_check_digit_is_caught_by_the_tag() -> None:
    # an attacker who recomputes the EAN check digit still cannot produce a tag
    genuine = qr_payload(card_number(5, 10), KEY)
    other_card = card_number(5, 11)
    forged = QR_PREFIX + other_card + genuine[genuine.index(".") :]
    assert rejected(parse_scan(forged, KEY)) is ScanReason.BAD_TAG


@given(kiosks, seqs)
def test_payload_from_another_key_is_rejected(kiosk: int, seq: int) -> None:
    payload = qr_payload(card_number(kiosk, seq), OTHER_KEY)
    assert rejected(parse_scan(payload, KEY)) is ScanReason.BAD_TAG


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("LC2:2000100000014.AAAAAAAA", ScanReason.UNKNOWN_VERSION),
        ("LC0:2000100000014.AAAAAAAA", ScanReason.UNKNOWN_VERSION),
        ("LC1:", ScanReason.BAD_FORMAT),
        ("LC1:2000100000014", ScanReason.BAD_FORMAT),
        ("LC1:2000100000014.AAAAAAA", ScanReason.BAD_FORMAT),  # 7-character tag
        ("LC1:2000100000014.AAAAAAAAA", ScanReason.BAD_FORMAT),  # 9-character tag
        ("LC1:2000100000014.AAAAAAA1", ScanReason.BAD_FORMAT),  # 1 is not base32
        ("LC1:200010000001.AAAAAAAA", ScanReason.BAD_FORMAT),
        ("LC1:2000100000014.AAAAAAAA\x00", ScanReason.BAD_FORMAT),
        (f"LC1:{FOREIGN_EAN}.AAAAAAAA", ScanReason.FOREIGN_PREFIX),
    ],
)
def test_malformed_payloads(text: str, reason: ScanReason) -> None:
    assert rejected(parse_scan(text, KEY)) is reason


def test_payload_with_foreign_card_but_valid_layout_from_our_key_is_not_accepted() -> None:
    foreign = FOREIGN_EAN
    digest = hmac.new(KEY, b"card-qr:v1:" + foreign.encode(), hashlib.sha256).digest()
    tag = base64.b32encode(digest[:5]).decode()
    assert rejected(parse_scan(f"LC1:{foreign}.{tag}", KEY)) is ScanReason.FOREIGN_PREFIX


# --- bare barcodes and everything else --------------------------------------------------


def test_bare_ean_of_ours_is_accepted_unauthenticated() -> None:
    card = card_number(12, 3456)
    assert parse_scan(card, KEY) == CardScan(card=card, authenticated=False)
    assert parse_scan(f"  {card}\n", KEY) == CardScan(card=card, authenticated=False)


def foreign_ean13(prefix: str) -> str:
    body = prefix.ljust(12, "0")
    return body + ean.calc_check_digit(body)


@pytest.mark.parametrize("prefix", ["46", "460", "978", "0", "5"])
def test_foreign_ean13_is_rejected(prefix: str) -> None:
    code = foreign_ean13(prefix)
    assert ean.is_valid(code)
    assert rejected(parse_scan(code, KEY)) is ScanReason.FOREIGN_PREFIX


def test_other_product_barcodes_are_foreign() -> None:
    ean8 = "9638507" + ean.calc_check_digit("9638507")
    upc = "03600029145" + ean.calc_check_digit("03600029145")
    assert rejected(parse_scan(ean8, KEY)) is ScanReason.FOREIGN_PREFIX
    assert rejected(parse_scan(upc, KEY)) is ScanReason.FOREIGN_PREFIX


def test_in_store_code_outside_our_ranges_is_foreign() -> None:
    kiosk_zero = "200000000001" + ean.calc_check_digit("200000000001")
    seq_zero = "200010000000" + ean.calc_check_digit("200010000000")
    assert rejected(parse_scan(kiosk_zero, KEY)) is ScanReason.FOREIGN_PREFIX
    assert rejected(parse_scan(seq_zero, KEY)) is ScanReason.FOREIGN_PREFIX


def test_bare_ean_with_wrong_check_digit() -> None:
    card = card_number(1, 1)
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert rejected(parse_scan(wrong, KEY)) is ScanReason.BAD_CHECK_DIGIT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", ScanReason.EMPTY),
        ("   \r\n\t", ScanReason.EMPTY),
        ("https://example.com/card/2000100000014", ScanReason.NOT_OURS),
        ("WIFI:S:shop;T:WPA;P:secret;;", ScanReason.NOT_OURS),
        ("hello", ScanReason.NOT_OURS),
        ("\x00", ScanReason.NOT_OURS),
        ("2000100000014\x00", ScanReason.NOT_OURS),
        ("\x00" * 100, ScanReason.NOT_OURS),
        ("٢٠٠٠١٠٠٠٠٠٠١٤", ScanReason.BAD_FORMAT),  # our card number in Arabic-Indic digits
        ("２０００１００００００１４", ScanReason.BAD_FORMAT),  # full-width digits
        ("12345", ScanReason.BAD_FORMAT),
        ("2" * 257, ScanReason.TOO_LONG),
        ("x" * 10_240, ScanReason.TOO_LONG),
        (" " * 300, ScanReason.TOO_LONG),
    ],
)
def test_junk_is_rejected_with_a_reason(text: str, reason: ScanReason) -> None:
    assert rejected(parse_scan(text, KEY)) is reason


def test_ten_kilobytes_of_a_valid_payload_repeated_is_too_long() -> None:
    payload = qr_payload(card_number(1, 1), KEY)
    assert rejected(parse_scan(payload * 400, KEY)) is ScanReason.TOO_LONG


def test_non_string_input_is_rejected() -> None:
    payload = qr_payload(card_number(1, 1), KEY).encode()
    assert rejected(parse_scan(payload, KEY)) is ScanReason.NOT_OURS  # type: ignore[arg-type]
    assert rejected(parse_scan(None, KEY)) is ScanReason.NOT_OURS  # type: ignore[arg-type]


@given(st.text())
def test_parse_scan_never_raises_on_text(text: str) -> None:
    result = parse_scan(text, KEY)
    assert isinstance(result, CardScan | ScanRejection)
    if isinstance(result, CardScan):
        assert is_card_number(result.card)


@given(st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_parse_scan_never_raises_on_bytes(text: str) -> None:
    result = parse_scan(text, KEY)
    assert isinstance(result, CardScan | ScanRejection)
    if isinstance(result, CardScan):
        assert is_card_number(result.card)


@given(kiosks, seqs, st.text(max_size=3), st.text(max_size=3))
def test_parse_scan_on_payload_with_noise(kiosk: int, seq: int, before: str, after: str) -> None:
    card = card_number(kiosk, seq)
    result = parse_scan(before + qr_payload(card, KEY) + after, KEY)
    if isinstance(result, CardScan):
        # only surrounding whitespace (or nothing) may be ignored
        assert not before.strip() and not after.strip()
        assert result == CardScan(card=card, authenticated=True)
    else:
        assert isinstance(result, ScanRejection)


# --- wallet links -----------------------------------------------------------------------


def test_wallet_url() -> None:
    card = card_number(1, 1)
    assert wallet_url("https://wallet.example/add?card={card}", card) == f"https://wallet.example/add?card={card}"
    assert wallet_url("https://w.example/{card}/{card}", card) == f"https://w.example/{card}/{card}"
    assert wallet_url(None, card) is None
    assert wallet_url("", card) is None
