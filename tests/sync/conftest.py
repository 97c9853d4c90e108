"""Fixtures for the MQTT link: a real Mosquitto, a kiosk configuration pointing at it, and a
stand-in for head office built from a plain paho client and the shared contract."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from ulid import ULID

from kiosk.config import Config
from kiosk.keys import HQ_SIGN_PUB, Keys, load_dev_hq_private, load_keys, write_secret
from kiosk.store.db import OutboxEvent, Store
from kiosk.store.seal import seal
from kiosk.sync import contract
from tests.conftest import make_config
from tests.hw_sim.broker import Broker, broker  # noqa: F401 - the shared Mosquitto fixture

__all__ = ["HeadOffice", "add_events", "wait_until"]


def wait_until(pred: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def envelope(kiosk_id: str, hq_public: Any, n: int) -> OutboxEvent:
    now = time.time()
    event_id = str(ULID())
    personal = {"name": f"Customer {n}", "phone": f"+7916{n:07d}", "birth_date": None, "gender": None, "email": None}
    env = {
        "event_id": event_id,
        "type": "signup",
        "ts": "2026-09-21T10:00:00Z",
        "kiosk_id": kiosk_id,
        "schema": "loyalty.signup/1",
        "card_number": f"{n:016d}",
        "ads_consent": False,
        "consents": [],
        "sealed": seal(personal, hq_public),
    }
    return OutboxEvent(event_id, "signup", now, env)


def add_events(store: Store, cfg: Config, keys: Keys, count: int, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        ev = envelope(cfg.kiosk.id, keys.hq_seal_public, n)
        store.add_event(ev)
        ids.append(ev.event_id)
    return ids


@dataclass
class HeadOffice:
    """A plain paho client acting as head office for one kiosk's topics."""

    broker: Broker
    topics: contract.Topics
    hq_private: PrivateKey
    auto_ack: bool = False
    events: list[str] = field(default_factory=list)  # event ids in arrival order (with repeats)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    rpc_handler: Callable[[str, dict[str, Any]], tuple[dict[str, Any] | None, str | None]] | None = None
    junk: list[tuple[bytes, bytes | None]] = field(default_factory=list)  # (payload, correlation) before a reply
    rpc_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hq-test", protocol=mqtt.MQTTv5)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect(self.broker.host, self.broker.port, clean_start=False, properties=props)
        self.client.loop_start()
        assert self.connected.wait(5)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        client.subscribe([(self.topics.events, 1), (self.topics.rpc_req, 1), (self.topics.status, 1)])
        self.connected.set()

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.topics.events:
            event_id = contract.loads(msg.payload)["event_id"]
            with self.lock:
                self.events.append(event_id)
            if self.auto_ack:
                client.publish(self.topics.acks, contract.ack_payload([event_id]), qos=1)
        elif msg.topic == self.topics.status:
            with self.lock:
                self.statuses.append(contract.loads(msg.payload))
        elif msg.topic == self.topics.rpc_req:
            self.rpc_seen += 1
            corr = msg.properties.CorrelationData
            resp_topic = msg.properties.ResponseTopic
            for payload, junk_corr in self.junk:
                self.reply(resp_topic, payload, junk_corr if junk_corr is not None else corr)
            if self.rpc_handler is None:
                return
            method, params, reply_key = contract.open_rpc_request(msg.payload, self.hq_private)
            result, error = self.rpc_handler(method, params)
            self.reply(resp_topic, contract.rpc_response(result, error, reply_key), corr)

    def reply(self, topic: str, payload: bytes, corr: bytes) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.CorrelationData = corr
        self.client.publish(topic, payload, qos=1, properties=props)

    def ack(self, ids: list[str]) -> None:
        self.client.publish(self.topics.acks, contract.ack_payload(ids), qos=1).wait_for_publish(5)

    def publish_config(self, payload: bytes) -> None:
        self.client.publish(self.topics.config, payload, qos=1, retain=True).wait_for_publish(5)

    def distinct(self) -> list[str]:
        with self.lock:
            return list(dict.fromkeys(self.events))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def sync_cfg(tmp_path: Path, broker: Broker) -> Config:  # noqa: F811
    return make_config(
        tmp_path,
        sync={"host": broker.host, "port": broker.port, "max_inflight": 10, "rpc_timeout_s": 1.0, "keepalive_s": 5},
    )


@pytest.fixture
def keys(sync_cfg: Config) -> Keys:
    return load_keys(sync_cfg)


@pytest.fixture
def store(sync_cfg: Config) -> Iterator[Store]:
    s = Store(sync_cfg.database_path)
    yield s
    s.close()


@pytest.fixture
def hq_sign(sync_cfg: Config) -> SigningKey:
    """Head office's config-signing key; its public half installed in the kiosk's secrets."""
    key = SigningKey.generate()
    write_secret(sync_cfg.secrets_dir / HQ_SIGN_PUB, base64.b64encode(bytes(key.verify_key)))
    return key


@pytest.fixture
def hq(broker: Broker, sync_cfg: Config, keys: Keys) -> Iterator[HeadOffice]:  # noqa: F811
    office = HeadOffice(
        broker, contract.Topics(sync_cfg.sync.topic_prefix, sync_cfg.kiosk.id), load_dev_hq_private(sync_cfg)
    )
    yield office
    office.close()
