"""The keyboard-wedge key map: key events in, ENTER-terminated codes out (no device needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.hw.scanner import evdev_source as ev
from kiosk.hw.scanner.evdev_source import KEY_DOWN, KEY_HOLD, KEY_UP, KeyMapper

ecodes = pytest.importorskip("evdev").ecodes

# Reverse map for typing test strings the way a US-layout barcode module does.
_TYPE: dict[str, tuple[int, bool]] = {}
for _code, (_plain, _shifted) in ev._KEYS.items():
    if _code >= ev.KEY_KP7:  # keypad keys duplicate the digits; type with the main row
        continue
    _TYPE.setdefault(_plain, (_code, False))
    _TYPE.setdefault(_shifted, (_code, True))


def typed(text: str, enter: int = ev.KEY_ENTER, shift: int = ev.KEY_LEFTSHIFT) -> list[tuple[int, int]]:
    events: list[tuple[int, int]] = []
    for ch in text:
        code, shifted = _TYPE[ch]
        if shifted:
            events.append((shift, KEY_DOWN))
        events += [(code, KEY_DOWN), (code, KEY_UP)]
        if shifted:
            events.append((shift, KEY_UP))
    return [*events, (enter, KEY_DOWN), (enter, KEY_UP)]


def test_key_codes_match_the_kernel_header() -> None:
    for name in dir(ev):
        if name.startswith(("KEY_", "EV_")) and name not in ("KEY_UP", "KEY_DOWN", "KEY_HOLD"):
            assert getattr(ev, name) == getattr(ecodes, name), name


def test_a_card_payload_becomes_one_line() -> None:
    payload = "LC1:2000700000421.ESEDGV22"
    assert KeyMapper().feed_all(typed(payload)) == [payload]


def test_two_scans_and_keypad_enter() -> None:
    events = typed("2000700000421") + typed("Abc-9", enter=ev.KEY_KPENTER, shift=ev.KEY_RIGHTSHIFT)
    assert KeyMapper().feed_all(events) == ["2000700000421", "Abc-9"]


def test_caps_lock_repeat_backspace_and_noise() -> None:
    m = KeyMapper()
    events = [
        (ev.KEY_CAPSLOCK, KEY_DOWN), (ev.KEY_CAPSLOCK, KEY_UP),
        (ev.KEY_L, KEY_DOWN), (ev.KEY_L, KEY_HOLD), (ev.KEY_L, KEY_UP),  # auto-repeat adds nothing
        (ev.KEY_LEFTSHIFT, KEY_DOWN), (ev.KEY_C, KEY_DOWN), (ev.KEY_LEFTSHIFT, KEY_UP),  # shift under caps: lower
        (ev.KEY_X, KEY_DOWN), (ev.KEY_BACKSPACE, KEY_DOWN),
        (ev.KEY_LEFTCTRL, KEY_DOWN), (ev.KEY_LEFTCTRL, KEY_UP),  # unmapped keys are ignored
        (ev.KEY_KP1, KEY_DOWN), (ev.KEY_KPDOT, KEY_DOWN),
        (ev.KEY_ENTER, KEY_DOWN),
    ]  # fmt: skip
    assert m.feed_all(events) == ["Lc1."]


def test_empty_lines_and_overlong_input_are_dropped() -> None:
    m = KeyMapper()
    assert m.feed_all([(ev.KEY_ENTER, KEY_DOWN)]) == []
    assert m.feed_all(typed("1" * (ev.MAX_LINE + 5))) == []
    assert m.feed_all(typed("42")) == ["42"]  # the state is clean afterwards


@given(st.text(alphabet="".join(sorted(_TYPE)), min_size=1, max_size=80))
def test_any_typed_text_comes_back(text: str) -> None:
    assert KeyMapper().feed_all(typed(text)) == [text]
