"""Heartbeat, last will, and the one clear line when sync cannot run."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from kiosk import __version__
from kiosk.config import Config
from kiosk.keys import Keys
from kiosk.lookup import LookupUnavailable
from kiosk.store.db import Store
from kiosk.sync import make_sync
from tests.conftest import REPO, make_config
from tests.hw_sim.broker import Broker, free_port
from tests.sync.conftest import HeadOffice, add_events, wait_until


def test_heartbeat_reports_health_backlog_and_counters(
    sync_cfg: Config, store: Store, keys: Keys, hq: HeadOffice
) -> None:
    add_events(store, sync_cfg, keys, 3)
    health = {"printer": "ok", "paper": "low", "camera": "ok"}
    link = make_sync(sync_cfg, store, keys, lambda: health)
    link.start()
    try:
        assert wait_until(lambda: any("backlog" in s for s in hq.statuses))
        beat = next(s for s in hq.statuses if "backlog" in s)
        assert beat["state"] == "online"
        assert beat["version"] == __version__
        assert beat["health"] == health
        assert beat["backlog"] == 3
        assert beat["oldest_event_age_s"] >= 0
        assert beat["disk_free_mb"] > 0
        assert beat["config_version"] is None
        assert {"reconnects", "bad_acks", "rpc_bad_replies", "configs_rejected"} <= set(beat["counters"])
        assert beat["ts"].endswith("Z")
    finally:
        link.stop()
    # A clean stop leaves "offline" retained.
    assert wait_until(lambda: hq.statuses[-1]["state"] == "offline")


KIOSK_PROCESS = """
import json, sys, time
from kiosk.config import validate_config
from kiosk.sync.client import SyncClient
cfg = validate_config(json.loads(sys.argv[1]))
client = SyncClient(cfg)
client.start()
if client.wait_connected(10):
    print("connected", flush=True)
time.sleep(60)
"""


def test_last_will_publishes_retained_offline_when_the_kiosk_dies(
    sync_cfg: Config, broker: Broker, hq: HeadOffice
) -> None:
    data = sync_cfg.model_dump(mode="json")
    proc = subprocess.Popen(
        [sys.executable, "-c", KIOSK_PROCESS, json.dumps(data)],
        stdout=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"connected"
        assert wait_until(lambda: bool(hq.statuses) and hq.statuses[-1]["state"] == "online")
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        assert wait_until(lambda: hq.statuses[-1]["state"] == "offline", timeout=5)
    finally:
        proc.kill()
        proc.wait()
    # Retained: a newcomer sees "offline" at once.
    hq.close()
    late = HeadOffice(broker, hq.topics, hq.hq_private)
    try:
        assert wait_until(lambda: bool(late.statuses))
        assert late.statuses[-1]["state"] == "offline"
    finally:
        late.close()


def test_disabled_sync_logs_one_line_and_waits(
    store: Store, sync_cfg: Config, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = make_config(sync_cfg.base_dir, sync={"enabled": False})
    add_events(store, cfg, keys, 2)
    caplog.set_level(logging.INFO, logger="kiosk.sync")
    link = make_sync(cfg, store, keys)
    link.start()
    try:
        time.sleep(0.3)
        lines = [r for r in caplog.records if r.name.startswith("kiosk.sync")]
        assert len(lines) == 1 and "disabled" in lines[0].getMessage()
        assert store.outbox_stats(time.time())[0] == 2
        with pytest.raises(LookupUnavailable):
            link.lookup.card("0001000000000017")
    finally:
        link.stop()


def test_unreachable_broker_logs_one_line(
    store: Store, sync_cfg: Config, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = make_config(sync_cfg.base_dir, sync={"port": free_port()})
    caplog.set_level(logging.INFO, logger="kiosk.sync")
    link = make_sync(cfg, store, keys)
    t0 = time.monotonic()
    link.start()
    assert time.monotonic() - t0 < 0.2  # never blocks the caller
    try:
        assert wait_until(lambda: link.status_counters()["connect_failures"] >= 2, timeout=6)
        warnings = [r for r in caplog.records if r.name.startswith("kiosk.sync") and r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "not reachable" in warnings[0].getMessage()
    finally:
        link.stop()
