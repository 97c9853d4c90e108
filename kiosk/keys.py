"""The kiosk's secrets: the card-MAC key, the OTP key and head office's public sealing key.

On a provisioned kiosk they are installed under ``/etc/kiosk/secrets`` (mode 0600) and never
created here. With ``paths.dev_keys = true`` (the repository's default config) missing keys are
generated on first run, together with a development head-office key pair whose private half is
kept apart from the kiosk's secrets, under ``<state_dir>/dev-hq/``, so a local head office can
open what the kiosk sealed.
"""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey

from kiosk.config import Config
from kiosk.errors import SecretsError
from kiosk.fsutil import write_atomic

log = logging.getLogger(__name__)

CARD_MAC_KEY = "card_mac.key"
OTP_KEY = "otp.key"
HQ_SEAL_PUB = "hq_seal.pub"
HQ_SEAL_KEY = "hq_seal.key"  # private; only ever in head office's paths (or dev-hq/)
HQ_SIGN_PUB = "hq_sign.pub"
HQ_SIGN_KEY = "hq_sign.key"  # private; head office only
HQ_PHONE_KEY = "hq_phone.key"  # head office only


@dataclass(frozen=True)
class Keys:
    card_mac: bytes
    otp: bytes
    hq_seal_public: PublicKey


def dev_hq_dir(cfg: Config) -> Path:
    return cfg.state_dir / "dev-hq"


def write_secret(path: Path, data: bytes) -> None:
    """Write a secret atomically with mode 0600 (the folder 0700)."""
    write_atomic(path, data, mode=0o600, dir_mode=0o700)


MISSING_HINT = "provision the kiosk, or set paths.dev_keys for development"


def read_key(path: Path, size: int, missing_hint: str = MISSING_HINT) -> bytes:
    """A base64 key file of exactly ``size`` bytes; ``SecretsError`` naming the file (never the key)."""
    try:
        raw = path.read_bytes().strip()
    except FileNotFoundError:
        raise SecretsError(f"{path}: missing ({missing_hint})") from None
    except OSError as exc:
        raise SecretsError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise SecretsError(f"{path}: not base64") from None
    if len(key) != size:
        raise SecretsError(f"{path}: expected a {size}-byte key, got {len(key)} bytes")
    return key


def ensure_dev_keys(cfg: Config) -> None:
    """Create whatever development keys are missing (only with ``paths.dev_keys``).

    The development head office gets the same key set ``python -m hq keygen`` makes (sealing and
    signing pairs, phone key) under ``<state_dir>/dev-hq/``; the kiosk gets its public halves.
    """
    sdir = cfg.secrets_dir
    for name in (CARD_MAC_KEY, OTP_KEY):
        if not (sdir / name).exists():
            write_secret(sdir / name, base64.b64encode(secrets.token_bytes(32)))
            log.info("created development key %s", name)
    hq_dir = dev_hq_dir(cfg)
    seal_path, sign_path, phone_path = hq_dir / HQ_SEAL_KEY, hq_dir / HQ_SIGN_KEY, hq_dir / HQ_PHONE_KEY
    seal = PrivateKey(read_key(seal_path, 32)) if seal_path.exists() else None
    if seal is None:
        seal = PrivateKey.generate()
        write_secret(seal_path, base64.b64encode(bytes(seal)))
        log.info("created a development head-office key pair under %s", hq_dir)
    sign = SigningKey(read_key(sign_path, 32)) if sign_path.exists() else None
    if sign is None:
        sign = SigningKey.generate()
        write_secret(sign_path, base64.b64encode(bytes(sign)))
    if not phone_path.exists():
        write_secret(phone_path, base64.b64encode(secrets.token_bytes(32)))
    for folder in (hq_dir, sdir):
        for name, public in ((HQ_SEAL_PUB, bytes(seal.public_key)), (HQ_SIGN_PUB, bytes(sign.verify_key))):
            if not (folder / name).exists():
                write_secret(folder / name, base64.b64encode(public))


def load_keys(cfg: Config) -> Keys:
    if cfg.paths.dev_keys:
        ensure_dev_keys(cfg)
    sdir = cfg.secrets_dir
    return Keys(
        card_mac=read_key(sdir / CARD_MAC_KEY, 32),
        otp=read_key(sdir / OTP_KEY, 32),
        hq_seal_public=PublicKey(read_key(sdir / HQ_SEAL_PUB, 32)),
    )


def load_dev_hq_private(cfg: Config) -> PrivateKey:
    """The development head office's private key (tests and the embedded local head office)."""
    return PrivateKey(read_key(dev_hq_dir(cfg) / HQ_SEAL_KEY, 32))
