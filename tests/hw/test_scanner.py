"""Decoders on generated camera frames, the scene generator, and the presentation stage."""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import ean

from kiosk.core.cards import CardScan, ScanRejection, card_number, parse_scan, qr_payload
from kiosk.hw.scanner.decode import (
    EAN13,
    GATE_MIN_BLOCKS,
    QR,
    Decoded,
    ZbarDecoder,
    ZxingDecoder,
    activity,
    bar_angle,
    make_decoder,
    plausible_ean,
)
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


# --- activity gate and rescue passes -----------------------------------------------------


def test_gate_skips_empty_frames_and_keeps_dim_cards() -> None:
    for seed in range(12):
        assert not activity(empty_scene(seed)).busy
        assert ZxingDecoder().decode(empty_scene(seed)) == []
    # A dim, blurred, noisy card still counts as busy, and is still read through the gate.
    dim = make_scene(PAYLOAD, 6, "medium", content="qr", gain=0.3, blur=1.5, noise=6.0, glare=0.0, tilt_deg=15)
    act = activity(dim)
    assert act.busy and act.busy_blocks >= 3 * GATE_MIN_BLOCKS
    assert ZxingDecoder().decode(dim) == ZxingDecoder(gate=False).decode(dim) == [Decoded(PAYLOAD, QR)]


def test_gate_makes_an_empty_frame_cheaper() -> None:
    frame = empty_scene(5)
    gated, ungated = ZxingDecoder(), ZxingDecoder(gate=False)

    def best(dec: ZxingDecoder) -> float:
        dec.decode(frame)
        times = []
        for _ in range(15):
            start = time.perf_counter_ns()
            dec.decode(frame)
            times.append(time.perf_counter_ns() - start)
        return min(times)

    assert best(gated) * 3 < best(ungated)


def test_rescue_reads_a_small_rotated_ean13() -> None:
    card = card_number(1, 186)
    frame = make_scene(qr_payload(card, KEY), 185, "medium")
    params = scene_params(185, "medium")
    assert params.content == "ean" and round(params.module_px * 0.5) == 2 and abs(params.rotation_deg) > 15
    assert ZxingDecoder(rescue=False).decode(frame) == []
    assert ZbarDecoder().decode(frame) == [Decoded(card, EAN13)]
    assert ZxingDecoder().decode(frame) == [Decoded(card, EAN13)]
    # Other rotations of the same small barcode.
    for rotation in (-25, 15, 22):
        frame = make_scene(
            qr_payload(card, KEY),
            1,
            "easy",
            content="ean",
            module_px=5,
            rotation_deg=rotation,
            scale=1.3,
            tilt_deg=10,
            blur=0.8,
            glare=0,
        )
        assert ZxingDecoder().decode(frame) == [Decoded(card, EAN13)]


def test_rescue_reads_a_tilted_glared_phone_screen() -> None:
    frame = make_scene(PAYLOAD, 158, "hard")
    params = scene_params(158, "hard")
    assert params.inverted and params.tilt_deg > 30 and params.glare > 0.5
    assert ZxingDecoder(rescue=False).decode(frame) == []
    assert ZxingDecoder().decode(frame) == [Decoded(PAYLOAD, QR)]


def test_rescued_ean_must_look_like_one_of_our_cards() -> None:
    assert plausible_ean(CARD)
    assert not plausible_ean("0006708000243")  # valid check digit, foreign prefix
    assert not plausible_ean(CARD[:-1] + str((int(CARD[-1]) + 1) % 10))
    assert not plausible_ean("20001")


def test_bar_angle_finds_the_bars() -> None:
    bars = np.zeros((60, 60), np.uint8)
    bars[:, ::6] = 255
    assert abs(bar_angle(bars)) < 1.0
    assert abs(abs(bar_angle(bars.T)) - 90.0) < 1.0


def _noise_frame(seed: int) -> np.ndarray:
    """A busy frame with no code in it: noise, random bars and random module grids."""
    rng = np.random.default_rng(seed)
    frame = rng.normal(rng.uniform(60, 180), rng.uniform(2, 25), (480, 640))
    y, x = int(rng.integers(0, 240)), int(rng.integers(0, 320))
    kind = seed % 3
    if kind == 0:  # random bars, like a barcode that is not one
        widths = rng.integers(1, 5, 80)
        cols = np.repeat(np.arange(80) % 2, widths)[:300]
        frame[y : y + 150, x : x + cols.size] = np.where(cols[None, :] > 0, 20.0, 230.0)
    elif kind == 1:  # random modules, like a QR code that is not one
        grid = rng.integers(0, 2, (33, 33))
        frame[y : y + 198, x : x + 198] = np.where(np.kron(grid, np.ones((6, 6))) > 0, 20.0, 230.0)
    else:  # coarse random blotches
        blotch = rng.integers(0, 2, (12, 16))
        frame += np.kron(blotch, np.ones((40, 40))) * rng.uniform(40, 120)
    return np.clip(frame, 0, 255).astype(np.uint8)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_no_pass_invents_a_code_in_noise(seed: int) -> None:
    frame = _noise_frame(seed)
    if seed % 3 != 2:
        assert activity(frame).busy  # the rescue passes run on these
    assert ZxingDecoder().decode(frame) == []
    assert ZxingDecoder().decode(255 - frame) == []
