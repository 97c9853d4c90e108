"""sd_notify over a real unix datagram socket, as systemd would receive it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.notify import Notifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    yield path, sock
    sock.close()


def received(sock: socket.socket) -> list[bytes]:
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096))
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(2)
    return out


def test_ready_status_stopping_reach_the_socket(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    n = Notifier.from_env({"NOTIFY_SOCKET": path})
    assert n.enabled
    assert n.ready()
    assert n.status("printer: paper low\nsecond line")
    assert n.stopping()
    assert [sock.recv(4096) for _ in range(3)] == [
        b"READY=1",
        b"STATUS=printer: paper low second line",
        b"STOPPING=1",
    ]
    n.close()


def test_abstract_namespace_socket() -> None:
    name = f"kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2)
    try:
        n = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert n.ready()
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_watchdog_is_rate_limited_to_half_the_interval(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    now = [100.0]
    n = Notifier(path, watchdog_usec=30_000_000, clock=lambda: now[0])
    assert n.watchdog_interval == 15.0
    assert n.watchdog()
    now[0] += 14.9
    assert not n.watchdog()
    now[0] += 0.2
    assert n.watchdog()
    for _ in range(5):
        assert not n.watchdog()
    assert received(sock) == [b"WATCHDOG=1", b"WATCHDOG=1"]


def test_watchdog_without_watchdog_usec_sends_nothing(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    n = Notifier.from_env({"NOTIFY_SOCKET": path})
    assert n.watchdog_interval is None
    assert not n.watchdog()
    assert received(sock) == []


def test_watchdog_meant_for_another_process_is_ignored(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    n = Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000", "WATCHDOG_PID": str(os.getpid() + 1)})
    assert not n.watchdog()
    mine = Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000", "WATCHDOG_PID": str(os.getpid())})
    assert mine.watchdog()
    assert received(sock) == [b"WATCHDOG=1"]


def test_no_socket_is_a_silent_no_op(caplog: pytest.LogCaptureFixture) -> None:
    n = Notifier.from_env({})
    assert not n.enabled
    assert not n.ready() and not n.watchdog() and not n.status("x") and not n.stopping()
    assert caplog.records == []


def test_a_vanished_socket_does_not_raise(tmp_path: Path) -> None:
    n = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock"), "WATCHDOG_USEC": "2000000"})
    assert not n.ready()
    assert not n.watchdog()
