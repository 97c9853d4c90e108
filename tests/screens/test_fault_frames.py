"""Device faults through the real app: each gives a clear state, loses nothing, and never blocks a frame.

While a GSM modem stays silent, an HTTP SMS provider answers 500 or never answers, the printer
runs out of paper in the middle of a job or goes offline, or the camera disappears and comes
back, the frame loop keeps running: every loop iteration is timed and must finish within one
frame period (1 / fps).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.app import build
from kiosk.core import cards
from kiosk.demo import SkewClock, demo_config
from kiosk.hw.sms.http import HttpSms
from kiosk.hw.sms.modem import ModemSms
from kiosk.screens.virtual_customer import VirtualCustomer
from tests.hw_sim.http_sms import SimSmsProvider
from tests.hw_sim.modem import SimModem

FORM = {"name": "Анна", "phone": "8 (916) 444-55-66", "gender": "female"}


class FrameTimer:
    """Runs the real loop and keeps the duration of every iteration."""

    def __init__(self, ui) -> None:
        self.ui = ui
        self.durations: list[float] = []

    def run_for(self, seconds: float, until=None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            self.ui.step()
            self.durations.append(time.perf_counter() - start)
            if until is not None and until():
                return
            time.sleep(0.005)

    def assert_within_a_frame(self) -> None:
        budget = 1.0 / self.ui.fps
        assert self.durations, "the loop never ran"
        worst = max(self.durations)
        assert worst < budget, f"a loop iteration took {worst * 1000:.1f} ms (budget {budget * 1000:.1f} ms)"


def to_code_screen(ui) -> None:
    ui.start_signup()
    ui.accept_rules()
    assert ui.submit_form(dict(FORM)) == {}
    assert ui.give_consent(True, False)  # the SMS goes out on a worker thread


@pytest.fixture
def kiosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    k = build(demo_config(tmp_path), clock=SkewClock(), receipts_dir=tmp_path / "receipts", scanner=False)
    yield k
    k.close()


def test_silent_modem(kiosk) -> None:
    with SimModem(silent=True) as modem:
        kiosk.ui.devices.sms = ModemSms(modem.path, timeout_s=1.5, command_timeout_s=0.5)
        timer = FrameTimer(kiosk.ui)
        to_code_screen(kiosk.ui)
        code = kiosk.ui.screens["code"]
        timer.run_for(4, until=lambda: code.state == "failed")
    assert code.state == "failed" and code.message[0] == "code.send_failed"
    timer.assert_within_a_frame()


@pytest.mark.parametrize("mode", ["500", "slow"])
def test_http_provider_error_and_timeout(kiosk, mode: str) -> None:
    with SimSmsProvider(mode=mode, slow_s=5) as provider:
        kiosk.ui.devices.sms = HttpSms(provider.url, "Bearer test", timeout_s=1.5)
        timer = FrameTimer(kiosk.ui)
        to_code_screen(kiosk.ui)
        code = kiosk.ui.screens["code"]
        timer.run_for(4, until=lambda: code.state == "failed")
    assert code.state == "failed"
    assert len(provider.requests) == 1  # one attempt, no silent retries behind the customer's back
    timer.assert_within_a_frame()


@pytest.mark.parametrize("fault", ["paper_out_mid_job", "offline"])
def test_printer_fault_keeps_the_job(kiosk, fault: str) -> None:
    printer = kiosk.printer
    if fault == "paper_out_mid_job":
        printer.paper_out_after(300)  # the roll ends inside the card receipt
    else:
        printer.offline()
    ui = kiosk.ui
    timer = FrameTimer(ui)
    customer = VirtualCustomer(ui, sms=kiosk.sms)
    outcome = customer.sign_up({"phone": "8 (916) 111-22-33"})  # taps "Done" at the end, like a customer
    assert outcome.outcome == "registered"
    assert "printer_fault" in ui.views, "the customer was told the printer is not printing"
    timer.run_for(1)
    assert kiosk.print_worker.pending(), "the held job is kept for staff"
    printer.restore()
    timer.run_for(10, until=lambda: not kiosk.print_worker.pending())
    assert not kiosk.print_worker.pending()
    # the card (no personal data) was kept for staff and printed in full once the printer was back;
    # the consent copy was dropped when the customer left, so it cannot print for the next one
    assert len(printer.jobs) == 1
    assert cards.display_number(outcome.card_number).encode() in printer.jobs[0]
    name = "Валентина".encode("cp866")
    assert not any(name in chunk for chunk in [*printer.jobs, *printer.fragments])
    timer.assert_within_a_frame()


def test_camera_gone_and_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    kiosk = build(demo_config(tmp_path), clock=SkewClock(), scanner=True)
    try:
        ui, source = kiosk.ui, kiosk.scanner_source
        timer = FrameTimer(ui)
        source.camera_gone()
        timer.run_for(5, until=lambda: not ui.scanner_ok)
        assert not ui.scanner_ok
        source.camera_back()
        timer.run_for(15, until=lambda: ui.scanner_ok)
        assert ui.scanner_ok
        card = cards.card_number(kiosk.cfg.kiosk.number, 7)
        source.show(cards.qr_payload(card, kiosk.keys.card_mac))
        timer.run_for(5, until=lambda: ui.current.name == "balance")
        assert ui.current.name == "balance"
        timer.assert_within_a_frame()
    finally:
        kiosk.close()
