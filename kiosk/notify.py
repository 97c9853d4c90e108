"""systemd readiness and watchdog notifications, spoken over the ``sd_notify`` datagram protocol.

The service manager passes the socket in ``$NOTIFY_SOCKET`` (a path, or an abstract-namespace
name when it starts with ``@``) and the watchdog interval in ``$WATCHDOG_USEC``. Outside systemd
(a developer's terminal, the tests' own processes) every call is a silent no-op, so the app can
notify unconditionally.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends ``READY=1``, ``WATCHDOG=1``, ``STATUS=...`` and ``STOPPING=1`` to the service manager."""

    def __init__(
        self,
        address: str | None,
        watchdog_usec: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._address = _socket_address(address) if address else None
        self._interval = watchdog_usec / 2e6 if watchdog_usec else None
        self._clock = clock
        self._last_ping: float | None = None
        self._sock: socket.socket | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        usec: int | None = None
        raw = env.get("WATCHDOG_USEC")
        if raw:
            try:
                usec = int(raw)
            except ValueError:
                log.warning("ignoring WATCHDOG_USEC=%r: not an integer", raw)
            else:
                # WATCHDOG_PID, when set, names the process the watchdog is meant for.
                pid = env.get("WATCHDOG_PID")
                if pid and pid.isdigit() and int(pid) != os.getpid():
                    usec = None
        return cls(env.get("NOTIFY_SOCKET") or None, usec if usec and usec > 0 else None)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between pings (half of ``WATCHDOG_USEC``), or None without a watchdog."""
        return self._interval

    def ready(self) -> bool:
        return self.send("READY=1")

    def status(self, text: str) -> bool:
        return self.send("STATUS=" + text.replace("\n", " "))

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def watchdog(self) -> bool:
        """Ping the watchdog, at most once per half interval; True when a ping was sent."""
        if self._interval is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self._interval:
            return False
        sent = self.send("WATCHDOG=1")
        if sent:
            self._last_ping = now
        return sent

    def send(self, message: str) -> bool:
        """Send one datagram; never raises (a lost notification must not take the kiosk down)."""
        if self._address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode("utf-8"), self._address)
        except OSError as exc:
            log.warning("sd_notify %s failed: %s", message.split("=", 1)[0], exc)
            return False
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _socket_address(address: str) -> str | bytes:
    if address.startswith("@"):
        return b"\0" + address[1:].encode("utf-8")
    return address
