"""A real Mosquitto broker for tests, on a free loopback port.

``start_broker`` writes a ``mosquitto.conf`` into a folder, starts ``mosquitto -c`` as a child process and
waits until the port accepts connections. The broker keeps its persistence file in the same folder, so
``restart()`` (after ``stop()`` or ``kill()``) comes back on the same port with the same sessions, queued
messages and retained messages.

Persistence settings for tests: ``autosave_interval 1`` saves the in-memory database every second (time
based; ``autosave_on_changes`` stays off, since saving after every change would make long drains quadratic).
A clean ``stop()`` (SIGTERM) always writes the database; ``kill()`` (SIGKILL) loses at most the last second,
which is what a power cut does to a real broker.

``config_text`` replaces the generated configuration; it may use ``{port}`` and ``{dir}`` placeholders.
The ``broker`` fixture is the plain one functional tests use: anonymous clients allowed, persistence on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def mosquitto_available() -> bool:
    return Path(MOSQUITTO).exists()


def _user_line() -> str:
    # Started as root, mosquitto drops privileges to the "mosquitto" user unless told otherwise; that
    # user could not write the test's persistence folder.
    return "user root\n" if os.geteuid() == 0 else ""


def default_config(*, tls_dir: Path | None = None, extra: str = "") -> str:
    lines = [
        "per_listener_settings false",
        "persistence true",
        "persistence_location {dir}/",
        "persistence_file mosquitto.db",
        "autosave_interval 1",
        "max_queued_messages 100000",
        "max_queued_bytes 0",
        "max_inflight_messages 100",
        "set_tcp_nodelay true",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "log_timestamp true",
    ]
    if tls_dir is None:
        lines += ["listener {port} 127.0.0.1", "allow_anonymous true"]
    else:
        lines += [
            "listener {port} 127.0.0.1",
            f"cafile {tls_dir}/ca.crt",
            f"certfile {tls_dir}/server.crt",
            f"keyfile {tls_dir}/server.key",
            "require_certificate true",
            "use_identity_as_username true",
            "allow_anonymous false",
        ]
    return _user_line() + "\n".join(lines) + "\n" + extra


@dataclass
class Broker:
    dir: Path
    port: int
    conf: Path
    host: str = HOST
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.dir / "mosquitto.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log, cwd=self.dir)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.2):
                return
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"mosquitto did not open port {self.port}:\n{self.log()[-3000:]}")

    def stop(self, timeout: float = 10.0) -> None:
        """A clean shutdown (SIGTERM): the persistence file is written."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: whatever was not autosaved is lost."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop (cleanly, if still running) and start again on the same port with the same persistence."""
        self.stop()
        self.start()

    def save(self) -> None:
        """Ask the broker to write its persistence file now (SIGUSR1)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)


def start_broker(
    tmp_path: Path,
    config_text: str | None = None,
    *,
    tls: bool = False,
    tls_dir: Path | None = None,
    extra: str = "",
    port: int | None = None,
    name: str = "broker",
) -> Broker:
    """Start a broker whose files live in ``tmp_path/name``.

    ``tls=True`` makes the listener TLS-only with client certificates (the certificate CN becomes the
    user name); ``tls_dir`` holds ``ca.crt``, ``server.crt`` and ``server.key`` as made by
    ``broker/make-dev-certs.sh``.
    """
    if not mosquitto_available():
        pytest.skip(f"mosquitto is not installed ({MOSQUITTO})")
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    if config_text is None:
        if tls and tls_dir is None:
            raise ValueError("tls=True needs tls_dir")
        config_text = default_config(tls_dir=tls_dir if tls else None, extra=extra)
    conf = folder / "mosquitto.conf"
    conf.write_text(config_text.replace("{port}", str(port)).replace("{dir}", str(folder)), encoding="utf-8")
    broker = Broker(dir=folder, port=port, conf=conf)
    broker.start()
    return broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = start_broker(tmp_path)
    try:
        yield b
    finally:
        b.kill()
