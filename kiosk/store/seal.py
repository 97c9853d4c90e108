"""Sealing personal data to head office's public key (libsodium sealed box).

The kiosk can seal but never open: it holds only head office's public key, so its own outbox
is unreadable to anyone who takes the SD card or watches the broker.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from nacl.public import PrivateKey, PublicKey, SealedBox


def seal(fields: dict[str, Any], hq_public: PublicKey) -> str:
    plain = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.b64encode(SealedBox(hq_public).encrypt(plain)).decode("ascii")


def unseal(sealed: str, hq_private: PrivateKey) -> dict[str, Any]:
    """Head office's side: open a sealed payload (raises nacl's CryptoError on tampering)."""
    plain = SealedBox(hq_private).decrypt(base64.b64decode(sealed, validate=True))
    data = json.loads(plain.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("sealed payload is not an object")
    return data
