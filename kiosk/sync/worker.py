"""A background thread that runs one step whenever it is woken, or at least every ``period_s``."""

from __future__ import annotations

import logging
import threading

from kiosk.errors import StoreError

log = logging.getLogger(__name__)


class WakeableWorker:
    """``start``/``stop``/``wake`` around a ``tick`` that subclasses provide.

    A failing tick is logged (a store error in one line, anything else with its traceback) and the
    loop waits a second before the next one: a worker of the sync link never dies of an exception.
    """

    thread_name = "sync-worker"

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.period_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.tick()
            except StoreError as exc:
                log.error("%s: %s", self.thread_name, exc)
                self._stopping.wait(1.0)
            except Exception:
                log.exception("%s failed; retrying", self.thread_name)
                self._stopping.wait(1.0)
