"""Decoders on generated camera frames, the scene generator, and the presentation stage."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from stdnum import ean

from kiosk.core.cards import CardScan, ScanRejection, card_number, parse_scan, qr_payload
from kiosk.hw.scanner.decode import EAN13, QR, Decoded, ZbarDecoder, ZxingDecoder, make_decoder
from kiosk.hw.scanner.stage import DecodeStage, card_key
from tests.hw_sim.scene import ean13_modules, empty_scene, make_scene, render, scene_params

KEY = b"k" * 32
CARD = card_number(1, 1)
PAYLOAD = qr_payload(CARD, KEY)
classify = functools.partial(parse_scan, mac_key=KEY)

DECODERS = [ZxingDecoder, ZbarDecoder]


# --- scene generator ---------------------------------------------------------------------


def test_scene_is_a_camera_frame_and_deterministic_per_seed() -> None:
    a = make_scene(PAYLOAD, 7, "medium")
    b = make_scene(PAYLOAD, 7, "medium")
    c = make_scene(PAYLOAD, 8, "medium")
    assert a.shape == (480, 640) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(empty_scene(3), empty_scene(3))
    assert not np.array_equal(empty_scene(3), empty_scene(4))


def test_scene_overrides_and_difficulty_change_the_picture() -> None:
    easy = scene_params(5, "easy")
    hard = scene_params(5, "hard")
    assert easy.tilt_deg <= 12 and 20 <= hard.tilt_deg <= 40
    assert scene_params(5, "easy", inverted=True).inverted
    with pytest.raises(TypeError):
        scene_params(5, "easy", bogus=1)
    dark = make_scene(PAYLOAD, 5, "easy", gain=0.25)
    bright = make_scene(PAYLOAD, 5, "easy", gain=1.0)
    assert dark.mean() < bright.mean() * 0.4
    glare = make_scene(PAYLOAD, 5, "easy", glare=0.9)
    assert glare.max() == 255 and (glare >= 250).sum() > (bright >= 250).sum()


def test_ean13_pattern_matches_the_standard() -> None:
    # 4006381333931 is a published EAN-13 example; its first digit 4 selects parity LGLLGG.
    modules = ean13_modules("4006381333931")
    assert len(modules) == 95
    assert modules.startswith("101") and modules.endswith("101") and modules[45:50] == "01010"
    assert modules[3:10] == "0001101"  # 0 in the L set
    assert modules[10:17] == "0100111"  # 0 in the G set
    with pytest.raises(ValueError):
        ean13_modules("4006381333932")


# --- decoders ----------------------------------------------------------------------------


@pytest.mark.parametrize("decoder_cls", DECODERS)
def test_decoders_read_a_clean_qr(decoder_cls: type) -> None:
    frame = make_scene(PAYLOAD, 1, "easy", content="qr", rotation_deg=5, tilt_deg=0, blur=0, glare=0)
    assert decoder_cls().decode(frame) == [Decoded(PAYLOAD, QR)]


@pytest.mark.parametrize("decoder_cls", DECODERS)
def test_decoders_read_an_ean13(decoder_cls: type) -> None:
    frame = make_scene(PAYLOAD, 2, "easy", content="ean", module_px=7, rotation_deg=3, tilt_deg=0, blur=0.3)
    assert ean.is_valid(CARD)
    assert decoder_cls().decode(frame) == [Decoded(CARD, EAN13)]


@pytest.mark.parametrize("decoder_cls", DECODERS)
def test_decoders_find_nothing_in_an_empty_frame(decoder_cls: type) -> None:
    for seed in range(3):
        assert decoder_cls().decode(empty_scene(seed)) == []


def test_zxing_reads_an_inverted_phone_screen() -> None:
    frame = make_scene(PAYLOAD, 3, "medium", inverted=True, glare=0.4)
    # The phone shows light modules on a dark screen.
    params = scene_params(3, "medium", inverted=True)
    assert params.inverted and params.content == "qr"
    assert ZxingDecoder().decode(frame) == [Decoded(PAYLOAD, QR)]
    assert ZxingDecoder(try_invert=False).decode(frame) == []


def test_zbar_needs_its_inverted_second_pass_for_a_phone_screen() -> None:
    frame = make_scene(PAYLOAD, 3, "easy", inverted=True, glare=0.0, tilt_deg=0)
    assert ZbarDecoder(invert_pass=False).decode(frame) == []
    assert ZbarDecoder().decode(frame) == [Decoded(PAYLOAD, QR)]


def test_both_symbols_of_a_card_are_read() -> None:
    frame = make_scene(PAYLOAD, 4, "easy", content="both", module_px=7, tilt_deg=0, rotation_deg=0, blur=0)
    found = {d.format: d.text for d in ZxingDecoder().decode(frame)}
    assert found == {QR: PAYLOAD, EAN13: CARD}


def test_decoder_rejects_colour_frames_and_unknown_names() -> None:
    with pytest.raises(ValueError):
        ZxingDecoder().decode(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError):
        make_decoder("opencv")
    assert make_decoder("zxing").name == "zxing" and make_decoder("zbar").name == "zbar"


def test_scene_frames_are_mostly_readable_and_zxing_covers_zbar() -> None:
    frames = [make_scene(PAYLOAD, 100 + i, ("easy", "medium", "hard")[i % 3]) for i in range(24)]
    zx = [bool(ZxingDecoder().decode(f)) for f in frames]
    zb = [bool(ZbarDecoder().decode(f)) for f in frames]
    assert sum(zx) >= 16
    assert all(x for x, b in zip(zx, zb, strict=True) if b)


# --- presentation stage ------------------------------------------------------------------


def qr(text: str = PAYLOAD) -> Decoded:
    return Decoded(text, QR)


def test_stage_reports_once_while_the_card_stays_in_view() -> None:
    stage = DecodeStage(classify, absent_s=1.0, absent_frames=3)
    reports = stage.feed([qr()], 0.0)
    assert len(reports) == 1
    r = reports[0]
    assert r.text == PAYLOAD and not r.ignored and r.reason is None
    assert r.result == CardScan(card=CARD, authenticated=True)
    # 5 s in view at 15 fps, with the decoder missing it in a few frames now and then.
    t = 0.0
    for i in range(75):
        t += 1 / 15
        assert stage.feed([] if i % 7 == 3 else [qr()], t) == []


def test_stage_reports_again_after_absence() -> None:
    stage = DecodeStage(classify, absent_s=1.0, absent_frames=3)
    assert len(stage.feed([qr()], 0.0)) == 1
    # Gone for 0.5 s only (many frames but not long enough): same presentation.
    t = 0.0
    for _ in range(7):
        t += 1 / 15
        assert stage.feed([], t) == []
    assert stage.feed([qr()], t + 0.05) == []
    # Gone for 1.2 s: a new presentation.
    t += 0.05
    for _ in range(18):
        t += 1 / 15
        assert stage.feed([], t) == []
    assert stage.in_view == 0
    again = stage.feed([qr()], t + 0.1)
    assert len(again) == 1 and not again[0].ignored


def test_stage_needs_missing_frames_as_well_as_time() -> None:
    stage = DecodeStage(classify, absent_s=1.0, absent_frames=3)
    stage.feed([qr()], 0.0)
    stage.feed([], 0.1)  # one missed frame, then a long pause in processing
    assert stage.feed([qr()], 5.0) == []


def test_stage_ignores_junk_and_foreign_codes_with_a_reason() -> None:
    stage = DecodeStage(classify)
    forged = PAYLOAD[:-8] + "AAAAAAAA"
    product = "4006381333931"
    junk = "https://example.com/promo"
    reports = stage.feed([qr(forged), Decoded(product, EAN13), qr(junk)], 0.0)
    assert [(r.ignored, r.reason) for r in reports] == [
        (True, "bad_tag"),
        (True, "not_ours"),
        (True, "foreign_prefix"),
    ]
    assert all(isinstance(r.result, ScanRejection) for r in reports)
    # Once per presentation: still in view, nothing more.
    assert stage.feed([qr(forged), Decoded(product, EAN13), qr(junk)], 0.1) == []
    # A real card next to them is still reported, as a card.
    card = stage.feed([qr(forged), qr()], 0.2)
    assert len(card) == 1 and card[0].text == PAYLOAD and not card[0].ignored


def test_stage_reports_a_card_once_when_both_symbols_are_read() -> None:
    stage = DecodeStage(classify)
    reports = stage.feed([Decoded(CARD, EAN13), qr()], 0.0)
    assert [(r.format, r.text) for r in reports] == [(QR, PAYLOAD)]
    assert stage.feed([Decoded(CARD, EAN13)], 0.1) == []
    assert card_key(PAYLOAD) == CARD == card_key(CARD)


def test_stage_survives_a_failing_classifier() -> None:
    def broken(text: str) -> object:
        raise RuntimeError("bug")

    reports = DecodeStage(broken).feed([qr()], 0.0)
    assert len(reports) == 1 and reports[0].ignored and reports[0].reason == "classify-error"


def test_stage_frames_from_a_real_decoder_end_to_end() -> None:
    """Generated frames through zxing into the stage: a card held, removed, shown again."""
    decoder = ZxingDecoder()
    stage = DecodeStage(classify, absent_s=0.5, absent_frames=3)
    params = scene_params(11, "easy")
    held = [render(PAYLOAD, params, 11 + i) for i in range(3)]
    empty = [empty_scene(i) for i in range(3)]
    timeline = [held[i % 3] for i in range(8)] + [empty[i % 3] for i in range(10)] + [held[0]] * 3
    events = []
    for i, frame in enumerate(timeline):
        events += stage.feed(decoder.decode(frame), i / 10)
    assert [(e.text, e.ignored) for e in events] == [(PAYLOAD, False), (PAYLOAD, False)]
