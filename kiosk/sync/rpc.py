"""Asking head office over MQTT 5 request/response: card and phone lookups, SMS relay.

Each request is sealed to head office (``contract.rpc_request``) and carries a ``ResponseTopic``
(the kiosk's ``rpc/resp``) and 16 random bytes of ``CorrelationData``; head office seals its
reply to a one-time key sent with the request. Calls block their caller (a worker thread, never
the frame loop) for at most ``sync.rpc_timeout_s``; when the link is down they fail at once.
Replies that are malformed, unknown, late or do not open are dropped and counted.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from typing import Any

from nacl.public import PublicKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.hw.sms import SmsRejected, SmsTimeout, SmsUnavailable
from kiosk.lookup import Balance, CardNotFound, LookupUnavailable
from kiosk.sync import contract
from kiosk.sync.client import SyncClient
from kiosk.sync.counters import Counters

log = logging.getLogger(__name__)


CORRELATION_BYTES = 16
MAX_PENDING = 64


class RpcTimeout(LookupUnavailable):
    """Head office did not answer in time."""


class RpcClient:
    """Sealed request/response over the kiosk's own RPC topics."""

    def __init__(
        self,
        client: SyncClient,
        hq_public: PublicKey,
        counters: Counters | None = None,
        *,
        timeout_s: float | None = None,
    ) -> None:
        self.client = client
        self.hq_public = hq_public
        self.counters = counters or client.counters
        self.timeout_s = timeout_s if timeout_s is not None else client.sync.rpc_timeout_s
        self._pending: dict[bytes, queue.SimpleQueue[bytes]] = {}
        self._lock = threading.Lock()
        client.on_message(client.topics.rpc_resp, self._on_reply)

    # --- paho's thread: match and enqueue only ----------------------------------------------

    def _on_reply(self, payload: bytes, props: Any) -> None:
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        if len(payload) > contract.MAX_PAYLOAD or not isinstance(corr, bytes | bytearray):
            self._bad("no correlation data or too large", len(payload))
            return
        with self._lock:
            waiter = self._pending.get(bytes(corr))
        if waiter is None:
            self._bad("unknown or late", len(payload))
            return
        waiter.put(payload)

    def _bad(self, why: str, size: int) -> None:
        self.counters.inc("rpc_bad_replies")
        log.info("dropped an RPC reply (%s, %d bytes)", why, size)

    # --- calls -----------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The opened result; raises ``LookupUnavailable`` (offline, timeout) or ``contract.RpcError``."""
        if not self.client.connected:
            raise LookupUnavailable("head office is not reachable")
        payload, reply_key = contract.rpc_request(method, params, self.hq_public)
        corr = os.urandom(CORRELATION_BYTES)
        inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                raise LookupUnavailable("too many requests waiting for head office")
            self._pending[corr] = inbox
        self.counters.inc("rpc_calls")
        deadline = time.monotonic() + self.timeout_s
        try:
            props = contract_properties(self.client.topics.rpc_resp, corr, self.timeout_s)
            self.client.publish(self.client.topics.rpc_req, payload, properties=props)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    reply = inbox.get(timeout=left)
                except queue.Empty:
                    break
                try:
                    return contract.open_rpc_response(reply, reply_key)
                except contract.BadMessage:
                    self._bad("does not open", len(reply))
        finally:
            with self._lock:
                self._pending.pop(corr, None)
        self.counters.inc("rpc_timeouts")
        log.info("head office did not answer %s within %.1f s", method, self.timeout_s)
        raise RpcTimeout(f"head office did not answer {method} in time")

    def card_lookup(self, card: str) -> Balance:
        try:
            result = self.call("card_lookup", {"card": card})
        except contract.RpcError as exc:
            if exc.code == "not_found":
                raise CardNotFound(card) from None
            raise LookupUnavailable(f"head office refused the lookup: {exc.code}") from None
        try:
            return Balance.from_dict(result)
        except ValueError:
            self._bad("malformed balance", 0)
            raise LookupUnavailable("head office sent a malformed balance") from None

    def phone_lookup(self, e164: str) -> bool:
        try:
            result = self.call("phone_lookup", {"phone": e164})
        except contract.RpcError as exc:
            if exc.code == "not_found":
                return False
            raise LookupUnavailable(f"head office refused the lookup: {exc.code}") from None
        member = result.get("member")
        if not isinstance(member, bool):
            self._bad("malformed phone lookup", 0)
            raise LookupUnavailable("head office sent a malformed answer")
        return member

    def send_sms(self, e164: str, text: str) -> None:
        self.call("send_sms", {"phone": e164, "text": text})


def contract_properties(response_topic: str, correlation: bytes, expiry_s: float | None = None) -> Properties:
    """MQTT 5 request properties. ``expiry_s``: the broker drops a request nobody took in time, so a
    head office that comes back later never answers a customer who has gone (or sends a stale code)."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ResponseTopic = response_topic
    props.CorrelationData = correlation
    if expiry_s is not None:
        props.MessageExpiryInterval = max(1, math.ceil(expiry_s))
    return props


class MqttLookup:
    """``kiosk.lookup.Lookup`` answered by head office over MQTT RPC."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    def card(self, card: str) -> Balance:
        return self.rpc.card_lookup(card)

    def phone_is_member(self, e164: str) -> bool:
        return self.rpc.phone_lookup(e164)


class HqSms:
    """The SMS sender that relays through head office (``hardware.sms.backend = "hq"``)."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    def send(self, phone_e164: str, text: str) -> None:
        try:
            self.rpc.send_sms(phone_e164, text)
        except RpcTimeout:
            raise SmsTimeout("sms via head office: no answer in time") from None
        except LookupUnavailable:
            raise SmsUnavailable("sms via head office: not connected") from None
        except contract.RpcError as exc:
            raise SmsRejected(f"sms via head office: refused ({exc.code})", exc.code) from None
