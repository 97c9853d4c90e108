"""Outbox drain throughput: kiosk -> Mosquitto -> head office (stores and acks) -> outbox row deleted.

A 10,000-event backlog of sign-up envelopes (sealed personal data, realistic size) is put straight into
a temporary kiosk store and drained by the real sync link to a real Mosquitto. Head office is the real
ingest (``hq.ingest``) on a SQLite database when it is importable, otherwise an acking subscriber (the
output says which). The reference is a bare paho QoS 1 publish loop of the same payloads to the same
broker in the same run. The last line of output is one JSON object.

    .venv/bin/python bench/sync.py [--events N] [--max-inflight N] [--hq-instances N]

The default run is one head-office process (one subscriber, one SQLite writer). ``--hq-instances N``
starts N head-office processes that share the events through ``$share/hq/...`` (the design's scaling
path) and write to the same SQLite database; the output and JSON say how many were used.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import paho.mqtt.client as mqtt  # noqa: E402
from nacl.public import PrivateKey  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402
from ulid import ULID  # noqa: E402

from kiosk.config import Config  # noqa: E402
from kiosk.core import cards  # noqa: E402
from kiosk.keys import load_dev_hq_private, load_keys  # noqa: E402
from kiosk.signup import EVENT_SCHEMA, utc_iso  # noqa: E402
from kiosk.store.db import OutboxEvent, Store  # noqa: E402
from kiosk.store.seal import seal  # noqa: E402
from kiosk.sync import contract, make_sync  # noqa: E402
from kiosk.sync.client import _no_delay  # noqa: E402
from tests.conftest import make_config  # noqa: E402
from tests.hw_sim.broker import start_broker  # noqa: E402


def make_events(cfg: Config, hq_public: Any, count: int) -> list[OutboxEvent]:
    events = []
    base = time.time() - 3600
    for seq in range(1, count + 1):
        now = base + seq * 0.01
        event_id = str(ULID.from_timestamp(now))
        personal = {
            "name": f"Валентина Щукина-Ёлкина {seq}",
            "phone": f"+7916{seq:07d}",
            "birth_date": "1997-07-06",
            "gender": "female",
            "email": f"customer{seq}@example.ru",
        }
        records = [
            {
                "consent_id": str(ULID.from_timestamp(now)),
                "kind": kind,
                "version": cfg.consent.version,
                "sha256": "ab" * 32,
                "lang": "ru",
                "shown_at": utc_iso(now - 60),
                "confirmed_at": utc_iso(now),
                "method": "sms-code",
                "masked_phone": "+7 *** ***-**-59",
                "code_sent_at": utc_iso(now - 30),
                "attempts": 1,
                "outcome": "given",
            }
            for kind in ("processing", "advertising")
        ]
        envelope = {
            "event_id": event_id,
            "type": "signup",
            "ts": utc_iso(now),
            "kiosk_id": cfg.kiosk.id,
            "schema": EVENT_SCHEMA,
            "card_number": cards.card_number(cfg.kiosk.number, seq),
            "ads_consent": True,
            "consents": records,
            "sealed": seal(personal, hq_public),
        }
        events.append(OutboxEvent(event_id, "signup", now, envelope))
    return events


class HeadOffice:
    """Subscribes to the kiosk's events, stores them (real ingest if available) and acks per batch."""

    def __init__(
        self,
        host: str,
        port: int,
        topics: contract.Topics,
        hq_private: PrivateKey,
        workdir: Path,
        real: bool,
        instance: int = 0,
        shared: bool = False,
    ) -> None:
        self.topics = topics
        self.inbox: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.received = 0
        self.ingestor: Any = None
        self.kind = "acking subscriber (hq.ingest not available)" if real else "acking subscriber (no storage)"
        try:
            if not real:
                raise LookupError("plain acks asked for")
            from hq import db as hq_db
            from hq.ingest import Ingestor

            self.ingestor = Ingestor(hq_db.connect(f"sqlite:///{workdir / 'hq.db'}"), hq_private)
            self.kind = "hq.ingest on SQLite (stored, then acked)"
        except LookupError:
            pass
        except Exception as exc:  # any import or setup problem: fall back, and say so
            self.kind += f" [{type(exc).__name__}]"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-hq-{instance}", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(200)
        self.client.on_socket_open = _no_delay
        self.client.on_message = lambda _c, _u, m: self.inbox.put((m.topic, m.payload))
        connected = threading.Event()
        subscription = f"$share/hq/{topics.events}" if shared else topics.events
        self.client.on_connect = lambda c, _u, _f, _r, _p: (c.subscribe(subscription, qos=1), connected.set())
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect(host, port, clean_start=False, properties=props)
        self.client.loop_start()
        if not connected.wait(5):
            raise RuntimeError("head office stand-in could not connect")
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < 500:
                try:
                    batch.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            self.received += len(batch)
            if self.ingestor is not None:
                from hq.ingest import ack_messages

                acks = ack_messages(self.ingestor.ingest(batch), self.topics.prefix)
            else:
                ids = [contract.loads(p)["event_id"] for _t, p in batch]
                acks = [(self.topics.acks, contract.ack_payload(ids))]
            for topic, payload in acks:
                self.client.publish(topic, payload, qos=1)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.client.disconnect()
        self.client.loop_stop()


def hq_process(
    host: str,
    port: int,
    prefix: str,
    kiosk_id: str,
    private: bytes,
    workdir: str,
    real: bool,
    instance: int,
    shared: bool,
    conn: Any,
) -> None:
    """Head office in its own process (as in life: it does not share the kiosk's interpreter)."""
    topics = contract.Topics(prefix, kiosk_id)
    hq = HeadOffice(host, port, topics, PrivateKey(private), Path(workdir), real, instance, shared)
    conn.send(hq.kind)
    conn.recv()  # told to stop
    hq.stop()
    conn.send(hq.ingestor.counts.get("stored", 0) if hq.ingestor is not None else None)


def bare_loop(host: str, port: int, payloads: list[bytes], inflight: int) -> float:
    """Seconds for a plain paho client to publish every payload at QoS 1 and get every PUBACK."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    done = threading.Event()
    acked = [0]

    def on_publish(_c: Any, _u: Any, _mid: int, _rc: Any, _p: Any) -> None:
        acked[0] += 1
        if acked[0] == len(payloads):
            done.set()

    client.on_publish = on_publish
    client.connect(host, port)
    client.loop_start()
    t0 = time.perf_counter()
    for p in payloads:
        client.publish("bench/bare", p, qos=1)
    done.wait(120)
    took = time.perf_counter() - t0
    client.disconnect()
    client.loop_stop()
    return took


def drain_run(work: Path, broker: Any, n: int, real: bool, max_inflight: int, instances: int) -> dict[str, Any]:
    """Fill a fresh kiosk store with ``n`` events and time the sync link draining it."""
    run_dir = work / ("real" if real else "plain")
    cfg = make_config(run_dir, sync={"host": broker.host, "port": broker.port, "max_inflight": max_inflight})
    keys = load_keys(cfg)
    store = Store(cfg.database_path)
    events = make_events(cfg, keys.hq_seal_public, n)
    with store._tx("bench backlog") as db:
        for ev in events:
            Store._insert_event(db, ev)
    args = (broker.host, broker.port, cfg.sync.topic_prefix, cfg.kiosk.id, bytes(load_dev_hq_private(cfg)))
    shared = instances > 1
    pipes, procs = [], []
    for i in range(instances):
        ours, theirs = multiprocessing.Pipe()
        proc = multiprocessing.get_context("fork").Process(
            target=hq_process, args=(*args, str(run_dir), real, i, shared, theirs)
        )
        proc.start()
        pipes.append(ours)
        procs.append(proc)
    kind = pipes[0].recv()
    for ours in pipes[1:]:
        ours.recv()
    if shared:
        kind += f", {instances} instances sharing $share/hq"
    link = make_sync(cfg, store, keys)
    t0 = time.perf_counter()
    link.start()
    deadline = t0 + 300
    # poll gently: the count takes the store's lock, which the drain needs for every ack
    while store.outbox_stats(time.time())[0] > 0 and time.perf_counter() < deadline:
        time.sleep(0.02)
    took = time.perf_counter() - t0
    left = store.outbox_stats(time.time())[0]
    counters = link.status_counters()
    link.stop()
    for ours in pipes:
        ours.send("stop")
    counts = [ours.recv() for ours in pipes]
    stored = None if counts[0] is None else sum(counts)
    for proc in procs:
        proc.join(5)
    store.close()
    return {
        "head_office": kind,
        "max_inflight": max_inflight,
        "hq_instances": instances,
        "drain_s": round(took, 3),
        "events_per_s": round((n - left) / took, 1),
        "left_in_outbox": left,
        "stored": stored,
        "republished": counters["events_republished"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--max-inflight", type=int, default=None, help="default: the kiosk configuration's")
    parser.add_argument("--hq-instances", type=int, default=1, help="head-office processes ($share/hq/...)")
    args = parser.parse_args()
    n = args.events

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        work = Path(tmp)
        broker = start_broker(work)
        try:
            cfg = make_config(work / "ref")
            inflight = args.max_inflight or cfg.sync.max_inflight
            payloads = [contract.dumps(ev.envelope) for ev in make_events(cfg, load_keys(cfg).hq_seal_public, n)]
            sizes = sorted(len(p) for p in payloads)
            print(f"backlog: {n} sign-up events, payload {sizes[0]}..{sizes[-1]} bytes (median {sizes[n // 2]})")
            print(f"broker: mosquitto on {broker.host}:{broker.port}; kiosk sync.max_inflight={inflight}")
            bare = bare_loop(broker.host, broker.port, payloads, inflight + 20)
            bare_rate = n / bare
            print(f"reference, bare paho QoS 1 publish loop: {bare:.2f} s, {bare_rate:,.0f} msg/s")
            runs = {}
            for real in (False, True):
                r = drain_run(work, broker, n, real, inflight, args.hq_instances)
                r["ratio"] = round(r["events_per_s"] / bare_rate, 3)
                runs["hq_ingest" if real else "plain_ack"] = r
                print(
                    f"drain to {r['head_office']}: {r['drain_s']:.2f} s, {r['events_per_s']:,.0f} events/s, "
                    f"ratio {r['ratio']:.2f}, left {r['left_in_outbox']}, stored {r['stored']}, "
                    f"republished {r['republished']}"
                )
        finally:
            broker.kill()

    main_run = runs["hq_ingest"]
    print(
        f"whole backlog through head office storage in {main_run['drain_s']:.1f} s (target < 60 s); "
        f"ratio to the bare loop {main_run['ratio']:.2f} with storage, {runs['plain_ack']['ratio']:.2f} "
        "with a plain acking subscriber (target >= 0.50)"
    )
    result = {
        "bench": "sync",
        "events": n,
        "bare_s": round(bare, 3),
        "bare_msgs_per_s": round(bare_rate, 1),
        **{f"{name}_{k}": v for name, r in runs.items() for k, v in r.items()},
        "ok_time": all(r["left_in_outbox"] == 0 and r["drain_s"] < 60 for r in runs.values()),
        "ok_ratio_plain_ack": runs["plain_ack"]["ratio"] >= 0.5,
        "ok_ratio_hq_ingest": main_run["ratio"] >= 0.5,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
