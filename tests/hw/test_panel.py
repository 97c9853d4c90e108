"""The GPIO panel on gpiozero's MockFactory: inputs become events, outputs drive the pins."""

from __future__ import annotations

import itertools
import queue
import time
from collections.abc import Iterator

import pytest

from kiosk.config import PanelConfig, PanelPins
from kiosk.errors import ConfigError
from kiosk.hw.panel import Panel, PanelEvent, StatusPattern, make_panel
from kiosk.hw.panel import sim as panel_sim

HOLD_S = 0.3


def drain(q: queue.Queue[PanelEvent], wait_s: float = 0.0) -> list[PanelEvent]:
    if wait_s:
        time.sleep(wait_s)
    events: list[PanelEvent] = []
    while True:
        try:
            events.append(q.get_nowait())
        except queue.Empty:
            return events


def next_event(q: queue.Queue[PanelEvent], timeout: float = 2.0) -> PanelEvent:
    return q.get(timeout=timeout)


@pytest.fixture
def events() -> queue.Queue[PanelEvent]:
    return queue.Queue()


@pytest.fixture
def panel(events: queue.Queue[PanelEvent]) -> Iterator[Panel]:
    with make_panel(PanelConfig(hold_time_s=HOLD_S), events) as built:
        yield built


def test_sim_panel_starts_at_rest(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    assert drain(events, 0.2) == []
    assert panel.tamper_open is False
    assert panel.paper_low is False
    assert panel_sim.led_state(panel, "status") is False
    assert panel_sim.led_state(panel, "call") is False


def test_call_press_lights_the_led_until_acknowledged(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    panel_sim.press_call(panel)
    assert next_event(events) is PanelEvent.CALL_PRESSED
    assert panel.call_pending
    assert panel_sim.led_state(panel, "call") is True
    assert drain(events, HOLD_S + 0.2) == []  # a short press is not a hold
    panel.call_acknowledged()
    assert panel_sim.led_state(panel, "call") is False
    assert not panel.call_pending


def test_call_hold_after_hold_time(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    pin = panel.device("call_button").pin
    started = time.monotonic()
    pin.drive_low()
    assert next_event(events) is PanelEvent.CALL_PRESSED
    assert next_event(events) is PanelEvent.CALL_HELD
    assert time.monotonic() - started >= HOLD_S - 0.02
    pin.drive_high()
    assert drain(events, 0.1) == []


def test_press_call_helper_with_hold(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    panel_sim.press_call(panel, hold=True)
    assert drain(events) == [PanelEvent.CALL_PRESSED, PanelEvent.CALL_HELD]


def test_call_button_is_active_low(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    pin = panel.device("call_button").pin
    pin.drive_high()  # already released: nothing happens
    assert drain(events, 0.05) == []
    pin.drive_low()
    assert next_event(events) is PanelEvent.CALL_PRESSED
    pin.drive_high()


def test_paper_low_edges(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    panel_sim.set_paper_low(panel, True)
    assert next_event(events) is PanelEvent.PAPER_LOW
    assert panel.paper_low is True
    panel_sim.set_paper_low(panel, True)  # no edge, no event
    assert drain(events, 0.05) == []
    panel_sim.set_paper_low(panel, False)
    assert next_event(events) is PanelEvent.PAPER_OK
    assert panel.paper_low is False


def test_pir_motion(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    panel_sim.motion(panel)
    assert next_event(events) is PanelEvent.MOTION
    assert drain(events, 0.3) == []  # the end of the motion is not an event
    panel_sim.motion(panel)
    assert next_event(events) is PanelEvent.MOTION


def test_tamper_open_and_close(panel: Panel, events: queue.Queue[PanelEvent]) -> None:
    panel_sim.tamper(panel, True)
    assert next_event(events) is PanelEvent.TAMPER_OPEN
    assert panel.tamper_open is True
    panel_sim.tamper(panel, False)
    assert next_event(events) is PanelEvent.TAMPER_CLOSED
    assert panel.tamper_open is False


def test_open_enclosure_and_low_paper_are_reported_at_start(events: queue.Queue[PanelEvent]) -> None:
    from gpiozero.pins.mock import MockFactory

    # No resting state applied: the pull-ups leave the tamper loop open, and the paper input is forced low.
    factory = MockFactory()

    def low_paper_and_motion(p: Panel) -> None:
        panel_sim.set_paper_low(p, True)
        p.device("pir").pin.drive_high()

    with Panel(PanelConfig(), events, factory, at_rest=low_paper_and_motion) as panel:
        assert set(drain(events)) == {PanelEvent.TAMPER_OPEN, PanelEvent.PAPER_LOW, PanelEvent.MOTION}
        assert panel.tamper_open is True


def transitions(history: list[tuple[float, bool]]) -> list[float]:
    """Times between LED changes, leaving out the wait before the first change."""
    return [b[0] - a[0] for a, b in itertools.pairwise(history[1:])]


def test_status_ready_is_steady_on(panel: Panel) -> None:
    panel.set_status(StatusPattern.READY)
    panel_sim.clear_led_history(panel, "status")
    time.sleep(0.5)
    assert panel_sim.led_state(panel, "status") is True
    assert panel_sim.led_history(panel, "status") == [(0.0, True)]
    assert panel.status is StatusPattern.READY


def test_status_fault_blinks_fast(panel: Panel) -> None:
    panel_sim.clear_led_history(panel, "status")
    panel.set_status(StatusPattern.FAULT)
    time.sleep(1.1)
    history = panel_sim.led_history(panel, "status")
    states = [lit for _, lit in history]
    assert states[:4] == [False, True, False, True]
    assert 4 <= len(history) - 1 <= 7  # ~5 changes in 1.1 s at 0.2 s per phase
    for gap in transitions(history):
        assert gap == pytest.approx(0.2, abs=0.07)


def test_status_offline_blinks_slowly(panel: Panel) -> None:
    panel_sim.clear_led_history(panel, "status")
    panel.set_status(StatusPattern.OFFLINE)
    time.sleep(2.3)
    history = panel_sim.led_history(panel, "status")
    assert [lit for _, lit in history][:4] == [False, True, False, True]
    assert len(history) - 1 == 3
    for gap in transitions(history):
        assert gap == pytest.approx(1.0, abs=0.1)


def test_status_off_stops_blinking(panel: Panel) -> None:
    panel.set_status(StatusPattern.FAULT)
    time.sleep(0.3)
    panel.set_status(StatusPattern.OFF)
    panel_sim.clear_led_history(panel, "status")
    time.sleep(0.5)
    assert panel_sim.led_state(panel, "status") is False
    assert panel_sim.led_history(panel, "status") == [(0.0, False)]


def test_parts_without_a_pin_are_absent(events: queue.Queue[PanelEvent]) -> None:
    pins = PanelPins(call_led=None, status_led=None, pir=None, tamper=None)
    with make_panel(PanelConfig(pins=pins, hold_time_s=HOLD_S), events) as panel:
        for part in ("call_led", "status_led", "pir", "tamper"):
            assert not panel.has(part)
            assert panel.device(part) is None
        assert panel.has("call_button") and panel.has("paper_low")
        panel.set_status(StatusPattern.FAULT)
        assert panel.status is StatusPattern.FAULT
        panel_sim.press_call(panel)
        assert next_event(events) is PanelEvent.CALL_PRESSED
        assert panel.call_pending
        panel.call_acknowledged()
        assert panel.tamper_open is None
        with pytest.raises(LookupError, match="pir"):
            panel_sim.motion(panel)


def test_nothing_fitted(events: queue.Queue[PanelEvent]) -> None:
    pins = PanelPins(**dict.fromkeys(PanelPins.model_fields))
    with make_panel(PanelConfig(pins=pins), events) as panel:
        panel.set_status(StatusPattern.READY)
        panel.call_acknowledged()
        assert drain(events) == []


def test_pins_from_config_are_used(events: queue.Queue[PanelEvent]) -> None:
    pins = PanelPins(call_button=5, call_led=6, status_led=13, paper_low=19, pir=26, tamper=21)
    with make_panel(PanelConfig(pins=pins, hold_time_s=HOLD_S), events) as panel:
        factory = panel.pin_factory
        assert panel.device("call_button").pin is factory.pin(5)
        factory.pin(5).drive_low()
        factory.pin(5).drive_high()
        assert next_event(events) is PanelEvent.CALL_PRESSED
        assert factory.pin(6).state == 1  # the call LED on GPIO6
        panel.set_status(StatusPattern.READY)
        assert factory.pin(13).state == 1
        factory.pin(19).drive_low()
        assert next_event(events) is PanelEvent.PAPER_LOW
        factory.pin(21).drive_high()
        assert next_event(events) is PanelEvent.TAMPER_OPEN
        factory.pin(26).drive_high()
        assert next_event(events) is PanelEvent.MOTION
        # The default pins are not in use.
        assert panel.device("call_button").pin is not factory.pin(17)


def test_two_parts_on_one_pin_is_a_config_error(events: queue.Queue[PanelEvent]) -> None:
    pins = PanelPins(call_button=17, pir=17)
    with pytest.raises(ConfigError) as info:
        make_panel(PanelConfig(pins=pins), events, source="/etc/kiosk/config.toml")
    assert "hardware.panel.pins: call_button and pir both use GPIO17" in str(info.value)
    assert str(info.value).startswith("/etc/kiosk/config.toml: ")


def test_close_releases_the_pins(events: queue.Queue[PanelEvent]) -> None:
    panel = make_panel(PanelConfig(), events)
    panel.set_status(StatusPattern.FAULT)
    panel.close()
    panel.close()  # twice is fine
    panel.set_status(StatusPattern.READY)  # after close: no effect, no error
    assert panel.device("status_led").closed
