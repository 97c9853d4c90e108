"""The language button is on every screen and switches every text on it."""

from __future__ import annotations

from kiosk.i18n import t
from kiosk.screens.gallery import states


def test_language_switch_on_every_screen(kiosk_env) -> None:
    kiosk, customer, *_ = kiosk_env
    ui = kiosk.ui
    for state in states(ui):
        ui.dirty = True
        customer.step()
        if state == "attract-dimmed":  # a touch first wakes the dimmed screen, and does nothing else
            customer.touch(*ui.surface.get_rect().center)
            assert not ui.dimmed and ui.current.name == "attract" and ui.session is None
        if state == "idle-warning":  # the warning is modal: "stay" first
            customer.tap("idle:stay")
            assert ui.overlay is None
        before = ui.lang
        assert t(before, "ui.lang_switch") in ui.painter.record.texts, state
        customer.tap("lang")
        other = ui.lang
        assert other != before, state
        texts = ui.painter.record.texts
        assert t(other, "ui.lang_switch") in texts, state
        assert t(before, "ui.lang_switch") not in texts, state
        customer.tap("lang")
        assert ui.lang == before


def test_a_missing_glyph_stops_the_start(kiosk_env) -> None:
    import pytest

    from kiosk.screens.theme import FontError, check_glyphs

    check_glyphs([("ok", "Съешь же ещё этих мягких булок № 5")])
    with pytest.raises(FontError, match=r"'demo.key'"):
        check_glyphs([("demo.key", "ключ \U0001f511")])
