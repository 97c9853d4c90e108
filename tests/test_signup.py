"""The sign-up service end to end on the real store: the journal, the outbox, OTP persistence."""

from __future__ import annotations

from pathlib import Path

from kiosk.core import cards, otp
from kiosk.core.flow import FlowError, Step
from kiosk.keys import load_keys
from kiosk.signup import CodeRejected, CodeToSend
from tests.conftest import make_config
from tests.signup_helpers import CUSTOMER, FakeClock, harness, sign_up, to_code


def test_signup_writes_one_journal_row_and_one_event(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    first = sign_up(h)
    second = sign_up(h, dict(CUSTOMER, phone="+7 916 000-11-22"))
    journal = h.store.journal()
    assert [j.card_number for j in journal] == [first.card_number, second.card_number]
    assert first.card_number == cards.card_number(cfg.kiosk.number, 1)
    assert second.card_number == cards.card_number(cfg.kiosk.number, 2)
    events = h.store.outbox_batch(10)
    assert [e.event_id for _, e in events] == [j.event_id for j in journal]
    keys = load_keys(cfg)
    scan = cards.parse_scan(first.qr_payload, keys.card_mac)
    assert isinstance(scan, cards.CardScan) and scan.card == first.card_number and scan.authenticated
    assert first.processing.document.text in first.processing.text
    assert first.processing.consent_id in first.processing.text
    assert first.advertising is None


def test_done_only_through_a_confirmed_code(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    s, sent = to_code(h)
    assert isinstance(sent, CodeToSend)
    # a Verified for another challenge (another phone) cannot finish this session
    other = otp.issue(h.service.policy, load_keys(cfg).otp, "+79160001122", h.clock(), otp.RateCounts(0, 0))
    assert isinstance(other, otp.Issued)
    verified = otp.verify(h.service.policy, load_keys(cfg).otp, other.challenge, other.code, h.clock())
    assert isinstance(verified, otp.Verified)
    try:
        s.confirm(verified, h.clock())
    except FlowError:
        pass
    else:
        raise AssertionError("a foreign verification was accepted")
    assert s.step is Step.CODE
    assert h.store.journal() == []


def test_processing_consent_is_required_and_ads_optional(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    s = h.service.start()
    s.accept_rules(h.clock())
    assert not h.service.submit_form(s, dict(CUSTOMER))
    assert s.give_consent(False, True, h.clock()) is False
    assert s.step is Step.CONSENT
    result = sign_up(h, ads=False)
    assert result.advertising is None
    ((_, event),) = h.store.outbox_batch(10)
    assert event.envelope["ads_consent"] is False


def test_wrong_code_then_right_and_attempt_limit(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    s, sent = to_code(h)
    assert isinstance(sent, CodeToSend)
    wrong = "0" * 6 if sent.code != "0" * 6 else "1" * 6
    for left in range(cfg.otp.max_attempts - 1, 0, -1):
        r = h.service.confirm_code(s, wrong, "ru")
        assert isinstance(r, CodeRejected) and r.attempts_left == left and not r.ended
    r = h.service.confirm_code(s, wrong, "ru")
    assert isinstance(r, CodeRejected) and r.ended
    assert s.step is Step.ABANDONED and s.customer is None
    assert h.store.journal() == []


def test_otp_caps_survive_a_store_restart(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, otp={"per_phone_daily_cap": 2, "resend_cooldown_s": 60})
    clock = FakeClock()
    h = harness(cfg, clock)

    def start_code():
        return to_code(h)

    _, first = start_code()
    assert isinstance(first, CodeToSend)
    # a new session for the same phone within the cooldown is still refused after a restart
    h.store.close()
    h = harness(cfg, clock)
    _, again = start_code()
    assert isinstance(again, otp.Refused) and again.reason is otp.Refusal.RESEND_TOO_SOON
    clock.advance(61)
    _, second = start_code()
    assert isinstance(second, CodeToSend)
    clock.advance(61)
    h.store.close()
    h = harness(cfg, clock)
    _, third = start_code()
    assert isinstance(third, otp.Refused) and third.reason is otp.Refusal.PHONE_DAILY_CAP
    clock.advance(86400)
    _, fourth = start_code()
    assert isinstance(fourth, CodeToSend)


def test_outside_country_never_reaches_send(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    s = h.service.start()
    s.accept_rules(h.clock())
    errors = h.service.submit_form(s, dict(CUSTOMER, phone="+44 7911 123456"))
    assert errors == {"phone": "phone_country_not_allowed"}
    assert s.step is Step.FORM
    assert h.store.rate_counts("x", h.clock()) == (0, 0)
    assert h.sent == []


def test_the_record_names_the_text_that_was_ticked_not_the_current_language(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    s, sent = to_code(h, lang="ru")
    assert isinstance(sent, CodeToSend)
    result = h.service.confirm_code(s, sent.code, "en")  # the screen was switched to English afterwards
    from kiosk.core.consent import ConsentKind
    from kiosk.signup import SignupResult

    assert isinstance(result, SignupResult)
    ru = h.service.document(ConsentKind.PROCESSING, "ru")
    assert result.processing.document == ru
    ((_, event),) = h.store.outbox_batch(10)
    assert event.envelope["consents"][0]["sha256"] == ru.sha256
    assert event.envelope["consents"][0]["lang"] == "ru"


def test_code_to_send_never_shows_the_code_or_the_number(tmp_path: Path) -> None:
    h = harness(make_config(tmp_path))
    _session, sent = to_code(h)
    assert isinstance(sent, CodeToSend)
    shown = repr(sent) + str(sent)
    assert sent.code not in shown and "9164827359" not in shown and "+7 *** ***-**-59" in shown
