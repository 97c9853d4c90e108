"""Head office's keys: the X25519 sealing pair, the Ed25519 config-signing pair and the phone HMAC key.

Files in the keys folder (base64, one key per file; private ones mode 0600):

* ``hq_seal.key`` / ``hq_seal.pub``: kiosks seal personal data to the public half; head office opens it;
* ``hq_sign.key`` / ``hq_sign.pub``: head office signs the configuration it publishes; kiosks verify;
* ``hq_phone.key``: keys the pseudonym (HMAC) that SMS rate limits are counted under.

The ``.pub`` files are what a kiosk is provisioned with (its ``hq_seal.pub`` and ``hq_sign.pub``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from kiosk.errors import SecretsError
from kiosk.keys import read_key, write_secret

SEAL_KEY = "hq_seal.key"
SEAL_PUB = "hq_seal.pub"
SIGN_KEY = "hq_sign.key"
SIGN_PUB = "hq_sign.pub"
PHONE_KEY = "hq_phone.key"
CARD_MAC_KEY = "card_mac.key"
"""The fleet's card-MAC key: every kiosk tags card QR codes with it and head office can verify them."""


class KeysError(ValueError):
    """A key file is missing or malformed (the message names the file, never the key)."""


@dataclass(frozen=True)
class HqKeys:
    seal: PrivateKey
    sign: SigningKey
    phone: bytes

    def phone_key(self, e164: str) -> str:
        """The pseudonym a phone number is rate-limited under (hex HMAC-SHA256)."""
        return hmac.new(self.phone, b"phone:" + e164.encode("utf-8"), hashlib.sha256).hexdigest()


def _write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(base64.b64encode(data) + b"\n")
    path.chmod(0o644)


def _read(path: Path, size: int) -> bytes:
    try:
        return read_key(path, size, "create the keys with `python -m hq keygen DIR`")
    except SecretsError as exc:
        raise KeysError(str(exc)) from None


def keygen(folder: Path, *, overwrite: bool = False) -> HqKeys:
    """Create a fresh set of keys in ``folder``; refuses to replace existing keys unless ``overwrite``."""
    if not overwrite:
        for name in (SEAL_KEY, SIGN_KEY, PHONE_KEY, CARD_MAC_KEY):
            if (folder / name).exists():
                raise FileExistsError(f"{folder / name} exists; refusing to replace head office's keys")
    seal = PrivateKey.generate()
    sign = SigningKey.generate()
    phone = secrets.token_bytes(32)
    write_secret(folder / SEAL_KEY, base64.b64encode(bytes(seal)))
    write_secret(folder / SIGN_KEY, base64.b64encode(bytes(sign)))
    write_secret(folder / PHONE_KEY, base64.b64encode(phone))
    write_secret(folder / CARD_MAC_KEY, base64.b64encode(secrets.token_bytes(32)))
    _write_public(folder / SEAL_PUB, bytes(seal.public_key))
    _write_public(folder / SIGN_PUB, bytes(sign.verify_key))
    return HqKeys(seal, sign, phone)


def load_keys(folder: Path) -> HqKeys:
    return HqKeys(
        seal=PrivateKey(_read(folder / SEAL_KEY, 32)),
        sign=SigningKey(_read(folder / SIGN_KEY, 32)),
        phone=_read(folder / PHONE_KEY, 32),
    )
