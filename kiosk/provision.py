"""Provisioning: install a head-office bundle (identity, configuration, secrets) on a kiosk.

``kiosk provision BUNDLE`` or, at first boot, ``kiosk provision --from-boot`` (the bundle copied to
the boot partition as ``kiosk-provision.tar.gz``). The bundle is checked completely before anything
is touched: the manifest's hashes, the configuration, the key files, the client certificate (kiosk
id as its CN, signed by the bundle's CA, valid now, matching its private key). Then it is installed
in one step under ``ROOT/etc/kiosk`` and, from the boot partition, overwritten and deleted.

A refused bundle changes nothing and leaves the reason in ``ROOT/var/lib/kiosk/provision-error.txt``
(UTF-8 text, one problem per line; removed by the next successful provisioning), which the kiosk
shows on its screen.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import tomli_w

from kiosk.config import validate_config
from kiosk.errors import ConfigError, ProvisioningError
from kiosk.fsutil import sync_dir, write_atomic

log = logging.getLogger(__name__)

BUNDLE_FORMAT = 1
BOOT_BUNDLE = Path("/boot/firmware/kiosk-provision.tar.gz")
ERROR_FILE = "var/lib/kiosk/provision-error.txt"
CONFIG_DIR = "etc/kiosk"
SECRETS_DIR = "etc/kiosk/secrets"
STATE_DIR = "var/lib/kiosk"
KIOSK_USER = "kiosk"
ADMIN_USER = "kioskadmin"
"""The maintenance account SSH keys are installed for (created by systemd/install.sh)."""
SSHD_DROPIN = "etc/ssh/sshd_config.d/10-kiosk.conf"
SSH_WANTS = "etc/systemd/system/multi-user.target.wants/ssh.service"

KEY_FILES = ("secrets/card_mac.key", "secrets/otp.key", "secrets/hq_seal.pub", "secrets/hq_sign.pub")
CERT_FILES = ("secrets/client.crt", "secrets/client.key", "secrets/ca.crt")
REQUIRED = ("config.toml", *KEY_FILES, *CERT_FILES)
OPTIONAL = ("ssh/authorized_keys",)
MAX_MEMBER = 1 << 20
ALLOWED = frozenset(("manifest.json", *REQUIRED, *OPTIONAL))
MAX_TOTAL = 4 << 20  # a real bundle is a few kilobytes
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-", "sk-ssh-ed25519@", "sk-ecdsa-sha2-")


@dataclass
class Bundle:
    """A checked bundle, ready to install."""

    kiosk_id: str
    kiosk_number: int
    files: dict[str, bytes]
    config: dict[str, Any] = field(default_factory=dict)


def _fail(source: Path | str, message: str) -> ProvisioningError:
    return ProvisioningError(f"{source}: {message}")


def read_bundle(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the members of a bundle archive (regular files only, no path tricks)."""
    try:
        tar = tarfile.open(path, mode="r:gz")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise _fail(path, "no such bundle") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _fail(path, f"not a readable .tar.gz bundle: {exc}") from None
    members: dict[str, bytes] = {}
    total = 0
    with tar:
        try:
            for info in tar:
                name = str(PurePosixPath(info.name))
                if info.isdir():
                    continue
                if not info.isfile() or name.startswith("/") or ".." in PurePosixPath(name).parts:
                    raise _fail(path, f"{info.name}: not allowed in a bundle (only plain relative files)")
                # names and sizes are checked from the header, before a byte is read: a crafted
                # archive must not be able to fill the memory of a kiosk on its first boot
                if name not in ALLOWED:
                    raise _fail(path, f"{name}: not a file a bundle holds")
                if name in members:
                    raise _fail(path, f"{name}: appears twice")
                if info.size > MAX_MEMBER:
                    raise _fail(path, f"{name}: too large ({info.size} bytes)")
                total += info.size
                if total > MAX_TOTAL:
                    raise _fail(path, f"more than {MAX_TOTAL} bytes in all")
                fh = tar.extractfile(info)
                assert fh is not None
                members[name] = fh.read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise _fail(path, f"damaged archive: {exc}") from None
    raw = members.pop("manifest.json", None)
    if raw is None:
        raise _fail(path, "manifest.json is missing")
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(path, f"manifest.json: not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise _fail(path, "manifest.json: not a JSON object")
    return manifest, members


def _check_manifest(path: Path, manifest: dict[str, Any], members: dict[str, bytes]) -> tuple[str, int]:
    if manifest.get("format") != BUNDLE_FORMAT:
        raise _fail(
            path, f"manifest.json: format {manifest.get('format')!r} is not supported (expected {BUNDLE_FORMAT})"
        )
    kiosk_id, number = manifest.get("kiosk_id"), manifest.get("kiosk_number")
    if not isinstance(kiosk_id, str) or not isinstance(number, int):
        raise _fail(path, "manifest.json: kiosk_id (text) and kiosk_number (integer) are required")
    listed: dict[str, str] = {}
    for entry in manifest.get("files") or []:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("path"), str)
            or not isinstance(entry.get("sha256"), str)
        ):
            raise _fail(path, "manifest.json: every files entry needs a path and a sha256")
        listed[entry["path"]] = entry["sha256"].lower()
    for name in REQUIRED:
        if name not in listed:
            raise _fail(path, f"{name}: missing from the manifest")
    for name, digest in listed.items():
        if name not in REQUIRED and name not in OPTIONAL:
            raise _fail(path, f"{name}: not a file a bundle may carry")
        if name not in members:
            raise _fail(path, f"{name}: listed in the manifest but missing from the bundle")
        actual = hashlib.sha256(members[name]).hexdigest()
        if actual != digest:
            raise _fail(
                path,
                f"{name}: SHA-256 mismatch (manifest {digest[:16]}..., file {actual[:16]}...): tampered or damaged",
            )
    for name in members:
        if name not in listed:
            raise _fail(path, f"{name}: in the bundle but not in the manifest")
    return kiosk_id, number


def _check_key(path: Path, name: str, data: bytes) -> None:
    try:
        key = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _fail(path, f"{name}: not base64") from None
    if len(key) != 32:
        raise _fail(path, f"{name}: wrong key length: expected 32 bytes, got {len(key)}")


def _check_certificates(path: Path, files: dict[str, bytes], kiosk_id: str, now: dt.datetime) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    def load_cert(name: str) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(files[name])
        except ValueError as exc:
            raise _fail(path, f"{name}: not a PEM certificate: {exc}") from None

    cert, ca = load_cert("secrets/client.crt"), load_cert("secrets/ca.crt")
    try:
        key = serialization.load_pem_private_key(files["secrets/client.key"], password=None)
    except (ValueError, TypeError) as exc:
        raise _fail(path, f"secrets/client.key: not an unencrypted PEM private key: {exc}") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != cert.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ):
        raise _fail(path, "secrets/client.key: does not match the public key in secrets/client.crt (wrong key)")
    cns = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    if cns != [kiosk_id]:
        shown = cns[0] if cns else "(none)"
        raise _fail(
            path, f"secrets/client.crt: wrong kiosk id: certificate CN is {shown!r}, manifest says {kiosk_id!r}"
        )
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise _fail(path, f"secrets/client.crt: not signed by secrets/ca.crt ({exc or 'bad signature'})") from None
    for name, c in (("secrets/client.crt", cert), ("secrets/ca.crt", ca)):
        start, end = c.not_valid_before_utc, c.not_valid_after_utc
        span = f"valid from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC, now {now:%Y-%m-%d %H:%M} UTC"
        if now < start:
            raise _fail(path, f"{name}: not yet valid ({span}); check the kiosk's clock")
        if now > end:
            raise _fail(path, f"{name}: expired ({span})")


def check_bundle(path: Path, *, now: dt.datetime | None = None) -> Bundle:
    """Check everything in the bundle; raise ``ProvisioningError`` naming the first problem."""
    manifest, members = read_bundle(path)
    kiosk_id, number = _check_manifest(path, manifest, members)
    try:
        data = tomllib.loads(members["config.toml"].decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _fail(path, f"config.toml: not valid TOML: {exc}") from None
    try:
        cfg = validate_config(data, f"{path}:config.toml")
    except ConfigError as exc:
        raise ProvisioningError(str(exc)) from None
    if cfg.kiosk.id != kiosk_id:
        raise _fail(path, f"config.toml: kiosk.id: wrong kiosk id: {cfg.kiosk.id!r}, manifest says {kiosk_id!r}")
    if cfg.kiosk.number != number:
        raise _fail(path, f"config.toml: kiosk.number: {cfg.kiosk.number}, manifest says {number}")
    for name in KEY_FILES:
        _check_key(path, name, members[name])
    _check_certificates(path, members, kiosk_id, now or dt.datetime.now(dt.UTC))
    if "ssh/authorized_keys" in members:
        _check_authorized_keys(path, members["ssh/authorized_keys"])
    return Bundle(kiosk_id, number, members, data)


def _check_authorized_keys(path: Path, data: bytes) -> None:
    try:
        lines = [ln.strip() for ln in data.decode("utf-8").splitlines()]
    except UnicodeDecodeError:
        raise _fail(path, "ssh/authorized_keys: not UTF-8 text") from None
    keys = [ln for ln in lines if ln and not ln.startswith("#")]
    if not keys:
        raise _fail(path, "ssh/authorized_keys: holds no key")
    for number, line in enumerate(keys, 1):
        if not any(t in line for t in SSH_KEY_TYPES):
            raise _fail(path, f"ssh/authorized_keys: key {number} is not an SSH public key")


# --- installing -------------------------------------------------------------------------------


def _lookup(root: Path, db: str, name: str) -> int | None:
    """uid (passwd) or gid (group) of ``name`` in ROOT's account database, or None."""
    try:
        text = (root / "etc" / db).read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) > 3 and parts[0] == name and parts[2].isdigit():
            return int(parts[2])
    return None


def _write(path: Path, data: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)
    if uid is not None or gid is not None:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)


def installed_config(bundle: Bundle) -> bytes:
    """The bundle's config with the on-device paths (whatever the bundle said)."""
    data = json.loads(json.dumps(bundle.config))
    data["paths"] = {
        **data.get("paths", {}),
        "state_dir": "/" + STATE_DIR,
        "secrets_dir": "/" + SECRETS_DIR,
        "dev_keys": False,
    }
    sync = data.setdefault("sync", {})
    sync.update(
        {
            "tls": True,
            "ca_file": f"/{SECRETS_DIR}/ca.crt",
            "cert_file": f"/{SECRETS_DIR}/client.crt",
            "key_file": f"/{SECRETS_DIR}/client.key",
        }
    )
    validate_config(data, "/" + CONFIG_DIR + "/config.toml")
    return tomli_w.dumps(data).encode("utf-8")


def install(bundle: Bundle, root: Path) -> None:
    """Install a checked bundle under ``root``: a new /etc/kiosk is built beside the old and swapped in."""
    uid, gid = _lookup(root, "passwd", KIOSK_USER), _lookup(root, "group", KIOSK_USER)
    etc = root / CONFIG_DIR
    new, old = etc.with_name("kiosk.provision-new"), etc.with_name("kiosk.provision-old")
    _recover(etc, old)
    shutil.rmtree(new, ignore_errors=True)
    etc.parent.mkdir(parents=True, exist_ok=True)
    if etc.is_dir():  # keep whatever else lives in /etc/kiosk
        shutil.copytree(etc, new, symlinks=True, ignore=shutil.ignore_patterns("secrets", "config.toml"))
    else:
        new.mkdir()
    os.chmod(new, 0o755)  # noqa: S103 - /etc/kiosk itself holds nothing secret
    _write(new / "config.toml", installed_config(bundle), 0o640, 0 if gid is not None else None, gid)
    secrets_dir = new / "secrets"
    secrets_dir.mkdir(mode=0o700)
    os.chmod(secrets_dir, 0o700)
    if uid is not None:
        os.chown(secrets_dir, uid, gid if gid is not None else -1)
    for name, data in sorted(bundle.files.items()):
        if name.startswith("secrets/"):
            _write(new / name, data, 0o600, uid, gid)
    sync_dir(secrets_dir)
    sync_dir(new)
    if etc.exists():
        os.replace(etc, old)
    os.replace(new, etc)
    sync_dir(etc.parent)
    shutil.rmtree(old, ignore_errors=True)
    _install_ssh(bundle.files.get("ssh/authorized_keys"), root)
    state = root / STATE_DIR
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    (root / ERROR_FILE).unlink(missing_ok=True)
    log.info("provisioned kiosk %s (number %d) under %s", bundle.kiosk_id, bundle.kiosk_number, etc)


def _recover(etc: Path, old: Path) -> None:
    """A swap interrupted between its two renames left only the old folder: put it back."""
    if old.exists() and not etc.exists():
        os.replace(old, etc)
    shutil.rmtree(old, ignore_errors=True)


def _install_ssh(authorized_keys: bytes | None, root: Path) -> None:
    """Keys in the bundle: SSH on, keys only, for the maintenance account. No keys: SSH off."""
    dropin, wants = root / SSHD_DROPIN, root / SSH_WANTS
    home = root / "home" / ADMIN_USER
    if authorized_keys is None:
        dropin.unlink(missing_ok=True)
        if wants.is_symlink() or wants.exists():
            wants.unlink()
        (home / ".ssh" / "authorized_keys").unlink(missing_ok=True)
        return
    uid, gid = _lookup(root, "passwd", ADMIN_USER), _lookup(root, "group", ADMIN_USER)
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = ssh_dir / "authorized_keys"
    target.unlink(missing_ok=True)
    _write(target, authorized_keys, 0o600, uid, gid)
    if uid is not None:
        os.chown(ssh_dir, uid, gid if gid is not None else -1)
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text(
        "# Written by kiosk provisioning: SSH with keys only, for the maintenance account only.\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no\n"
        f"AllowUsers {ADMIN_USER}\n",
        encoding="utf-8",
    )
    wants.parent.mkdir(parents=True, exist_ok=True)
    if not (wants.is_symlink() or wants.exists()):
        wants.symlink_to("/lib/systemd/system/ssh.service")


def erase(path: Path) -> None:
    """Overwrite a bundle with zeros, flush, then delete it (it holds private keys)."""
    try:
        size = path.stat().st_size
        with path.open("r+b", buffering=0) as fh:
            chunk = b"\0" * 65536
            left = size
            while left > 0:
                left -= fh.write(chunk[: min(left, len(chunk))])
            os.fsync(fh.fileno())
        path.unlink()
        sync_dir(path.parent)
    except FileNotFoundError:
        return


def record_error(root: Path, message: str) -> Path:
    """Leave the reason for the screen: ``ROOT/var/lib/kiosk/provision-error.txt``."""
    target = root / ERROR_FILE
    write_atomic(target, (message.rstrip("\n") + "\n").encode("utf-8"), mode=0o644, dir_mode=0o700)
    return target


def provision(
    bundle_path: Path, *, root: Path = Path("/"), erase_bundle: bool = False, now: dt.datetime | None = None
) -> Bundle:
    """Check, install and (``erase_bundle``) erase; on a refused bundle record the error and re-raise."""
    try:
        bundle = check_bundle(bundle_path, now=now)
        try:
            install(bundle, root)
        except OSError as exc:
            raise ProvisioningError(f"{root / CONFIG_DIR}: cannot install: {exc}") from exc
    except ProvisioningError as exc:
        record_error(root, str(exc))
        log.error("provisioning refused: %s", exc)
        raise
    if erase_bundle:
        erase(bundle_path)
    return bundle
