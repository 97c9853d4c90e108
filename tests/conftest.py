"""Shared fixtures: a configuration whose state lives in the test's own temporary folder."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from kiosk.config import DEFAULT_CONFIG, Config, validate_config

# Property tests check correctness, not speed: on a shared machine a slow example is not a failure.
settings.register_profile("kiosk", deadline=None)
settings.load_profile("kiosk")

REPO = Path(__file__).resolve().parent.parent


def config_data(**overrides: dict[str, Any]) -> dict[str, Any]:
    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return data


def make_config(tmp_path: Path, **overrides: dict[str, Any]) -> Config:
    data = config_data(**overrides)
    data["paths"] = {"state_dir": "state", "secrets_dir": "secrets", "database": "kiosk.db", "dev_keys": True}
    return validate_config(data, str(tmp_path / "config.toml"), tmp_path)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return make_config(tmp_path)
