"""A real kiosk (store, keys, simulated printer/SMS/panel) on the dummy video driver, with a movable clock."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from kiosk.app import build
from kiosk.demo import SkewClock, demo_config
from kiosk.screens.virtual_customer import VirtualCustomer


@pytest.fixture
def kiosk_env(tmp_path: Path):
    cfg = demo_config(tmp_path)
    log_path = cfg.state_dir / "kiosk.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    clock = SkewClock()
    kiosk = build(cfg, clock=clock, receipts_dir=tmp_path / "receipts", scanner=False)
    customer = VirtualCustomer(kiosk.ui, skip_time=clock.skip, sms=kiosk.sms)
    yield kiosk, customer, clock, tmp_path
    kiosk.close()
    root.removeHandler(handler)
    root.setLevel(old)
    handler.close()
