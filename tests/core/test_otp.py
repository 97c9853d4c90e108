from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.model import OtpPolicy
from kiosk.core.otp import (
    Challenge,
    Issued,
    RateCounts,
    Refusal,
    Refused,
    Verified,
    challenge_from_dict,
    challenge_to_dict,
    issue,
    phone_key,
    verify,
)

KEY = b"kiosk otp key, 32 bytes long...."
PHONE = "+79991234567"
OTHER_PHONE = "+79161234567"
POLICY = OtpPolicy(
    length=6,
    lifetime_s=300,
    max_attempts=5,
    resend_cooldown_s=60,
    per_phone_daily_cap=5,
    per_kiosk_hourly_cap=30,
    allowed_country_codes=(7,),
)
NO_SENDS = RateCounts(phone_sends_24h=0, kiosk_sends_1h=0)
T0 = 1_800_000_000.0  # a fake clock: plain UNIX seconds


def issued(
    now: float = T0,
    previous: Challenge | None = None,
    policy: OtpPolicy = POLICY,
    phone: str = PHONE,
    counts: RateCounts = NO_SENDS,
) -> Issued:
    result = issue(policy, KEY, phone, now, counts, previous)
    assert isinstance(result, Issued), result
    return result


def refused(result: object) -> Refused:
    assert isinstance(result, Refused), result
    return result


def refused_with(outcome: Verified | tuple[Refused, Challenge], reason: Refusal) -> Challenge:
    assert isinstance(outcome, tuple), outcome
    assert outcome[0].reason is reason
    return outcome[1]


def wrong_digits(code: str) -> str:
    return "".join(str((int(ch) + 1) % 10) for ch in code)


def expected_mac(phone: str, code: str, key: bytes = KEY) -> str:
    pkey = hmac.new(key, b"phone:" + phone.encode(), hashlib.sha256).hexdigest()[:5]
    return hmac.new(key, f"{pkey}:{code}".encode(), hashlib.sha256).hexdigest()


# --- phone keys -------------------------------------------------------------------------


def test_phone_key_is_a_short_hmac_of_the_number() -> None:
    pk = phone_key(KEY, PHONE)
    assert pk == hmac.new(KEY, b"phone:" + PHONE.encode(), hashlib.sha256).hexdigest()[:5]
    assert len(pk) == 5 and PHONE not in pk
    assert phone_key(KEY, PHONE) == pk
    assert phone_key(b"another key", PHONE) != pk
    assert phone_key(KEY, OTHER_PHONE) != pk


def test_issue_normalises_the_number_before_keying() -> None:
    a = issued(phone="+7 999 123-45-67").challenge
    b = issued(phone=PHONE).challenge
    assert a.phone_key == b.phone_key == phone_key(KEY, PHONE)


# --- issuing ----------------------------------------------------------------------------


def test_issued_challenge_fields() -> None:
    result = issued()
    c = result.challenge
    assert c.phone_key == phone_key(KEY, PHONE)
    assert c.issued_at == T0
    assert c.expires_at == T0 + 300
    assert c.resend_at == T0 + 60
    assert c.attempts_left == 5
    assert c.sends == 1
    assert not c.used
    assert c.code_mac == expected_mac(PHONE, result.code)


@pytest.mark.parametrize("length", [4, 6, 8])
def test_codes_have_the_policy_length_and_are_digits(length: int) -> None:
    policy = dataclasses.replace(POLICY, length=length)
    for _ in range(50):
        code = issued(policy=policy).code
        assert len(code) == length
        assert code.isascii() and code.isdigit()


def test_code_mac_never_holds_the_code() -> None:
    for _ in range(10):
        result = issued()
        mac = result.challenge.code_mac
        assert mac != result.code
        assert len(mac) == 64 and set(mac) <= set("0123456789abcdef")
        assert mac == expected_mac(PHONE, result.code)
        # what gets persisted is the two HMACs, times, counters and a flag: no field holds the code
        stored = challenge_to_dict(result.challenge)
        assert set(stored) == {
            "v",
            "phone_key",
            "code_mac",
            "issued_at",
            "expires_at",
            "resend_at",
            "attempts_left",
            "sends",
            "used",
        }
        assert result.code not in stored.values()


def test_issued_repr_hides_the_code() -> None:
    challenge = dataclasses.replace(issued().challenge, phone_key="a" * 5, code_mac="b" * 64)
    shown = repr(Issued(challenge=challenge, code="424242"))
    assert "424242" not in shown and challenge.code_mac in shown


def test_codes_cover_every_digit_in_every_position() -> None:
    seen: list[set[str]] = [set() for _ in range(POLICY.length)]
    for _ in range(2000):
        code = issued().code
        for position, digit in enumerate(code):
            seen[position].add(digit)
    assert all(digits == set("0123456789") for digits in seen), seen


def test_codes_are_not_repeated_from_a_small_pool() -> None:
    codes = {issued().code for _ in range(200)}
    assert len(codes) > 190  # 200 draws from a million: a collision or two at most


@pytest.mark.parametrize("phone", ["+44 7911 123456", "+447911123456", "+1 650 253 0000", "+380501234567"])
def test_number_outside_allowed_countries_is_refused_first(phone: str) -> None:
    # even with every other reason to refuse present, the country is what is reported
    previous = issued().challenge
    exhausted = RateCounts(phone_sends_24h=99, kiosk_sends_1h=99)
    result = issue(POLICY, KEY, phone, T0 + 1, exhausted, previous)
    assert refused(result).reason is Refusal.COUNTRY_NOT_ALLOWED
    assert not hasattr(result, "code")


def test_allowed_countries_follow_the_policy() -> None:
    policy = dataclasses.replace(POLICY, allowed_country_codes=(7, 44))
    assert isinstance(issue(policy, KEY, "+44 7911 123456", T0, NO_SENDS), Issued)
    assert refused(issue(policy, KEY, "+1 650 253 0000", T0, NO_SENDS)).reason is Refusal.COUNTRY_NOT_ALLOWED


@pytest.mark.parametrize("phone", ["", "89991234567", "hello", "+", "+7", "+7999", "+7" + "9" * 80, "\x00"])
def test_unparsable_or_invalid_numbers(phone: str) -> None:
    assert refused(issue(POLICY, KEY, phone, T0, NO_SENDS)).reason is Refusal.INVALID_PHONE


def test_landline_is_refused() -> None:
    assert refused(issue(POLICY, KEY, "+7 495 123-45-67", T0, NO_SENDS)).reason is Refusal.NOT_MOBILE


@given(st.text(max_size=80))
def test_issue_never_raises_on_any_text(phone: str) -> None:
    result = issue(POLICY, KEY, phone, T0, NO_SENDS)
    assert isinstance(result, Issued | Refused)


def test_phone_daily_cap() -> None:
    at_cap = RateCounts(phone_sends_24h=5, kiosk_sends_1h=0)
    assert refused(issue(POLICY, KEY, PHONE, T0, at_cap)).reason is Refusal.PHONE_DAILY_CAP
    below = RateCounts(phone_sends_24h=4, kiosk_sends_1h=0)
    assert isinstance(issue(POLICY, KEY, PHONE, T0, below), Issued)


def test_kiosk_hourly_cap() -> None:
    at_cap = RateCounts(phone_sends_24h=0, kiosk_sends_1h=30)
    assert refused(issue(POLICY, KEY, PHONE, T0, at_cap)).reason is Refusal.KIOSK_HOURLY_CAP
    below = RateCounts(phone_sends_24h=0, kiosk_sends_1h=29)
    assert isinstance(issue(POLICY, KEY, PHONE, T0, below), Issued)


def test_phone_cap_is_reported_before_kiosk_cap() -> None:
    both = RateCounts(phone_sends_24h=5, kiosk_sends_1h=30)
    assert refused(issue(POLICY, KEY, PHONE, T0, both)).reason is Refusal.PHONE_DAILY_CAP


def test_resend_before_cooldown_is_refused_with_retry_after() -> None:
    first = issued().challenge
    result = refused(issue(POLICY, KEY, PHONE, T0 + 20, NO_SENDS, first))
    assert result.reason is Refusal.RESEND_TOO_SOON
    assert result.retry_after_s == pytest.approx(40.0)
    # the cooldown is checked before the caps
    capped = RateCounts(phone_sends_24h=99, kiosk_sends_1h=99)
    assert refused(issue(POLICY, KEY, PHONE, T0 + 59.9, capped, first)).reason is Refusal.RESEND_TOO_SOON


def test_cooldown_applies_only_to_the_same_phone() -> None:
    first = issued().challenge
    other = issued(now=T0 + 1, previous=first, phone=OTHER_PHONE).challenge
    assert other.sends == 1
    assert other.phone_key != first.phone_key


def test_resend_after_cooldown_replaces_the_code() -> None:
    first = issued()
    # one wrong attempt on the first code, then a resend
    after_wrong = refused_with(
        verify(POLICY, KEY, first.challenge, wrong_digits(first.code), T0 + 10), Refusal.WRONG_CODE
    )
    assert after_wrong.attempts_left == 4
    second = issued(now=T0 + 60, previous=after_wrong)
    c2 = second.challenge
    assert c2.sends == 2
    assert c2.attempts_left == POLICY.max_attempts
    assert c2.code_mac != first.challenge.code_mac
    assert c2.issued_at == T0 + 60 and c2.expires_at == T0 + 360 and c2.resend_at == T0 + 120
    if second.code != first.code:  # one chance in a million they coincide
        old = verify(POLICY, KEY, c2, first.code, T0 + 61)
        assert isinstance(old, tuple)
        assert old[0].reason is Refusal.WRONG_CODE
        c2 = old[1]
    assert isinstance(verify(POLICY, KEY, c2, second.code, T0 + 62), Verified)
    third = issued(now=T0 + 120, previous=c2)
    assert third.challenge.sends == 3


def test_used_challenge_does_not_hold_back_a_new_one() -> None:
    first = issued()
    done = verify(POLICY, KEY, first.challenge, first.code, T0 + 5)
    assert isinstance(done, Verified)
    fresh = issued(now=T0 + 10, previous=done.challenge).challenge
    assert fresh.sends == 1 and not fresh.used


# --- verifying --------------------------------------------------------------------------


def test_correct_code_verifies() -> None:
    result = issued()
    ok = verify(POLICY, KEY, result.challenge, result.code, T0 + 30)
    assert isinstance(ok, Verified)
    assert ok.challenge.used
    assert ok.challenge == dataclasses.replace(result.challenge, used=True)


def test_spaces_in_the_entered_code_are_ignored() -> None:
    result = issued()
    spaced = f" {result.code[:3]} {result.code[3:]} "
    assert isinstance(verify(POLICY, KEY, result.challenge, spaced, T0 + 1), Verified)


def test_code_is_refused_after_expiry() -> None:
    result = issued()
    late = verify(POLICY, KEY, result.challenge, result.code, T0 + 300)
    assert isinstance(late, tuple)
    assert late[0].reason is Refusal.EXPIRED
    assert late[1] == result.challenge
    assert isinstance(verify(POLICY, KEY, result.challenge, result.code, T0 + 299.999), Verified)


def test_code_is_refused_on_reuse() -> None:
    result = issued()
    ok = verify(POLICY, KEY, result.challenge, result.code, T0 + 1)
    assert isinstance(ok, Verified)
    again = verify(POLICY, KEY, ok.challenge, result.code, T0 + 2)
    assert isinstance(again, tuple)
    assert again[0].reason is Refusal.ALREADY_USED
    assert again[1].used


def test_attempts_limit() -> None:
    result = issued()
    c = result.challenge
    bad = wrong_digits(result.code)
    for expected_left in (4, 3, 2, 1, 0):
        outcome = verify(POLICY, KEY, c, bad, T0 + 1)
        assert isinstance(outcome, tuple)
        assert outcome[0].reason is Refusal.WRONG_CODE
        c = outcome[1]
        assert c.attempts_left == expected_left
    after = verify(POLICY, KEY, c, result.code, T0 + 2)
    assert isinstance(after, tuple)
    assert after[0].reason is Refusal.ATTEMPTS_EXHAUSTED
    assert after[1] == c


@pytest.mark.parametrize("entered", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "１２３４５６", "-12345", "\x00" * 6])
def test_malformed_entries_count_as_wrong_attempts(entered: str) -> None:
    result = issued()
    outcome = verify(POLICY, KEY, result.challenge, entered, T0 + 1)
    assert isinstance(outcome, tuple)
    assert outcome[0].reason is Refusal.WRONG_CODE
    assert outcome[1].attempts_left == POLICY.max_attempts - 1


def test_a_code_is_bound_to_its_phone_and_key() -> None:
    a = issued()
    b = issued(phone=OTHER_PHONE)
    # b's challenge with a's code: only accepted if the two random codes happen to match
    if a.code != b.code:
        cross = verify(POLICY, KEY, b.challenge, a.code, T0 + 1)
        assert isinstance(cross, tuple) and cross[0].reason is Refusal.WRONG_CODE
    other_key = verify(POLICY, b"some other key", a.challenge, a.code, T0 + 1)
    assert isinstance(other_key, tuple) and other_key[0].reason is Refusal.WRONG_CODE


@given(st.text(max_size=40), st.floats(allow_nan=False))
def test_verify_never_raises(entered: str, now: float) -> None:
    c = issued().challenge
    outcome = verify(POLICY, KEY, c, entered, now)
    assert isinstance(outcome, Verified | tuple)


# --- persistence ------------------------------------------------------------------------


def test_dict_round_trip_through_json() -> None:
    result = issued()
    c = refused_with(verify(POLICY, KEY, result.challenge, wrong_digits(result.code), T0 + 3), Refusal.WRONG_CODE)
    c = dataclasses.replace(c, sends=3)
    data = json.loads(json.dumps(challenge_to_dict(c)))
    back = challenge_from_dict(data)
    assert back == c
    # the restored challenge still verifies the code
    assert isinstance(verify(POLICY, KEY, back, result.code, T0 + 4), Verified)
    used = challenge_from_dict(json.loads(json.dumps(challenge_to_dict(dataclasses.replace(c, used=True)))))
    assert used.used


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"phone_key": "xyz"},
        {"code_mac": 123},
        {"issued_at": "now"},
        {"expires_at": float("inf")},
        {"resend_at": True},
        {"attempts_left": -1},
        {"sends": 1.5},
        {"used": "no"},
    ],
)
def test_dict_with_bad_fields_is_rejected(change: dict[str, object]) -> None:
    data = challenge_to_dict(issued().challenge)
    data.update(change)
    with pytest.raises(ValueError):
        challenge_from_dict(data)


def test_dict_with_missing_field_is_rejected() -> None:
    data = challenge_to_dict(issued().challenge)
    del data["code_mac"]
    with pytest.raises(ValueError):
        challenge_from_dict(data)


def test_a_stored_phone_key_does_not_single_out_a_number() -> None:
    """Even with the key, a stored pseudonym cannot be turned back into one number.

    20 bits over ~10**9 mobile numbers: about 950 numbers share each pseudonym. Seen from the
    other side, 5,000 numbers already collide about 12 times (birthday bound 5000**2 / 2**21);
    a full-length HMAC would never collide.
    """
    assert len(phone_key(KEY, PHONE)) * 4 == 20
    keys = [phone_key(KEY, f"+7916{n:07d}") for n in range(5_000)]
    assert len(set(keys)) < len(keys)
