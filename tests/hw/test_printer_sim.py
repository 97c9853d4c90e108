"""SimPrinter: exact bytes, DLE EOT replies like a real printer, fault injection, PNG output."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.hw.printer import receipts
from kiosk.hw.printer import status as st
from kiosk.hw.printer.base import CoverOpen, PaperOut, Printer, PrinterOffline, PrinterStatus
from kiosk.hw.printer.sim import SimPrinter


def test_keeps_exact_bytes() -> None:
    sim = SimPrinter()
    assert isinstance(sim, Printer)
    sim.send(b"\x1b@one")
    sim.send(bytearray(b"\x1b@two"))
    assert sim.jobs == [b"\x1b@one", b"\x1b@two"]


def test_status_comes_from_reply_bytes() -> None:
    sim = SimPrinter()
    assert [sim.reply(n) for n in st.QUERIES] == [0x12, 0x12, 0x12, 0x12]
    assert sim.status() is PrinterStatus.READY
    sim.paper_low()
    assert sim.reply(4) == 0x1E
    assert sim.status() is PrinterStatus.PAPER_LOW
    sim.paper_out()
    assert (sim.reply(1), sim.reply(2), sim.reply(4)) == (0x1A, 0x32, 0x7E)
    assert sim.status() is PrinterStatus.PAPER_OUT
    sim.restore()
    sim.cover_open()
    assert sim.reply(2) == 0x16
    assert sim.status() is PrinterStatus.COVER_OPEN
    sim.restore()
    sim.offline()
    assert sim.reply(1) is None
    assert sim.status() is PrinterStatus.OFFLINE
    sim.restore()
    assert sim.status() is PrinterStatus.READY


def test_faults_raise_and_nothing_is_recorded() -> None:
    sim = SimPrinter()
    sim.cover_open()
    with pytest.raises(CoverOpen, match=r"^printer sim 80mm"):
        sim.send(b"a")
    sim.restore()
    sim.offline()
    with pytest.raises(PrinterOffline):
        sim.send(b"a")
    sim.restore()
    sim.paper_out()
    with pytest.raises(PaperOut):
        sim.send(b"a")
    assert sim.jobs == []


def test_paper_runs_out_in_the_middle_of_a_job() -> None:
    sim = SimPrinter()
    sim.paper_out_after(10)
    sim.send(b"12345")  # fits
    with pytest.raises(PaperOut):
        sim.send(b"abcdefghij")
    assert sim.fragments == [b"abcde"]
    assert sim.jobs == [b"12345"]
    assert sim.status() is PrinterStatus.PAPER_OUT


def test_out_dir_writes_bin_and_png(tmp_path: Path) -> None:
    from PIL import Image

    sim = SimPrinter(paper_mm=58, out_dir=tmp_path)
    data = receipts.rules_receipt(paper_mm=58, text="Правила программы")
    sim.send(data)
    assert (tmp_path / "job-0001.bin").read_bytes() == data
    with Image.open(tmp_path / "job-0001.png") as im:
        assert im.width == 384
