"""Disk full: the state directory on a small tmpfs is filled up.

The kiosk must show out-of-service instead of taking a sign-up it cannot keep (both between
customers and in the middle of one), lose no sign-up it already committed, and serve again
once space returns.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from kiosk.app import build
from kiosk.config import validate_config
from kiosk.screens.virtual_customer import VirtualCustomer
from kiosk.store.db import Store
from tests.conftest import config_data

SIZE_MB = 4


@pytest.fixture
def small_fs(tmp_path: Path):
    mnt = tmp_path / "state"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path: Path, leave_bytes: int) -> Path:
    """Fill the filesystem of ``path`` until at most ``leave_bytes`` are free."""
    ballast = path / "ballast.bin"
    chunk = b"\0" * 65536
    with ballast.open("wb") as f:
        while os.statvfs(path).f_bavail * os.statvfs(path).f_frsize > leave_bytes + len(chunk):
            f.write(chunk)
            f.flush()
        try:
            while os.statvfs(path).f_bavail * os.statvfs(path).f_frsize > leave_bytes:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return ballast


def step_until(customer: VirtualCustomer, pred, timeout: float = 10.0) -> bool:
    return customer.wait_until(pred, timeout)


def test_disk_full_goes_out_of_service_and_comes_back(small_fs: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    data = config_data(sync={"enabled": False})
    data["paths"] = {"state_dir": str(small_fs), "secrets_dir": str(tmp_path / "secrets"), "dev_keys": True}
    data["paths"]["min_free_mb"] = 1
    cfg = validate_config(data, str(tmp_path / "config.toml"), tmp_path)
    kiosk = build(cfg, scanner=False)
    ui = kiosk.ui
    customer = VirtualCustomer(ui, sms=kiosk.sms)
    try:
        first = customer.sign_up({"phone": "8 (916) 111-22-33"})
        assert first.outcome == "registered"

        # 1. between customers: the disk fills, the kiosk stops taking sign-ups
        ballast = fill(small_fs, leave_bytes=200_000)
        assert step_until(customer, lambda: ui.current.name == "out_of_service")
        assert "join" not in customer.names()
        ballast.unlink()
        assert step_until(customer, lambda: ui.current.name == "attract")

        # 2. in the middle of a sign-up: the code is right but the disk is full now
        ui.start_signup()
        ui.accept_rules()
        assert ui.submit_form({"name": "Анна", "phone": "8 (916) 444-55-66", "gender": "female"}) == {}
        assert ui.give_consent(True, False)
        assert step_until(customer, lambda: kiosk.sms.last_code_for("+79164445566") is not None)
        code = kiosk.sms.last_code_for("+79164445566")
        ballast = fill(small_fs, leave_bytes=0)
        ui.confirm_code(code)
        assert ui.current.name == "out_of_service"
        assert ui.session is None  # the customer's data is wiped, nothing half-written
        ballast.unlink()
        assert step_until(customer, lambda: ui.current.name == "attract")

        # 3. back in service: the next customer signs up
        second = customer.sign_up({"phone": "8 (916) 777-88-99"})
        assert second.outcome == "registered"
    finally:
        kiosk.close()
    with Store(cfg.database_path) as store:
        assert store.integrity_check() == "ok"
        cards = [j.card_number for j in store.journal()]
        assert cards == [first.card_number, second.card_number]
        assert len(store.outbox_batch(10)) == 2
