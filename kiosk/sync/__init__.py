"""The kiosk's MQTT link to head office (DESIGN.md section 6).

``make_sync`` composes the parts, one module each: ``client`` (the paho session), ``drain`` (the
outbox, acked by head office), ``config_intake`` (signed config), ``rpc`` (lookups, SMS relay),
``status`` (heartbeat). Nothing here blocks the frame loop: paho and three worker threads do the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.config import Config
from kiosk.errors import SecretsError
from kiosk.keys import Keys
from kiosk.store.db import Store
from kiosk.sync.client import SyncClient
from kiosk.sync.config_intake import ConfigIntake
from kiosk.sync.counters import Counters
from kiosk.sync.drain import OutboxDrain
from kiosk.sync.rpc import HqSms, MqttLookup, RpcClient
from kiosk.sync.status import StatusReporter

log = logging.getLogger(__name__)

__all__ = ["HqSms", "MqttLookup", "SyncLink", "make_sync"]


class SyncLink:
    """The composed link: ``start()``, ``stop()``, ``notify_new_event()``, ``lookup``, ``sms``."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        keys: Keys,
        health: Callable[[], dict[str, Any]] | None = None,
        *,
        on_config: Callable[[Config], None] | None = None,
        reconnect_max_s: int = 60,
    ) -> None:
        self.cfg = cfg
        self.enabled = cfg.sync.enabled
        self.counters = Counters()
        self.client = SyncClient(cfg, self.counters, reconnect_max_s=reconnect_max_s)
        self.drain = OutboxDrain(self.client, store, self.counters)
        self.config = ConfigIntake(cfg, store, self.counters, on_apply=on_config)
        self.client.on_message(self.client.topics.config, self.config.submit)
        self.rpc = RpcClient(self.client, keys.hq_seal_public, self.counters)
        self.status = StatusReporter(
            self.client, store, self.counters, health, config_version=lambda: self.config.applied_version
        )
        self.lookup = MqttLookup(self.rpc)
        self.sms = HqSms(self.rpc)
        self._running = False

    @property
    def connected(self) -> bool:
        return self.client.connected

    def set_config_listener(self, on_config: Callable[[Config], None]) -> None:
        self.config.on_apply = on_config

    def start(self) -> None:
        """Re-apply the stored head-office config and, if enabled, start connecting (never blocks)."""
        if self._running:
            return
        self.config.start()
        if not self.enabled:
            log.warning("sync is disabled in the configuration; sign-ups wait in the outbox")
            return
        try:
            self.client.start()
        except (SecretsError, OSError, ValueError) as exc:
            log.error("sync cannot start (%s); sign-ups wait in the outbox", exc)
            return
        self.drain.start()
        self.status.start()
        self._running = True

    def stop(self) -> None:
        self.status.stop()
        self.drain.stop()
        self.client.stop()
        self.config.stop()
        self._running = False

    def notify_new_event(self) -> None:
        """Call after a sign-up was written: the drain looks at the outbox at once."""
        self.drain.notify()

    def status_counters(self) -> dict[str, int | str]:
        out = self.counters.snapshot()
        out["connected"] = int(self.client.connected)
        out["inflight"] = self.drain.inflight
        return out


def make_sync(
    cfg: Config,
    store: Store,
    keys: Keys,
    health: Callable[[], dict[str, Any]] | None = None,
    *,
    on_config: Callable[[Config], None] | None = None,
) -> SyncLink:
    return SyncLink(cfg, store, keys, health, on_config=on_config)
