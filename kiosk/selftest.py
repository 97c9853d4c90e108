"""``kiosk selftest``: one row per thing the kiosk needs, each OK, WARN or FAIL with a reason."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

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


def device_rows(cfg: object) -> list[Row]:
    """A row per device; filled in by the hardware layer."""
    return []
