"""Head office's signed configuration reaches the screens: new consent text, between customers only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hq.keys import load_keys as hq_keys
from hq.service import BrokerOptions, publish_config
from kiosk.app import build
from kiosk.core.consent import ConsentKind
from kiosk.demo import SkewClock, demo_config
from kiosk.keys import dev_hq_dir, ensure_dev_keys
from tests.hw_sim.broker import mosquitto_available, start_broker


@pytest.mark.broker
@pytest.mark.skipif(not mosquitto_available(), reason="mosquitto is not installed")
def test_signed_config_changes_the_consent_between_customers(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    broker = start_broker(tmp_path / "broker")
    cfg = demo_config(tmp_path / "kiosk", sync_port=broker.port)
    ensure_dev_keys(cfg)
    kiosk = build(cfg, clock=SkewClock(), scanner=False)
    ui = kiosk.ui
    try:
        before = kiosk.service.document(ConsentKind.PROCESSING, "ru")
        ui.start_signup()  # a customer is in the middle of signing up
        document = {
            "version": 5,
            "config": {
                "consent": {"version": "2027-01-15"},
                "operator": {"name": "ООО «Зерно Плюс»"},
            },
        }
        publish_config(BrokerOptions(port=broker.port), document, hq_keys(dev_hq_dir(cfg)), [cfg.kiosk.id])
        deadline = time.monotonic() + 10
        while ui._pending_config is None and time.monotonic() < deadline:
            ui.step()
            time.sleep(0.02)
        assert ui._pending_config is not None, "the signed config was not accepted"
        ui.step()
        # the customer on screen keeps the text they started with
        assert kiosk.service.document(ConsentKind.PROCESSING, "ru") == before
        ui.cancel()
        ui.step()
        after = kiosk.service.document(ConsentKind.PROCESSING, "ru")
        assert after.version == "2027-01-15" and after.sha256 != before.sha256
        assert "Зерно Плюс" in after.text
    finally:
        kiosk.close()
        broker.stop()
