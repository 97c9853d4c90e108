"""The MQTT contract between a kiosk and head office (DESIGN.md section 6), in one place.

Both ends import this module: topic names, payload shapes, the signed-config wrapping and the
sealed RPC. Everything is JSON (UTF-8). Personal data never crosses the broker in clear: events
carry it sealed to head office's public key; RPC requests seal their parameters to head office,
and head office seals each reply to a one-time key the kiosk sends with the request.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

DEFAULT_PREFIX = "loyalty/v1"
MAX_PAYLOAD = 256 * 1024  # anything larger from the network is rejected unread

QOS = 1


@dataclass(frozen=True)
class Topics:
    """Topic names for one kiosk (``kiosk_id``) under a prefix."""

    prefix: str
    kiosk_id: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/kiosk/{self.kiosk_id}"

    @property
    def events(self) -> str:
        return f"{self.base}/events"

    @property
    def acks(self) -> str:
        return f"{self.base}/acks"

    @property
    def config(self) -> str:
        return f"{self.base}/config"

    @property
    def rpc_req(self) -> str:
        return f"{self.base}/rpc/req"

    @property
    def rpc_resp(self) -> str:
        return f"{self.base}/rpc/resp"

    @property
    def status(self) -> str:
        return f"{self.base}/status"


def hq_event_subscription(prefix: str = DEFAULT_PREFIX, group: str = "hq") -> str:
    """Head office's shared subscription: several instances share the load."""
    return f"$share/{group}/{prefix}/kiosk/+/events"


def hq_rpc_subscription(prefix: str = DEFAULT_PREFIX, group: str = "hq") -> str:
    return f"$share/{group}/{prefix}/kiosk/+/rpc/req"


def kiosk_id_from_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> str | None:
    """``loyalty/v1/kiosk/ID/...`` -> ``ID`` (None for anything else)."""
    head = f"{prefix}/kiosk/"
    if not topic.startswith(head):
        return None
    rest = topic[len(head) :].split("/", 1)
    return rest[0] or None


# --- payloads ----------------------------------------------------------------------------------


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


class BadMessage(ValueError):
    """A payload from the network that does not follow the contract (never contains the payload)."""


def loads(data: bytes, limit: int = MAX_PAYLOAD) -> dict[str, Any]:
    if len(data) > limit:
        raise BadMessage(f"payload too large ({len(data)} bytes)")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadMessage("payload is not JSON") from None
    if not isinstance(obj, dict):
        raise BadMessage("payload is not a JSON object")
    return obj


def ack_payload(event_ids: list[str]) -> bytes:
    """Head office -> kiosk: these events are durably stored."""
    return dumps({"event_ids": event_ids})


def parse_ack(data: bytes) -> list[str]:
    obj = loads(data)
    ids = obj.get("event_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and 0 < len(i) <= 64 for i in ids):
        raise BadMessage("ack without a list of event ids")
    return ids


# --- signed configuration (head office -> kiosk, retained) -------------------------------------


def sign_config(document: dict[str, Any], key: SigningKey) -> bytes:
    """Wrap a config document: ``{"payload": b64(canonical JSON), "signature": b64(ed25519)}``.

    The document has at least ``version`` (int, increasing) and ``config`` (sections that
    override the kiosk's own: program, operator, consent, form, otp, texts).
    """
    body = dumps(document)
    sig = key.sign(body).signature
    return dumps({"payload": base64.b64encode(body).decode(), "signature": base64.b64encode(sig).decode()})


def open_config(data: bytes, verify_key: VerifyKey) -> dict[str, Any]:
    """Check the signature and return the document; raises BadMessage for anything wrong."""
    obj = loads(data)
    try:
        body = base64.b64decode(obj["payload"], validate=True)
        sig = base64.b64decode(obj["signature"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise BadMessage("config is not a signed envelope") from None
    try:
        verify_key.verify(body, sig)
    except (BadSignatureError, ValueError):
        raise BadMessage("config signature does not verify") from None
    doc = loads(body)
    if not isinstance(doc.get("version"), int) or not isinstance(doc.get("config"), dict):
        raise BadMessage("config document needs an integer version and a config object")
    return doc


def config_kiosks(document: dict[str, Any]) -> list[str] | None:
    """The kiosk ids a signed config document is addressed to (its ``kiosks`` list), or None.

    Head office signs the list of the kiosks it publishes to into the document itself, so a
    document taken from one kiosk's topic cannot be planted on another. None when the list is
    missing or not a list of non-empty strings.
    """
    kiosks = document.get("kiosks")
    if not isinstance(kiosks, list) or not all(isinstance(k, str) and k for k in kiosks):
        return None
    return kiosks


# --- RPC (kiosk -> head office, MQTT 5 response topic + correlation data) ----------------------

RPC_METHODS = ("card_lookup", "phone_lookup", "send_sms")


def rpc_request(method: str, params: dict[str, Any], hq_public: PublicKey) -> tuple[bytes, PrivateKey]:
    """A request with its parameters sealed to head office; returns the payload and the reply key."""
    reply_key = PrivateKey.generate()
    payload = dumps(
        {
            "method": method,
            "reply_key": base64.b64encode(bytes(reply_key.public_key)).decode(),
            "sealed": base64.b64encode(SealedBox(hq_public).encrypt(dumps(params))).decode(),
        }
    )
    return payload, reply_key


def open_rpc_request(data: bytes, hq_private: PrivateKey) -> tuple[str, dict[str, Any], PublicKey]:
    """Head office's side: (method, params, the key to seal the reply to)."""
    obj = loads(data)
    method = obj.get("method")
    if method not in RPC_METHODS:
        raise BadMessage("unknown RPC method")
    try:
        reply_key = PublicKey(base64.b64decode(obj["reply_key"], validate=True))
        params = loads(SealedBox(hq_private).decrypt(base64.b64decode(obj["sealed"], validate=True)))
    except (KeyError, TypeError, ValueError, CryptoError):
        raise BadMessage("RPC request is not sealed properly") from None
    return str(method), params, reply_key


def rpc_response(result: dict[str, Any] | None, error: str | None, reply_key: PublicKey) -> bytes:
    """``{"ok": true, "sealed": ...}`` or ``{"ok": false, "error": code}`` (error codes carry no data)."""
    if error is not None:
        return dumps({"ok": False, "error": error})
    return dumps({"ok": True, "sealed": base64.b64encode(SealedBox(reply_key).encrypt(dumps(result or {}))).decode()})


def open_rpc_response(data: bytes, reply_key: PrivateKey) -> dict[str, Any]:
    """The kiosk's side: the result, or raises ``RpcError`` with head office's error code."""
    obj = loads(data)
    if obj.get("ok") is False:
        code = obj.get("error")
        raise RpcError(code if isinstance(code, str) and len(code) <= 64 else "error")
    if obj.get("ok") is not True:
        raise BadMessage("RPC response without ok")
    try:
        return loads(SealedBox(reply_key).decrypt(base64.b64decode(obj["sealed"], validate=True)))
    except (KeyError, TypeError, ValueError, CryptoError):
        raise BadMessage("RPC response is not sealed properly") from None


class RpcError(Exception):
    """Head office answered with an error code (e.g. ``not_found``, ``rate_limited``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
