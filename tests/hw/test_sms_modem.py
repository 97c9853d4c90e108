"""The GSM modem backend against a simulated modem on a real pseudo-terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kiosk.hw.sms import SmsError, SmsRejected, SmsTimeout, SmsUnavailable
from kiosk.hw.sms.modem import ModemSms, Registration, fits_gsm7, ucs2_hex
from tests.hw_sim.modem import SimModem

PHONE = "+79161234590"
CODE = "482913"


@pytest.fixture
def modem() -> Iterator[SimModem]:
    with SimModem() as sim:
        yield sim


def assert_private(exc: BaseException) -> None:
    text = str(exc)
    assert PHONE not in text and PHONE[1:] not in text and "9161234" not in text
    assert ucs2_hex(PHONE) not in text
    assert CODE not in text


def test_cyrillic_text_arrives_intact_via_ucs2(modem: SimModem) -> None:
    text = f"Код подтверждения: {CODE}. Никому его не сообщайте."
    ModemSms(modem.path, timeout_s=5).send(PHONE, text)
    [sent] = modem.sent
    assert sent.text == text
    assert sent.number == PHONE
    assert (sent.charset, sent.dcs) == ("UCS2", 8)
    # The number itself went over the wire as UCS2 hex.
    assert f'AT+CMGS="{ucs2_hex(PHONE)}"' in modem.commands


def test_latin_text_goes_as_gsm7(modem: SimModem) -> None:
    text = f"Your code: {CODE} (valid 5 min)"
    ModemSms(modem.path, timeout_s=5).send(PHONE, text)
    [sent] = modem.sent
    assert sent.text == text
    assert (sent.number, sent.charset, sent.dcs) == (PHONE, "GSM", 0)


def test_ascii_outside_the_shared_gsm_codes_goes_as_ucs2(modem: SimModem) -> None:
    # '@' and '_' have other codes in the GSM alphabet: sent raw under CSCS="GSM" they would arrive wrong.
    text = f"code_{CODE}@shop"
    ModemSms(modem.path, timeout_s=5).send(PHONE, text)
    assert modem.sent[0].text == text
    assert modem.sent[0].charset == "UCS2"


def test_dialogue_order(modem: SimModem) -> None:
    ModemSms(modem.path, timeout_s=5).send(PHONE, f"Code {CODE}")
    assert modem.commands[:4] == ["AT", "ATE0", "AT+CMEE=1", "AT+CMGF=1"]
    assert modem.commands[-1].startswith("AT+CMGS=")


def test_sends_twice_on_one_modem(modem: SimModem) -> None:
    sender = ModemSms(modem.path, timeout_s=5)
    sender.send(PHONE, "Code 111111")
    sender.send(PHONE, "Код 222222")
    assert [s.text for s in modem.sent] == ["Code 111111", "Код 222222"]


def test_no_network_is_rejected_with_a_clear_message(modem: SimModem) -> None:
    modem.no_network = True
    with pytest.raises(SmsRejected) as info:
        ModemSms(modem.path, timeout_s=5).send(PHONE, f"Код {CODE}")
    assert info.value.code == "cms-331"
    assert "no network" in str(info.value)
    assert "331" in str(info.value)
    assert modem.path in str(info.value)
    assert_private(info.value)
    assert modem.sent == []


@pytest.mark.parametrize(
    ("number", "meaning"),
    [(330, "SMSC address unknown"), (500, "unknown error"), (310, "SIM not inserted"), (322, "memory full")],
)
def test_cms_errors_are_named(modem: SimModem, number: int, meaning: str) -> None:
    modem.cms_error = number
    with pytest.raises(SmsRejected) as info:
        ModemSms(modem.path, timeout_s=5).send(PHONE, f"Code {CODE}")
    assert info.value.code == f"cms-{number}"
    assert meaning in str(info.value)
    assert_private(info.value)


def test_silent_modem_times_out_within_the_budget(modem: SimModem) -> None:
    modem.silent = True
    sender = ModemSms(modem.path, timeout_s=1.5)
    started = time.monotonic()
    with pytest.raises(SmsTimeout) as info:
        sender.send(PHONE, f"Code {CODE}")
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 0.5
    assert "no answer to AT" in str(info.value)
    assert_private(info.value)


def test_drop_after_prompt_times_out_within_the_budget(modem: SimModem) -> None:
    modem.drop_after_prompt = True
    sender = ModemSms(modem.path, timeout_s=1.5)
    started = time.monotonic()
    with pytest.raises(SmsTimeout) as info:
        sender.send(PHONE, f"Код {CODE}")
    assert time.monotonic() - started < 1.5 + 0.5
    assert "AT+CMGS" in str(info.value)
    assert_private(info.value)
    # The modem was taken out of message entry: it answers the next command again.
    modem.drop_after_prompt = False
    sender.send(PHONE, "Code 999999")
    assert [s.text for s in modem.sent] == ["Code 999999"]


def test_slow_modem_within_budget_still_sends(modem: SimModem) -> None:
    modem.delay_s = 0.1
    ModemSms(modem.path, timeout_s=5).send(PHONE, f"Code {CODE}")
    assert modem.sent[0].text == f"Code {CODE}"


def test_slow_modem_beyond_budget_times_out(modem: SimModem) -> None:
    modem.delay_s = 0.4  # nine commands: 3.6 s, more than the budget
    started = time.monotonic()
    with pytest.raises(SmsTimeout):
        ModemSms(modem.path, timeout_s=1.0).send(PHONE, f"Code {CODE}")
    assert time.monotonic() - started < 1.0 + 0.5


def test_missing_port_is_unavailable(tmp_path: object) -> None:
    with pytest.raises(SmsUnavailable) as info:
        ModemSms("/dev/ttyNO-SUCH-MODEM", timeout_s=2).send(PHONE, f"Code {CODE}")
    assert "/dev/ttyNO-SUCH-MODEM" in str(info.value)
    assert "cannot open" in str(info.value)
    assert_private(info.value)


def test_too_long_text_is_refused_before_the_modem(modem: SimModem) -> None:
    with pytest.raises(SmsRejected) as info:
        ModemSms(modem.path, timeout_s=2).send(PHONE, "Ж" * 71)
    assert info.value.code == "too-long"
    assert modem.commands == []
    ModemSms(modem.path, timeout_s=2).send(PHONE, "Ж" * 70)
    assert modem.sent[0].text == "Ж" * 70


def test_check_reports_a_healthy_modem(modem: SimModem) -> None:
    status = ModemSms(modem.path, timeout_s=5).check()
    assert status.sim == "READY"
    assert status.registration is Registration.HOME
    assert status.signal_csq == 20 and status.signal_dbm == -73
    assert status.ok


def test_check_reports_no_network_and_no_sim(modem: SimModem) -> None:
    modem.no_network = True
    modem.sim_missing = True
    status = ModemSms(modem.path, timeout_s=5).check()
    assert status.sim == "SIM not inserted"
    assert status.registration is Registration.NOT_REGISTERED
    assert status.signal_csq is None and status.signal_dbm is None
    assert not status.ok


def test_check_on_a_silent_modem_times_out(modem: SimModem) -> None:
    modem.silent = True
    with pytest.raises(SmsError):
        ModemSms(modem.path, timeout_s=1.0).check()


def test_gsm7_choice() -> None:
    assert fits_gsm7("Your code: 123456.\nThanks!")
    assert not fits_gsm7("Код 123456")
    assert not fits_gsm7("a@b")
    assert not fits_gsm7("price $5")
    assert ucs2_hex("+7Ж") == "002B00370416"
