"""The kiosk's retained heartbeat on its status topic (the last will says ``offline``)."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from typing import Any

from kiosk.errors import StoreError
from kiosk.store.db import Store
from kiosk.sync.client import SyncClient, status_payload
from kiosk.sync.counters import Counters
from kiosk.sync.worker import WakeableWorker

log = logging.getLogger(__name__)

Health = Callable[[], dict[str, Any]]


class StatusReporter(WakeableWorker):
    """Publishes the health snapshot every ``sync.heartbeat_s`` and right after each connect."""

    thread_name = "sync-status"

    def __init__(
        self,
        client: SyncClient,
        store: Store,
        counters: Counters,
        health: Health | None = None,
        *,
        config_version: Callable[[], int | None] = lambda: None,
        interval_s: float | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.counters = counters
        self.health = health
        self.config_version = config_version
        self.interval_s = interval_s if interval_s is not None else client.sync.heartbeat_s
        self.state_dir = client.cfg.state_dir
        super().__init__(period_s=self.interval_s)
        client.on_connected(self.wake)

    def snapshot(self) -> dict[str, Any]:
        """Everything the heartbeat reports (no personal data: counts, ages, codes)."""
        now = time.time()
        out: dict[str, Any] = {}
        try:
            backlog, oldest = self.store.outbox_stats(now)
            out["backlog"] = backlog
            out["oldest_event_age_s"] = round(oldest, 1) if oldest is not None else None
        except StoreError:
            out["backlog"] = None
            out["oldest_event_age_s"] = None
        try:
            out["disk_free_mb"] = shutil.disk_usage(self.state_dir).free // (1024 * 1024)
        except OSError:
            out["disk_free_mb"] = None
        try:
            out["config_version"] = self.config_version()
        except StoreError:
            out["config_version"] = None
        health: dict[str, Any] = {}
        if self.health is not None:
            try:
                health = dict(self.health())
            except Exception:
                log.exception("health callback failed")
                health = {"error": "health_unavailable"}
        out["health"] = health
        out["counters"] = self.counters.snapshot()
        return out

    def publish_now(self) -> bool:
        if not self.client.connected:
            return False
        self.client.publish(self.client.topics.status, status_payload("online", **self.snapshot()), retain=True)
        self.counters.inc("heartbeats")
        return True

    def tick(self) -> None:
        self.publish_now()
