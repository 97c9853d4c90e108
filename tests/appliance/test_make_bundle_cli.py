"""The technician's path on the command line: hq keygen -> certificates -> hq make-bundle -> kiosk provision."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import load_config
from tests.conftest import REPO


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False, cwd=cwd)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_make_bundle_then_provision(tmp_path: Path) -> None:
    assert run(sys.executable, "-m", "hq", "keygen", str(tmp_path / "keys")).returncode == 0
    certs = run("bash", str(REPO / "broker" / "make-dev-certs.sh"), str(tmp_path / "certs"), "kiosk-0042")
    assert certs.returncode == 0, certs.stderr
    bundle = tmp_path / "bundle.tar.gz"
    made = run(
        sys.executable, "-m", "hq", "make-bundle", "kiosk-0042", "42",
        "--store-config", str(REPO / "config.toml"), "--keys", str(tmp_path / "keys"),
        "--ca-cert", str(tmp_path / "certs" / "ca.crt"), "--ca-key", str(tmp_path / "certs" / "ca.key"),
        "--mqtt", "broker.example:8883", "--out", str(bundle),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600
    root = tmp_path / "root"
    out = run(sys.executable, "-m", "kiosk", "provision", str(bundle), "--root", str(root))
    assert out.returncode == 0, out.stderr
    cfg = load_config(root / "etc" / "kiosk" / "config.toml")
    assert (cfg.kiosk.id, cfg.kiosk.number) == ("kiosk-0042", 42)
    assert (cfg.sync.host, cfg.sync.port, cfg.sync.tls) == ("broker.example", 8883, True)
    assert cfg.paths.dev_keys is False
    secrets = root / "etc" / "kiosk" / "secrets"
    assert (secrets / "card_mac.key").read_bytes().strip() == (tmp_path / "keys" / "card_mac.key").read_bytes().strip()
    for f in secrets.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
