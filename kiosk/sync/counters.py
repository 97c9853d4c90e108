"""Thread-safe counters shared by the parts of the MQTT link (reported in the status heartbeat)."""

from __future__ import annotations

import threading


class Counters:
    """Named integer counters; every part of the link increments its own names."""

    NAMES = (
        "reconnects",
        "connect_failures",
        "events_published",
        "events_republished",
        "events_acked",
        "bad_acks",
        "unknown_acks",
        "duplicate_acks",
        "configs_applied",
        "configs_rejected",
        "rpc_calls",
        "rpc_timeouts",
        "rpc_bad_replies",
        "heartbeats",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self.NAMES, 0)
        self._last: dict[str, str] = {}

    def inc(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + by

    def get(self, name: str) -> int:
        with self._lock:
            return self._values.get(name, 0)

    def note(self, name: str, value: str) -> None:
        """Remember a short code (e.g. the last config rejection reason)."""
        with self._lock:
            self._last[name] = value

    def snapshot(self) -> dict[str, int | str]:
        with self._lock:
            out: dict[str, int | str] = dict(self._values)
            out.update(self._last)
            return out
