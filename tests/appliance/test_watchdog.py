"""The systemd watchdog: READY=1 after the first frame, WATCHDOG=1 from the frame loop, silence when it freezes."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.app import attach_notifier, build
from kiosk.demo import demo_config

HERE = Path(__file__).resolve().parent
WATCHDOG_USEC = 400_000  # pings due every 0.2 s


class Recorder:
    def __init__(self, ui) -> None:
        self.ui = ui
        self.calls: list[tuple[str, int]] = []

    def ready(self) -> bool:
        self.calls.append(("ready", self.ui.frames))
        return True

    def status(self, text: str) -> bool:
        return True

    def watchdog(self) -> bool:
        self.calls.append(("watchdog", self.ui.frames))
        return True


def test_ready_only_after_the_first_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    kiosk = build(demo_config(tmp_path), scanner=False)
    try:
        rec = Recorder(kiosk.ui)
        attach_notifier(kiosk.ui, rec)
        for _ in range(5):
            kiosk.ui.step()
        ready = [frames for name, frames in rec.calls if name == "ready"]
        assert ready == [1], rec.calls
        assert sum(1 for name, _ in rec.calls if name == "watchdog") == 5
    finally:
        kiosk.close()


def test_watchdog_pings_stop_when_the_loop_freezes(tmp_path: Path) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.1)
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC=str(WATCHDOG_USEC), SDL_VIDEODRIVER="dummy")
    env.pop("WATCHDOG_PID", None)
    freeze_after = 3.0
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "watchdog_app.py"), str(tmp_path / "app"), str(freeze_after)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    messages: list[tuple[float, str]] = []
    start = time.monotonic()
    try:
        while time.monotonic() - start < freeze_after + 8:
            try:
                data = sock.recv(4096)
            except TimeoutError:
                continue
            messages.append((time.monotonic(), data.decode()))
        assert proc.poll() is None, "the frozen app must still be running: only the watchdog can catch it"
    finally:
        proc.kill()
        out = proc.communicate()[0].decode()
        sock.close()
    assert "FROZEN" in out
    ready = [t for t, m in messages if "READY=1" in m]
    pings = [t for t, m in messages if "WATCHDOG=1" in m]
    assert ready, messages
    assert pings and pings[0] >= ready[0]
    # while the loop runs, pings come at least every watchdog interval
    running = [t for t in pings if t < pings[-1]]
    gaps = [b - a for a, b in itertools.pairwise(running)]
    assert len(pings) >= 5 and max(gaps) < WATCHDOG_USEC / 1e6, gaps
    # after the freeze nothing more arrives, for several watchdog intervals
    assert time.monotonic() - pings[-1] > 3 * WATCHDOG_USEC / 1e6
