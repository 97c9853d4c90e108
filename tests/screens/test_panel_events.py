"""The panel through the real app: staff call and answer, paper-low, tamper, and what the heartbeat says."""

from __future__ import annotations

from kiosk.app import health
from kiosk.hw.panel import sim


def test_staff_call_paper_and_tamper(kiosk_env) -> None:
    kiosk, customer, _clock, _tmp = kiosk_env
    ui, panel, store = kiosk.ui, kiosk.panel, kiosk.store

    sim.press_call(panel)
    assert customer.wait_until(lambda: ui.toast is not None, 3)
    assert ui.toast[0] == "ui.staff_called"
    assert sim.led_state(panel, "call") is True
    assert health(kiosk.print_worker, None, panel, kiosk.cfg)["staff_call"] is True

    sim.press_call(panel, hold=True)
    assert customer.wait_until(lambda: not panel.call_pending, 3 + panel.hold_time_s)
    assert sim.led_state(panel, "call") is False

    sim.set_paper_low(panel, True)
    assert customer.wait_until(lambda: any(k == "paper-low" for _, k, _ in store.audit_rows()), 3)
    assert health(kiosk.print_worker, None, panel, kiosk.cfg)["paper"] == "low"

    sim.tamper(panel, open=True)
    assert customer.wait_until(lambda: any(k == "tamper_open" for _, k, _ in store.audit_rows()), 3)
    assert health(kiosk.print_worker, None, panel, kiosk.cfg)["enclosure"] == "open"
    assert panel.status == "fault"
    sim.tamper(panel, open=False)
    assert customer.wait_until(lambda: panel.status == "ready", 3)

    kinds = [k for _, k, _ in store.audit_rows()]
    # a hold starts as a press, so the staff member's own press is recorded as a call first
    assert kinds.index("staff_called") < kinds.index("staff_answered")
    assert {"paper-low", "tamper_open", "tamper_closed"} <= set(kinds)
