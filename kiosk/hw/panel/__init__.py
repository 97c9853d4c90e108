"""The GPIO panel: call-staff button and LED, status LED, paper-low input, PIR motion sensor, tamper switch.

Built on gpiozero, imported lazily so the package imports on any machine. Inputs become
:class:`PanelEvent` values on a ``queue.Queue``; gpiozero runs its callbacks on its own threads, so the
callbacks here only put on the queue (and light the call LED, the panel's own business).

Wiring assumed (BCM numbers from ``hardware.panel.pins``; ``None`` means the part is not fitted):

* ``call_button``: push button to ground, internal pull-up; pressed = low. ``CALL_PRESSED`` on press,
  ``CALL_HELD`` after ``hold_time_s``; the call LED lights on press until :meth:`Panel.call_acknowledged`.
* ``call_led``, ``status_led``: LEDs driven high through a resistor.
* ``paper_low``: the printer's near-end switch to ground, internal pull-up; low = paper low.
  ``PAPER_LOW`` / ``PAPER_OK`` on each edge.
* ``pir``: a PIR module's push-pull output, active high. ``MOTION`` when motion starts.
* ``tamper``: a switch closed (to ground) while the enclosure is shut, internal pull-up; so a cut wire
  also reads as open. ``TAMPER_OPEN`` / ``TAMPER_CLOSED`` on each edge.

When the panel starts, a paper-low, an open enclosure or motion under way is reported at once
(``PAPER_LOW``, ``TAMPER_OPEN``, ``MOTION``) so the application never misses a state that began before it
ran.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kiosk.errors import ConfigError, HardwareError

if TYPE_CHECKING:
    from kiosk.config import PanelConfig

log = logging.getLogger(__name__)

__all__ = ["PART_NAMES", "Panel", "PanelEvent", "StatusPattern", "make_panel"]

PART_NAMES = ("call_button", "call_led", "status_led", "paper_low", "pir", "tamper")


class PanelEvent(StrEnum):
    CALL_PRESSED = "call-pressed"
    CALL_HELD = "call-held"
    PAPER_LOW = "paper-low"
    PAPER_OK = "paper-ok"
    MOTION = "motion"
    TAMPER_OPEN = "tamper-open"
    TAMPER_CLOSED = "tamper-closed"


class StatusPattern(StrEnum):
    READY = "ready"
    """Steady on."""
    OFFLINE = "offline"
    """Slow blink: 1 s on, 1 s off."""
    FAULT = "fault"
    """Fast blink: 0.2 s on, 0.2 s off."""
    OFF = "off"


BLINK_TIMES: dict[StatusPattern, tuple[float, float]] = {
    StatusPattern.OFFLINE: (1.0, 1.0),
    StatusPattern.FAULT: (0.2, 0.2),
}


def check_pins(pins: dict[str, int | None], source: str = "config") -> None:
    """Raise ``ConfigError`` when two parts share a GPIO, naming both keys and the pin."""
    seen: dict[int, str] = {}
    problems: list[tuple[str, str]] = []
    for name, pin in pins.items():
        if pin is None:
            continue
        if pin in seen:
            problems.append(("hardware.panel.pins", f"{seen[pin]} and {name} both use GPIO{pin}"))
        else:
            seen[pin] = name
    if problems:
        raise ConfigError(source, problems)


class Panel:
    """The panel's devices on one gpiozero pin factory; ``pin_factory=None`` lets gpiozero choose."""

    def __init__(
        self,
        cfg: PanelConfig,
        out_queue: queue.Queue[PanelEvent],
        pin_factory: Any = None,
        *,
        source: str = "config",
        at_rest: Callable[[Panel], None] | None = None,
    ) -> None:
        self.pins: dict[str, int | None] = {name: getattr(cfg.pins, name) for name in PART_NAMES}
        check_pins(self.pins, source)
        self.hold_time_s = cfg.hold_time_s
        self.pin_factory = pin_factory
        self._queue = out_queue
        self._lock = threading.Lock()
        self._status = StatusPattern.OFF
        self._call_pending = False
        self._closed = False
        self._devices: dict[str, Any] = {}
        try:
            self._build(cfg)
            if at_rest is not None:
                at_rest(self)
            self._attach()
        except BaseException:
            self.close()
            raise
        self._report_initial_state()

    # --- construction ------------------------------------------------------------------------

    def _make(self, name: str, factory: Callable[..., Any], **kwargs: Any) -> None:
        pin = self.pins[name]
        if pin is None:
            return
        try:
            self._devices[name] = factory(pin, pin_factory=self.pin_factory, **kwargs)
        except Exception as exc:
            raise HardwareError(f"GPIO panel: cannot set up {name} on GPIO{pin}: {exc}") from exc

    def _build(self, cfg: PanelConfig) -> None:
        try:
            from gpiozero import LED, Button, DigitalInputDevice, MotionSensor
        except ImportError as exc:  # pragma: no cover - gpiozero is a dependency
            raise HardwareError(f"GPIO panel: gpiozero is not available: {exc}") from exc
        self._make("call_button", Button, pull_up=True, hold_time=cfg.hold_time_s)
        self._make("call_led", LED, initial_value=False)
        self._make("status_led", LED, initial_value=False)
        # Switches, not buttons: no hold timer thread (closing it would wait out a hold time).
        self._make("paper_low", DigitalInputDevice, pull_up=True)
        self._make("pir", MotionSensor, pull_up=False)
        self._make("tamper", DigitalInputDevice, pull_up=True)

    def _attach(self) -> None:
        def emit(event: PanelEvent) -> Callable[[], None]:
            def callback() -> None:
                self._queue.put(event)

            return callback

        def pressed() -> None:
            self._light_call_led()
            self._queue.put(PanelEvent.CALL_PRESSED)

        if (button := self._devices.get("call_button")) is not None:
            button.when_pressed = pressed
            button.when_held = emit(PanelEvent.CALL_HELD)
        if (paper := self._devices.get("paper_low")) is not None:
            paper.when_activated = emit(PanelEvent.PAPER_LOW)
            paper.when_deactivated = emit(PanelEvent.PAPER_OK)
        if (pir := self._devices.get("pir")) is not None:
            pir.when_motion = emit(PanelEvent.MOTION)
        if (tamper := self._devices.get("tamper")) is not None:
            tamper.when_deactivated = emit(PanelEvent.TAMPER_OPEN)
            tamper.when_activated = emit(PanelEvent.TAMPER_CLOSED)

    def _report_initial_state(self) -> None:
        if (paper := self._devices.get("paper_low")) is not None and paper.is_active:
            self._queue.put(PanelEvent.PAPER_LOW)
        if (tamper := self._devices.get("tamper")) is not None and not tamper.is_active:
            self._queue.put(PanelEvent.TAMPER_OPEN)
        # gpiozero samples the PIR on a thread and does not fire for the very first sample; reading the
        # sensor waits for that sample (one sampling period), so motion under way at start is reported here.
        if (pir := self._devices.get("pir")) is not None and pir.motion_detected:
            self._queue.put(PanelEvent.MOTION)

    # --- use ---------------------------------------------------------------------------------

    def has(self, part: str) -> bool:
        """True when ``part`` (one of ``PART_NAMES``) is fitted."""
        return part in self._devices

    def device(self, part: str) -> Any:
        """The gpiozero device for ``part``, or None when it is not fitted."""
        return self._devices.get(part)

    @property
    def status(self) -> StatusPattern:
        return self._status

    @property
    def call_pending(self) -> bool:
        return self._call_pending

    @property
    def paper_low(self) -> bool | None:
        """Current paper-low input; None when the sensor is not fitted."""
        paper = self._devices.get("paper_low")
        return None if paper is None else bool(paper.is_active)

    @property
    def tamper_open(self) -> bool | None:
        """Current enclosure state; None when there is no tamper switch."""
        tamper = self._devices.get("tamper")
        return None if tamper is None else not tamper.is_active

    def set_status(self, pattern: StatusPattern) -> None:
        """Show ``pattern`` on the status LED (a no-op when the LED is not fitted)."""
        pattern = StatusPattern(pattern)
        with self._lock:
            self._status = pattern
            led = self._devices.get("status_led")
            if led is None or self._closed:
                return
            if pattern is StatusPattern.READY:
                led.on()
            elif pattern is StatusPattern.OFF:
                led.off()
            else:
                on_time, off_time = BLINK_TIMES[pattern]
                led.blink(on_time=on_time, off_time=off_time)

    def _light_call_led(self) -> None:
        with self._lock:
            self._call_pending = True
            led = self._devices.get("call_led")
            if led is not None and not self._closed:
                led.on()

    def call_acknowledged(self) -> None:
        """Staff have answered the call: the call LED goes off."""
        with self._lock:
            self._call_pending = False
            led = self._devices.get("call_led")
            if led is not None and not self._closed:
                led.off()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            devices = list(self._devices.values())
        for device in devices:
            try:
                device.close()
            except Exception as exc:  # closing must not stop the others from closing
                log.warning("GPIO panel: closing %s failed: %s", type(device).__name__, exc)

    def __enter__(self) -> Panel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_panel(cfg: PanelConfig, out_queue: queue.Queue[PanelEvent], *, source: str = "config") -> Panel:
    """Build the panel for ``cfg.backend``.

    ``sim``: a fresh gpiozero ``MockFactory`` with the parts at rest (enclosure shut, paper present);
    drive it with :mod:`kiosk.hw.panel.sim`. ``gpio``: gpiozero's default pin factory (lgpio on a Pi 5,
    RPi.GPIO or lgpio on older boards; ``GPIOZERO_PIN_FACTORY`` overrides the choice).
    """
    if cfg.backend == "sim":
        from gpiozero.pins.mock import MockFactory

        from kiosk.hw.panel.sim import put_at_rest

        return Panel(cfg, out_queue, MockFactory(), source=source, at_rest=put_at_rest)
    if cfg.backend == "gpio":
        return Panel(cfg, out_queue, None, source=source)
    raise ConfigError(source, [("hardware.panel.backend", f"unknown panel backend {cfg.backend!r}")])
