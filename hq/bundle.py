"""Provisioning bundles: everything one kiosk needs to join the fleet, in one ``.tar.gz``.

A bundle holds ``manifest.json`` (format version, kiosk id and number, creation time and the
SHA-256 of every other file), the store's ``config.toml`` with this kiosk's identity and broker
address filled in, and ``secrets/``:

* ``card_mac.key``: the fleet-wide card-MAC key, taken from head office's keys folder (head
  office verifies the card codes every kiosk prints, so all kiosks share it);
* ``otp.key``: generated per kiosk;
* ``hq_seal.pub`` / ``hq_sign.pub``: head office's public keys, from its keys folder;
* ``client.crt`` / ``client.key``: a fresh MQTT client certificate (CN = kiosk id) signed by the
  given CA, and ``ca.crt``, the CA that signed the broker's certificate too.

An optional ``ssh/authorized_keys`` turns SSH on (keys only) on the provisioned kiosk.
The bundle holds private keys: hand it over like a password and delete it after use.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import secrets
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.config import validate_config

BUNDLE_FORMAT = 1
CARD_MAC_KEY = "card_mac.key"
"""Head office's fleet-wide card-MAC key file (base64 of 32 bytes) in its keys folder."""
SEAL_PUB = "hq_seal.pub"
SIGN_PUB = "hq_sign.pub"

INSTALLED_SECRETS = "/etc/kiosk/secrets"


def _read_pem(value: Path | bytes) -> bytes:
    return value if isinstance(value, bytes) else Path(value).read_bytes()


def _key32(path: Path) -> bytes:
    """Read a base64 32-byte key file, normalised to one line; the error names the file."""
    try:
        raw = path.read_bytes().strip()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing") from None
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise ValueError(f"{path}: not base64") from None
    if len(key) != 32:
        raise ValueError(f"{path}: expected a 32-byte key, got {len(key)} bytes")
    return base64.b64encode(key) + b"\n"


def issue_client_certificate(
    kiosk_id: str,
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    *,
    days: int = 825,
    not_before: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """A new P-256 key and a client certificate for it (CN = ``kiosk_id``); both PEM."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kiosk_id)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def kiosk_config(
    store_config: dict[str, Any], kiosk_id: str, kiosk_number: int, mqtt_host: str, mqtt_port: int
) -> dict[str, Any]:
    """The store's configuration with this kiosk's identity, broker and on-device paths."""
    data: dict[str, Any] = json.loads(json.dumps(store_config))  # a deep copy of plain TOML data
    data.setdefault("kiosk", {}).update({"id": kiosk_id, "number": kiosk_number})
    data.setdefault("sync", {}).update(
        {
            "enabled": True,
            "host": mqtt_host,
            "port": mqtt_port,
            "tls": True,
            "ca_file": f"{INSTALLED_SECRETS}/ca.crt",
            "cert_file": f"{INSTALLED_SECRETS}/client.crt",
            "key_file": f"{INSTALLED_SECRETS}/client.key",
        }
    )
    data["paths"] = {
        "state_dir": "/var/lib/kiosk",
        "secrets_dir": INSTALLED_SECRETS,
        "database": data.get("paths", {}).get("database", "kiosk.db"),
        "dev_keys": False,
    }
    return data


def make_bundle(
    kiosk_id: str,
    kiosk_number: int,
    *,
    store_config: Path,
    hq_keys_dir: Path,
    ca_cert: Path | bytes,
    ca_key: Path | bytes,
    mqtt_host: str,
    mqtt_port: int = 8883,
    authorized_keys: Path | str | None = None,
    out: Path,
    cert_days: int = 825,
) -> Path:
    """Write the provisioning bundle for one kiosk to ``out`` (mode 0600) and return ``out``."""
    store = tomllib.loads(Path(store_config).read_text(encoding="utf-8"))
    config = kiosk_config(store, kiosk_id, kiosk_number, mqtt_host, mqtt_port)
    validate_config(config, f"{store_config} (for kiosk {kiosk_id})")
    cert_pem, key_pem = issue_client_certificate(kiosk_id, _read_pem(ca_cert), _read_pem(ca_key), days=cert_days)
    files: dict[str, bytes] = {
        "config.toml": tomli_w.dumps(config).encode("utf-8"),
        "secrets/card_mac.key": _key32(hq_keys_dir / CARD_MAC_KEY),
        "secrets/otp.key": base64.b64encode(secrets.token_bytes(32)) + b"\n",
        "secrets/hq_seal.pub": _key32(hq_keys_dir / SEAL_PUB),
        "secrets/hq_sign.pub": _key32(hq_keys_dir / SIGN_PUB),
        "secrets/client.crt": cert_pem,
        "secrets/client.key": key_pem,
        "secrets/ca.crt": _read_pem(ca_cert),
    }
    if authorized_keys is not None:
        text = (
            Path(authorized_keys).read_text(encoding="utf-8") if isinstance(authorized_keys, Path) else authorized_keys
        )
        files["ssh/authorized_keys"] = text.encode("utf-8")
    return write_bundle(out, kiosk_id, kiosk_number, files)


def write_bundle(out: Path, kiosk_id: str, kiosk_number: int, files: dict[str, bytes]) -> Path:
    """Pack ``files`` with a manifest of their hashes (also used by tests to build odd bundles)."""
    manifest = {
        "format": BUNDLE_FORMAT,
        "kiosk_id": kiosk_id,
        "kiosk_number": kiosk_number,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": [{"path": name, "sha256": hashlib.sha256(data).hexdigest()} for name, data in sorted(files.items())],
    }
    members = {"manifest.json": json.dumps(manifest, indent=2).encode("utf-8") + b"\n", **files}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as fh:
        tmp.chmod(0o600)
        with tarfile.open(fileobj=fh, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o600
                info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
    tmp.replace(out)
    return out
