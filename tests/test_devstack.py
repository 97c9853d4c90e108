"""`make run` without a display: the demo signs a customer up and the sign-up reaches a local head office."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.demo import run_demo
from tests.hw_sim.broker import mosquitto_available


@pytest.mark.broker
@pytest.mark.skipif(not mosquitto_available(), reason="mosquitto is not installed")
def test_demo_with_local_head_office_delivers_the_signup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    result = run_demo(tmp_path / "demo", with_hq=True)
    assert result["outcome"] == "registered"
    assert result["outbox_after"] == 0
    assert result["hq_registrations"] == 1
    assert (tmp_path / "demo" / "state" / "dev-hq" / "hq.db").exists()
