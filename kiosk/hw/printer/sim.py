"""A simulated printer: keeps the exact bytes of every job and plays the faults of a real one.

``status`` answers the way a real printer does: the simulator builds the ``DLE EOT 1..4`` reply
bytes for its current state and runs them through ``status.combine``, so the decoding tested
here is the decoding used with hardware. Faults: ``paper_out``, ``cover_open``, ``offline``
(switched off or unplugged: no replies, writes fail), ``paper_low``, ``paper_out_after(n)``
(the roll ends after ``n`` more bytes, in the middle of a job) and ``restore``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from kiosk.hw.printer import status as st
from kiosk.hw.printer.base import CoverOpen, PaperOut, PrinterOffline, PrinterStatus

log = logging.getLogger(__name__)

PAPER_DOTS = {58: 384, 80: 576}


class SimPrinter:
    kind = "sim"

    def __init__(self, *, paper_mm: int = 80, out_dir: Path | str | None = None, send_delay_s: float = 0.0) -> None:
        if paper_mm not in PAPER_DOTS:
            raise ValueError(f"paper_mm must be 58 or 80, got {paper_mm}")
        self.paper_mm = paper_mm
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.send_delay_s = send_delay_s
        self.jobs: list[bytes] = []
        """Every job delivered in full, byte for byte, in order."""
        self.fragments: list[bytes] = []
        """The printed part of each interrupted job (what a person would find on the paper)."""
        self.attempts = 0
        self._lock = threading.Lock()
        self._paper_out = False
        self._paper_low = False
        self._cover_open = False
        self._offline = False
        self._paper_left: int | None = None
        self.closed = False

    @property
    def name(self) -> str:
        return f"sim {self.paper_mm}mm"

    # -- fault injection --------------------------------------------------------------
    def paper_out(self) -> None:
        with self._lock:
            self._paper_out = True

    def paper_low(self) -> None:
        with self._lock:
            self._paper_low = True

    def cover_open(self) -> None:
        with self._lock:
            self._cover_open = True

    def offline(self) -> None:
        with self._lock:
            self._offline = True

    def paper_out_after(self, n_bytes: int) -> None:
        """The roll runs out after ``n_bytes`` more bytes have been printed."""
        if n_bytes < 0:
            raise ValueError("n_bytes must not be negative")
        with self._lock:
            self._paper_left = n_bytes

    def restore(self) -> None:
        """A fresh roll, cover closed, power and cable back."""
        with self._lock:
            self._paper_out = self._paper_low = self._cover_open = self._offline = False
            self._paper_left = None

    # -- what the printer would answer --------------------------------------------------
    def reply(self, n: int) -> int | None:
        """The byte a real printer sends back to ``DLE EOT n`` in the current state (None: no answer)."""
        with self._lock:
            return self._reply(n)

    def _reply(self, n: int) -> int | None:
        if self._offline:
            return None
        byte = st.FIXED_VALUE
        stopped = self._paper_out or self._cover_open
        if n == st.PRINTER and stopped:
            byte |= st.BIT_OFFLINE
        elif n == st.OFFLINE_CAUSE:
            if self._cover_open:
                byte |= st.BIT_COVER_OPEN
            if self._paper_out:
                byte |= st.BIT_PAPER_END_STOP
        elif n == st.PAPER_SENSOR:
            if self._paper_out:
                byte |= st.BITS_PAPER_END | st.BITS_NEAR_END
            elif self._paper_low:
                byte |= st.BITS_NEAR_END
        return byte

    def status(self) -> PrinterStatus:
        with self._lock:
            if self._offline:
                return PrinterStatus.OFFLINE  # the transport write of the query fails
            return st.combine({n: self._reply(n) for n in st.QUERIES})

    # -- printing -------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        data = bytes(data)
        if self.send_delay_s:
            time.sleep(self.send_delay_s)
        with self._lock:
            self.attempts += 1
            if self._offline:
                raise PrinterOffline(f"printer {self.name}: device not responding")
            if self._cover_open:
                raise CoverOpen(f"printer {self.name}: cover open")
            if self._paper_out:
                raise PaperOut(f"printer {self.name}: paper out")
            if self._paper_left is not None and len(data) > self._paper_left:
                self.fragments.append(data[: self._paper_left])
                self._paper_left = None
                self._paper_out = True
                raise PaperOut(f"printer {self.name}: paper ran out during the job")
            if self._paper_left is not None:
                self._paper_left -= len(data)
            self.jobs.append(data)
            index = len(self.jobs)
        if self.out_dir is not None:
            self._write_out(index, data)

    def _write_out(self, index: int, data: bytes) -> None:
        assert self.out_dir is not None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = self.out_dir / f"job-{index:04d}"
        stem.with_suffix(".bin").write_bytes(data)
        try:
            from kiosk.hw.printer.render import render, save_png
        except ImportError:
            return
        save_png(render(data, paper_dots=PAPER_DOTS[self.paper_mm]), stem.with_suffix(".png"))

    def close(self) -> None:
        self.closed = True
