"""The HTTP SMS backend against a local HTTP server."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import SmsConfig
from kiosk.errors import ConfigError, SecretsError
from kiosk.hw.sms import SmsRejected, SmsTimeout, SmsUnavailable
from kiosk.hw.sms.http import HttpSms, url_problem
from tests.hw_sim.http_sms import SimSmsProvider

PHONE = "+79161234590"
CODE = "482913"
TEXT = f"Код подтверждения: {CODE}"
AUTH = "Bearer k1-7f3a9c0e"


@pytest.fixture
def provider() -> Iterator[SimSmsProvider]:
    with SimSmsProvider() as sim:
        yield sim


def sender_for(url: str, secrets: Path, timeout_s: float = 3.0) -> HttpSms:
    (secrets / "sms_http_auth").write_text(AUTH + "\n")
    cfg = SmsConfig(backend="http", http_url=url, timeout_s=timeout_s)
    return HttpSms.from_config(cfg, secrets)


def assert_private(exc: BaseException) -> None:
    text = str(exc)
    assert PHONE not in text and "9161234" not in text and CODE not in text and AUTH not in text


def test_ok_posts_json_with_the_secret_header(provider: SimSmsProvider, tmp_path: Path) -> None:
    sender_for(provider.url, tmp_path).send(PHONE, TEXT)
    [request] = provider.requests
    assert request.method == "POST" and request.path == "/v1/sms"
    assert request.headers["authorization"] == AUTH
    assert request.headers["content-type"].startswith("application/json")
    assert json.loads(request.body.decode("utf-8")) == {"to": PHONE, "text": TEXT}


def test_server_error_is_unavailable(provider: SimSmsProvider, tmp_path: Path) -> None:
    provider.mode = "500"
    with pytest.raises(SmsUnavailable) as info:
        sender_for(provider.url, tmp_path).send(PHONE, TEXT)
    assert "HTTP 500" in str(info.value)
    assert f"127.0.0.1:{provider.port}" in str(info.value)
    assert_private(info.value)


def test_unauthorized_is_rejected(provider: SimSmsProvider, tmp_path: Path) -> None:
    provider.mode = "401"
    with pytest.raises(SmsRejected) as info:
        sender_for(provider.url, tmp_path).send(PHONE, TEXT)
    assert info.value.code == "http-4xx"
    assert info.value.status == 401
    assert "HTTP 401" in str(info.value)
    assert_private(info.value)


def test_slow_provider_times_out_within_the_budget(provider: SimSmsProvider, tmp_path: Path) -> None:
    provider.mode = "slow"
    sender = sender_for(provider.url, tmp_path, timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(SmsTimeout) as info:
        sender.send(PHONE, TEXT)
    assert time.monotonic() - started < 1.0 + 0.5
    assert_private(info.value)


def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SmsUnavailable) as info:
        sender_for(f"http://127.0.0.1:{port}/sms", tmp_path).send(PHONE, TEXT)
    assert "connection refused" in str(info.value)
    assert_private(info.value)


def test_missing_or_empty_secret_names_the_file(tmp_path: Path) -> None:
    cfg = SmsConfig(backend="http", http_url="https://sms.example/api", http_auth_secret="provider_key")
    with pytest.raises(SecretsError, match="provider_key") as info:
        HttpSms.from_config(cfg, tmp_path)
    assert str(tmp_path / "provider_key") in str(info.value)
    (tmp_path / "provider_key").write_text("  \n")
    with pytest.raises(SecretsError, match="is empty"):
        HttpSms.from_config(cfg, tmp_path)


def test_only_https_except_loopback(tmp_path: Path) -> None:
    assert url_problem("https://sms.example/api") is None
    assert url_problem("http://127.0.0.1:8080/sms") is None
    assert url_problem("http://sms.example/api") is not None
    assert url_problem("ftp://sms.example/") is not None
    (tmp_path / "sms_http_auth").write_text(AUTH)
    cfg = SmsConfig(backend="http", http_url="http://sms.example/api")
    with pytest.raises(ConfigError, match=r"hardware\.sms\.http_url: must start with https://"):
        HttpSms.from_config(cfg, tmp_path)


def test_url_secrets_stay_out_of_messages(provider: SimSmsProvider, tmp_path: Path) -> None:
    provider.mode = "500"
    with pytest.raises(SmsUnavailable) as info:
        sender_for(provider.url + "?api_key=s3cr3t", tmp_path).send(PHONE, TEXT)
    assert "s3cr3t" not in str(info.value)
    assert provider.requests[0].path == "/v1/sms?api_key=s3cr3t"
