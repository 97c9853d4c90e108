"""Synthetic camera frames: a loyalty card (or a phone screen) held up to the kiosk camera.

Used by the simulated scanner, the tests and the decode benchmark. Everything is drawn with
numpy and Pillow and is deterministic per seed: the same ``(payload, seed, difficulty,
overrides)`` always gives the same pixels.

A scene is built in three steps:

1. the card face: a white card with the QR code (segno) and/or the EAN-13 barcode of the card
   number, or, for ``inverted=True``, a phone showing a light-on-dark QR code;
2. projection into a 640x480 frame through a pinhole camera: the card is rotated in its plane,
   tilted away from the camera (perspective), scaled and shifted, then drawn over a textured
   background;
3. the optics and sensor: gaussian blur (focus), a glare spot, exposure gain (low light) and
   sensor noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFilter

FRAME_W = 640
FRAME_H = 480

Difficulty = Literal["easy", "medium", "hard"]
Content = Literal["qr", "ean", "both"]

# --- EAN-13 ---------------------------------------------------------------------------------

_L_CODES = (
    "0001101",
    "0011001",
    "0010011",
    "0111101",
    "0100011",
    "0110001",
    "0101111",
    "0111011",
    "0110111",
    "0001011",
)
_G_CODES = tuple(code[::-1].translate(str.maketrans("01", "10")) for code in _L_CODES)
_R_CODES = tuple(code.translate(str.maketrans("01", "10")) for code in _L_CODES)
# Which of the six left-hand digits use the G (even parity) set, by the first digit.
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of twelve digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("EAN-13 needs twelve digits before the check digit")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def ean13_valid(code: str) -> bool:
    """True for thirteen digits whose last digit is the EAN-13 check digit."""
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == int(code[12])


def ean13_modules(code: str) -> str:
    """The 95 bar modules ('1' = bar) of a 13-digit EAN-13 code (guards included, no quiet zone)."""
    if len(code) != 13 or not code.isdigit():
        raise ValueError("EAN-13 needs thirteen digits")
    if ean13_check_digit(code[:12]) != int(code[12]):
        raise ValueError("EAN-13 check digit does not match")
    parity = _PARITY[int(code[0])]
    left = "".join((_L_CODES if p == "L" else _G_CODES)[int(d)] for p, d in zip(parity, code[1:7], strict=True))
    right = "".join(_R_CODES[int(d)] for d in code[7:13])
    return "101" + left + "01010" + right + "101"


def ean13_image(code: str, module_px: int = 3, bar_height: int = 70, quiet: int = 11) -> Image.Image:
    """A black-on-white EAN-13 symbol as a Pillow "L" image, with quiet zones of ``quiet`` modules."""
    modules = ean13_modules(code)
    width = (len(modules) + 2 * quiet) * module_px
    img = Image.new("L", (width, bar_height), 255)
    draw = ImageDraw.Draw(img)
    for i, bit in enumerate(modules):
        if bit == "1":
            x = (quiet + i) * module_px
            draw.rectangle((x, 0, x + module_px - 1, bar_height - 1), fill=0)
    return img


def qr_image(payload: str, module_px: int = 6, border: int = 4) -> Image.Image:
    """A black-on-white QR code as a Pillow "L" image (error level M or better, as segno picks)."""
    qr = segno.make_qr(payload, error="m")
    matrix = np.array([list(row) for row in qr.matrix], dtype=np.uint8)
    matrix = np.pad(matrix, border)
    pixels = np.where(matrix > 0, 0, 255).astype(np.uint8)
    pixels = np.kron(pixels, np.ones((module_px, module_px), dtype=np.uint8))
    return Image.fromarray(pixels, "L")


def card_number_of(payload: str) -> str | None:
    """The 13-digit card number inside an ``LC1:`` payload, or the payload itself if it is 13 digits."""
    if payload.isdigit() and len(payload) == 13:
        return payload
    if payload.startswith("LC1:") and len(payload) >= 17 and payload[4:17].isdigit():
        return payload[4:17]
    return None


# --- Scene parameters -----------------------------------------------------------------------


@dataclass(frozen=True)
class SceneParams:
    """Everything that shapes one frame; ``make_scene`` draws these from the seed and difficulty."""

    content: Content = "qr"
    module_px: int = 6
    """QR module size on the card face, before the camera scale."""
    scale: float = 1.0
    """Card size on the sensor relative to the card face."""
    rotation_deg: float = 0.0
    """In-plane rotation."""
    tilt_deg: float = 0.0
    """How far the card leans away from the camera (perspective)."""
    tilt_axis_deg: float = 0.0
    """Direction of the tilt axis in the card plane (0: leaning top away)."""
    shift: tuple[float, float] = (0.0, 0.0)
    """Card centre offset from the frame centre, in pixels."""
    blur: float = 0.0
    """Gaussian blur radius in pixels (focus)."""
    glare: float = 0.0
    """Strength of a bright specular spot, 0..1."""
    noise: float = 2.0
    """Sensor noise standard deviation, in grey levels."""
    gain: float = 1.0
    """Exposure: 1.0 normal light, ~0.25 a dim shop corner."""
    inverted: bool = False
    """A phone screen showing the code light-on-dark (dark mode)."""
    background: int = 0
    """Background texture variant."""


_PRESETS: dict[str, dict[str, tuple[float, float]]] = {
    # name: {parameter: (low, high)} sampled uniformly
    "easy": {
        "scale": (0.95, 1.3),
        "rotation_deg": (-12, 12),
        "tilt_deg": (0, 12),
        "blur": (0.0, 0.6),
        "noise": (1.0, 3.0),
        "gain": (0.85, 1.0),
        "glare": (0.0, 0.0),
    },
    "medium": {
        "scale": (0.8, 1.4),
        "rotation_deg": (-45, 45),
        "tilt_deg": (10, 28),
        "blur": (0.5, 1.3),
        "noise": (2.0, 6.0),
        "gain": (0.55, 0.95),
        "glare": (0.0, 0.5),
    },
    "hard": {
        "scale": (0.7, 1.4),
        "rotation_deg": (-180, 180),
        "tilt_deg": (20, 40),
        "blur": (0.8, 2.0),
        "noise": (4.0, 10.0),
        "gain": (0.25, 0.8),
        "glare": (0.3, 0.8),
    },
}


def scene_params(seed: int, difficulty: Difficulty = "easy", **overrides: object) -> SceneParams:
    """The parameters ``make_scene`` uses for this seed and difficulty, with ``overrides`` applied."""
    if difficulty not in _PRESETS:
        raise ValueError(f"unknown difficulty {difficulty!r}")
    known = {f.name for f in fields(SceneParams)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown scene parameters: {', '.join(sorted(unknown))}")
    rng = np.random.default_rng([seed, 0x5CE7E])
    ranges = _PRESETS[difficulty]
    drawn: dict[str, float] = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in ranges.items()}
    content: Content = ("qr", "qr", "both", "ean")[int(rng.integers(0, 4))]
    hard = difficulty == "hard"
    params = SceneParams(
        content=content,
        module_px=int(rng.integers(5, 8)),
        scale=drawn["scale"],
        rotation_deg=drawn["rotation_deg"],
        tilt_deg=drawn["tilt_deg"],
        tilt_axis_deg=float(rng.uniform(0, 360)),
        shift=(float(rng.uniform(-60, 60)), float(rng.uniform(-40, 40))),
        blur=drawn["blur"],
        glare=drawn["glare"] if rng.uniform() < (0.8 if hard else 0.5) else 0.0,
        noise=drawn["noise"],
        gain=drawn["gain"],
        inverted=bool(hard and rng.uniform() < 0.3),
        background=int(rng.integers(0, 4)),
    )
    if params.inverted:
        params = replace(params, content="qr")
    return replace(params, **overrides)  # type: ignore[arg-type]


# --- Drawing --------------------------------------------------------------------------------


def _card_face(payload: str, p: SceneParams) -> tuple[Image.Image, Image.Image]:
    """The flat card (or phone) face and its opacity mask, both "L"."""
    number = card_number_of(payload)
    want_qr = p.content in ("qr", "both") or number is None
    want_ean = p.content in ("ean", "both") and number is not None and ean13_valid(number)
    parts: list[Image.Image] = []
    if want_qr:
        parts.append(qr_image(payload, p.module_px, border=2))
    if want_ean:
        assert number is not None
        ean_module = max(2, round(p.module_px * 0.5))
        parts.append(ean13_image(number, ean_module, bar_height=ean_module * 26, quiet=3))
    content_w = max(im.width for im in parts)
    content_h = sum(im.height for im in parts) + 10 * (len(parts) - 1)
    if p.inverted:
        # A phone in dark mode: black screen, light modules, a dark grey body around it.
        pad = round(content_w * 0.18)
        screen_w = content_w + 2 * pad
        screen_h = round(max(content_h + 2 * pad, screen_w * 1.9))
        bezel = max(6, round(screen_w * 0.05))
        face = Image.new("L", (screen_w + 2 * bezel, screen_h + 2 * bezel), 35)
        draw = ImageDraw.Draw(face)
        draw.rectangle((bezel, bezel, bezel + screen_w - 1, bezel + screen_h - 1), fill=12)
        qr = parts[0].point(lambda v: 255 - v)
        qr = qr.point(lambda v: 12 + (v * 218) // 255)  # screen white is not paper white
        face.paste(qr, (bezel + pad, bezel + (screen_h - qr.height) // 2))
        mask = Image.new("L", face.size, 0)
        radius = bezel * 3
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, face.width - 1, face.height - 1), radius, fill=255)
        return face, mask
    # A printed card: ID-1 proportions (85.6 x 54 mm), off-white stock, grey brand stripe.
    margin = round(content_w * 0.12)
    card_h = content_h + 2 * margin + round(content_w * 0.18)
    card_w = max(content_w + 2 * margin, round(card_h * 1.585))
    face = Image.new("L", (card_w, card_h), 236)
    draw = ImageDraw.Draw(face)
    stripe = round(content_w * 0.14)
    draw.rectangle((0, 0, card_w - 1, stripe), fill=150)
    y = stripe + (card_h - stripe - content_h) // 2
    for part in parts:
        face.paste(part.point(lambda v: 20 + (v * 216) // 255), ((card_w - part.width) // 2, y))
        y += part.height + 10
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, card_w - 1, card_h - 1), round(card_h * 0.06), fill=255)
    return face, mask


def _background(rng: np.random.Generator, variant: int) -> np.ndarray:
    """A shop-counter-like background: a lighting gradient plus some texture, float32 0..255."""
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    base = float(rng.uniform(70, 150))
    angle = float(rng.uniform(0, 2 * math.pi))
    grad = (xx * math.cos(angle) + yy * math.sin(angle)) / 800.0
    bg = base + float(rng.uniform(20, 50)) * grad
    if variant == 1:  # wood-like stripes
        bg += 12 * np.sin(yy / float(rng.uniform(5, 14)) + 2 * np.sin(xx / 90.0))
    elif variant == 2:  # a coarse blotchy texture
        small = rng.normal(0, 18, (FRAME_H // 32 + 1, FRAME_W // 32 + 1)).astype(np.float32)
        img = Image.fromarray(small).resize((FRAME_W, FRAME_H), Image.Resampling.BICUBIC)
        bg += np.asarray(img, dtype=np.float32)
    elif variant == 3:  # a hand/sleeve shape and a shadow
        img = Image.new("L", (FRAME_W, FRAME_H), 0)
        draw = ImageDraw.Draw(img)
        cx, cy = float(rng.uniform(0, FRAME_W)), float(rng.uniform(FRAME_H * 0.6, FRAME_H))
        draw.ellipse((cx - 160, cy - 90, cx + 160, cy + 140), fill=255)
        soft = np.asarray(img.filter(ImageFilter.GaussianBlur(25)), dtype=np.float32) / 255.0
        bg = bg * (1 - 0.45 * soft)
    return np.asarray(bg, dtype=np.float32)


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> tuple[float, ...]:
    """Coefficients for ``Image.transform(PERSPECTIVE)`` mapping output points ``dst`` to input ``src``."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    sol = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))
    return tuple(float(c) for c in sol)


def _project(w: int, h: int, p: SceneParams) -> list[tuple[float, float]]:
    """Frame positions of the face corners (tl, tr, br, bl) through a pinhole camera."""
    focal = 700.0
    half_w, half_h = w * p.scale / 2, h * p.scale / 2
    corners = np.array([[-half_w, -half_h, 0], [half_w, -half_h, 0], [half_w, half_h, 0], [-half_w, half_h, 0]])
    rot = math.radians(p.rotation_deg)
    rz = np.array([[math.cos(rot), -math.sin(rot), 0], [math.sin(rot), math.cos(rot), 0], [0, 0, 1]])
    axis_a = math.radians(p.tilt_axis_deg)
    axis = np.array([math.cos(axis_a), math.sin(axis_a), 0.0])
    t = math.radians(p.tilt_deg)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    tilt = np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * (k @ k)
    pts = corners @ rz.T @ tilt.T
    out: list[tuple[float, float]] = []
    for x, y, z in pts:
        depth = focal + z
        out.append((FRAME_W / 2 + p.shift[0] + focal * x / depth, FRAME_H / 2 + p.shift[1] + focal * y / depth))
    return out


def render(payload: str | None, params: SceneParams, seed: int) -> np.ndarray:
    """Draw one frame for explicit ``params``; ``payload`` None draws the background only."""
    rng = np.random.default_rng([seed, 0xF4A3E])
    frame = _background(rng, params.background)
    if payload is not None:
        face, mask = _card_face(payload, params)
        dst = _project(face.width, face.height, params)
        src = [(0.0, 0.0), (float(face.width), 0.0), (float(face.width), float(face.height)), (0.0, float(face.height))]
        coeffs = _perspective_coeffs(src, dst)
        size = (FRAME_W, FRAME_H)
        warped = face.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
        alpha = mask.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
        # A soft drop shadow under the card.
        shadow = alpha.filter(ImageFilter.GaussianBlur(8))
        shadow_a = np.asarray(shadow, dtype=np.float32) / 255.0
        frame = frame * (1 - 0.35 * np.roll(shadow_a, (6, 6), axis=(0, 1)))
        a = np.asarray(alpha, dtype=np.float32) / 255.0
        frame = frame * (1 - a) + np.asarray(warped, dtype=np.float32) * a
    frame = frame * params.gain  # exposure: a dim shop corner
    if params.glare > 0:
        # A specular reflection of a ceiling light: saturates the sensor whatever the exposure.
        glare = Image.new("L", (FRAME_W, FRAME_H), 0)
        gx, gy = float(rng.uniform(160, 480)), float(rng.uniform(120, 360))
        rx, ry = float(rng.uniform(25, 70)), float(rng.uniform(15, 45))
        ImageDraw.Draw(glare).ellipse((gx - rx, gy - ry, gx + rx, gy + ry), fill=255)
        g = np.asarray(glare.filter(ImageFilter.GaussianBlur(min(rx, ry) * 0.4)), dtype=np.float32) / 255.0
        frame = frame + g * params.glare * 320.0
    np.clip(frame, 0, 255, out=frame)
    img = Image.fromarray(frame.astype(np.uint8), "L")
    if params.blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(params.blur))
    out = np.asarray(img, dtype=np.float32)
    # Sensor noise: read noise plus shot noise that grows as the signal is amplified in low light.
    sigma = params.noise / max(params.gain, 0.1) ** 0.5
    out += rng.normal(0.0, sigma, out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def make_scene(payload: str, seed: int, difficulty: Difficulty = "easy", **overrides: object) -> np.ndarray:
    """A 640x480 grey frame (uint8, shape (480, 640)) of a card carrying ``payload``.

    ``payload`` is an ``LC1:`` QR payload (the card number inside it also gives the EAN-13 when
    its check digit is valid) or any other text (drawn as a QR only). ``overrides`` set ``SceneParams`` fields directly,
    e.g. ``inverted=True`` or ``content="ean"``.
    """
    return render(payload, scene_params(seed, difficulty, **overrides), seed)


def empty_scene(seed: int, **overrides: object) -> np.ndarray:
    """A 640x480 frame with no card in it: background, lighting and noise only."""
    rng = np.random.default_rng([seed, 0xE3971])
    params = SceneParams(
        noise=float(rng.uniform(1.5, 5.0)),
        gain=float(rng.uniform(0.5, 1.0)),
        background=int(rng.integers(0, 4)),
        blur=float(rng.uniform(0.0, 1.0)),
    )
    return render(None, replace(params, **overrides), seed)  # type: ignore[arg-type]


def to_png(grey: np.ndarray, path: str) -> None:
    """Save a frame as PNG (for looking at scenes while tuning)."""
    Image.fromarray(grey, "L").save(path)
