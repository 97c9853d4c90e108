"""Draining the sealed outbox to head office, in order, at least once.

An outbox row is deleted only when head office's application-level ack names its event id (a
broker PUBACK only means the broker has it in memory). At most ``sync.max_inflight`` events are
unacknowledged at a time; events not acked within ``resend_after_s``, and everything in flight
after a reconnect, are published again (head office is idempotent on ``event_id``). The backlog
is the store itself, so it survives restarts.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kiosk.store.db import Store
from kiosk.sync import contract
from kiosk.sync.client import SyncClient
from kiosk.sync.counters import Counters
from kiosk.sync.worker import WakeableWorker

log = logging.getLogger(__name__)

RECENT_ACKS = 20_000  # ids acked lately, to tell a duplicate ack from an unknown one


class OutboxDrain(WakeableWorker):
    """A worker thread publishing the outbox while connected; ``notify()`` wakes it for a new event."""

    thread_name = "outbox-drain"

    def __init__(
        self,
        client: SyncClient,
        store: Store,
        counters: Counters | None = None,
        *,
        max_inflight: int | None = None,
        resend_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.store = store
        self.counters = counters or client.counters
        self.max_inflight = max_inflight or client.sync.max_inflight
        self.resend_after_s = resend_after_s
        self.clock = clock
        self._topic = client.topics.events
        self._acks: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        super().__init__(period_s=1.0)
        # Owned by the worker thread only:
        self._inflight: OrderedDict[str, tuple[int, float]] = OrderedDict()  # event_id -> (row id, sent at)
        self._cursor = 0  # highest outbox row id published since the last (re)connect
        self._epoch = -1
        self._sent: set[str] = set()
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._inflight_n = 0  # a copy readable from other threads
        client.on_message(client.topics.acks, self._on_ack)
        client.on_connected(self.notify)

    # --- other threads ---------------------------------------------------------------------

    def notify(self) -> None:
        """A new event was written (or the link came up): look at the outbox now."""
        self._wake.set()

    @property
    def inflight(self) -> int:
        return self._inflight_n

    def _on_ack(self, payload: bytes, _props: Any) -> None:  # paho's thread: enqueue only
        self._acks.put(payload)
        self._wake.set()

    # --- the worker ------------------------------------------------------------------------

    def tick(self) -> None:
        self.step()

    def step(self) -> None:
        """One pass: apply acks, then (when connected) republish what is due and fill the window."""
        self._apply_acks()
        if not self.client.connected:
            return
        epoch = self.client.epoch
        if epoch != self._epoch:
            # A new connection: everything in flight may be lost with the old one; start again
            # from the oldest outbox row so order is kept.
            self._epoch = epoch
            self._inflight.clear()
            self._cursor = 0
        self._resend_overdue()
        self._fill()
        self._inflight_n = len(self._inflight)

    def _apply_acks(self) -> None:
        ids: list[str] = []
        while True:
            try:
                payload = self._acks.get_nowait()
            except queue.Empty:
                break
            try:
                ids.extend(contract.parse_ack(payload))
            except contract.BadMessage as exc:
                self.counters.inc("bad_acks")
                log.warning("ignored a malformed ack (%d bytes): %s", len(payload), exc)
        if not ids:
            return
        unique = list(dict.fromkeys(ids))
        repeated = len(ids) - len(unique)  # the same id twice in this pass
        duplicates = [i for i in unique if i in self._recent]
        fresh = [i for i in unique if i not in self._recent]
        deleted = self.store.ack(fresh) if fresh else 0
        for event_id in unique:
            self._inflight.pop(event_id, None)
            self._sent.discard(event_id)
        for event_id in fresh:
            self._recent[event_id] = None
        while len(self._recent) > RECENT_ACKS:
            self._recent.popitem(last=False)
        unknown = len(fresh) - deleted
        self.counters.inc("events_acked", deleted)
        if duplicates or repeated:
            self.counters.inc("duplicate_acks", len(duplicates) + repeated)
        if unknown:
            self.counters.inc("unknown_acks", unknown)
            log.info("ignored %d acked ids the outbox does not hold", unknown)
        self._inflight_n = len(self._inflight)

    def _publish(self, event_id: str, payload: bytes, now: float) -> None:
        # the envelope goes out exactly as it was stored at sign-up: no parse, no re-encoding
        self.client.publish(self._topic, payload)
        if event_id in self._sent:
            self.counters.inc("events_republished")
        else:
            self._sent.add(event_id)
            self.counters.inc("events_published")

    def _resend_overdue(self) -> None:
        now = self.clock()
        due = [eid for eid, (_row, at) in self._inflight.items() if now - at >= self.resend_after_s]
        if not due:
            return
        rows = {eid: row for eid, (row, _at) in self._inflight.items()}
        # Re-read them (in order) from the store: an ack may have raced the resend.
        first = min(rows[e] for e in due) - 1
        batch = self.store.outbox_payloads(len(self._inflight), after_id=first)
        wanted = set(due)
        resent = []
        for row_id, event_id, payload in batch:
            if event_id in wanted:
                self._publish(event_id, payload, now)
                self._inflight[event_id] = (row_id, now)
                resent.append(event_id)
        for eid in wanted.difference(resent):
            self._inflight.pop(eid, None)  # gone from the outbox meanwhile
        if resent:
            log.info("republished %d events not acknowledged within %.0f s", len(resent), self.resend_after_s)
            self.store.note_attempt(resent)

    def _fill(self) -> None:
        room = self.max_inflight - len(self._inflight)
        if room <= 0:
            return
        batch = self.store.outbox_payloads(room, after_id=self._cursor)
        if not batch:
            return
        now = self.clock()
        published = []
        for row_id, event_id, payload in batch:
            self._cursor = row_id
            if event_id in self._inflight:
                continue
            self._publish(event_id, payload, now)
            self._inflight[event_id] = (row_id, now)
            published.append(event_id)
        if published:
            # the first publish is not written down: ``attempts`` counts re-deliveries, so the
            # steady drain costs no write (and no fsync) per window
            log.debug("published %d events, %d in flight", len(published), len(self._inflight))
