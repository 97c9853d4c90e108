"""The head-office MQTT service: ingest events, acknowledge them, answer RPC requests.

One paho client (MQTT 5, ``clean_start=False`` with a session expiry, so queued events wait in the
broker while head office is away) with shared subscriptions: several instances with different client
ids share the load. Events are PUBACKed only after they are committed (``manual_ack``), so a crash
between receipt and commit leaves them with the broker, and acks go out after the commit.

Threads: paho's network loop only queues messages; one ingest worker batches events into one
transaction and then sends the acks; a small pool answers RPC requests. A batch is whatever has
queued up while the previous one was being committed (group commit), topped up for at most
``batch_idle_s`` between messages and ``batch_window_s`` in all, up to ``batch_size``. It does not
wait out the whole window for a full batch: the broker only lets ``max_inflight_messages`` events be
un-PUBACKed at a time, and a kiosk only sends ``sync.max_inflight`` before its acks come back, so a
full batch may never come.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.engine import Engine

from hq.ingest import Ingestor, ack_messages
from hq.keys import HqKeys
from hq.rpc import RpcHandler
from kiosk.sync import contract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerOptions:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "hq-1"
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 86400


def _no_delay(_c: mqtt.Client, _u: Any, sock: Any) -> None:
    """Acks and PUBACKs are small: send them at once instead of waiting on Nagle's algorithm."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def make_client(opts: BrokerOptions, *, manual_ack: bool = False) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,  # type: ignore[attr-defined]
        client_id=opts.client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if opts.tls:
        client.tls_set(
            ca_certs=opts.ca_file,
            certfile=opts.cert_file,
            keyfile=opts.key_file,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    if opts.username is not None:
        client.username_pw_set(opts.username, opts.password)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.on_socket_open = _no_delay
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    return client


def connect_properties(session_expiry_s: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = session_expiry_s
    return props


class HqService:
    def __init__(
        self,
        engine: Engine,
        keys: HqKeys,
        rpc: RpcHandler,
        broker: BrokerOptions,
        *,
        prefix: str = contract.DEFAULT_PREFIX,
        group: str = "hq",
        batch_size: int = 500,
        batch_window_s: float = 0.1,
        batch_idle_s: float = 0.002,
        rpc_workers: int = 4,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.rpc = rpc
        self.opts = broker
        self.prefix = prefix
        self.group = group
        self.batch_size = batch_size
        self.batch_window_s = batch_window_s
        self.batch_idle_s = batch_idle_s
        self.ingestor = Ingestor(
            engine, keys.seal, prefix=prefix, clock=rpc.clock, kiosk_numbers=rpc.settings.kiosk_numbers
        )
        self.client = make_client(broker, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self._events: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._pending_subs: set[int] = set()
        self._pool = ThreadPoolExecutor(max_workers=rpc_workers, thread_name_prefix="hq-rpc")
        self._worker = threading.Thread(target=self._ingest_loop, name="hq-ingest", daemon=True)

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._worker.start()
        self.client.connect_async(
            self.opts.host,
            self.opts.port,
            keepalive=self.opts.keepalive_s,
            clean_start=False,
            properties=connect_properties(self.opts.session_expiry_s),
        )
        self.client.loop_start()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once connected and subscribed."""
        return self._subscribed.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._worker.join(timeout=10)
        self._pool.shutdown(wait=True)
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(3600):
                pass
        finally:
            self.stop()

    # --- paho callbacks (network thread: keep them short) ---------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        log.info("connected to %s:%d (session present: %s)", self.opts.host, self.opts.port, flags.session_present)
        options = SubscribeOptions(qos=contract.QOS)
        result, mid = client.subscribe(
            [
                (contract.hq_event_subscription(self.prefix, self.group), options),
                (contract.hq_rpc_subscription(self.prefix, self.group), options),
            ]
        )
        if result == mqtt.MQTT_ERR_SUCCESS and mid is not None:
            self._pending_subs.add(mid)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reason_codes: list[Any], _p: Any) -> None:
        if mid in self._pending_subs:
            self._pending_subs.discard(mid)
            if any(rc.is_failure for rc in reason_codes):
                log.error("broker refused head office's subscriptions: %s", [str(rc) for rc in reason_codes])
                return
            self._subscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self._subscribed.clear()
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", rc)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/events"):
            self._events.put(msg)
        elif msg.topic.endswith("/rpc/req"):
            client.ack(msg.mid, msg.qos)  # an RPC is answered now or never: no redelivery wanted
            self._pool.submit(self._answer, msg)
        else:
            client.ack(msg.mid, msg.qos)

    # --- events ------------------------------------------------------------------------------

    def _take_batch(self) -> list[mqtt.MQTTMessage]:
        try:
            first = self._events.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_window_s
        while len(batch) < self.batch_size:
            try:
                batch.append(self._events.get_nowait())  # everything already queued
                continue
            except queue.Empty:
                pass
            left = min(deadline - time.monotonic(), self.batch_idle_s)
            if left <= 0:
                break
            try:
                batch.append(self._events.get(timeout=left))
            except queue.Empty:
                break  # the stream has paused: store what we have
        return batch

    def _ingest_loop(self) -> None:
        delay = 0.5
        batch: list[mqtt.MQTTMessage] = []
        while not self._stop.is_set():
            if not batch:
                batch = self._take_batch()
                if not batch:
                    continue
            try:
                outcomes = self.ingestor.ingest([(m.topic, bytes(m.payload)) for m in batch])
            except Exception:
                # The database is away: keep the batch (not PUBACKed, so the broker keeps it too) and retry.
                log.exception("storing %d events failed; retrying in %.1f s", len(batch), delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 0.5
            for topic, payload in ack_messages(outcomes, self.prefix):
                self.client.publish(topic, payload, qos=contract.QOS)
            for m in batch:
                self.client.ack(m.mid, m.qos)
            batch = []

    # --- RPC -----------------------------------------------------------------------------------

    def _answer(self, msg: mqtt.MQTTMessage) -> None:
        try:
            self._answer_unsafe(msg)
        except Exception:
            log.exception("answering an RPC request on %s failed", msg.topic)

    def _answer_unsafe(self, msg: mqtt.MQTTMessage) -> None:
        kiosk_id = contract.kiosk_id_from_topic(msg.topic, self.prefix)
        if kiosk_id is None:
            return
        props = msg.properties
        response_topic = getattr(props, "ResponseTopic", None)
        correlation = getattr(props, "CorrelationData", None)
        if response_topic != contract.Topics(self.prefix, kiosk_id).rpc_resp:
            # Only ever answer on the asking kiosk's own response topic.
            log.warning("RPC request from %s without its own response topic; ignored", kiosk_id)
            return
        out = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if correlation is not None:
            out.CorrelationData = correlation
        try:
            method, params, reply_key = contract.open_rpc_request(bytes(msg.payload), self.keys.seal)
        except contract.BadMessage:
            log.warning("malformed RPC request from %s", kiosk_id)
            payload = contract.dumps({"ok": False, "error": "bad_request"})
        else:
            result, error = self.rpc.handle(kiosk_id, method, params)
            payload = contract.rpc_response(result, error, reply_key)
            log.info("RPC %s from %s: %s", method, kiosk_id, error or "ok")
        self.client.publish(response_topic, payload, qos=contract.QOS, properties=out)


def publish_config(
    opts: BrokerOptions,
    document: dict[str, Any],
    keys: HqKeys,
    kiosks: list[str],
    *,
    prefix: str = contract.DEFAULT_PREFIX,
    timeout: float = 30.0,
) -> None:
    """Sign ``document`` and publish it retained (QoS 1) to each kiosk's config topic; waits for PUBACKs.

    The signed document carries ``kiosks``, the ids it is published to: a kiosk takes a document only
    when its own id is listed (``kiosk.sync.config_intake``).
    """
    payload = contract.sign_config({**document, "kiosks": list(dict.fromkeys(kiosks))}, keys.sign)
    client = make_client(opts)
    connected = threading.Event()
    failure: list[str] = []

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            failure.append(str(rc))
        connected.set()

    client.on_connect = on_connect
    client.connect(opts.host, opts.port, keepalive=opts.keepalive_s)
    client.loop_start()
    try:
        if not connected.wait(timeout) or failure:
            raise ConnectionError(f"cannot connect to {opts.host}:{opts.port}: {failure or 'timeout'}")
        infos = [
            client.publish(contract.Topics(prefix, k).config, payload, qos=contract.QOS, retain=True) for k in kiosks
        ]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError("the broker did not confirm the configuration")
        log.info("configuration version %s published to %d kiosks", document.get("version"), len(kiosks))
    finally:
        client.disconnect()
        client.loop_stop()
