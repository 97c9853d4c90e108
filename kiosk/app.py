"""Composition root: config -> store -> keys -> hardware -> sign-up service -> screens.

No logic of its own: it builds the parts, hands them to the screens' loop and closes them.
"""

from __future__ import annotations

import logging
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.core import cards
from kiosk.keys import Keys, load_keys
from kiosk.lookup import Lookup, SimLookup
from kiosk.signup import SignupService
from kiosk.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    cfg: Config
    store: Store
    keys: Keys
    service: SignupService
    ui: Any
    printer: Any = None
    print_worker: Any = None
    scanner: Any = None
    scanner_source: Any = None
    panel: Any = None
    sms: Any = None
    lookup: Any = None
    sync: Any = None
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        self.ui.close()
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                log.exception("closing %r failed", closer)
        self.store.close()


def display_available() -> bool:
    """True when a window can be opened: an X or Wayland session, or the kmsdrm console driver."""
    return (
        bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        or os.environ.get("SDL_VIDEODRIVER") == "kmsdrm"
    )


def build(
    cfg: Config,
    *,
    clock: Callable[[], float] = time.time,
    size: tuple[int, int] | None = None,
    diagonal_in: float | None = None,
    lang: str | None = None,
    receipts_dir: Path | None = None,
    lookup: Lookup | None = None,
    scanner: bool = True,
    fullscreen: bool | None = None,
    sync: bool = True,
) -> Kiosk:
    os.environ.setdefault("SDL_TOUCH_MOUSE_EVENTS", "0")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from kiosk.hw.panel import StatusPattern, make_panel
    from kiosk.hw.printer import PrintWorker, make_printer
    from kiosk.hw.sms import make_sms_sender
    from kiosk.screens.ui import Devices, KioskUI

    store = Store(cfg.database_path)
    closers: list[Callable[[], Any]] = []
    try:
        keys = load_keys(cfg)
        service = SignupService(cfg, store, keys, clock=clock)

        scanner_queue: queue.Queue[Any] = queue.Queue(maxsize=64)
        scanner_service = source = None
        if scanner:
            from kiosk.hw.scanner import FrameSource, make_source
            from kiosk.hw.scanner.decode import make_decoder
            from kiosk.hw.scanner.service import ScannerService

            scfg = cfg.hardware.scanner
            source = make_source(scfg)
            scanner_service = ScannerService(
                source,
                lambda text: cards.parse_scan(text, keys.card_mac),
                scanner_queue,
                decoder=make_decoder(scfg.decoder) if isinstance(source, FrameSource) else None,
                fps=scfg.fps,
            )
            scanner_service.start()
            closers.append(scanner_service.stop)

        printer = make_printer(cfg.hardware.printer, out_dir=receipts_dir)
        worker = PrintWorker(printer).start()
        closers.append(printer.close)
        closers.append(worker.stop)

        panel_queue: queue.Queue[Any] = queue.Queue()
        panel = make_panel(cfg.hardware.panel, panel_queue, source=cfg.source)
        closers.append(panel.close)

        link = None
        if sync and cfg.sync.enabled:
            from kiosk.sync import make_sync

            link = make_sync(cfg, store, keys, health=lambda: health(worker, scanner_service, panel, cfg))
            service.on_committed = link.notify_new_event
            link.start()
            closers.append(link.stop)
        relay = link.sms.send if link is not None else None
        sms = make_sms_sender(cfg.hardware.sms, cfg.secrets_dir, hq_relay=relay, source=cfg.source)
        if lookup is None:
            lookup = link.lookup if link is not None else SimLookup()
        devices = Devices(
            sms=sms,
            lookup=lookup,
            scanner=scanner_service,
            scanner_queue=scanner_queue,
            print_worker=worker,
            panel=panel,
            panel_queue=panel_queue,
        )
        ui = KioskUI(
            cfg, service, devices, clock=clock, size=size, diagonal_in=diagonal_in, lang=lang, fullscreen=fullscreen
        )
        try:
            panel.set_status(StatusPattern.READY)
        except Exception:
            log.exception("status LED")
    except BaseException:
        for closer in reversed(closers):
            try:
                closer()
            except Exception:
                log.exception("closing after a failed start")
        store.close()
        raise
    if link is not None:
        link.set_config_listener(ui.offer_config)
        if link.config.current is not None and link.config.current is not cfg:
            ui.offer_config(link.config.current)  # accepted before this start (re-verified from disk)
    return Kiosk(
        cfg=cfg,
        store=store,
        keys=keys,
        service=service,
        ui=ui,
        printer=printer,
        print_worker=worker,
        scanner=scanner_service,
        scanner_source=source,
        panel=panel,
        sms=sms,
        lookup=lookup,
        sync=link,
        closers=closers,
    )


def health(worker: Any, scanner: Any, panel: Any, cfg: Config) -> dict[str, Any]:
    """What the heartbeat reports about the devices (called from the sync thread; reads only)."""
    import shutil

    status = getattr(worker, "status", None)
    printer = getattr(status, "value", "unknown")
    paper = {"paper_out": "out", "paper_low": "low", "ready": "ok"}.get(printer, "unknown")
    if paper in ("ok", "unknown") and panel is not None and panel.paper_low:
        paper = "low"  # the roll sensor on the panel input sees it before the printer says so
    try:
        free_mb = shutil.disk_usage(cfg.state_dir).free // 1_000_000
    except OSError:
        free_mb = None
    return {
        "printer": printer,
        "paper": paper,
        "held_jobs": len(worker.pending()) if worker is not None else 0,
        "camera": "off" if scanner is None else ("fault" if scanner.faulted else "ok"),
        "enclosure": "unknown"
        if panel is None or panel.tamper_open is None
        else ("open" if panel.tamper_open else "closed"),
        "staff_call": bool(panel is not None and panel.call_pending),
        "disk_free_mb": free_mb,
    }


def attach_notifier(ui: Any, notifier: Any, on_frame: Callable[[], None] | None = None) -> None:
    """systemd: READY=1 once the first frame is on screen, WATCHDOG=1 from every loop iteration.

    The watchdog ping comes from the frame loop itself, so a loop that freezes (a device call
    that never returns, a deadlock) stops the pings and systemd restarts the kiosk.
    """

    def first_frame() -> None:
        notifier.ready()
        notifier.status("serving")

    def frame() -> None:
        notifier.watchdog()
        if on_frame is not None:
            on_frame()

    ui.on_first_frame = first_frame
    ui.on_frame = frame


def run(cfg: Config, *, lang: str | None = None, on_frame: Callable[[], None] | None = None) -> int:
    """Open the kiosk window and run until it is closed."""
    from kiosk.notify import Notifier

    notifier = Notifier.from_env()
    kiosk = build(cfg, lang=lang)
    attach_notifier(kiosk.ui, notifier, on_frame)
    try:
        kiosk.ui.run()
    finally:
        notifier.stopping()
        kiosk.close()
    return 0


def run_not_set_up(reason_key: str, details: list[str]) -> int:
    """No usable configuration: show why on the screen, keep the watchdog fed, never crash-loop."""
    from kiosk.errors import ExitCode
    from kiosk.notify import Notifier
    from kiosk.screens.setup_error import show_setup_error

    notifier = Notifier.from_env()

    def first_frame() -> None:
        notifier.ready()
        notifier.status("not set up")

    show_setup_error(reason_key, details, on_frame=notifier.watchdog, on_first_frame=first_frame)
    notifier.stopping()
    return ExitCode.CONFIG
