"""Camera scene generator for tests: a card's QR / EAN-13 under angle, blur, glare, noise.

The generator lives in the package (the simulated camera uses it too); this module gives the
simulation harness its own import path for it.
"""

from kiosk.hw.scanner.scene import (
    FRAME_H,
    FRAME_W,
    SceneParams,
    card_number_of,
    ean13_check_digit,
    ean13_image,
    ean13_modules,
    ean13_valid,
    empty_scene,
    make_scene,
    qr_image,
    render,
    scene_params,
    to_png,
)

__all__ = [
    "FRAME_H",
    "FRAME_W",
    "SceneParams",
    "card_number_of",
    "ean13_check_digit",
    "ean13_image",
    "ean13_modules",
    "ean13_valid",
    "empty_scene",
    "make_scene",
    "qr_image",
    "render",
    "scene_params",
    "to_png",
]
