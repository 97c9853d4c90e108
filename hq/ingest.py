"""Storing kiosk events: idempotent on ``event_id``, one transaction per batch, one savepoint per event.

Every event that carries a usable ``event_id`` ends up either stored (customer, card and consent
records) or dead-lettered in ``rejected_events`` with the reason and the payload as received (its
personal part is still sealed), and in both cases it is acknowledged: the kiosk deletes its outbox row
only on head office's ack, and an event that can never be stored must not be resent forever. A
dead-lettered event is kept, so nothing is lost: it can be looked at and replayed once the cause
(a wrong key, a kiosk misconfigured with another kiosk's id) is fixed. A repeated ``event_id`` is a
no-op that is acknowledged again. Payloads without an event id cannot be acknowledged; they are
dead-lettered and counted.

Logs name event ids, kiosk ids and reasons only, never personal data.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hq import db
from kiosk.store.seal import unseal
from kiosk.sync import contract

log = logging.getLogger(__name__)

SIGNUP_TYPE = "signup"
SIGNUP_SCHEMA = "loyalty.signup/1"
ACK_CHUNK = 500  # event ids per ack message (keeps acks far below the payload limit)

_CARD_RE = re.compile(r"^[0-9A-Za-z-]{4,32}$")
_ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_CONSENT_FIELDS: dict[str, type] = {
    "consent_id": str,
    "kind": str,
    "version": str,
    "sha256": str,
    "lang": str,
    "shown_at": str,
    "confirmed_at": str,
    "method": str,
    "masked_phone": str,
    "code_sent_at": str,
    "attempts": int,
    "outcome": str,
}
_PERSONAL = ("name", "phone", "birth_date", "gender", "email")


class Status(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Reason(StrEnum):
    BAD_TOPIC = "bad_topic"
    NOT_JSON = "not_json"
    NO_EVENT_ID = "no_event_id"
    KIOSK_MISMATCH = "kiosk_mismatch"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_SCHEMA = "unknown_schema"
    MALFORMED = "malformed"
    UNSEALABLE = "unsealable"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Outcome:
    kiosk_id: str | None
    """The kiosk the message came from (its topic), which is where an ack goes."""
    event_id: str | None
    status: Status
    reason: Reason | None = None

    @property
    def ackable(self) -> bool:
        return self.kiosk_id is not None and self.event_id is not None


class _Reject(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class _Signup:
    event_id: str
    kiosk_id: str
    card: str
    ads_consent: bool
    consents: list[dict[str, Any]]
    personal: dict[str, str | None]


def _parse(envelope: dict[str, Any], topic_kiosk: str, seal_key: PrivateKey) -> _Signup:
    if envelope.get("kiosk_id") != topic_kiosk:
        raise _Reject(Reason.KIOSK_MISMATCH)
    if envelope.get("type") != SIGNUP_TYPE:
        raise _Reject(Reason.UNKNOWN_TYPE)
    if envelope.get("schema") != SIGNUP_SCHEMA:
        raise _Reject(Reason.UNKNOWN_SCHEMA)
    card = envelope.get("card_number")
    ads = envelope.get("ads_consent")
    consents = envelope.get("consents")
    if not isinstance(card, str) or not _CARD_RE.match(card) or not isinstance(ads, bool):
        raise _Reject(Reason.MALFORMED)
    if not isinstance(consents, list) or not consents or len(consents) > 10:
        raise _Reject(Reason.MALFORMED)
    for record in consents:
        if not isinstance(record, dict):
            raise _Reject(Reason.MALFORMED)
        for name, kind in _CONSENT_FIELDS.items():
            value = record.get(name)
            if not isinstance(value, kind) or isinstance(value, bool) or (isinstance(value, str) and len(value) > 64):
                raise _Reject(Reason.MALFORMED)
        if not _ID_RE.match(record["consent_id"]):
            raise _Reject(Reason.MALFORMED)
    if not any(r["kind"] == "processing" for r in consents):
        raise _Reject(Reason.MALFORMED)
    sealed = envelope.get("sealed")
    if not isinstance(sealed, str):
        raise _Reject(Reason.MALFORMED)
    try:
        personal = unseal(sealed, seal_key)
    except (CryptoError, ValueError, UnicodeDecodeError):
        raise _Reject(Reason.UNSEALABLE) from None
    for name in _PERSONAL:
        value = personal.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 320):
            raise _Reject(Reason.MALFORMED)
    if not personal.get("name") or not personal.get("phone"):
        raise _Reject(Reason.MALFORMED)
    return _Signup(
        event_id=envelope["event_id"],
        kiosk_id=topic_kiosk,
        card=card,
        ads_consent=ads,
        consents=consents,
        personal={k: personal.get(k) for k in _PERSONAL},
    )


@dataclass
class Ingestor:
    engine: Engine
    seal_key: PrivateKey
    prefix: str = contract.DEFAULT_PREFIX
    clock: Callable[[], float] = time.time
    counts: Counter[str] = field(default_factory=Counter)
    """Outcomes so far: ``stored``, ``duplicate`` and one ``rejected:<reason>`` per reason."""

    def ingest_one(self, topic: str, payload: bytes) -> Outcome:
        return self.ingest([(topic, payload)])[0]

    def ingest(self, messages: Sequence[tuple[str, bytes]]) -> list[Outcome]:
        """Store a batch in one transaction (a savepoint per event); returns once it is committed."""
        now = self.clock()
        with self.engine.begin() as conn:
            outcomes = [self._one(conn, topic, payload, now) for topic, payload in messages]
        for o in outcomes:
            self.counts[o.status.value if o.reason is None else f"{o.status.value}:{o.reason.value}"] += 1
            if o.status is Status.REJECTED:
                log.warning("event %s from %s rejected: %s", o.event_id, o.kiosk_id, o.reason)
        return outcomes

    def _one(self, conn: Connection, topic: str, payload: bytes, now: float) -> Outcome:
        topic_kiosk = contract.kiosk_id_from_topic(topic, self.prefix)
        if topic_kiosk is None:
            return self._dead_letter(conn, None, None, Reason.BAD_TOPIC, payload, now)
        try:
            envelope = contract.loads(payload)
        except contract.BadMessage:
            return self._dead_letter(conn, topic_kiosk, None, Reason.NOT_JSON, payload, now)
        event_id = envelope.get("event_id")
        if not isinstance(event_id, str) or not _ID_RE.match(event_id):
            return self._dead_letter(conn, topic_kiosk, None, Reason.NO_EVENT_ID, payload, now)
        event_type = str(envelope.get("type"))[:64]
        try:
            signup: _Signup | None = _parse(envelope, topic_kiosk, self.seal_key)
            reason = None
        except _Reject as exc:
            signup, reason = None, exc.reason

        sp = conn.begin_nested()
        try:
            conn.execute(
                db.events.insert().values(
                    event_id=event_id,
                    kiosk_id=topic_kiosk,
                    type=event_type,
                    received_at=now,
                    outcome=Status.STORED.value if signup else Status.REJECTED.value,
                )
            )
        except IntegrityError:
            sp.rollback()
            return Outcome(topic_kiosk, event_id, Status.DUPLICATE)
        sp.commit()
        if signup is None:
            assert reason is not None
            self._dead_letter(conn, topic_kiosk, event_id, reason, payload, now)
            return Outcome(topic_kiosk, event_id, Status.REJECTED, reason)

        sp = conn.begin_nested()
        try:
            self._store_signup(conn, signup, now)
        except IntegrityError:
            sp.rollback()
            conn.execute(
                db.events.update().where(db.events.c.event_id == event_id).values(outcome=Status.REJECTED.value)
            )
            return self._dead_letter(conn, topic_kiosk, event_id, Reason.CONFLICT, payload, now)
        sp.commit()
        return Outcome(topic_kiosk, event_id, Status.STORED)

    @staticmethod
    def _store_signup(conn: Connection, s: _Signup, now: float) -> None:
        result = conn.execute(
            db.customers.insert().values(
                card=s.card,
                kiosk_id=s.kiosk_id,
                event_id=s.event_id,
                ads_consent=s.ads_consent,
                blocked=False,
                created_at=now,
                **s.personal,
            )
        )
        customer_id = result.inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            db.cards.insert().values(
                card=s.card, customer_id=customer_id, kiosk_id=s.kiosk_id, issued_at=now, blocked=False
            )
        )
        conn.execute(
            db.consent_records.insert(),
            [
                {**{k: r[k] for k in _CONSENT_FIELDS}, "kiosk_id": s.kiosk_id, "card": s.card, "event_id": s.event_id}
                for r in s.consents
            ],
        )

    @staticmethod
    def _dead_letter(
        conn: Connection,
        kiosk_id: str | None,
        event_id: str | None,
        reason: Reason,
        payload: bytes,
        now: float,
    ) -> Outcome:
        conn.execute(
            db.rejected_events.insert().values(
                event_id=event_id,
                topic_kiosk_id=kiosk_id,
                reason=reason.value,
                payload=payload[: contract.MAX_PAYLOAD],
                received_at=now,
            )
        )
        return Outcome(kiosk_id, event_id, Status.REJECTED, reason)


def acks_by_kiosk(outcomes: Iterable[Outcome]) -> dict[str, list[list[str]]]:
    """Group ackable outcomes per kiosk, in chunks of at most ``ACK_CHUNK`` ids (order kept)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for o in outcomes:
        if o.ackable:
            assert o.kiosk_id is not None and o.event_id is not None
            grouped[o.kiosk_id].append(o.event_id)
    return {kiosk: [ids[i : i + ACK_CHUNK] for i in range(0, len(ids), ACK_CHUNK)] for kiosk, ids in grouped.items()}


def ack_messages(outcomes: Iterable[Outcome], prefix: str = contract.DEFAULT_PREFIX) -> list[tuple[str, bytes]]:
    """``(topic, payload)`` pairs acknowledging ``outcomes`` on each kiosk's acks topic."""
    return [
        (contract.Topics(prefix, kiosk).acks, contract.ack_payload(chunk))
        for kiosk, chunks in acks_by_kiosk(outcomes).items()
        for chunk in chunks
    ]
