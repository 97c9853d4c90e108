"""The ESC/POS interpreter against real python-escpos output, read back from the rendered pixels."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from stdnum import ean

from tests.hw_sim.escpos import (
    EscPosError,
    RenderedReceipt,
    capture_printer,
    render,
    render_job,
    save_png,
)

CARD_QR = "LC1:2000100000013.ABCDEFGH"


def ink(receipt: RenderedReceipt) -> np.ndarray:
    """True where a dot was printed."""
    return ~np.asarray(receipt.image.convert("1"), dtype=bool)


def ink_bounds(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def text_only(receipt: RenderedReceipt) -> list[str]:
    return [line for line in receipt.lines if line]


# -- text -----------------------------------------------------------------------------------------


def test_cyrillic_with_explicit_cp866_reads_back_exactly() -> None:
    p = capture_printer()
    p.charcode("CP866")
    p.textln("Карта лояльности № 2000100000013")
    p.textln("Спасибо, ждём вас снова!")
    assert b"\x1bt\x11" in p.output  # CP866 is ESC t 17
    r = render_job(p.output)
    assert text_only(r) == ["Карта лояльности № 2000100000013", "Спасибо, ждём вас снова!"]
    assert r.unknown == []
    assert "ESC t" in r.commands


def test_cyrillic_through_magic_encode_reads_back_exactly() -> None:
    p = capture_printer(profile="default")
    p.textln("Привет, Ёлка! Café")
    r = render_job(p.output)
    assert text_only(r) == ["Привет, Ёлка! Café"]
    assert "?" not in "".join(r.lines)


def test_bytes_outside_the_code_page_show_as_question_marks() -> None:
    # ESC t 6 is an unidentified page: high bytes cannot be decoded.
    r = render(b"\x1bt\x06abc\xe0\xe1\n\x1bt\x11\xe0\xe1\n")
    assert r.lines == ["abc??", "рс"]


def test_cp437_is_the_power_on_page() -> None:
    r = render(b"\x81ber \x9c5\n")
    assert r.lines == ["über £5"]


def test_bold_and_double_size_lines_read_back_and_look_bigger() -> None:
    plain, bold, big = (capture_printer() for _ in range(3))
    plain.textln("TOTAL 12345")
    bold.set(bold=True)
    bold.textln("TOTAL 12345")
    big.set(double_height=True, double_width=True)
    big.textln("TOTAL 12345")
    rp, rb, rg = render_job(plain.output), render_job(bold.output), render_job(big.output)
    assert rp.lines == rb.lines == rg.lines == ["TOTAL 12345"]
    assert ink(rb).sum() > ink(rp).sum() * 1.15
    x0, y0, x1, y1 = ink_bounds(ink(rp))
    gx0, gy0, gx1, gy1 = ink_bounds(ink(rg))
    assert 1.8 < (gx1 - gx0) / (x1 - x0) < 2.2
    assert 1.8 < (gy1 - gy0) / (y1 - y0) < 2.2
    assert x1 - x0 <= 11 * 12  # 11 characters of Font A, 12 dots each


def test_gs_bang_size_multipliers() -> None:
    r1 = render(b"\x1d!\x00H\n")
    r3 = render(b"\x1d!\x22H\n")  # width 3, height 3
    w1, h1 = (b - a for a, b in zip(ink_bounds(ink(r1))[:2], ink_bounds(ink(r1))[2:], strict=True))
    w3, h3 = (b - a for a, b in zip(ink_bounds(ink(r3))[:2], ink_bounds(ink(r3))[2:], strict=True))
    assert (w3, h3) == (3 * w1, 3 * h1)


@pytest.mark.parametrize(("align", "expected_centre"), [("left", None), ("center", 288), ("right", None)])
def test_alignment_places_text(align: str, expected_centre: int | None) -> None:
    p = capture_printer()
    p.set(align=align)
    p.textln("CARD")
    r = render_job(p.output)
    x0, _, x1, _ = ink_bounds(ink(r))
    if align == "left":
        assert x0 < 12
    elif align == "right":
        assert x1 > 576 - 12
    else:
        assert expected_centre is not None
        assert abs((x0 + x1) / 2 - expected_centre) <= 6


def test_font_b_is_narrower_and_58mm_wraps_at_32_columns() -> None:
    r = render(b"\x1bM\x01" + b"W" * 10 + b"\n")
    x0, _, x1, _ = ink_bounds(ink(r))
    assert x1 - x0 <= 10 * 9
    wide = render_job(b"0123456789" * 4 + b"\n", paper_mm=58)
    assert wide.image.size[0] == 384
    assert wide.lines == ["01234567890123456789012345678901", "23456789"]


def test_line_spacing_changes_the_distance_between_lines() -> None:
    def extent(data: bytes) -> int:
        rows = np.flatnonzero(ink(render(data)).any(axis=1))
        return int(rows[-1] - rows[0])

    def gap(spacing: bytes) -> int:
        return extent(spacing + b"_\n_\n") - extent(b"_\n")

    assert gap(b"") == 30
    assert gap(b"\x1b3\x40") == 64
    assert gap(b"\x1b3\x40\x1b2") == 30


def test_underline_and_reverse_add_ink() -> None:
    plain = ink(render(b"ab\n")).sum()
    assert ink(render(b"\x1b-\x02ab\n")).sum() > plain
    assert ink(render(b"\x1dB\x01ab\n")).sum() == 2 * 12 * 24 - plain  # the cells, inverted


# -- codes ----------------------------------------------------------------------------------------


def test_native_qr_decodes_from_pixels() -> None:
    p = capture_printer()
    p.qr(CARD_QR, native=True, size=6)
    r = render_job(p.output)
    assert "GS ( k" in r.commands
    assert [(c.format, c.text) for c in r.codes] == [("QRCode", CARD_QR)]
    x0, y0, x1, y1 = ink_bounds(ink(r))
    assert (x1 - x0) % 6 == 0  # whole modules of 6 dots
    assert x1 - x0 == y1 - y0
    assert x0 == 4 * 6  # quiet zone of 4 modules at the left edge


def test_native_qr_uses_the_stored_error_correction_level() -> None:
    low, high = capture_printer(), capture_printer()
    low.qr(CARD_QR, native=True, size=4, ec=0)
    high.qr(CARD_QR, native=True, size=4, ec=3)
    w_low = np.ptp(np.flatnonzero(ink(render_job(low.output)).any(axis=0)))
    w_high = np.ptp(np.flatnonzero(ink(render_job(high.output)).any(axis=0)))
    assert w_high > w_low  # H needs a bigger symbol than L for the same data


def test_centred_native_qr() -> None:
    r = render(b"\x1ba\x01" + _native_qr(b"HELLO", size=5))
    x0, _, x1, _ = ink_bounds(ink(r))
    assert abs((x0 + x1) / 2 - 288) <= 3
    assert [c.text for c in r.codes] == ["HELLO"]


def _native_qr(data: bytes, size: int = 3) -> bytes:
    def fn(f: int, body: bytes) -> bytes:
        n = len(body) + 2
        return b"\x1d(k" + bytes([n % 256, n // 256, 49, f]) + body

    return fn(65, b"2\x00") + fn(67, bytes([size])) + fn(69, b"1") + fn(80, b"0" + data) + fn(81, b"0")


@pytest.mark.parametrize("impl", ["bitImageRaster", "bitImageColumn", "graphics"])
def test_image_qr_decodes_from_pixels(impl: str) -> None:
    p = capture_printer()
    p.qr(CARD_QR, native=False, size=5, image_arguments={"impl": impl})
    r = render_job(p.output)
    expected = {"bitImageRaster": "GS v 0", "bitImageColumn": "ESC *", "graphics": "GS ( L"}[impl]
    assert expected in r.commands
    assert [(c.format, c.text) for c in r.codes] == [("QRCode", CARD_QR)]
    assert r.unknown == []


def test_raster_image_is_drawn_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    pattern = rng.random((37, 61)) < 0.5  # True = black
    img = Image.fromarray(~pattern).convert("1")
    p = capture_printer()
    p.image(img)
    r = render_job(p.output)
    assert np.array_equal(ink(r)[: pattern.shape[0], : pattern.shape[1]], pattern)
    assert not ink(r)[:, pattern.shape[1] :].any()


def test_column_image_is_drawn_bit_for_bit() -> None:
    rng = np.random.default_rng(8)
    pattern = rng.random((50, 40)) < 0.5
    p = capture_printer()
    p.image(Image.fromarray(~pattern).convert("1"), impl="bitImageColumn")
    got = ink(render_job(p.output))
    assert np.array_equal(got[:50, :40], pattern)
    assert not got[50:].any()


def _valid_ean13(body: str) -> str:
    return body + ean.calc_check_digit(body)


@pytest.mark.parametrize("function_type", ["A", "B"])
@pytest.mark.parametrize("body", ["200010000001", "460123456789", "000000000000", "978020137962"])
def test_ean13_decodes_to_the_number(function_type: str, body: str) -> None:
    number = _valid_ean13(body)
    p = capture_printer()
    p.barcode(number, "EAN13", function_type=function_type)
    assert bytes([0x1D, ord("k"), 2 if function_type == "A" else 67]) in p.output
    r = render_job(p.output)
    assert [(c.format, c.text) for c in r.codes] == [("EAN13", number)]
    assert number in r.lines  # human-readable digits below the bars


def test_ean13_from_twelve_digits_gets_its_check_digit() -> None:
    p = capture_printer()
    p.barcode("200010000001", "EAN13")
    r = render_job(p.output)
    assert [c.text for c in r.codes] == [_valid_ean13("200010000001")]


def test_ean13_with_a_wrong_check_digit_does_not_scan() -> None:
    r = render(b"\x1dk\x02" + b"2000100000015" + b"\x00")
    assert r.codes == []


def test_barcode_height_and_module_width_follow_gs_h_and_gs_w() -> None:
    number = _valid_ean13("460123456789")
    p = capture_printer()
    p.barcode(number, "EAN13", height=80, width=2, pos="OFF")
    r = render_job(p.output)
    x0, y0, x1, y1 = ink_bounds(ink(r))
    assert (x1 - x0, y1 - y0) == (95 * 2, 80)  # 95 modules of 2 dots
    assert r.lines == []


def test_code128_set_b() -> None:
    p = capture_printer()
    p.barcode("{BLC1-ABC123", "CODE128", function_type="B")
    r = render_job(p.output)
    assert [(c.format, c.text) for c in r.codes] == [("Code128", "LC1-ABC123")]


def test_code128_set_c_and_switches() -> None:
    data = b"{C" + bytes([20, 0, 10]) + b"{BAb{{"
    r = render(b"\x1dw\x02\x1dkI" + bytes([len(data)]) + data)
    assert [c.text for c in r.codes] == ["200010Ab{"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20))
def test_code128_set_b_round_trips_any_printable_text(text: str) -> None:
    payload = b"{B" + text.replace("{", "{{").encode()
    r = render(b"\x1dw\x02\x1dkI" + bytes([len(payload)]) + payload)
    assert [c.text for c in r.codes] == [text]


# -- control ----------------------------------------------------------------------------------------


def test_cuts_are_counted() -> None:
    p = capture_printer()
    p.textln("one")
    p.cut()
    p.textln("two")
    p.cut(mode="PART")
    p.textln("three")
    p.cut(feed=False)
    r = render_job(p.output)
    assert r.cuts == 3
    assert r.cut_positions == sorted(r.cut_positions)
    assert text_only(r) == ["one", "two", "three"]
    assert r.commands.count("GS V") == 3


def test_drawer_status_and_margins_are_recorded() -> None:
    p = capture_printer()
    p.cashdraw(2)
    p._raw(b"\x10\x04\x01\x1dL\x10\x00\x1dW\x00\x02")
    r = render_job(p.output)
    assert r.drawer_pulses == 1
    assert r.status_requests == [1]
    assert (r.left_margin, r.print_area_width) == (16, 512)
    assert r.unknown == []


def test_everything_python_escpos_emits_for_a_receipt_is_understood() -> None:
    p = capture_printer()
    p.hw("INIT")
    p.set_with_default(align="center", bold=True, double_height=True)
    p.textln("Loyalty")
    p.set_with_default()
    p.set(font="b", underline=1, invert=True, smooth=True, flip=False, density=5)
    p.textln("small")
    p.set(custom_size=True, width=3, height=2)
    p.textln("big")
    p.line_spacing(40)
    p.line_spacing()
    p.print_and_feed(2)
    p.control("LF")
    p.control("CR")
    p.control("HT")
    p.panel_buttons(False)
    p.qr(CARD_QR, native=True)
    p.cut()
    r = render_job(p.output)
    assert r.unknown == []
    assert r.notes == []
    assert text_only(r) == ["Loyalty", "small", "big"]
    assert [c.text for c in r.codes] == [CARD_QR]


def test_truncated_command_raises_with_its_offset() -> None:
    with pytest.raises(EscPosError) as err:
        render(b"Hello\n\x1d(k\x05\x00\x31")
    assert err.value.offset == 6
    assert "offset 6" in str(err.value)
    with pytest.raises(EscPosError) as err:
        render(b"\x1bt")
    assert err.value.offset == 0
    with pytest.raises(EscPosError) as err:
        render(b"ab\x1dv0\x00\x02\x00\x02\x00\xff\xff\xff")  # 4 data bytes promised, 3 sent
    assert err.value.offset == 2


def test_unknown_commands_are_listed_and_skipped() -> None:
    r = render(b"A\x1b\xffB\x1d\xfeC\x01D\n")
    assert r.unknown == [b"\x1b\xff", b"\x1d\xfe", b"\x01"]
    assert r.lines == ["ABCD"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_escpos_error(data: bytes) -> None:
    try:
        r = render(data)
    except EscPosError:
        return
    assert r.image.height <= 20_000
    assert r.image.width == 576


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"\x1b", b"\x1d", b"\x10", b"(k", b"(L", b"v0", b"k", b"*", b"!", b"V", b"d\xff", b"\n", b"\xff", b"A"]
        )
        | st.binary(max_size=6),
        max_size=60,
    )
)
def test_command_shaped_noise_only_ever_raises_escpos_error(parts: list[bytes]) -> None:
    with contextlib.suppress(EscPosError):
        render(b"".join(parts), paper_dots=384)


def _sample_job() -> bytes:
    p = capture_printer()
    p.hw("INIT")
    p.charcode("CP866")
    p.set(align="center", bold=True)
    p.textln("Карта")
    p.qr(CARD_QR, native=True, size=4)
    p.qr("X", native=False, image_arguments={"impl": "bitImageColumn"})
    p.qr("Y", native=False, image_arguments={"impl": "graphics"})
    p.barcode(_valid_ean13("460123456789"), "EAN13")
    p.barcode("{BABC", "CODE128", function_type="B")
    p.cut()
    return bytes(p.output)


SAMPLE_JOB = _sample_job()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_real_jobs_only_ever_raise_escpos_error(data: st.DataObject) -> None:
    job = bytearray(SAMPLE_JOB)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(job) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            job[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del job[at : at + data.draw(st.integers(1, 20))]
        else:
            job[at:at] = data.draw(st.binary(min_size=1, max_size=5))
    with contextlib.suppress(EscPosError):
        render(bytes(job))


def test_feeds_are_capped() -> None:
    r = render(b"\x1bd\xff" * 5000 + b"end\n", read_codes=False)
    assert r.image.height <= 20_000
    assert r.truncated


def test_typical_receipt_renders_fast(tmp_path) -> None:
    p = capture_printer()
    p.charcode("CP866")
    p.set(align="center", bold=True, double_height=True)
    p.textln("Карта лояльности")
    p.set_with_default()
    for n in range(38):
        p.textln(f"Строка {n:02d}: условия программы лояльности")
    p.set(align="center")
    p.qr(CARD_QR, native=True, size=6)
    p.cut()
    data = p.output
    render(data)  # warm the glyph cache, as a long-running simulator would
    start = time.perf_counter()
    r = render(data)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, elapsed
    assert len(text_only(r)) == 39
    assert [c.text for c in r.codes] == [CARD_QR]
    out = tmp_path / "receipt.png"
    save_png(r, out)
    with Image.open(out) as png:
        assert png.size == r.image.size
