"""Crash safety: a process completing sign-ups is SIGKILLed at random moments, over and over.

After every kill the database must pass ``PRAGMA integrity_check``, every journal row must have
its outbox event and every outbox event its journal row, and every sign-up the child reported as
committed must be there.
"""

from __future__ import annotations

import os
import random
import select
import signal
import time
from pathlib import Path

import pytest

from kiosk.store.db import Store
from tests.conftest import make_config
from tests.signup_helpers import CUSTOMER, FakeClock, harness, sign_up

KILLS = 200


def _child(cfg, write_fd: int) -> None:
    clock = FakeClock(1_790_000_000.0 + time.time() % 1000 * 100_000)
    h = harness(cfg, clock)
    n = 0
    while True:
        n += 1
        phone = f"+7916{n % 10_000_000:07d}"
        result = sign_up(h, dict(CUSTOMER, phone=phone))
        os.write(write_fd, (result.card_number + "\n").encode())
        clock.advance(3600)  # keeps clear of the per-kiosk hourly cap


@pytest.mark.slow
def test_sigkill_loop_keeps_the_store_consistent(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    harness(cfg).store.close()  # create keys and schema once
    rng = random.Random(1234)
    committed: set[str] = set()
    for _ in range(KILLS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read_fd)
            try:
                _child(cfg, write_fd)
            finally:
                os._exit(1)
        os.close(write_fd)
        time.sleep(rng.uniform(0.0, 0.06))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        buf = b""
        while select.select([read_fd], [], [], 0)[0]:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            buf += chunk
        os.close(read_fd)
        committed.update(line for line in buf.decode().splitlines() if len(line) == 13)

        with Store(cfg.database_path) as store:
            assert store.integrity_check() == "ok"
            journal = {j.event_id for j in store.journal()}
            outbox = {e.event_id for _, e in store.outbox_batch(1_000_000)}
            assert journal == outbox
            cards = {j.card_number for j in store.journal()}
            assert committed <= cards
    assert len(committed) > KILLS // 4, "the child should commit sign-ups between kills"
