"""The headless demo: the real kiosk with simulated hardware and a virtual customer.

``python -m kiosk demo --out DIR`` keeps everything under DIR (database, keys, log), writes a
picture of every screen the customer passed (``DIR/screens``), what the simulated printer printed
(``DIR/receipts``) and ``DIR/result.json``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import DEFAULT_CONFIG, Config, validate_config

log = logging.getLogger(__name__)


@dataclass
class SkewClock:
    """Wall-clock time that a virtual customer can move forward (to walk away from the kiosk)."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def skip(self, seconds: float) -> None:
        self.offset += seconds


def demo_config(
    out: Path, size: tuple[int, int] | None = None, lang: str | None = None, sync_port: int | None = None
) -> Config:
    """The default configuration with every path under ``out`` and the display size given.

    Sync is off unless ``sync_port`` names the local development broker to use.
    """
    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["paths"] = {"state_dir": "state", "secrets_dir": "state/secrets", "database": "kiosk.db", "dev_keys": True}
    display = data.setdefault("hardware", {}).setdefault("display", {})
    if size is not None:
        from kiosk.screens.gallery import SIZES

        display["width"], display["height"] = size
        display["diagonal_in"] = SIZES.get(size, display.get("diagonal_in", 7.0))
    if lang:
        data["kiosk"]["language"] = lang
    sync = data.setdefault("sync", {})
    sync["enabled"] = sync_port is not None
    if sync_port is not None:
        sync["port"] = sync_port
    return validate_config(data, str(out / "config.toml"), out)


def _log_to(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def run_demo(
    out: Path,
    *,
    size: tuple[int, int] | None = None,
    lang: str | None = None,
    script: dict[str, Any] | None = None,
    with_hq: bool = False,
) -> dict[str, Any]:
    """Run the real app headless with a virtual customer; ``with_hq`` adds a local broker and head office."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    from kiosk.app import build
    from kiosk.screens.virtual_customer import VirtualCustomer

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    from kiosk.devstack import find_mosquitto, free_port, start_devstack

    sync_port = free_port() if with_hq and find_mosquitto() else None
    cfg = demo_config(out, size, lang or (script or {}).get("language"), sync_port)
    handler = _log_to(cfg.state_dir / "kiosk.log")
    if with_hq and sync_port is None:
        log.warning("mosquitto is not installed: no local head office; the sign-up waits in the outbox")
    stack = start_devstack(cfg) if sync_port is not None else None
    shots = out / "screens"
    shots.mkdir(exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    clock = SkewClock()
    kiosk = build(cfg, clock=clock, receipts_dir=out / "receipts", scanner=False)
    ui = kiosk.ui
    saved: list[str] = []
    last: list[Any] = []  # [view, copy of its latest frame]

    def write(view: str, surface: Any) -> None:
        saved.append(view)
        pygame.image.save(surface, str(shots / f"{len(saved):02d}-{view}.png"))

    def snap() -> None:
        # every screen is saved as it looked last, just before the customer left it
        if not ui.frames:
            return
        view = ui.views[-1]
        if last and last[0] != view:
            write(last[0], last[1])
        last[:] = [view, ui.surface.copy()]

    try:
        customer = VirtualCustomer(ui, skip_time=clock.skip, on_step=snap, sms=kiosk.sms)
        outcome = customer.sign_up(script)
        customer.step(3)
        if last:
            write(last[0], last[1])
        # let the printer finish what it was given
        deadline = time.monotonic() + 15
        while kiosk.print_worker.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        result = outcome.to_dict() | {
            "screens": [f"{i + 1:02d}-{v}.png" for i, v in enumerate(saved)],
            "state_dir": str(cfg.state_dir),
        }
        if stack is not None:
            # wait for the outbox to drain: the sign-up is at head office once it is acknowledged
            deadline = time.monotonic() + 15
            while kiosk.store.outbox_stats(time.time())[0] and time.monotonic() < deadline:
                time.sleep(0.1)
            result["outbox_after"] = kiosk.store.outbox_stats(time.time())[0]
            result["hq_registrations"] = stack.registrations()
    finally:
        kiosk.close()
        if stack is not None:
            stack.stop()
        logging.getLogger().removeHandler(handler)
        handler.close()
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result
