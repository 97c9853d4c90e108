"""The kiosk's MQTT connection to head office (paho-mqtt 2.x, MQTT 5).

``SyncClient`` owns one paho client. It does no network I/O until ``start()``; paho's own thread
then connects, reconnects with backoff and restores the kiosk's subscriptions on every connect.
Publishing goes through paho's queue (thread-safe, never blocks the caller on the network).
Callbacks registered here run on paho's thread and must only enqueue or touch thread-safe state.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from kiosk import __version__
from kiosk.config import Config
from kiosk.errors import SecretsError
from kiosk.sync import contract
from kiosk.sync.counters import Counters

log = logging.getLogger(__name__)

MessageHandler = Callable[[bytes, Properties | None], None]


def utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def status_payload(state: str, **fields: Any) -> bytes:
    return contract.dumps({"state": state, "ts": utc_iso(time.time()), "version": __version__, **fields})


def _no_delay(_c: mqtt.Client, _u: Any, sock: Any) -> None:
    """Small messages (acks, PUBACKs, RPC) go out at once instead of waiting on Nagle's algorithm."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class SyncClient:
    """One MQTT 5 session per kiosk: persistent (``clean_start=False``), TLS or password, last will."""

    def __init__(
        self,
        cfg: Config,
        counters: Counters | None = None,
        *,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 60,
    ) -> None:
        self.cfg = cfg
        self.sync = cfg.sync
        self.topics = contract.Topics(cfg.sync.topic_prefix, cfg.kiosk.id)
        self.counters = counters or Counters()
        self._reconnect = (reconnect_min_s, reconnect_max_s)
        self._handlers: dict[str, MessageHandler] = {}
        self._connect_listeners: list[Callable[[], None]] = []
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._epoch = 0  # incremented on every successful connect
        self._started = False
        self._ever_connected = False
        self._unreachable_logged = False
        self._mqtt = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.kiosk.id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=True,
        )
        # Outbox in-flight is bounded by the drain; leave headroom for RPC and status.
        self._mqtt.max_inflight_messages_set(cfg.sync.max_inflight + 20)
        self._mqtt.max_queued_messages_set(0)
        self._mqtt.on_connect = self._on_connect
        self._mqtt.on_disconnect = self._on_disconnect
        self._mqtt.on_connect_fail = self._on_connect_fail
        self._mqtt.on_socket_open = _no_delay

    # --- wiring (before start) -------------------------------------------------------------

    def on_message(self, topic: str, handler: MessageHandler) -> None:
        """Subscribe to ``topic`` (QoS 1, restored on every connect) and hand its payloads to ``handler``."""
        self._handlers[topic] = handler

        def deliver(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
            try:
                handler(bytes(msg.payload), getattr(msg, "properties", None))
            except Exception:  # a handler bug must not kill paho's thread
                log.exception("handler for %s failed (payload %d bytes)", topic, len(msg.payload))

        self._mqtt.message_callback_add(topic, deliver)

    def on_connected(self, listener: Callable[[], None]) -> None:
        """Called (on paho's thread) after every successful connect; must not block."""
        self._connect_listeners.append(listener)

    # --- state -----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def epoch(self) -> int:
        """Changes on every (re)connect; the drain uses it to republish what is in flight."""
        with self._lock:
            return self._epoch

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # --- lifecycle -------------------------------------------------------------------------

    def _configure(self) -> None:
        s = self.sync
        if s.tls:
            assert s.ca_file is not None
            self._mqtt.tls_set(
                ca_certs=str(self.cfg.resolve(s.ca_file)),
                certfile=str(self.cfg.resolve(s.cert_file)) if s.cert_file else None,
                keyfile=str(self.cfg.resolve(s.key_file)) if s.key_file else None,
            )
        if s.username:
            password = None
            if s.password_secret:
                path = self.cfg.secrets_dir / s.password_secret
                try:
                    password = path.read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise SecretsError(f"{path}: cannot read the broker password: {exc.strerror}") from None
            self._mqtt.username_pw_set(s.username, password)
        self._mqtt.will_set(self.topics.status, status_payload("offline"), qos=contract.QOS, retain=True)
        self._mqtt.reconnect_delay_set(*self._reconnect)

    def start(self) -> None:
        """Begin connecting in the background (returns at once; the broker may be down)."""
        if self._started:
            return
        self._configure()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.sync.session_expiry_s
        self._mqtt.connect_async(
            self.sync.host,
            self.sync.port,
            keepalive=self.sync.keepalive_s,
            clean_start=False,
            properties=props,
        )
        self._mqtt.loop_start()
        self._started = True
        log.info("connecting to head office broker %s:%d as %s", self.sync.host, self.sync.port, self.cfg.kiosk.id)

    def stop(self, timeout: float = 2.0) -> None:
        """Say goodbye (retained offline status), disconnect and stop paho's thread."""
        if not self._started:
            return
        self._started = False
        if self.connected:
            info = self._mqtt.publish(self.topics.status, status_payload("offline"), qos=contract.QOS, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self._mqtt.disconnect()
        self._mqtt.loop_stop()
        self._connected.clear()

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> mqtt.MQTTMessageInfo:
        """Queue a QoS 1 message with paho (thread-safe, returns at once)."""
        return self._mqtt.publish(topic, payload, qos=contract.QOS, retain=retain, properties=properties)

    # --- paho callbacks (paho's thread) ----------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _props: Properties | None) -> None:
        if reason.is_failure:
            self.counters.inc("connect_failures")
            log.warning("head office broker refused the connection: %s", reason)
            return
        topics = list(self._handlers)
        if topics:
            client.subscribe([(t, SubscribeOptions(qos=contract.QOS)) for t in topics])
        client.publish(self.topics.status, status_payload("online"), qos=contract.QOS, retain=True)
        with self._lock:
            self._epoch += 1
        if self._ever_connected:
            self.counters.inc("reconnects")
        self._ever_connected = True
        self._unreachable_logged = False
        self._connected.set()
        log.info("connected to head office broker (session present: %s)", getattr(flags, "session_present", "?"))
        for listener in self._connect_listeners:
            listener()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and self._started:
            log.warning("lost the head office broker (%s); events wait in the outbox", reason)

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        self.counters.inc("connect_failures")
        if not self._unreachable_logged:
            self._unreachable_logged = True
            log.warning(
                "head office broker %s:%d is not reachable; events wait in the outbox, retrying",
                self.sync.host,
                self.sync.port,
            )
