"""Widgets of the kiosk screens: buttons, fields, keyboards, scroll views, QR codes, step indicator."""

from kiosk.screens.widgets.base import Ctx, Target, button, checkbox, field_box, split_h, split_v
from kiosk.screens.widgets.keyboard import BACKSPACE, Keyboard
from kiosk.screens.widgets.numpad import numpad
from kiosk.screens.widgets.qr import qr_surface
from kiosk.screens.widgets.scroll import ScrollView
from kiosk.screens.widgets.steps import steps

__all__ = [
    "BACKSPACE",
    "Ctx",
    "Keyboard",
    "ScrollView",
    "Target",
    "button",
    "checkbox",
    "field_box",
    "numpad",
    "qr_surface",
    "split_h",
    "split_v",
    "steps",
]
