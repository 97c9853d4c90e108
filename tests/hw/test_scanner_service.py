"""The scanner thread with the simulated camera: real frames, real decoder, real card parsing."""

from __future__ import annotations

import contextlib
import functools
import queue
import time
from pathlib import Path

import numpy as np
import pytest

from kiosk.config import ScannerConfig
from kiosk.core.cards import CardScan, card_number, parse_scan, qr_payload
from kiosk.hw.scanner import (
    CameraGone,
    CodeSource,
    FrameSource,
    ScanEvent,
    ScannerFault,
    ScannerMessage,
    ScannerRecovered,
    make_scanner,
    make_source,
)
from kiosk.hw.scanner.decode import ZxingDecoder
from kiosk.hw.scanner.evdev_source import EvdevSource
from kiosk.hw.scanner.scene import to_png
from kiosk.hw.scanner.service import ScannerService
from kiosk.hw.scanner.sim_source import SimSource
from tests.hw_sim.scene import make_scene

KEY = b"s" * 32
CARD = card_number(7, 42)
PAYLOAD = qr_payload(CARD, KEY)
classify = functools.partial(parse_scan, mac_key=KEY)


def drain(q: queue.Queue[ScannerMessage], seconds: float) -> list[ScannerMessage]:
    out: list[ScannerMessage] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with contextlib.suppress(queue.Empty):
            out.append(q.get(timeout=0.02))
    return out


def wait_for(q: queue.Queue[ScannerMessage], kind: type, seconds: float) -> tuple[ScannerMessage, list[ScannerMessage]]:
    seen: list[ScannerMessage] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            msg = q.get(timeout=0.02)
        except queue.Empty:
            continue
        seen.append(msg)
        if isinstance(msg, kind):
            return msg, seen
    raise AssertionError(f"no {kind.__name__} within {seconds} s; got {seen}")


@pytest.fixture
def sim() -> SimSource:
    return SimSource(fps=30)


@pytest.fixture
def service(sim: SimSource):
    q: queue.Queue[ScannerMessage] = queue.Queue()
    svc = ScannerService(sim, classify, q, decoder=ZxingDecoder(), fps=30, absent_s=0.3, absent_frames=2)
    svc.start()
    yield svc, q
    svc.stop()


def test_a_card_shown_yields_exactly_one_scan_event(sim: SimSource, service) -> None:
    svc, q = service
    assert drain(q, 0.3) == []  # empty counter: nothing
    sim.show(PAYLOAD, seed=3)
    msgs = drain(q, 1.2)  # ~35 frames of the same card
    assert len(msgs) == 1
    event = msgs[0]
    assert isinstance(event, ScanEvent)
    assert event.text == PAYLOAD and event.format == "qr" and not event.ignored
    assert event.result == CardScan(card=CARD, authenticated=True)
    assert svc.frames_decoded > 20
    frame = svc.latest_frame()
    assert frame is not None and frame.grey.shape == (480, 640)
    # Taken away and shown again: a second presentation.
    sim.clear()
    assert drain(q, 0.6) == []
    sim.show(PAYLOAD, seed=4)
    again = drain(q, 0.8)
    assert len(again) == 1 and isinstance(again[0], ScanEvent) and again[0].text == PAYLOAD


def test_a_foreign_code_is_reported_as_ignored(sim: SimSource, service) -> None:
    _svc, q = service
    sim.show("https://example.com/coupon", seed=5, content="qr")
    msgs = drain(q, 0.8)
    assert len(msgs) == 1
    event = msgs[0]
    assert isinstance(event, ScanEvent) and event.ignored and event.reason == "not_ours"


def test_camera_gone_is_one_fault_then_recovery(sim: SimSource, service) -> None:
    svc, q = service
    drain(q, 0.2)
    sim.camera_gone()
    fault, before = wait_for(q, ScannerFault, 1.0)
    assert before == [fault] and "sim camera" in fault.message
    # Still gone through several reopen attempts (0.5 s, 1 s): no second fault.
    assert drain(q, 1.7) == []
    assert svc.alive and svc.faulted
    sim.camera_back()
    _recovered, seen = wait_for(q, ScannerRecovered, 3.0)
    assert all(isinstance(m, ScannerRecovered) for m in seen)
    sim.show(PAYLOAD, seed=6)
    event, _ = wait_for(q, ScanEvent, 1.0)
    assert isinstance(event, ScanEvent) and event.text == PAYLOAD
    assert svc.alive and not svc.faulted


def test_pause_stops_decoding_and_resume_restarts_it(sim: SimSource, service) -> None:
    svc, q = service
    time.sleep(0.2)
    svc.pause()
    time.sleep(0.1)
    decoded = svc.frames_decoded
    sim.show(PAYLOAD, seed=7)
    assert drain(q, 0.5) == []
    assert svc.frames_decoded == decoded and svc.paused
    svc.resume()
    event, _ = wait_for(q, ScanEvent, 1.0)
    assert isinstance(event, ScanEvent) and isinstance(event.result, CardScan) and event.result.card == CARD


def test_stop_joins_quickly_even_while_faulted(sim: SimSource) -> None:
    q: queue.Queue[ScannerMessage] = queue.Queue()
    svc = ScannerService(sim, classify, q, decoder=ZxingDecoder(), fps=15)
    svc.start()
    time.sleep(0.2)
    start = time.monotonic()
    assert svc.stop() is True
    assert time.monotonic() - start < 1.0
    assert not svc.alive
    # In backoff between reopen attempts.
    sim.camera_gone()
    svc.start()
    wait_for(q, ScannerFault, 1.0)
    time.sleep(0.6)
    start = time.monotonic()
    assert svc.stop() is True
    assert time.monotonic() - start < 1.0


def test_frame_rate_is_limited_to_fps(sim: SimSource) -> None:
    q: queue.Queue[ScannerMessage] = queue.Queue()
    svc = ScannerService(sim, classify, q, decoder=ZxingDecoder(), fps=10)
    svc.start()
    time.sleep(1.0)
    svc.stop()
    assert 7 <= svc.frames_decoded <= 12


class _FlakyDecoder:
    """A real decoder that raises on one frame, as a library bug would."""

    name = "flaky"

    def __init__(self) -> None:
        self.inner = ZxingDecoder()
        self.calls = 0

    def decode(self, grey: np.ndarray):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("decoder bug")
        return self.inner.decode(grey)


def test_an_unexpected_error_never_kills_the_thread(sim: SimSource) -> None:
    q: queue.Queue[ScannerMessage] = queue.Queue()
    svc = ScannerService(sim, classify, q, decoder=_FlakyDecoder(), fps=30, backoff_initial_s=0.1)
    svc.start()
    try:
        fault, _ = wait_for(q, ScannerFault, 1.0)
        assert "decoder bug" in fault.message
        wait_for(q, ScannerRecovered, 1.0)
        sim.show(PAYLOAD, seed=8)
        wait_for(q, ScanEvent, 1.0)
        assert svc.alive
    finally:
        svc.stop()


def test_sim_images_from_config_are_shown_in_turn(tmp_path: Path) -> None:
    path = tmp_path / "card.png"
    to_png(make_scene(PAYLOAD, 9, "easy"), str(path))
    cfg = ScannerConfig(backend="sim", fps=30, sim_images=[str(path)])
    q: queue.Queue[ScannerMessage] = queue.Queue()
    svc = make_scanner(cfg, classify, q)
    svc.start()
    try:
        event, seen = wait_for(q, ScanEvent, 1.5)
        assert seen == [event] and isinstance(event, ScanEvent) and event.text == PAYLOAD
    finally:
        svc.stop()


def test_missing_sim_image_is_a_fault_naming_the_file(tmp_path: Path) -> None:
    src = SimSource([tmp_path / "nope.png"])
    with pytest.raises(CameraGone, match=r"nope\.png"):
        src.open()


def test_backends_are_chosen_from_config_without_their_libraries() -> None:
    assert isinstance(make_source(ScannerConfig(backend="sim")), FrameSource)
    picam = make_source(ScannerConfig(backend="picamera2"))
    webcam = make_source(ScannerConfig(backend="v4l2", device="/dev/video9"))
    hid = make_source(ScannerConfig(backend="evdev", device="/dev/input/event99"))
    assert isinstance(picam, FrameSource) and isinstance(webcam, FrameSource)
    assert isinstance(hid, CodeSource) and isinstance(hid, EvdevSource)
    with pytest.raises(ValueError):
        make_source(ScannerConfig(backend="evdev"))
    # Opening absent devices is a scanner fault, not a crash.
    with pytest.raises(CameraGone):
        picam.open()
    with pytest.raises(CameraGone):
        webcam.open()
