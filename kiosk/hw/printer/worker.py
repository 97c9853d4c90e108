"""The print worker: a thread that owns the printer so that the UI thread never waits for it.

The UI thread calls ``submit`` (never blocks), ``pending``, ``poll_events`` and reads
``status``; each takes a short lock that the worker never holds while talking to the printer.
The worker publishes ``JobStarted``, ``JobDone``, ``JobHeld`` and ``StatusChanged`` events on
an out-queue that the UI drains once per frame.

A job that fails with a printer fault (paper out, cover open, offline) is kept at the head of
the queue, never dropped. The worker polls the printer's status with a backoff (1 s growing to
2 s) and, once the printer can print again, sends the WHOLE job again: ESC/POS has no way to
resume a job part way, so on a real printer a receipt that was cut short by the end of the roll
is printed again in full after the new roll goes in (the customer gets one torn and one whole
copy). "Done" means the printer accepted every byte of the job; a fault that happens while the
printer works through its buffer shows up in the next status poll, not in that job.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from kiosk.hw.printer.base import HOLDING_STATUSES, Printer, PrinterFault, PrinterStatus

log = logging.getLogger(__name__)

_ids = itertools.count(1)


def new_job_id() -> str:
    return f"job-{next(_ids):06d}"


@dataclass(frozen=True)
class PrintJob:
    job_id: str
    kind: str
    """What it is (``card``, ``consent``, ``rules``, ``test``): for staff lists and logs."""
    data: bytes = field(repr=False)
    created: float = field(default_factory=time.time)


@dataclass(frozen=True)
class JobStarted:
    job_id: str
    attempt: int


@dataclass(frozen=True)
class JobDone:
    job_id: str


@dataclass(frozen=True)
class JobHeld:
    job_id: str
    reason: PrinterStatus


@dataclass(frozen=True)
class StatusChanged:
    status: PrinterStatus


PrintEvent = JobStarted | JobDone | JobHeld | StatusChanged


class PrintWorker:
    """Prints queued jobs one at a time on its own thread; see the module docstring."""

    def __init__(
        self,
        printer: Printer,
        *,
        backoff_s: tuple[float, float] = (1.0, 2.0),
        idle_poll_s: float | None = 10.0,
        name: str = "printer",
    ) -> None:
        self.printer = printer
        self.backoff_min, self.backoff_max = backoff_s
        self.idle_poll_s = idle_poll_s
        self.events: queue.SimpleQueue[PrintEvent] = queue.SimpleQueue()
        self._jobs: deque[PrintJob] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._status = PrinterStatus.UNKNOWN
        self._held: PrinterStatus | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # -- UI-thread side: all of these return at once ------------------------------------
    def start(self) -> PrintWorker:
        self._thread.start()
        return self

    def submit(self, job: PrintJob) -> None:
        """Queue a job; returns immediately.

        While the printer holds a job, a new one is reported as held at once (it waits behind it),
        so whoever submitted it learns the printer is not printing without waiting for a change.
        """
        with self._cond:
            if self._stopping:
                raise RuntimeError("print worker is stopped")
            self._jobs.append(job)
            held = self._held
            self._cond.notify()
        if held is not None:
            self._publish(JobHeld(job.job_id, held))

    def cancel(self, job_ids: Iterable[str]) -> list[str]:
        """Drop jobs not yet printed (e.g. a consent copy whose customer has gone); returns those dropped.

        A job already being sent is dropped before its next attempt; bytes already on the wire
        cannot be called back.
        """
        wanted = set(job_ids)
        with self._cond:
            dropped = [j.job_id for j in self._jobs if j.job_id in wanted]
            self._jobs = deque(j for j in self._jobs if j.job_id not in wanted)
            if not self._jobs:
                self._held = None
            self._cond.notify_all()
        if dropped:
            log.info("print jobs cancelled: %s", ", ".join(dropped))
        return dropped

    def pending(self) -> list[PrintJob]:
        """Jobs not yet printed, the held one first (for staff)."""
        with self._cond:
            return list(self._jobs)

    @property
    def status(self) -> PrinterStatus:
        """The last status the worker saw."""
        return self._status

    @property
    def held(self) -> PrinterStatus | None:
        """Why the head job is waiting, or None when nothing is held."""
        return self._held

    def poll_events(self) -> list[PrintEvent]:
        """Every event published since the last call; never blocks."""
        out: list[PrintEvent] = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def stop(self, timeout: float = 0.5) -> bool:
        """Stop the worker; True if its thread ended within ``timeout``.

        Waiting (between jobs or between status polls) ends at once. A write already in
        progress cannot be interrupted; the thread is a daemon and finishes it on its own.
        Jobs still queued stay in ``pending()``.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- worker thread --------------------------------------------------------------------
    def _publish(self, event: PrintEvent) -> None:
        self.events.put(event)

    def _set_status(self, status: PrinterStatus) -> None:
        if status != self._status:
            self._status = status
            self._publish(StatusChanged(status))

    def _poll(self) -> PrinterStatus:
        try:
            status = self.printer.status()
        except Exception:  # a backend bug must not kill the print thread
            log.exception("printer status query failed")
            status = PrinterStatus.UNKNOWN
        self._set_status(status)
        return status

    def _wait(self, seconds: float) -> bool:
        """Sleep unless stopped; False once stopping."""
        with self._cond:
            if not self._stopping:
                self._cond.wait(seconds)
            return not self._stopping

    def _next_job(self) -> PrintJob | None:
        with self._cond:
            while not self._jobs and not self._stopping:
                if not self._cond.wait(self.idle_poll_s):
                    break  # idle timeout: poll the status below
            if self._stopping:
                return None
            return self._jobs[0] if self._jobs else None

    def _run(self) -> None:
        self._poll()
        while True:
            job = self._next_job()
            if self._stopping:
                return
            if job is None:
                self._poll()
                continue
            self._print(job)

    def _queued(self, job: PrintJob) -> bool:
        with self._cond:
            return any(j is job for j in self._jobs)

    def _print(self, job: PrintJob) -> None:
        attempt = 0
        delay = self.backoff_min
        while not self._stopping:
            if not self._queued(job):
                return  # cancelled while it waited
            status = self._status
            if status in HOLDING_STATUSES:
                status = self._poll()
            if status in HOLDING_STATUSES:
                self._hold(job, status)
                if not self._wait(delay):
                    return
                delay = min(delay * 1.5, self.backoff_max)
                continue
            attempt += 1
            self._publish(JobStarted(job.job_id, attempt))
            try:
                self.printer.send(job.data)
            except PrinterFault as fault:
                log.warning("print job %s (%s) held: %s", job.job_id, job.kind, fault)
                # The fault says why; the printer's own answer, where it gives one, wins.
                polled = self._poll()
                reason = polled if polled in HOLDING_STATUSES else fault.status
                self._set_status(reason)
                self._hold(job, reason)
                if not self._wait(delay):
                    return
                delay = min(delay * 1.5, self.backoff_max)
                continue
            except Exception:
                log.exception("print job %s (%s): unexpected error; kept for retry", job.job_id, job.kind)
                self._hold(job, PrinterStatus.ERROR)
                if not self._wait(self.backoff_max):
                    return
                continue
            with self._cond:
                if self._jobs and self._jobs[0] is job:
                    self._jobs.popleft()
                self._held = None
            self._publish(JobDone(job.job_id))
            log.info("print job %s (%s) done, %d bytes", job.job_id, job.kind, len(job.data))
            self._poll()
            return

    def _hold(self, job: PrintJob, reason: PrinterStatus) -> None:
        if self._held != reason:
            self._held = reason
            self._publish(JobHeld(job.job_id, reason))
