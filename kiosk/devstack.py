"""Development only: a local Mosquitto and a local head office beside the kiosk.

``make run`` uses it so a newcomer sees a sign-up arrive at head office. It starts only for a
development configuration (``paths.dev_keys``) whose sync link points at this machine without
TLS, and only when ``mosquitto`` is installed; otherwise it says why in one log line and the
kiosk's outbox simply waits. Head office runs in this process with its SQLite database and the
development keys under ``<state_dir>/dev-hq/``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.keys import dev_hq_dir, ensure_dev_keys

log = logging.getLogger(__name__)

BROKER_CONF = Path(__file__).resolve().parent.parent / "broker" / "mosquitto-dev.conf"


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class DevStack:
    port: int
    broker: subprocess.Popen[bytes] | None
    hq: Any
    engine: Any

    def registrations(self) -> int:
        """How many sign-ups head office has stored (for the demo's closing line)."""
        from sqlalchemy import func, select

        from hq import db

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(db.customers)).scalar_one())

    def stop(self) -> None:
        try:
            self.hq.stop()
        finally:
            if self.broker is not None:
                self.broker.terminate()
                try:
                    self.broker.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.broker.kill()


def eligible(cfg: Config) -> str | None:
    """None when a local stack fits this config, else the reason it does not."""
    s = cfg.sync
    if not s.enabled:
        return "sync is disabled in the configuration"
    if not cfg.paths.dev_keys:
        return "not a development configuration (paths.dev_keys is off)"
    if s.host not in ("127.0.0.1", "localhost") or s.tls:
        return f"sync points at {s.host}:{s.port}, not at a local development broker"
    return None


def _settings(cfg: Config) -> Any:
    from hq.settings import parse_settings

    sections = cfg.model_dump(mode="json", include={"program", "operator", "otp"}, exclude_none=True)
    return parse_settings({"version": 0, "kiosks": [cfg.kiosk.id], **sections}, "kiosk config")


def start_devstack(cfg: Config) -> DevStack | None:
    """Start Mosquitto (unless one already listens on the port) and head office; None if not possible."""
    reason = eligible(cfg)
    if reason is not None:
        log.info("no local head office: %s", reason)
        return None
    mosquitto = find_mosquitto()
    port = cfg.sync.port
    broker = None
    if not _listening(port):
        if mosquitto is None or not BROKER_CONF.exists():
            log.warning("mosquitto is not installed: no local head office; sign-ups wait in the outbox")
            return None
        work = cfg.state_dir / "dev-broker"
        work.mkdir(parents=True, exist_ok=True)
        conf = BROKER_CONF.read_text(encoding="utf-8")
        conf = conf.replace("persistence_location ./var/", f"persistence_location {work}/")
        conf = conf.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
        if os.geteuid() == 0:  # mosquitto drops to its own user unless told otherwise
            conf += "\nuser root\n"
        (work / "mosquitto.conf").write_text(conf, encoding="utf-8")
        log_file = (work / "mosquitto.log").open("ab")
        broker = subprocess.Popen([mosquitto, "-c", str(work / "mosquitto.conf")], stdout=log_file, stderr=log_file)
        deadline = time.monotonic() + 5
        while not _listening(port):
            if broker.poll() is not None or time.monotonic() > deadline:
                log.warning("the local mosquitto did not start (see %s); sign-ups wait in the outbox", work)
                broker.kill()
                return None
            time.sleep(0.05)
    from hq import db
    from hq.keys import load_keys
    from hq.rpc import RpcHandler
    from hq.service import BrokerOptions, HqService

    ensure_dev_keys(cfg)
    hq_dir = dev_hq_dir(cfg)
    keys = load_keys(hq_dir)
    engine = db.connect(f"sqlite:///{hq_dir / 'hq.db'}")
    service = HqService(engine, keys, RpcHandler(engine, keys, _settings(cfg)), BrokerOptions(port=port))
    service.start()
    log.warning(
        "development: a local head office runs beside the kiosk (broker 127.0.0.1:%d, database %s)",
        port,
        hq_dir / "hq.db",
    )
    return DevStack(port=port, broker=broker, hq=service, engine=engine)
