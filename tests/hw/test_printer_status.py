"""DLE EOT reply decoding (kiosk.hw.printer.status)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as s

from kiosk.hw.printer import status as st
from kiosk.hw.printer.base import PrinterStatus as S

# (n, reply byte, meaning) from the Epson ESC/POS reference; 0x12 = the fixed bits alone.
TABLE = [
    (1, 0x12, S.READY),
    (1, 0x16, S.READY),  # drawer pin 3 high: not our business
    (1, 0x1A, S.OFFLINE),  # bit 3
    (1, 0x52, S.READY),  # feed button pressed while online
    (2, 0x12, S.READY),
    (2, 0x16, S.COVER_OPEN),  # bit 2
    (2, 0x1A, S.OFFLINE),  # bit 3: paper being fed by the feed button
    (2, 0x32, S.PAPER_OUT),  # bit 5: printing stopped by paper end
    (2, 0x52, S.ERROR),  # bit 6
    (2, 0x36, S.COVER_OPEN),  # cover open wins over paper end
    (3, 0x12, S.READY),
    (3, 0x1A, S.ERROR),  # auto-cutter
    (3, 0x32, S.ERROR),  # unrecoverable
    (3, 0x52, S.ERROR),  # auto-recoverable
    (4, 0x12, S.READY),
    (4, 0x1E, S.PAPER_LOW),  # bits 2-3 near end
    (4, 0x16, S.PAPER_LOW),  # one near-end bit is enough
    (4, 0x72, S.PAPER_OUT),  # bits 5-6 end
    (4, 0x7E, S.PAPER_OUT),  # end and near end
    (4, 0x32, S.PAPER_OUT),
]


@pytest.mark.parametrize(("n", "byte", "expected"), TABLE)
def test_dle_eot_table(n: int, byte: int, expected: S) -> None:
    assert st.parse_dle_eot(n, byte) is expected


@pytest.mark.parametrize("byte", [None, 0x00, 0xFF, 0x7E | 0x80, 0x13, 0x02, 0x10])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_no_reply_or_garbage_is_unknown(n: int, byte: int | None) -> None:
    assert st.parse_dle_eot(n, byte) is S.UNKNOWN


@given(s.integers(0, 255))
def test_paper_out_only_from_a_status_byte_saying_so(byte: int) -> None:
    result = st.parse_dle_eot(4, byte)
    if result is S.PAPER_OUT:
        assert st.is_status_byte(byte) and byte & 0x60
    if not st.is_status_byte(byte):
        assert result is S.UNKNOWN


def test_query_bytes() -> None:
    assert st.query(1) == b"\x10\x04\x01"
    assert st.query(4) == b"\x10\x04\x04"
    with pytest.raises(ValueError):
        st.query(5)


def test_combine_precedence_and_unknown() -> None:
    assert st.combine({}) is S.UNKNOWN
    assert st.combine({1: None, 2: None}) is S.UNKNOWN
    assert st.combine({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}) is S.READY
    # A real out-of-paper printer: offline, stopped by paper end, sensor says end.
    assert st.combine({1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E}) is S.PAPER_OUT
    assert st.combine({1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12}) is S.COVER_OPEN
    assert st.combine({1: 0x12, 4: 0x1E}) is S.PAPER_LOW
    assert st.combine({1: 0x1A}) is S.OFFLINE
    assert st.combine({1: 0x12, 2: None, 4: 0x00}) is S.READY  # garbage ignored


def test_pick_reply() -> None:
    assert st.pick_reply(b"") is None
    assert st.pick_reply(b"\x00\xff") is None
    assert st.pick_reply(b"\x12") == 0x12
    assert st.pick_reply(b"\x12\x7e\x00") == 0x7E
