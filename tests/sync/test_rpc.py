"""Sealed RPC over MQTT 5 response topic + correlation data, against a real broker."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey, SealedBox

from kiosk.config import Config
from kiosk.hw.sms import SmsRejected, SmsTimeout, SmsUnavailable
from kiosk.keys import Keys
from kiosk.lookup import Balance, CardNotFound, LookupUnavailable, TierInfo
from kiosk.store.db import Store
from kiosk.sync import SyncLink, contract, make_sync
from tests.hw_sim.broker import Broker
from tests.sync.conftest import HeadOffice, wait_until

BALANCE = Balance(
    card="0001000000000017",
    first_name="Анна",
    balance_points=420,
    pending_points=30,
    total_spent_rub=7300,
    tier=TierInfo("Серебро", "Silver", 5),
    next_tier=TierInfo("Золото", "Gold", 10),
    remaining_rub=17700,
)


def answer(method: str, params: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    if method == "card_lookup":
        return (BALANCE.to_dict(), None) if params == {"card": BALANCE.card} else (None, "not_found")
    if method == "phone_lookup":
        return {"member": params["phone"] == "+79160000001"}, None
    if method == "send_sms":
        return ({"sent": True}, None) if params["text"] else (None, "rate_limited")
    return None, "bad_request"


@pytest.fixture
def link(sync_cfg: Config, store: Store, keys: Keys, hq: HeadOffice) -> Iterator[SyncLink]:
    hq.rpc_handler = answer
    sync = make_sync(sync_cfg, store, keys)
    sync.start()
    assert wait_until(lambda: sync.connected)
    yield sync
    sync.stop()


def test_card_and_phone_lookup_and_sms_relay(link: SyncLink) -> None:
    assert link.lookup.card(BALANCE.card) == BALANCE
    with pytest.raises(CardNotFound):
        link.lookup.card("0001000000000025")
    assert link.lookup.phone_is_member("+79160000001") is True
    assert link.lookup.phone_is_member("+79160000002") is False
    link.sms.send("+79160000001", "Код: 123456")
    with pytest.raises(SmsRejected) as err:
        link.sms.send("+79160000001", "")
    assert err.value.code == "rate_limited"
    assert link.status_counters()["rpc_bad_replies"] == 0


def test_timeout_raises_lookup_unavailable_in_time(link: SyncLink, hq: HeadOffice) -> None:
    hq.rpc_handler = None  # head office hears the request but never answers
    t0 = time.monotonic()
    with pytest.raises(LookupUnavailable):
        link.lookup.card(BALANCE.card)
    took = time.monotonic() - t0
    assert 1.0 <= took < 1.5
    assert hq.rpc_seen == 1
    assert link.status_counters()["rpc_timeouts"] == 1


def test_offline_fails_fast(sync_cfg: Config, store: Store, keys: Keys, broker: Broker) -> None:
    broker.kill()
    sync = make_sync(sync_cfg, store, keys)
    sync.start()
    try:
        t0 = time.monotonic()
        with pytest.raises(LookupUnavailable):
            sync.lookup.card(BALANCE.card)
        with pytest.raises(SmsUnavailable):
            sync.sms.send("+79160000001", "x")
        assert time.monotonic() - t0 < 0.1
    finally:
        sync.stop()


def _sealed_to(key: PrivateKey, data: bytes) -> bytes:
    return contract.dumps({"ok": True, "sealed": base64.b64encode(SealedBox(key.public_key).encrypt(data)).decode()})


JUNK: list[tuple[bytes, bytes | None]] = [
    (contract.rpc_response(BALANCE.to_dict(), None, PrivateKey.generate().public_key), os.urandom(16)),  # wrong corr
    (contract.rpc_response(BALANCE.to_dict(), None, PrivateKey.generate().public_key), None),  # wrong seal
    (b"\x00\xff not json at all", None),
    (b"[1, 2, 3]", None),
    (b'{"ok": "yes"}', None),
    (b'{"ok": true}', None),
    (b'{"ok": true, "sealed": "***"}', None),
    (b'{"ok": true, "sealed": 12}', None),
    (b"{" + b" " * (contract.MAX_PAYLOAD + 10) + b"}", None),  # huge
    (b"", None),
    (contract.rpc_response(BALANCE.to_dict(), None, PrivateKey.generate().public_key), b""),
]


def test_junk_replies_are_dropped_and_counted(link: SyncLink, hq: HeadOffice) -> None:
    hq.junk = JUNK
    assert link.lookup.card(BALANCE.card) == BALANCE  # the real answer still gets through
    assert wait_until(lambda: link.status_counters()["rpc_bad_replies"] == len(JUNK))
    # Junk alone: a timeout, never a crash.
    hq.rpc_handler = None
    with pytest.raises(LookupUnavailable):
        link.lookup.phone_is_member("+79160000001")
    assert wait_until(lambda: link.status_counters()["rpc_bad_replies"] == 2 * len(JUNK))
    # A late answer (after the timeout) is dropped and counted too.
    hq.junk = []
    hq.rpc_handler = answer
    assert link.lookup.card(BALANCE.card) == BALANCE


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=600) | st.text(max_size=300).map(lambda s: s.encode()))
def test_fuzzed_replies_never_crash_the_client(link: SyncLink, hq: HeadOffice, junk: bytes) -> None:
    hq.rpc_handler = answer
    hq.junk = [(junk, None)]
    before = link.status_counters()["rpc_bad_replies"]
    assert link.lookup.card(BALANCE.card) == BALANCE
    assert wait_until(lambda: link.status_counters()["rpc_bad_replies"] == before + 1, timeout=2)


def test_malformed_balance_is_unavailable(link: SyncLink, hq: HeadOffice) -> None:
    hq.rpc_handler = lambda _m, _p: ({"card": BALANCE.card, "balance_points": "lots"}, None)
    with pytest.raises(LookupUnavailable):
        link.lookup.card(BALANCE.card)
    assert link.status_counters()["rpc_bad_replies"] == 1


def test_a_request_nobody_took_in_time_expires_at_the_broker(link: SyncLink, hq: HeadOffice) -> None:
    """A head office that was away must not answer (or send a code for) a customer who has gone."""
    hq.rpc_handler = answer
    hq.client.disconnect()  # its durable session stays at the broker and would queue the request
    time.sleep(0.3)
    with pytest.raises(SmsTimeout):
        link.sms.send("+79160000001", "code 123456")
    time.sleep(1.5)  # past the request's expiry (rpc_timeout_s = 1 s)
    hq.client.loop_stop()
    hq.connected.clear()
    hq.client.reconnect()
    hq.client.loop_start()
    assert wait_until(lambda: hq.connected.is_set())
    link.sms.send("+79160000001", "code 654321")  # head office is back: a fresh request is answered
    assert hq.rpc_seen == 1  # ... and it is the only one head office ever saw
