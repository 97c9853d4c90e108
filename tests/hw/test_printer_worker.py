"""PrintWorker with real SimPrinter and FilePrinter backends: held jobs, recovery, UI latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.hw.printer import receipts
from kiosk.hw.printer.base import PrinterStatus
from kiosk.hw.printer.file import FilePrinter
from kiosk.hw.printer.sim import SimPrinter
from kiosk.hw.printer.worker import (
    JobDone,
    JobHeld,
    JobStarted,
    PrintEvent,
    PrintJob,
    PrintWorker,
    StatusChanged,
    new_job_id,
)

FAST = (0.02, 0.05)


def card_bytes() -> bytes:
    return receipts.card_receipt(
        paper_mm=80,
        native_qr=True,
        program_name="Зерно Бонус",
        store_name="Кофейня",
        card_number="2000100000014",
        qr_payload="LC1:2000100000014.ABCDEFGH",
        summary_lines=["a", "b", "c"],
        wallet_url=None,
    )


def job(kind: str = "card", data: bytes | None = None) -> PrintJob:
    return PrintJob(new_job_id(), kind, data if data is not None else card_bytes())


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


class Collector:
    def __init__(self, worker: PrintWorker) -> None:
        self.worker = worker
        self.events: list[PrintEvent] = []

    def __call__(self) -> list[PrintEvent]:
        self.events += self.worker.poll_events()
        return self.events


@pytest.fixture
def sim() -> SimPrinter:
    return SimPrinter()


def test_prints_jobs_in_order(sim: SimPrinter) -> None:
    worker = PrintWorker(sim, backoff_s=FAST).start()
    jobs = [job(data=bytes([i]) * 50) for i in range(3)]
    for j in jobs:
        worker.submit(j)
    events = Collector(worker)
    wait_for(lambda: sum(isinstance(e, JobDone) for e in events()) == 3)
    assert sim.jobs == [j.data for j in jobs]
    assert [e.job_id for e in events.events if isinstance(e, JobDone)] == [j.job_id for j in jobs]
    assert worker.pending() == []
    assert worker.stop()


def test_paper_out_mid_job_is_held_then_completes(sim: SimPrinter) -> None:
    worker = PrintWorker(sim, backoff_s=FAST).start()
    events = Collector(worker)
    first, second = job(), job("consent", b"\x1b@consent\n")
    sim.paper_out_after(len(first.data) // 2)
    worker.submit(first)
    worker.submit(second)
    wait_for(lambda: any(isinstance(e, JobHeld) for e in events()))
    held = next(e for e in events.events if isinstance(e, JobHeld))
    assert held == JobHeld(first.job_id, PrinterStatus.PAPER_OUT)
    assert worker.held is PrinterStatus.PAPER_OUT
    wait_for(lambda: worker.status is PrinterStatus.PAPER_OUT)
    assert StatusChanged(PrinterStatus.PAPER_OUT) in events()
    assert [j.job_id for j in worker.pending()] == [first.job_id, second.job_id]
    assert sim.jobs == [] and len(sim.fragments) == 1
    time.sleep(0.2)  # still held while the paper is out: nothing lost, nothing printed
    assert sim.jobs == [] and len(worker.pending()) == 2

    sim.restore()
    wait_for(lambda: len(sim.jobs) == 2)
    assert sim.jobs == [first.data, second.data]  # the whole job again, then the next
    wait_for(lambda: worker.pending() == [] and worker.status is PrinterStatus.READY)
    done = [e.job_id for e in events() if isinstance(e, JobDone)]
    assert done == [first.job_id, second.job_id]
    assert worker.held is None
    assert worker.stop()


def test_offline_then_back(sim: SimPrinter) -> None:
    worker = PrintWorker(sim, backoff_s=FAST).start()
    events = Collector(worker)
    wait_for(lambda: worker.status is PrinterStatus.READY)
    sim.offline()
    j = job()
    worker.submit(j)
    wait_for(lambda: JobHeld(j.job_id, PrinterStatus.OFFLINE) in events())
    assert sim.jobs == []
    sim.restore()
    wait_for(lambda: JobDone(j.job_id) in events())
    assert sim.jobs == [j.data]
    assert any(isinstance(e, JobStarted) and e.job_id == j.job_id and e.attempt >= 2 for e in events.events)
    assert worker.stop()


def test_cover_open_before_job_holds_without_sending(sim: SimPrinter) -> None:
    sim.cover_open()
    worker = PrintWorker(sim, backoff_s=FAST).start()
    wait_for(lambda: worker.status is PrinterStatus.COVER_OPEN)
    events = Collector(worker)
    j = job()
    worker.submit(j)
    wait_for(lambda: JobHeld(j.job_id, PrinterStatus.COVER_OPEN) in events())
    assert sim.attempts == 0
    sim.restore()
    wait_for(lambda: sim.jobs == [j.data])
    assert worker.stop()


def test_file_backend_status_unknown_never_paper_out(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    worker = PrintWorker(FilePrinter(str(target)), backoff_s=FAST).start()
    events = Collector(worker)
    j = job()
    worker.submit(j)
    wait_for(lambda: JobDone(j.job_id) in events())
    assert target.read_bytes() == j.data
    assert worker.status is PrinterStatus.UNKNOWN
    assert not any(
        isinstance(e, StatusChanged | JobHeld)
        and PrinterStatus.PAPER_OUT in (getattr(e, "status", None), getattr(e, "reason", None))
        for e in events.events
    )
    assert worker.stop()


def test_ui_calls_stay_under_a_frame_while_the_printer_hangs() -> None:
    hanging = SimPrinter(send_delay_s=2.0)
    worker = PrintWorker(hanging, backoff_s=FAST).start()
    worker.submit(job())
    time.sleep(0.1)  # the worker is now inside send(), sleeping
    worst = 0.0
    for _ in range(50):
        for call in (
            lambda: worker.submit(job("consent", b"x")),
            worker.pending,
            worker.poll_events,
            lambda: worker.status,
        ):
            t0 = time.perf_counter()
            call()
            worst = max(worst, time.perf_counter() - t0)
    assert worst < 0.033 / 2, f"UI call took {worst * 1000:.1f} ms"
    assert len(worker.pending()) == 51
    t0 = time.perf_counter()
    stopped = worker.stop(timeout=0.1)
    assert time.perf_counter() - t0 < 0.2
    assert not stopped  # still inside the 2 s write; the daemon thread ends on its own


def test_stop_is_fast_while_held(sim: SimPrinter) -> None:
    sim.paper_out()
    worker = PrintWorker(sim, backoff_s=(5.0, 5.0)).start()
    worker.submit(job())
    wait_for(lambda: worker.held is PrinterStatus.PAPER_OUT)
    t0 = time.perf_counter()
    assert worker.stop()
    assert time.perf_counter() - t0 < 0.2
    assert len(worker.pending()) == 1  # kept for staff
    with pytest.raises(RuntimeError):
        worker.submit(job())


def test_cancelled_job_never_prints_and_new_jobs_learn_the_printer_is_held() -> None:
    printer = SimPrinter(paper_mm=80)
    printer.paper_out()
    worker = PrintWorker(printer, backoff_s=FAST).start()
    try:
        events = Collector(worker)
        card, consent = job("card"), job("consent", b"\x1b@consent of a customer who left\n")
        worker.submit(card)
        wait_for(lambda: any(isinstance(e, JobHeld) for e in events()))
        worker.submit(consent)
        # the second job waits behind the held one and is told so at once, not when the reason changes
        assert any(isinstance(e, JobHeld) and e.job_id == consent.job_id for e in events())
        assert worker.cancel([consent.job_id, "no-such-job"]) == [consent.job_id]
        printer.restore()
        wait_for(lambda: not worker.pending())
        assert printer.jobs == [card.data]
    finally:
        worker.stop()


def test_cancelling_the_held_job_itself_stops_its_retries() -> None:
    printer = SimPrinter(paper_mm=80)
    printer.offline()
    worker = PrintWorker(printer, backoff_s=FAST).start()
    try:
        held = job("consent", b"\x1b@held consent\n")
        worker.submit(held)
        wait_for(lambda: worker.held is not None)
        worker.cancel([held.job_id])
        assert worker.held is None and not worker.pending()
        printer.restore()
        after = job("card")
        worker.submit(after)
        wait_for(lambda: not worker.pending())
        assert printer.jobs == [after.data]
    finally:
        worker.stop()
