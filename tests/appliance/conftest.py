"""Fixtures for the appliance tests: a development CA, head office's keys and bundles."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hq.bundle import make_bundle
from hq.keys import keygen
from kiosk.config import DEFAULT_CONFIG

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Fleet:
    ca_cert: Path
    ca_key: Path
    hq_keys: Path
    dir: Path

    def bundle(self, out: Path, kiosk_id: str = "kiosk-017", number: int = 17, **options: Any) -> Path:
        """A bundle for one kiosk of this fleet, made the way head office makes it."""
        return make_bundle(
            kiosk_id,
            number,
            store_config=DEFAULT_CONFIG,
            hq_keys_dir=self.hq_keys,
            ca_cert=self.ca_cert,
            ca_key=self.ca_key,
            mqtt_host="mqtt.example.net",
            out=out,
            **options,
        )


def _make_ca(out: Path) -> None:
    script = REPO / "broker" / "make-dev-certs.sh"
    if script.exists() and shutil.which("openssl"):
        subprocess.run(["sh", str(script), str(out)], check=True, capture_output=True)
        return
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (out / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    base = tmp_path_factory.mktemp("fleet")
    _make_ca(base / "ca")
    keygen(base / "hq-keys")  # includes the fleet's card-MAC key
    return Fleet(base / "ca" / "ca.crt", base / "ca" / "ca.key", base / "hq-keys", base)


@pytest.fixture
def good_bundle(fleet: Fleet, tmp_path: Path) -> Path:
    return fleet.bundle(tmp_path / "bundles" / "kiosk-017.tar.gz", mqtt_port=8883)
