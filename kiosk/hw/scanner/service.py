"""The scanner thread: device -> decoder -> presentation stage -> queue.

``ScannerService`` owns its device. It reads frames (or lines from a keyboard-wedge module),
decodes them at no more than ``fps`` frames per second, and puts ``ScanEvent`` objects on the
output queue. When the device fails (``ScannerGone`` or any ``OSError``) it reports one
``ScannerFault``, closes the device, and keeps reopening it with a growing delay (0.5 s
doubling to 10 s); when it works again it reports ``ScannerRecovered``. No exception ever
leaves the thread. While paused (the UI is not on a scanning screen) nothing is decoded.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from kiosk.hw.scanner import (
    CodeSource,
    Frame,
    FrameSource,
    ScanEvent,
    ScannerFault,
    ScannerGone,
    ScannerMessage,
    ScannerRecovered,
)
from kiosk.hw.scanner.decode import Decoded, Decoder
from kiosk.hw.scanner.stage import DecodeStage, StageReport

log = logging.getLogger(__name__)

HID_FORMAT = "hid"
"""Format of codes delivered as text by a keyboard-wedge module (the symbology is unknown)."""


class ScannerService:
    def __init__(
        self,
        source: FrameSource | CodeSource,
        classify: Callable[[str], object],
        out_queue: queue.Queue[ScannerMessage],
        *,
        decoder: Decoder | None = None,
        fps: float = 15,
        is_rejection: Callable[[object], bool] | None = None,
        absent_s: float = 1.0,
        absent_frames: int = 2,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        read_timeout_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._frames = isinstance(source, FrameSource)
        if self._frames and decoder is None:
            raise ValueError("a camera source needs a decoder")
        if fps <= 0:
            raise ValueError("fps must be positive")
        self._source = source
        self._decoder = decoder
        self._queue = out_queue
        self._period = 1.0 / fps
        self._clock = clock
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._read_timeout = read_timeout_s
        # A keyboard-wedge module sends one line per read: only time separates presentations.
        self._stage = DecodeStage(
            classify,
            is_rejection=is_rejection,
            absent_s=absent_s,
            absent_frames=absent_frames if self._frames else 0,
        )
        self._stop = threading.Event()
        self._running = threading.Event()  # set while not paused
        self._running.set()
        self._thread: threading.Thread | None = None
        self._latest: Frame | None = None
        self._faulted = False
        self._opened = False
        self.frames_decoded = 0

    # --- control, from the UI thread ------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 1.0) -> bool:
        """Stop the thread and close the device; True if the thread ended within ``timeout_s``."""
        self._stop.set()
        self._running.set()  # wake a paused loop
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("scanner thread did not stop within %.1f s", timeout_s)
            return False
        self._thread = None
        return True

    def pause(self) -> None:
        """Stop decoding (the device stays open); codes shown meanwhile are not reported."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def faulted(self) -> bool:
        return self._faulted

    def latest_frame(self) -> Frame | None:
        """The last frame read from a camera (for a preview on screen), or None."""
        return self._latest

    # --- the thread -----------------------------------------------------------------------

    def _put(self, message: ScannerMessage) -> None:
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            log.warning("scanner output queue is full; dropped a %s", type(message).__name__)

    def _fault(self, exc: BaseException) -> None:
        if not self._faulted:
            self._faulted = True
            message = str(exc) or type(exc).__name__
            log.error("scanner fault: %s", message)
            self._put(ScannerFault(message=message, at=self._clock()))

    def _recovered(self) -> None:
        if self._faulted:
            self._faulted = False
            log.info("scanner recovered")
            self._put(ScannerRecovered(message="scanner working again", at=self._clock()))

    def _close(self) -> None:
        if not self._opened:
            return
        self._opened = False
        try:
            self._source.close()
        except Exception as exc:
            log.debug("closing the scanner device failed: %s", exc)

    def _emit(self, reports: list[StageReport], at: float) -> None:
        for r in reports:
            self._put(
                ScanEvent(text=r.text, format=r.format, at=at, result=r.result, ignored=r.ignored, reason=r.reason)
            )

    def _step_frame(self) -> None:
        source = self._source
        assert isinstance(source, FrameSource) and self._decoder is not None
        started = self._clock()
        grey = source.read(self._read_timeout)
        if grey is None:
            return
        now = self._clock()
        self._latest = Frame(grey, now)
        if self._faulted:
            self._recovered()
        decoded = self._decoder.decode(grey)
        self.frames_decoded += 1
        self._emit(self._stage.feed(decoded, now), now)
        wait = started + self._period - self._clock()
        if wait > 0:
            self._stop.wait(wait)

    def _step_lines(self, *, discard: bool = False) -> None:
        source = self._source
        assert isinstance(source, CodeSource)
        line = source.read_line(self._read_timeout if not discard else 0.05)
        now = self._clock()
        if discard:
            return
        found = [Decoded(line, HID_FORMAT)] if line else []
        self._emit(self._stage.feed(found, now), now)

    def _run(self) -> None:
        retry_wait: float | None = None  # delay before the next open attempt, None: open now
        try:
            while not self._stop.is_set():
                if not self._opened:
                    if retry_wait is not None and self._stop.wait(retry_wait):
                        break
                    try:
                        self._source.open()
                    except Exception as exc:
                        self._fault(exc)
                        retry_wait = (
                            self._backoff_initial if retry_wait is None else min(retry_wait * 2, self._backoff_max)
                        )
                        continue
                    self._opened = True
                    retry_wait = None
                    if not self._frames:
                        self._recovered()
                try:
                    if not self._running.is_set():
                        if self._frames:
                            self._running.wait(0.1)
                        else:
                            self._step_lines(discard=True)  # keystrokes typed while paused are dropped
                        continue
                    if self._frames:
                        self._step_frame()
                    else:
                        self._step_lines()
                except Exception as exc:  # ScannerGone, OSError from the device, or a bug
                    if not isinstance(exc, ScannerGone | OSError):
                        log.exception("scanner loop error")
                    self._fault(exc)
                    self._close()
                    retry_wait = self._backoff_initial
        except BaseException:  # pragma: no cover - last resort, the thread must end quietly
            log.exception("scanner thread ended by an unexpected error")
        finally:
            self._close()
