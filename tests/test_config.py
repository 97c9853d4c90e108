"""Configuration: every kind of bad value names the file and the key; the shipped file passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import load_config, validate_config
from kiosk.errors import ConfigError
from tests.conftest import REPO, config_data


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_config(data, "config.toml")
    return str(info.value).splitlines()


def test_shipped_config_passes_config_check() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "config-check", "--config", str(REPO / "config.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "OK"


def test_otp_length_message_is_exact() -> None:
    data = config_data(otp={"length": 3})
    assert problems(data) == ["config.toml: otp.length: must be between 4 and 8, got 3"]


@pytest.mark.parametrize(
    ("section", "values", "location", "fragment"),
    [
        ("kiosk", {"colour": "red"}, "kiosk.colour", "unknown key"),
        ("kiosk", {"number": 0}, "kiosk.number", "greater than or equal to 1"),
        ("kiosk", {"id": "Kiosk 1!"}, "kiosk.id", "pattern"),
        ("kiosk", {"language": "de"}, "kiosk.language", "'ru' or 'en'"),
        ("operator", {"inn": "7707083890"}, "operator.inn", "check digit"),
        ("operator", {"inn": "12345"}, "operator.inn", "INN"),
        ("otp", {"length": 9}, "otp.length", "between 4 and 8, got 9"),
        ("otp", {"allowed_country_codes": []}, "otp.allowed_country_codes", "at least 1"),
        ("form", {"phone": "optional"}, "form.phone", "must be 'required'"),
        ("form", {"passport": "required"}, "form.passport", "unknown key"),
        ("form", {"name": "sometimes"}, "form.name", "'required', 'optional' or 'off'"),
        ("program", {"max_bill_share_pct": 150}, "program.max_bill_share_pct", "less than or equal to 100"),
        ("program", {"wallet_url": "http://x/{card}"}, "program.wallet_url", "https://"),
        ("sync", {"port": 70000}, "sync.port", "less than or equal to 65535"),
    ],
)
def test_bad_values_name_file_and_key(section: str, values: dict, location: str, fragment: str) -> None:
    lines = problems(config_data(**{section: values}))
    matching = [ln for ln in lines if ln.startswith(f"config.toml: {location}: ")]
    assert matching, lines
    assert fragment in matching[0]


def test_tiers_must_ascend() -> None:
    data = config_data()
    data["program"]["tiers"] = list(reversed(data["program"]["tiers"]))
    assert any(ln.startswith("config.toml: program.tiers: ") for ln in problems(data))


def test_nested_hardware_key_path() -> None:
    data = config_data()
    data["hardware"]["printer"]["backend"] = "usb"
    lines = problems(data)
    assert any(ln.startswith("config.toml: hardware.printer: ") and "usb_vendor" in ln for ln in lines)


def test_missing_section_and_bad_toml(tmp_path: Path) -> None:
    data = config_data()
    del data["operator"]
    assert "config.toml: operator: required key is missing" in problems(data)
    bad = tmp_path / "bad.toml"
    bad.write_text("[kiosk\nid = 1", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert str(info.value).startswith(f"{bad}: not valid TOML")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml")
    assert "cannot read the file" in str(info.value)


def test_config_check_cli_lists_each_error(tmp_path: Path) -> None:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = text.replace("length = 6", "length = 3").replace('inn = "7707083893"', 'inn = "1"')
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "kiosk", "config-check", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    lines = out.stdout.splitlines()
    assert f"{path}: otp.length: must be between 4 and 8, got 3" in lines
    assert any(ln.startswith(f"{path}: operator.inn: ") for ln in lines)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    cfg = load_config(REPO / "config.toml")
    assert cfg.state_dir == REPO / "var"
    assert cfg.database_path == REPO / "var" / "kiosk.db"


def test_an_sms_provider_must_be_named_among_the_third_parties() -> None:
    data = config_data(hardware={"sms": {"backend": "http", "http_url": "https://sms.example/send"}})
    lines = problems(data)
    assert any("consent.third_parties" in ln and "SMS provider" in ln for ln in lines), lines
    data["consent"]["third_parties"] = [
        {
            "name": "ООО «СМС-Шлюз»",
            "address": "г. Москва, ул. Связи, 1",
            "purpose": {"ru": "отправка SMS", "en": "sending SMS"},
        }
    ]
    validate_config(data, "config.toml")
