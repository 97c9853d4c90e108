"""Driving a simulated panel (``backend = "sim"``): the tests and the demo press buttons and read LEDs here.

Each helper moves the gpiozero ``MockFactory`` pin the way the real part would: the call button, the
paper-low switch and the tamper switch pull their inputs low (they use internal pull-ups), the PIR module
drives its output high. Helpers raise ``LookupError`` when the part is not fitted.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.hw.panel import Panel

_LED_NAMES = {"status": "status_led", "call": "call_led", "status_led": "status_led", "call_led": "call_led"}


def _pin(panel: Panel, part: str) -> Any:
    device = panel.device(part)
    if device is None:
        raise LookupError(f"the panel has no {part} fitted")
    pin = device.pin
    if not hasattr(pin, "drive_low"):
        raise TypeError(f"{part} is not on a simulated pin (the panel backend is not 'sim')")
    return pin


def put_at_rest(panel: Panel) -> None:
    """Enclosure shut, paper present, no motion: how a freshly built simulated kiosk starts."""
    if panel.has("tamper"):
        _pin(panel, "tamper").drive_low()
    if panel.has("paper_low"):
        _pin(panel, "paper_low").drive_high()
    if panel.has("pir"):
        _pin(panel, "pir").drive_low()


def press_call(panel: Panel, hold: bool = False) -> None:
    """Press and release the call button; with ``hold``, keep it down past the hold time first."""
    pin = _pin(panel, "call_button")
    pin.drive_low()
    if hold:
        time.sleep(panel.hold_time_s + 0.15)
    else:
        time.sleep(0.01)
    pin.drive_high()


def set_paper_low(panel: Panel, low: bool) -> None:
    pin = _pin(panel, "paper_low")
    if low:
        pin.drive_low()
    else:
        pin.drive_high()


def motion(panel: Panel, duration_s: float = 0.3) -> None:
    """Someone walks past: the PIR output goes high for ``duration_s`` (long enough for its sampling)."""
    pin = _pin(panel, "pir")
    pin.drive_high()
    time.sleep(duration_s)
    pin.drive_low()


def tamper(panel: Panel, open: bool) -> None:
    """Open (``True``) or shut (``False``) the enclosure."""
    pin = _pin(panel, "tamper")
    if open:
        pin.drive_high()
    else:
        pin.drive_low()


def led_state(panel: Panel, led: str) -> bool:
    """Whether the LED (``"status"`` or ``"call"``) is lit right now."""
    device = panel.device(_LED_NAMES[led])
    if device is None:
        raise LookupError(f"the panel has no {_LED_NAMES[led]} fitted")
    return bool(device.pin.state)


def led_history(panel: Panel, led: str) -> list[tuple[float, bool]]:
    """The LED pin's changes as ``(seconds since the first record, lit)``, oldest first."""
    pin = _pin(panel, _LED_NAMES[led])
    history: list[tuple[float, bool]] = []
    elapsed = 0.0
    for delta, state in list(pin.states):
        elapsed += delta
        history.append((elapsed, bool(state)))
    return history


def clear_led_history(panel: Panel, led: str) -> None:
    _pin(panel, _LED_NAMES[led]).clear_states()
