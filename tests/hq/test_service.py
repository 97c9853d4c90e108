"""The head-office service against a real Mosquitto: ingest and acks, RPC, SMS caps, config publishing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from nacl.signing import VerifyKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.engine import Engine

from hq import db, records
from hq.__main__ import main
from hq.keys import HqKeys
from hq.rpc import RpcHandler
from hq.service import BrokerOptions, HqService
from hq.settings import HqSettings
from kiosk.core.cards import card_number
from kiosk.hw.sms.console import ConsoleSms
from kiosk.lookup import Balance
from kiosk.sync import contract
from tests.hq.conftest import HQ_TOML, Client, FakeClock, signup_envelope, wait_for
from tests.hw_sim.broker import Broker

A = contract.Topics(contract.DEFAULT_PREFIX, "kiosk-a")
B = contract.Topics(contract.DEFAULT_PREFIX, "kiosk-b")


@pytest.fixture
def sms() -> ConsoleSms:
    return ConsoleSms()


@pytest.fixture
def make_hq(
    broker: Broker, sqlite_engine: Engine, keys: HqKeys, settings: HqSettings, clock: FakeClock, sms: ConsoleSms
) -> Iterator[Callable[[], HqService]]:
    running: list[HqService] = []

    def make() -> HqService:
        rpc = RpcHandler(sqlite_engine, keys, settings, sms=sms, clock=clock)
        hq = HqService(sqlite_engine, keys, rpc, BrokerOptions(broker.host, broker.port, client_id="hq-1"))
        hq.start()
        assert hq.wait_ready(10), broker.log()[-2000:]
        running.append(hq)
        return hq

    yield make
    for hq in running:
        hq.stop()


def _acked(kiosk: Client) -> list[str]:
    return [i for m in kiosk.on(A.acks) for i in contract.parse_ack(m.payload)]


def test_events_are_stored_once_and_acked_every_time(
    make_hq: Callable[[], HqService], clients: Callable[[str], Client], keys: HqKeys, sqlite_engine: Engine
) -> None:
    make_hq()
    kiosk = clients("kiosk-a")
    assert kiosk.subscribe(A.acks) == [1]
    env = signup_envelope("kiosk-a", keys.seal.public_key)
    payload = contract.dumps(env)
    kiosk.publish(A.events, payload)
    kiosk.publish(A.events, payload)
    forged = signup_envelope("kiosk-b", keys.seal.public_key)
    kiosk.publish(A.events, contract.dumps(forged))  # kiosk-a speaking for kiosk-b
    assert wait_for(lambda: len(_acked(kiosk)) == 3), _acked(kiosk)
    assert sorted(_acked(kiosk)) == sorted([env["event_id"], env["event_id"], forged["event_id"]])
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(db.customers.c.kiosk_id)).scalars().all() == ["kiosk-a"]
        assert conn.execute(sa.select(db.rejected_events.c.reason)).scalars().all() == ["kiosk_mismatch"]


def test_events_sent_while_head_office_is_away_wait_in_its_session(
    make_hq: Callable[[], HqService], clients: Callable[[str], Client], keys: HqKeys, sqlite_engine: Engine
) -> None:
    first = make_hq()
    first.stop()  # durable session: the shared subscription stays with the broker
    kiosk = clients("kiosk-a")
    kiosk.subscribe(A.acks)
    sent = [signup_envelope("kiosk-a", keys.seal.public_key, card=card_number(1, i + 1)) for i in range(200)]
    for env in sent:
        kiosk.client.publish(A.events, contract.dumps(env), qos=1)
    make_hq()
    assert wait_for(lambda: len(_acked(kiosk)) >= 200, 20), len(_acked(kiosk))
    assert set(_acked(kiosk)) == {e["event_id"] for e in sent}
    assert len(kiosk.on(A.acks)) < 50  # acks are batched
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.customers)).scalar() == 200


def _rpc(
    kiosk: Client,
    topics: contract.Topics,
    method: str,
    params: dict[str, object],
    keys: HqKeys,
    *,
    corr: bytes,
    response_topic: str | None = None,
    timeout: float = 5.0,
) -> tuple[bytes | None, object]:
    payload, reply_key = contract.rpc_request(method, params, keys.seal.public_key)
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = response_topic or topics.rpc_resp
    props.CorrelationData = corr
    kiosk.client.publish(topics.rpc_req, payload, qos=1, properties=props)

    def answer() -> list[object]:
        return [m for m in kiosk.on(topics.rpc_resp) if getattr(m.properties, "CorrelationData", None) == corr]

    if not wait_for(lambda: bool(answer()), timeout):
        return None, None
    msg = answer()[0]
    try:
        return msg.payload, contract.open_rpc_response(msg.payload, reply_key)  # type: ignore[attr-defined]
    except contract.RpcError as exc:
        return msg.payload, exc.code  # type: ignore[attr-defined]


def test_card_lookup_round_trip_with_correlation_data(
    make_hq: Callable[[], HqService],
    clients: Callable[[str], Client],
    keys: HqKeys,
    sqlite_engine: Engine,
    settings: HqSettings,
    clock: FakeClock,
) -> None:
    make_hq()
    kiosk = clients("kiosk-a")
    kiosk.subscribe(A.acks)
    kiosk.subscribe(A.rpc_resp)
    kiosk.publish(A.events, contract.dumps(signup_envelope("kiosk-a", keys.seal.public_key, card="2000100000779")))
    assert wait_for(lambda: len(_acked(kiosk)) == 1)
    records.purchase(sqlite_engine, settings.rules, "2000100000779", 6000, now=clock() - 15 * 86400)
    records.purchase(sqlite_engine, settings.rules, "2000100000779", 700, now=clock())

    raw, result = _rpc(kiosk, A, "card_lookup", {"card": "2000100000779"}, keys, corr=b"req-1")
    assert isinstance(result, dict), result
    balance = Balance.from_dict(result)
    assert (balance.balance_points, balance.pending_points, balance.total_spent_rub) == (600, 70, 6700)
    assert balance.tier is not None and balance.tier.discount_pct == 5 and balance.first_name == "Валентина"
    assert raw is not None and "Валентина".encode() not in raw  # sealed to the kiosk's one-time key

    assert _rpc(kiosk, A, "card_lookup", {"card": "2000100000786"}, keys, corr=b"req-2")[1] == "not_found"
    assert _rpc(kiosk, A, "phone_lookup", {"phone": "+79164827359"}, keys, corr=b"req-3")[1] == {"member": True}
    assert _rpc(kiosk, A, "phone_lookup", {"phone": "+79160000000"}, keys, corr=b"req-4")[1] == {"member": False}
    # head office answers only on the asking kiosk's own response topic
    spy = clients("kiosk-b")
    spy.subscribe(B.rpc_resp)
    assert _rpc(
        kiosk, A, "card_lookup", {"card": "2000100000779"}, keys, corr=b"req-5", response_topic=B.rpc_resp, timeout=1
    ) == (
        None,
        None,
    )
    assert spy.on(B.rpc_resp) == []


def test_send_sms_relay_and_caps(
    make_hq: Callable[[], HqService],
    clients: Callable[[str], Client],
    keys: HqKeys,
    sqlite_engine: Engine,
    clock: FakeClock,
    sms: ConsoleSms,
) -> None:
    make_hq()
    kiosk = clients("kiosk-a")
    kiosk.subscribe(A.rpc_resp)
    phone = "+79164827359"
    n = 0

    def send(to: str) -> object:
        nonlocal n
        n += 1
        return _rpc(kiosk, A, "send_sms", {"phone": to, "text": f"Код: {100000 + n}"}, keys, corr=f"s{n}".encode())[1]

    assert [send(phone) for _ in range(4)] == [{"sent": True}] * 3 + ["rate_limited"]  # 3 a day per phone
    assert sms.last_code_for(phone) == "100003"
    assert send("+7916") == "bad_request"
    clock.advance(86400)
    others = [send(f"+7916000000{i}") for i in range(5)]
    assert others == [{"sent": True}] * 5
    assert send("+79160000009") == "rate_limited"  # 5 an hour from one kiosk
    clock.advance(3600)
    assert send("+79160000009") == {"sent": True}
    with sqlite_engine.connect() as conn:
        keys_stored = conn.execute(sa.select(db.sms_sends.c.phone_key)).scalars().all()
    assert len(keys_stored) == 9 and phone not in keys_stored and keys.phone_key(phone) in keys_stored


def test_publish_config_signed_and_retained(
    broker: Broker, clients: Callable[[str], Client], keys: HqKeys, tmp_path: Path
) -> None:
    kdir = tmp_path / "hq-keys"  # the keys fixture wrote them here
    conf = tmp_path / "hq.toml"
    conf.write_text(HQ_TOML, encoding="utf-8")
    assert main(["publish-config", str(conf), "--keys", str(kdir), "--broker", f"{broker.host}:{broker.port}"]) == 0
    kiosk = clients("kiosk-b")
    kiosk.subscribe(B.config)
    assert wait_for(lambda: bool(kiosk.on(B.config)))
    msg = kiosk.on(B.config)[0]
    assert msg.retain
    doc = contract.open_config(msg.payload, VerifyKey(bytes(keys.sign.verify_key)))
    assert doc["version"] == 7
    assert doc["config"]["program"]["activation_delay_days"] == 14
    assert set(doc["config"]) == {"operator", "program", "otp"}
    assert doc["kiosks"] == ["kiosk-a", "kiosk-b"]  # signed in: only these kiosks take it
    other = VerifyKey(b"\x01" * 32)
    with pytest.raises(contract.BadMessage):
        contract.open_config(msg.payload, other)
