"""End to end over a real Mosquitto: kiosk store -> sync link -> broker -> head office process.

1,000 sign-ups are made while the broker is down; then the broker comes up, is SIGKILLed and
restarted twice in the middle of the drain, and head office itself is SIGKILLed (before it has
acknowledged everything) and restarted. Head office must end with exactly 1,000 distinct
registrations and their consent records, no duplicates, and the kiosk's outbox empty.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import tomli_w

from hq import db as hqdb
from kiosk.keys import dev_hq_dir, load_keys
from kiosk.sync import make_sync
from tests.conftest import config_data, make_config
from tests.hw_sim.broker import free_port, mosquitto_available, start_broker
from tests.signup_helpers import CUSTOMER, FakeClock, harness, sign_up

pytestmark = [pytest.mark.broker, pytest.mark.slow]

N = 1000


def wait_for(pred, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def start_hq(tmp_path: Path, port: int, db_url: str, keys_dir: Path) -> subprocess.Popen[bytes]:
    program = tmp_path / "hq-program.toml"
    if not program.exists():
        data = config_data()
        program.write_text(
            tomli_w.dumps({"version": 1, "program": data["program"], "operator": data["operator"]}), encoding="utf-8"
        )
    log = (tmp_path / "hq.log").open("ab")
    command = [sys.executable, "-m", "hq", "serve", "--db", db_url, "--broker", f"127.0.0.1:{port}"]
    return subprocess.Popen(
        [*command, "--keys", str(keys_dir), "--program", str(program)],
        stdout=log,
        stderr=log,
    )


@pytest.mark.skipif(not mosquitto_available(), reason="mosquitto is not installed")
def test_thousand_signups_survive_broker_and_head_office_crashes(tmp_path: Path) -> None:
    port = free_port()
    cfg = make_config(tmp_path, sync={"port": port, "max_inflight": 20, "heartbeat_s": 5})
    clock = FakeClock()
    h = harness(cfg, clock)
    keys = load_keys(cfg)
    for n in range(N):
        sign_up(h, dict(CUSTOMER, phone=f"+7 916 {n // 10000 % 100:02d}{n % 10000:04d}0"), ads=n % 3 == 0)
        clock.advance(3600)  # keeps clear of the per-kiosk hourly cap
    assert h.store.outbox_stats(clock())[0] == N

    # the kiosk starts its link while the broker is down: nothing may be lost or block
    link = make_sync(cfg, h.store, keys)
    link.start()
    time.sleep(1.0)
    assert h.store.outbox_stats(clock())[0] == N

    broker = start_broker(tmp_path / "broker", port=port)
    db_url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq = start_hq(tmp_path, port, db_url, dev_hq_dir(cfg))
    kills: list[tuple[str, int]] = []
    try:

        def backlog() -> int:
            return h.store.outbox_stats(clock())[0]

        for threshold in (N * 4 // 5, N * 3 // 5):
            assert wait_for(lambda t=threshold: backlog() < t, 60), f"drain stalled at {backlog()}"
            kills.append(("broker", backlog()))
            broker.kill()
            time.sleep(0.3)
            broker.restart()
        assert wait_for(lambda: backlog() < N * 2 // 5, 60), f"drain stalled at {backlog()}"
        kills.append(("hq", backlog()))
        hq.send_signal(signal.SIGKILL)
        hq.wait()
        hq = start_hq(tmp_path, port, db_url, dev_hq_dir(cfg))
        assert wait_for(lambda: backlog() == 0, 120), f"outbox still holds {backlog()}"
    finally:
        link.stop()
        hq.send_signal(signal.SIGTERM)
        try:
            hq.wait(timeout=10)
        except subprocess.TimeoutExpired:
            hq.kill()
        broker.stop()
        h.store.close()

    # every crash happened with part of the backlog still to go
    assert all(0 < left < N for _, left in kills), kills
    engine = hqdb.connect(db_url)
    with engine.connect() as conn:
        customers = conn.execute(sa.select(hqdb.customers.c.phone)).scalars().all()
        events = conn.execute(sa.select(sa.func.count()).select_from(hqdb.events)).scalar_one()
        consents = conn.execute(sa.select(hqdb.consent_records.c.kind)).scalars().all()
        rejected = conn.execute(sa.select(sa.func.count()).select_from(hqdb.rejected_events)).scalar_one()
    assert len(customers) == N and len(set(customers)) == N
    assert events == N
    assert rejected == 0
    ads = sum(1 for n in range(N) if n % 3 == 0)
    assert sorted(consents).count("processing") == N
    assert sorted(consents).count("advertising") == ads
    assert os.path.exists(tmp_path / "hq.log")
