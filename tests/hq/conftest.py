"""Fixtures for head office: keys, settings, both databases, a real broker and MQTT clients."""

from __future__ import annotations

import itertools
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from nacl.public import PublicKey
from sqlalchemy.engine import Engine
from ulid import ULID

from hq import db
from hq.keys import HqKeys, keygen
from hq.settings import HqSettings, parse_settings
from kiosk.core.cards import card_number
from kiosk.store.seal import seal
from kiosk.sync import contract
from tests.hw_sim.broker import Broker, broker  # noqa: F401 - fixture
from tests.hw_sim.postgres import postgres_cluster, postgres_url  # noqa: F401 - fixtures

HQ_TOML = """
version = 7
kiosks = ["kiosk-a", "kiosk-b"]

[operator]
name = "ООО «Зерно»"
legal_address = "123456, г. Москва, ул. Примерная, д. 1"
inn = "7707083893"
contact = "privacy@zerno.example"

[program]
name = { ru = "Зерно Бонус", en = "Zerno Bonus" }
points_per = 10
per_rub = 100
activation_delay_days = 14
how_to_check = { ru = "На киоске.", en = "At the kiosk." }

[[program.tiers]]
name = { ru = "Серебро", en = "Silver" }
from_rub = 5000
discount_pct = 5

[[program.tiers]]
name = { ru = "Золото", en = "Gold" }
from_rub = 25000
discount_pct = 10

[otp]
per_phone_daily_cap = 3
per_kiosk_hourly_cap = 5
"""

TEST_KIOSK_NUMBERS = {"kiosk-a": 1, "kiosk-b": 2}
"""Card prefixes the test kiosks issue (any other kiosk id issues 0099)."""
_card_seq = itertools.count(1)

PERSON = {
    "name": "Валентина Щукина",
    "phone": "+79164827359",
    "birth_date": "1997-07-06",
    "gender": "female",
    "email": "valentina@example.ru",
}


@dataclass
class FakeClock:
    t: float = 1_790_000_000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(tmp_path: Path) -> HqKeys:
    return keygen(tmp_path / "hq-keys")


@pytest.fixture
def settings() -> HqSettings:
    return parse_settings(tomllib.loads(HQ_TOML), "hq.toml")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    sqlite = f"sqlite:///{tmp_path / 'hq.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    eng = db.connect(url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = db.connect(f"sqlite:///{tmp_path / 'hq.db'}")
    try:
        yield eng
    finally:
        eng.dispose()


def consent_record(kind: str = "processing") -> dict[str, Any]:
    return {
        "consent_id": str(ULID()),
        "kind": kind,
        "version": "2026-12-01",
        "sha256": "ab" * 32,
        "lang": "ru",
        "shown_at": "2026-09-21T10:00:00Z",
        "confirmed_at": "2026-09-21T10:01:30Z",
        "method": "sms-code",
        "masked_phone": "+7 *** ***-**-59",
        "code_sent_at": "2026-09-21T10:01:00Z",
        "attempts": 1,
        "outcome": "given",
    }


def signup_envelope(
    kiosk_id: str,
    hq_public: PublicKey,
    *,
    card: str | None = None,
    event_id: str | None = None,
    person: dict[str, Any] | None = None,
    ads: bool = True,
) -> dict[str, Any]:
    """An envelope shaped like ``kiosk.signup`` builds it."""
    consents = [consent_record("processing")]
    if ads:
        consents.append(consent_record("advertising"))
    return {
        "event_id": event_id or str(ULID()),
        "type": "signup",
        "ts": "2026-09-21T10:01:30Z",
        "kiosk_id": kiosk_id,
        "schema": "loyalty.signup/1",
        "card_number": card or card_number(TEST_KIOSK_NUMBERS.get(kiosk_id, 99), next(_card_seq)),
        "ads_consent": ads,
        "consents": consents,
        "sealed": seal(person or PERSON, hq_public),
    }


def events_topic(kiosk_id: str) -> str:
    return contract.Topics(contract.DEFAULT_PREFIX, kiosk_id).events


# --- MQTT clients --------------------------------------------------------------------------------


@dataclass
class Client:
    """A small MQTT 5 client for tests: records messages, subscription results and PUBACK reason codes."""

    client: mqtt.Client
    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    granted: dict[int, list[int]] = field(default_factory=dict)
    puback: dict[int, int] = field(default_factory=dict)
    connected: threading.Event = field(default_factory=threading.Event)
    connect_rc: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 5.0) -> list[int]:
        _, mid = self.client.subscribe(topic, qos)
        wait_for(lambda: mid in self.granted, timeout)
        return self.granted[mid]

    def publish(self, topic: str, payload: bytes, **kw: Any) -> int:
        """Publish QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, **kw)
        info.wait_for_publish(5)
        wait_for(lambda: info.mid in self.puback, 5)
        return self.puback[info.mid]

    def on(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self.lock:
            return [m for m in self.messages if m.topic == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(cond: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(interval)
    return cond()


def mqtt_client(
    host: str,
    port: int,
    client_id: str,
    *,
    tls: dict[str, str] | None = None,
    wait: bool = True,
) -> Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    wrap = Client(c)
    if tls is not None:
        c.tls_set(**tls)

    def on_connect(_c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        wrap.connect_rc.append(rc)
        if not rc.is_failure:
            wrap.connected.set()

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with wrap.lock:
            wrap.messages.append(msg)

    def on_subscribe(_c: Any, _u: Any, mid: int, rcs: list[Any], _p: Any) -> None:
        wrap.granted[mid] = [rc.value for rc in rcs]

    def on_publish(_c: Any, _u: Any, mid: int, rc: Any, _p: Any) -> None:
        wrap.puback[mid] = rc.value

    c.on_connect = on_connect
    c.on_message = on_message
    c.on_subscribe = on_subscribe
    c.on_publish = on_publish
    c.connect(host, port, keepalive=30)
    c.loop_start()
    if wait and not wrap.connected.wait(5):
        wrap.close()
        raise TimeoutError(f"{client_id} could not connect")
    return wrap


@pytest.fixture
def clients(broker: Broker) -> Iterator[Callable[[str], Client]]:  # noqa: F811
    made: list[Client] = []

    def make(client_id: str) -> Client:
        c = mqtt_client(broker.host, broker.port, client_id)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
