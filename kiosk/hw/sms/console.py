"""Development SMS backend: the message goes to the log and stays in memory.

This is the one place in the kiosk where a one-time code is written to the log, and only because this
backend exists for development machines, the demo and the tests. It logs at WARNING with a
"development SMS backend" marker so it stands out if it is ever left enabled on a real kiosk.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque

from kiosk.core.validation import mask_phone

log = logging.getLogger(__name__)

_CODE_RE = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])")


class ConsoleSms:
    """Logs each message and keeps the last ``keep`` of them in :attr:`outbox` as ``(phone, text)``."""

    def __init__(self, keep: int = 100) -> None:
        self._lock = threading.Lock()
        self._outbox: deque[tuple[str, str]] = deque(maxlen=keep)

    @property
    def outbox(self) -> list[tuple[str, str]]:
        """A copy of the kept messages, oldest first."""
        with self._lock:
            return list(self._outbox)

    def send(self, phone_e164: str, text: str) -> None:
        with self._lock:
            self._outbox.append((phone_e164, text))
        log.warning("development SMS backend: SMS to %s: %s", mask_phone(phone_e164), text)

    def last_code_for(self, phone_e164: str) -> str | None:
        """The last run of 4 to 8 digits in the newest message sent to ``phone_e164``, if any."""
        with self._lock:
            messages = [text for phone, text in self._outbox if phone == phone_e164]
        if not messages:
            return None
        codes = _CODE_RE.findall(messages[-1])
        return codes[-1] if codes else None

    def clear(self) -> None:
        with self._lock:
            self._outbox.clear()
