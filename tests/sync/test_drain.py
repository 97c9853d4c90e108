"""The outbox drain against a real Mosquitto: order, app-level acks, in-flight bound, broker crashes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kiosk.config import Config
from kiosk.keys import Keys
from kiosk.store.db import Store
from kiosk.sync import SyncLink, make_sync
from kiosk.sync.client import SyncClient
from kiosk.sync.drain import OutboxDrain
from tests.hw_sim.broker import Broker
from tests.sync.conftest import HeadOffice, add_events, wait_until


@pytest.fixture
def link(sync_cfg: Config, store: Store, keys: Keys) -> Iterator[SyncLink]:
    sync = make_sync(sync_cfg, store, keys, lambda: {"printer": "ok"})
    yield sync
    sync.stop()


def outbox_ids(store: Store) -> list[str]:
    return [e.event_id for _, e in store.outbox_batch(100_000)]


def test_events_arrive_in_order_and_are_deleted_only_on_app_ack(
    link: SyncLink, store: Store, sync_cfg: Config, keys: Keys, hq: HeadOffice
) -> None:
    ids = add_events(store, sync_cfg, keys, 8)
    link.start()
    assert wait_until(lambda: len(hq.distinct()) == 8)
    assert hq.distinct() == ids  # insertion order
    time.sleep(0.3)  # broker PUBACKs have long arrived: nothing may be deleted for them
    assert outbox_ids(store) == ids
    hq.ack(ids[:3])
    assert wait_until(lambda: outbox_ids(store) == ids[3:])
    # A new sign-up is picked up promptly after notify.
    more = add_events(store, sync_cfg, keys, 1, start=100)
    t0 = time.monotonic()
    link.notify_new_event()
    assert wait_until(lambda: more[0] in hq.distinct(), timeout=2)
    assert time.monotonic() - t0 < 0.5
    hq.ack(ids[3:] + more)
    assert wait_until(lambda: outbox_ids(store) == [])
    assert link.status_counters()["events_acked"] == 9


def test_unacked_events_stay_and_are_republished_after_reconnect(
    link: SyncLink, store: Store, sync_cfg: Config, keys: Keys, hq: HeadOffice, broker: Broker
) -> None:
    ids = add_events(store, sync_cfg, keys, 5)
    link.start()
    assert wait_until(lambda: len(hq.distinct()) == 5)
    broker.restart()  # clean restart: both sides reconnect
    assert wait_until(lambda: link.status_counters()["reconnects"] >= 1, timeout=10)
    assert wait_until(lambda: link.status_counters()["events_republished"] >= 5, timeout=10)
    # The whole window again, in order (the broker may also redeliver its own unfinished
    # deliveries to head office's session first; those are the broker's duplicates, not ours).
    assert wait_until(lambda: hq.events[-5:] == ids)
    assert len(hq.events) >= 10
    assert outbox_ids(store) == ids


def test_overdue_events_are_republished_while_connected(
    sync_cfg: Config, store: Store, keys: Keys, hq: HeadOffice
) -> None:
    ids = add_events(store, sync_cfg, keys, 3)
    client = SyncClient(sync_cfg)
    drain = OutboxDrain(client, store, resend_after_s=0.5)
    client.start()
    drain.start()
    try:
        assert wait_until(lambda: len(hq.events) >= 6, timeout=5)
        assert hq.events[:3] == ids and hq.events[3:6] == ids
        hq.ack(ids)
        assert wait_until(lambda: outbox_ids(store) == [])
    finally:
        drain.stop()
        client.stop()


def test_inflight_is_bounded_by_head_office_acks(
    link: SyncLink, store: Store, sync_cfg: Config, keys: Keys, hq: HeadOffice
) -> None:
    assert sync_cfg.sync.max_inflight == 10
    ids = add_events(store, sync_cfg, keys, 25)
    link.start()
    assert wait_until(lambda: len(hq.distinct()) == 10)
    time.sleep(0.5)
    assert hq.distinct() == ids[:10]
    hq.ack(ids[:4])
    assert wait_until(lambda: len(hq.distinct()) == 14)
    time.sleep(0.3)
    assert hq.distinct() == ids[:14]
    assert link.status_counters()["inflight"] == 10


def test_broker_killed_mid_drain_loses_nothing(
    link: SyncLink, store: Store, sync_cfg: Config, keys: Keys, hq: HeadOffice, broker: Broker
) -> None:
    ids = add_events(store, sync_cfg, keys, 400)
    hq.auto_ack = True
    # Head office's own session must be on the broker's disk, or events republished before it
    # reconnects would have no subscriber (the kiosk would then resend them only after 30 s).
    broker.save()
    time.sleep(0.3)
    link.start()
    assert wait_until(lambda: len(hq.distinct()) >= 60, timeout=10)
    broker.kill()
    remaining_at_kill = len(outbox_ids(store))
    assert remaining_at_kill > 0
    time.sleep(0.5)
    broker.start()
    ok = wait_until(lambda: outbox_ids(store) == [], timeout=30)
    assert ok, (link.status_counters(), len(outbox_ids(store)), hq.connected.is_set(), hq.client.is_connected())
    assert set(ids) <= set(hq.distinct())
    assert link.status_counters()["reconnects"] >= 1


def test_unknown_duplicate_and_malformed_acks_are_ignored_and_counted(
    link: SyncLink, store: Store, sync_cfg: Config, keys: Keys, hq: HeadOffice
) -> None:
    ids = add_events(store, sync_cfg, keys, 2)
    link.start()
    assert wait_until(lambda: len(hq.distinct()) == 2)
    hq.ack(["01J0000000000000000000UNKN", "not-an-event"])
    hq.ack([ids[0]])
    hq.ack([ids[0]])
    hq.client.publish(hq.topics.acks, b"\xff not json", qos=1).wait_for_publish(5)
    hq.client.publish(hq.topics.acks, b'{"event_ids": "nope"}', qos=1).wait_for_publish(5)
    counters = link.status_counters
    assert wait_until(lambda: counters()["bad_acks"] == 2 and counters()["duplicate_acks"] == 1)
    assert counters()["unknown_acks"] == 2
    assert outbox_ids(store) == ids[1:]
