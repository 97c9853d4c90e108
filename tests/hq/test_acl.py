"""The production broker configuration (broker/mosquitto.conf + broker/acl), adapted only in paths and port.

Certificates come from broker/make-dev-certs.sh; each client's certificate CN is its user name.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hq import db
from hq.keys import HqKeys
from hq.rpc import RpcHandler
from hq.service import BrokerOptions, HqService
from hq.settings import HqSettings
from kiosk.sync import contract
from tests.conftest import REPO
from tests.hq.conftest import Client, mqtt_client, signup_envelope, wait_for
from tests.hw_sim.broker import Broker, start_broker

A = contract.Topics(contract.DEFAULT_PREFIX, "kiosk-a")
B = contract.Topics(contract.DEFAULT_PREFIX, "kiosk-b")
NOT_AUTHORIZED = 0x87


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("certs")
    subprocess.run(
        ["sh", str(REPO / "broker" / "make-dev-certs.sh"), str(out), "kiosk-a", "kiosk-b"],
        check=True,
        capture_output=True,
    )
    assert oct((out / "kiosk-a.key").stat().st_mode & 0o777) == "0o600"
    return out


def production_config(certs: Path) -> str:
    text = (REPO / "broker" / "mosquitto.conf").read_text(encoding="utf-8")
    replacements = {
        "/etc/mosquitto/loyalty.acl": str(REPO / "broker" / "acl"),
        "/etc/mosquitto/certs": str(certs),
        "/var/lib/mosquitto/": "{dir}/",
        "listener 8883": "listener {port} 127.0.0.1",
        "log_dest syslog": "log_dest stderr",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return ("user root\n" if os.geteuid() == 0 else "") + text


@pytest.fixture
def prod(tmp_path: Path, certs: Path) -> Iterator[Broker]:
    b = start_broker(tmp_path, production_config(certs))
    try:
        yield b
    finally:
        b.kill()


@pytest.fixture
def connect(prod: Broker, certs: Path) -> Iterator[Callable[[str], Client]]:
    made: list[Client] = []

    def make(name: str) -> Client:
        tls = {
            "ca_certs": str(certs / "ca.crt"),
            "certfile": str(certs / f"{name}.crt"),
            "keyfile": str(certs / f"{name}.key"),
        }
        c = mqtt_client(prod.host, prod.port, name, tls=tls)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_kiosk_cannot_publish_under_another_kiosk(connect: Callable[[str], Client]) -> None:
    hq = connect("hq")
    assert hq.subscribe(contract.hq_event_subscription()) == [1]
    a = connect("kiosk-a")
    assert a.publish(B.events, b'{"event_id":"forged"}') == NOT_AUTHORIZED
    assert a.publish(B.rpc_req, b"{}") == NOT_AUTHORIZED
    assert a.publish(A.acks, b'{"event_ids":["x"]}') == NOT_AUTHORIZED  # a kiosk cannot ack itself
    assert a.publish(A.config, b"{}", retain=True) == NOT_AUTHORIZED  # nor replace its own config
    assert a.publish(A.events, b'{"event_id":"own"}') == 0
    assert wait_for(lambda: bool(hq.on(A.events)))
    assert hq.on(B.events) == []


def test_kiosk_never_receives_another_kiosks_messages(connect: Callable[[str], Client]) -> None:
    hq = connect("hq")
    a = connect("kiosk-a")
    for topic in (B.acks, B.config, B.rpc_resp, "loyalty/v1/kiosk/+/acks", "loyalty/v1/#", A.acks):
        a.subscribe(topic)
    assert hq.publish(B.config, b"b-config", retain=True) == 0
    assert hq.publish(B.acks, b"b-ack") == 0
    assert hq.publish(B.rpc_resp, b"b-resp") == 0
    assert hq.publish(A.acks, b"a-ack") == 0
    assert wait_for(lambda: bool(a.on(A.acks)))
    assert {m.topic for m in a.messages} == {A.acks}
    late = connect("kiosk-b")  # the retained config is there for its owner
    late.subscribe(B.config)
    assert wait_for(lambda: bool(late.on(B.config)))


def test_clients_without_a_certificate_or_without_tls_are_refused(prod: Broker, certs: Path) -> None:
    anonymous = None
    with contextlib.suppress(ssl.SSLError, OSError, TimeoutError):
        anonymous = mqtt_client(prod.host, prod.port, "anon", tls={"ca_certs": str(certs / "ca.crt")}, wait=False)
    if anonymous is not None:
        assert not anonymous.connected.wait(2)
        anonymous.close()
    plain = None
    with contextlib.suppress(OSError, TimeoutError):
        plain = mqtt_client(prod.host, prod.port, "plain", wait=False)
    if plain is not None:
        assert not plain.connected.wait(2)
        plain.close()
    # the same broker does let a client with a fleet certificate in
    good = mqtt_client(
        prod.host,
        prod.port,
        "kiosk-a",
        tls={
            "ca_certs": str(certs / "ca.crt"),
            "certfile": str(certs / "kiosk-a.crt"),
            "keyfile": str(certs / "kiosk-a.key"),
        },
    )
    good.close()


def test_head_office_service_over_tls_with_the_production_acl(
    prod: Broker,
    certs: Path,
    connect: Callable[[str], Client],
    sqlite_engine: Engine,
    keys: HqKeys,
    settings: HqSettings,
) -> None:
    opts = BrokerOptions(
        prod.host,
        prod.port,
        client_id="hq",
        tls=True,
        ca_file=str(certs / "ca.crt"),
        cert_file=str(certs / "hq.crt"),
        key_file=str(certs / "hq.key"),
    )
    hq = HqService(sqlite_engine, keys, RpcHandler(sqlite_engine, keys, settings), opts)
    hq.start()
    try:
        assert hq.wait_ready(10)
        a = connect("kiosk-a")
        a.subscribe(A.acks)
        env = signup_envelope("kiosk-a", keys.seal.public_key)
        assert a.publish(A.events, contract.dumps(env)) == 0
        assert wait_for(lambda: bool(a.on(A.acks)))
        assert contract.parse_ack(a.on(A.acks)[0].payload) == [env["event_id"]]
        with sqlite_engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(db.customers)).scalar() == 1
    finally:
        hq.stop()
