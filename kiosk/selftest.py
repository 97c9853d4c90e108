"""``kiosk selftest``: one row per thing the kiosk needs, each OK, WARN or FAIL with a reason."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Config
from kiosk.errors import KioskError

MIN_FREE_MB = 50


@dataclass(frozen=True)
class Row:
    name: str
    status: str  # OK | WARN | FAIL
    detail: str


def _free_mb(path: Path) -> float:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / 1e6


def run_selftest(config_path: Path | None) -> list[Row]:
    from kiosk.config import load_config

    rows: list[Row] = []
    try:
        cfg = load_config(config_path)
    except KioskError as exc:
        return [Row("config", "FAIL", str(exc).replace("\n", "; "))]
    rows.append(Row("config", "OK", f"{cfg.source}: kiosk {cfg.kiosk.id} (No. {cfg.kiosk.number})"))

    try:
        from kiosk.keys import load_keys

        load_keys(cfg)
        rows.append(Row("keys", "OK", f"card MAC, OTP and head-office keys in {cfg.secrets_dir}"))
    except KioskError as exc:
        rows.append(Row("keys", "FAIL", str(exc)))

    try:
        from kiosk.store.db import Store

        with Store(cfg.database_path) as store:
            check = store.integrity_check()
            backlog, _ = store.outbox_stats(0)
        rows.append(
            Row("store", "OK" if check == "ok" else "FAIL", f"{cfg.database_path}: integrity {check}, outbox {backlog}")
        )
    except KioskError as exc:
        rows.append(Row("store", "FAIL", str(exc)))

    free = _free_mb(cfg.state_dir)
    rows.append(Row("disk", "OK" if free >= MIN_FREE_MB else "FAIL", f"{free:.0f} MB free in {cfg.state_dir}"))
    rows.extend(device_rows(cfg))
    return rows


def _row(name: str, check: Callable[[], tuple[str, str]]) -> Row:
    try:
        status, detail = check()
    except Exception as exc:  # a device check must report, never crash the self-test
        return Row(name, "FAIL", f"{type(exc).__name__}: {exc}")
    return Row(name, status, detail)


def _printer(cfg: Config) -> tuple[str, str]:
    from kiosk.hw.printer import PrinterStatus, make_printer

    p = cfg.hardware.printer
    printer = make_printer(p)
    try:
        status = printer.status()
    finally:
        printer.close()
    ok = {PrinterStatus.READY: "OK", PrinterStatus.PAPER_LOW: "WARN", PrinterStatus.UNKNOWN: "WARN"}
    detail = f"{p.backend}, {p.paper_mm} mm: {status.value}"
    if status is PrinterStatus.UNKNOWN:
        detail += " (this transport cannot read the printer's status)"
    return ok.get(status, "FAIL"), detail


def _scanner(cfg: Config) -> tuple[str, str]:
    from kiosk.hw.scanner import make_source
    from kiosk.hw.scanner.decode import make_decoder

    s = cfg.hardware.scanner
    make_decoder(s.decoder)
    source = make_source(s)
    source.open()
    try:
        if hasattr(source, "read"):
            frame = source.read(2.0)
            if frame is None:
                return "FAIL", f"{s.backend}: no frame within 2 s"
            return "OK", f"{s.backend}: {frame.shape[1]}x{frame.shape[0]} frames, decoder {s.decoder}"
        return "OK", f"{s.backend}: device open, decoder {s.decoder}"
    finally:
        source.close()


def _panel(cfg: Config) -> tuple[str, str]:
    import queue

    from kiosk.hw.panel import make_panel

    panel = make_panel(cfg.hardware.panel, queue.Queue(), source=cfg.source)
    try:
        fitted = [name for name, pin in cfg.hardware.panel.pins.model_dump().items() if pin is not None]
    finally:
        panel.close()
    return "OK", f"{cfg.hardware.panel.backend}: {', '.join(fitted) or 'no parts fitted'}"


def _sms(cfg: Config) -> tuple[str, str]:
    from kiosk.hw.sms import make_sms_sender

    backend = cfg.hardware.sms.backend
    if backend == "hq":
        return "OK", "through head office (needs the sync link)"
    sender = make_sms_sender(cfg.hardware.sms, cfg.secrets_dir, source=cfg.source)
    if backend == "console":
        return "WARN", "console: development backend, codes go to the log"
    check = getattr(sender, "check", None)
    if check is not None:
        status = check()
        return ("OK" if status.ok else "FAIL"), f"{backend}: {status}"
    return "OK", f"{backend}: configured"


def _sync(cfg: Config) -> tuple[str, str]:
    import socket

    s = cfg.sync
    if not s.enabled:
        return "WARN", "disabled: the outbox waits"
    try:
        with socket.create_connection((s.host, s.port), timeout=1.0):
            pass
    except OSError as exc:
        return "WARN", f"broker {s.host}:{s.port} not reachable now ({exc.strerror or exc}); the outbox waits"
    return "OK", f"broker {s.host}:{s.port} reachable"


def device_rows(cfg: Config) -> list[Row]:
    """A row per device: printer, scanner, panel, SMS, and the link to head office."""
    return [
        _row("printer", lambda: _printer(cfg)),
        _row("scanner", lambda: _scanner(cfg)),
        _row("panel", lambda: _panel(cfg)),
        _row("sms", lambda: _sms(cfg)),
        _row("sync", lambda: _sync(cfg)),
    ]
