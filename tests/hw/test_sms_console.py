"""The console SMS backend, the error types and the backend factory."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kiosk.config import SmsConfig
from kiosk.errors import ConfigError, HardwareError
from kiosk.hw.sms import SmsError, SmsRejected, SmsTimeout, SmsUnavailable, make_sms_sender
from kiosk.hw.sms.console import ConsoleSms
from kiosk.hw.sms.http import HttpSms
from kiosk.hw.sms.modem import ModemSms

PHONE = "+79161234590"


def test_console_keeps_the_code_and_logs_it_masked(caplog: pytest.LogCaptureFixture) -> None:
    sms = ConsoleSms()
    with caplog.at_level(logging.DEBUG, logger="kiosk.hw.sms"):
        sms.send(PHONE, "Код подтверждения: 482913")
    assert sms.outbox == [(PHONE, "Код подтверждения: 482913")]
    assert sms.last_code_for(PHONE) == "482913"
    [record] = [r for r in caplog.records if r.name == "kiosk.hw.sms.console"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "development SMS backend" in message
    assert "+7 *** ***-**-90" in message
    assert "482913" in message
    assert "9161234" not in message


def test_console_last_code_is_per_phone_and_newest() -> None:
    sms = ConsoleSms()
    sms.send(PHONE, "Code 111111")
    sms.send("+79990000011", "Code 222222")
    sms.send(PHONE, "Code 333333, valid 5 min")
    assert sms.last_code_for(PHONE) == "333333"
    assert sms.last_code_for("+79990000011") == "222222"
    assert sms.last_code_for("+79990000099") is None
    assert len(sms.outbox) == 3


def test_console_outbox_is_bounded() -> None:
    sms = ConsoleSms(keep=3)
    for n in range(5):
        sms.send(PHONE, f"Code {100000 + n}")
    assert [text for _, text in sms.outbox] == ["Code 100002", "Code 100003", "Code 100004"]


def test_error_hierarchy() -> None:
    for cls in (SmsTimeout, SmsRejected, SmsUnavailable):
        assert issubclass(cls, SmsError)
    assert issubclass(SmsError, HardwareError)
    assert issubclass(SmsError, RuntimeError)
    err = SmsRejected("SMS modem x: refused", code="cms-331")
    assert err.code == "cms-331"
    assert SmsTimeout.retryable and SmsUnavailable.retryable and not SmsRejected.retryable


def test_factory_builds_each_backend(tmp_path: Path) -> None:
    assert isinstance(make_sms_sender(SmsConfig(), tmp_path), ConsoleSms)
    modem = make_sms_sender(SmsConfig(backend="modem", modem_device="/dev/ttyACM9", timeout_s=7), tmp_path)
    assert isinstance(modem, ModemSms)
    assert (modem.device, modem.timeout_s) == ("/dev/ttyACM9", 7)
    (tmp_path / "sms_http_auth").write_text("Bearer abc\n")
    http = make_sms_sender(SmsConfig(backend="http", http_url="https://sms.example/api"), tmp_path)
    assert isinstance(http, HttpSms)


def test_factory_hq_needs_the_relay(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the hq backend needs the sync link") as info:
        make_sms_sender(SmsConfig(backend="hq"), tmp_path, source="/etc/kiosk/config.toml")
    assert "/etc/kiosk/config.toml: hardware.sms.backend" in str(info.value)

    relayed: list[tuple[str, str]] = []
    sender = make_sms_sender(SmsConfig(backend="hq"), tmp_path, hq_relay=lambda p, t: relayed.append((p, t)))
    sender.send(PHONE, "Code 123456")
    assert relayed == [(PHONE, "Code 123456")]
