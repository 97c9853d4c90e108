"""Storing kiosk events: idempotent on ``event_id``, one transaction per batch, bulk inserts.

Every event that carries a usable ``event_id`` ends up either stored (customer, card and consent
records) or dead-lettered in ``rejected_events`` with the reason and the payload as received (its
personal part is still sealed), and in both cases it is acknowledged: the kiosk deletes its outbox row
only on head office's ack, and an event that can never be stored must not be resent forever. A
dead-lettered event is kept, so nothing is lost: it can be looked at and replayed once the cause
(a wrong key, a kiosk misconfigured with another kiosk's id) is fixed. A repeated ``event_id`` is a
no-op that is acknowledged again. Payloads without an event id cannot be acknowledged; they are
dead-lettered and counted.

A kiosk may only issue its own card numbers (``2 KKKK SSSSSSS C``: ``KKKK`` is the kiosk number). The
``kiosks`` table binds each kiosk id to one number: head office's settings give the binding where they
list a kiosk with its number (``kiosks = [{id = "...", number = N}]``); otherwise the first stored
event from a kiosk id binds the number in its card (trust on first use). An event whose card carries
another number than its kiosk's, or a number bound to another kiosk, is dead-lettered as
``card_not_this_kiosks``; a card number that is not one of ours at all is ``malformed``.

Logs name event ids, kiosk ids and reasons only, never personal data.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hq import db
from kiosk.core.cards import card_parts
from kiosk.store.seal import unseal
from kiosk.sync import contract

log = logging.getLogger(__name__)

_T = TypeVar("_T")

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
    CARD_NOT_THIS_KIOSKS = "card_not_this_kiosks"


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
    card_kiosk: int
    """The kiosk number inside ``card``."""
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
    try:
        card_kiosk, _seq = card_parts(card)
    except ValueError:
        raise _Reject(Reason.MALFORMED) from None
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
        card_kiosk=card_kiosk,
        ads_consent=ads,
        consents=consents,
        personal={k: personal.get(k) for k in _PERSONAL},
    )


@dataclass
class _Prepared:
    """One message after the pure-Python work (topic, JSON, checks, unsealing): ready to be written."""

    kiosk_id: str | None
    event_id: str | None
    event_type: str
    payload: bytes
    signup: _Signup | None
    reason: Reason | None


# Statements built once: SQLAlchemy compiles each shape once and then reuses it.
_INSERT_EVENTS = db.events.insert()
_INSERT_CUSTOMERS = db.customers.insert()
_INSERT_CARDS = db.cards.insert()
_INSERT_CONSENTS = db.consent_records.insert()
_BULK_SQL: dict[tuple[str, str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}


def _insert_many(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """One ``executemany`` of plain values (every row has the same keys) on the driver.

    The INSERT is compiled once per dialect, table and column set; the rows then go to the driver
    without SQLAlchemy's per-row parameter processing (which costs more than SQLite's insert itself).
    The values are plain str, int, float, bool, bytes and None, which every supported driver takes.
    """
    keys = tuple(rows[0])
    cache_key = (conn.dialect.name, table.name, keys)
    sql = _BULK_SQL.get(cache_key)
    if sql is None:
        compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(keys))
        order = tuple(compiled.positiontup) if conn.dialect.positional and compiled.positiontup else None
        sql = _BULK_SQL[cache_key] = (compiled.string, order)
    text, order = sql
    if order is None:
        conn.exec_driver_sql(text, rows)
    else:
        conn.exec_driver_sql(text, [tuple(row[k] for k in order) for row in rows])


_SEEN_CHUNK = 500  # event ids per ``IN (...)`` look-up (far below every database's parameter limit)


@dataclass
class Ingestor:
    engine: Engine
    seal_key: PrivateKey
    prefix: str = contract.DEFAULT_PREFIX
    clock: Callable[[], float] = time.time
    counts: Counter[str] = field(default_factory=Counter)
    """Outcomes so far: ``stored``, ``duplicate`` and one ``rejected:<reason>`` per reason."""
    kiosk_numbers: Mapping[str, int] = field(default_factory=dict)
    """Bindings from head office's settings (kiosk id -> number); they replace any other binding."""
    _settings_bound: bool = field(default=False, init=False, repr=False)

    def ingest_one(self, topic: str, payload: bytes) -> Outcome:
        return self.ingest([(topic, payload)])[0]

    def ingest(self, messages: Sequence[tuple[str, bytes]]) -> list[Outcome]:
        """Store a batch in one transaction; returns once it is committed.

        Parsing, checks and unsealing run first, outside the transaction. The transaction then looks up
        the batch's already-seen event ids in one query and bulk-inserts the new events, customers,
        cards and consent records. If the bulk insert clashes (a card or consent id already taken), it
        is rolled back to a savepoint and the batch is written event by event, each in its own
        savepoint, so only the clashing events are dead-lettered.
        """
        now = self.clock()
        prepared = [self._prepare(topic, payload) for topic, payload in messages]
        with self.engine.begin() as conn:
            if not self._settings_bound:
                _retry_on_clash(conn, lambda: self._bind_from_settings(conn, now))
            outcomes = self._store_batch(conn, prepared, now)
        self._settings_bound = True
        for o in outcomes:
            self.counts[o.status.value if o.reason is None else f"{o.status.value}:{o.reason.value}"] += 1
            if o.status is Status.REJECTED:
                log.warning("event %s from %s rejected: %s", o.event_id, o.kiosk_id, o.reason)
        return outcomes

    def _prepare(self, topic: str, payload: bytes) -> _Prepared:
        topic_kiosk = contract.kiosk_id_from_topic(topic, self.prefix)
        if topic_kiosk is None:
            return _Prepared(None, None, "", payload, None, Reason.BAD_TOPIC)
        try:
            envelope = contract.loads(payload)
        except contract.BadMessage:
            return _Prepared(topic_kiosk, None, "", payload, None, Reason.NOT_JSON)
        event_id = envelope.get("event_id")
        if not isinstance(event_id, str) or not _ID_RE.match(event_id):
            return _Prepared(topic_kiosk, None, "", payload, None, Reason.NO_EVENT_ID)
        event_type = str(envelope.get("type"))[:64]
        try:
            signup = _parse(envelope, topic_kiosk, self.seal_key)
        except _Reject as exc:
            return _Prepared(topic_kiosk, event_id, event_type, payload, None, exc.reason)
        return _Prepared(topic_kiosk, event_id, event_type, payload, signup, None)

    @staticmethod
    def _seen(conn: Connection, event_ids: list[str]) -> set[str]:
        seen: set[str] = set()
        col = db.events.c.event_id
        for i in range(0, len(event_ids), _SEEN_CHUNK):
            chunk = event_ids[i : i + _SEEN_CHUNK]
            seen.update(conn.execute(sa.select(col).where(col.in_(chunk))).scalars())
        return seen

    def _store_batch(self, conn: Connection, prepared: list[_Prepared], now: float) -> list[Outcome]:
        seen = self._seen(conn, list({p.event_id for p in prepared if p.event_id is not None}))
        outcomes: list[Outcome | None] = [None] * len(prepared)
        dead: list[tuple[int, _Prepared]] = []  # no event id, or refused: dead-lettered (in message order)
        fresh: list[tuple[int, _Prepared]] = []  # new event ids: get an ``events`` row
        for i, p in enumerate(prepared):
            if p.event_id is None:
                dead.append((i, p))
            elif p.event_id in seen:
                outcomes[i] = Outcome(p.kiosk_id, p.event_id, Status.DUPLICATE)
            else:
                seen.add(p.event_id)  # a second copy later in the same batch is a duplicate
                fresh.append((i, p))
                if p.signup is None:
                    dead.append((i, p))

        new_bindings, refused = _retry_on_clash(conn, lambda: self._check_bindings(conn, fresh, now))
        for i, p in fresh:
            if i in refused:
                p.signup, p.reason = None, Reason.CARD_NOT_THIS_KIOSKS
                dead.append((i, p))

        conflicts: set[int] = set()
        if fresh:
            sp = conn.begin_nested()
            try:
                self._bulk_insert(conn, [p for _, p in fresh], now)
            except IntegrityError:
                sp.rollback()
                conflicts = self._insert_one_by_one(conn, fresh, now)
            else:
                sp.commit()

        rejected_rows = []
        for i, p in sorted([*dead, *((i, p) for i, p in fresh if i in conflicts)], key=lambda ip: ip[0]):
            reason = Reason.CONFLICT if i in conflicts else p.reason
            assert reason is not None
            outcomes[i] = Outcome(p.kiosk_id, p.event_id, Status.REJECTED, reason)
            rejected_rows.append(
                {
                    "event_id": p.event_id,
                    "topic_kiosk_id": p.kiosk_id,
                    "reason": reason.value,
                    "payload": p.payload[: contract.MAX_PAYLOAD],
                    "received_at": now,
                }
            )
        if rejected_rows:
            _insert_many(conn, db.rejected_events, rejected_rows)
        # A binding stands only on a stored event: drop those whose every event clashed.
        stored_from = {p.kiosk_id for i, p in fresh if p.signup is not None and i not in conflicts}
        unused = [k for k in new_bindings if k not in stored_from]
        if unused:
            conn.execute(db.kiosks.delete().where(db.kiosks.c.kiosk_id.in_(unused)))
        for i, p in fresh:
            if outcomes[i] is None:
                outcomes[i] = Outcome(p.kiosk_id, p.event_id, Status.STORED)
        assert all(o is not None for o in outcomes)
        return outcomes  # type: ignore[return-value]

    def _bind_from_settings(self, conn: Connection, now: float) -> None:
        """Make the ``kiosks`` table agree with the settings' bindings (others' clashing rows go)."""
        if not self.kiosk_numbers:
            return
        k = db.kiosks.c
        ids, numbers = list(self.kiosk_numbers), list(self.kiosk_numbers.values())
        rows = conn.execute(sa.select(k.kiosk_id, k.number).where(k.kiosk_id.in_(ids) | k.number.in_(numbers))).all()
        wrong = [kid for kid, number in rows if self.kiosk_numbers.get(kid) != number]
        if wrong:
            log.warning("kiosk bindings replaced by head office's settings: %s", sorted(wrong))
            conn.execute(db.kiosks.delete().where(k.kiosk_id.in_(wrong)))
        have = {kid for kid, _ in rows if kid not in wrong}
        missing = [
            {"kiosk_id": kid, "number": n, "bound_at": now, "source": "settings"}
            for kid, n in self.kiosk_numbers.items()
            if kid not in have
        ]
        if missing:
            _insert_many(conn, db.kiosks, missing)

    @staticmethod
    def _check_bindings(conn: Connection, fresh: list[tuple[int, _Prepared]], now: float) -> tuple[list[str], set[int]]:
        """Bind kiosks seen for the first time; find signups whose card number is not their kiosk's.

        Returns the kiosk ids bound here and the indexes of the refused signups. Inside one batch the
        first signup of an unbound kiosk binds it for the rest.
        """
        signups = [(i, p) for i, p in fresh if p.signup is not None]
        if not signups:
            return [], set()
        ids = sorted({p.signup.kiosk_id for _, p in signups if p.signup is not None})
        numbers = sorted({p.signup.card_kiosk for _, p in signups if p.signup is not None})
        k = db.kiosks.c
        number_of: dict[str, int] = {}
        kiosk_of: dict[int, str] = {}
        for i in range(0, max(len(ids), len(numbers)), _SEEN_CHUNK):
            cond = k.kiosk_id.in_(ids[i : i + _SEEN_CHUNK]) | k.number.in_(numbers[i : i + _SEEN_CHUNK])
            for kid, number in conn.execute(sa.select(k.kiosk_id, k.number).where(cond)):
                number_of[kid], kiosk_of[number] = number, kid
        new: dict[str, int] = {}
        refused: set[int] = set()
        for i, p in signups:
            s = p.signup
            assert s is not None
            bound = number_of.get(s.kiosk_id)
            if bound is None and s.card_kiosk not in kiosk_of:
                number_of[s.kiosk_id], kiosk_of[s.card_kiosk] = s.card_kiosk, s.kiosk_id
                new[s.kiosk_id] = s.card_kiosk
            elif bound != s.card_kiosk:
                refused.add(i)
        if new:
            _insert_many(
                conn,
                db.kiosks,
                [{"kiosk_id": kid, "number": n, "bound_at": now, "source": "first_event"} for kid, n in new.items()],
            )
            log.info("kiosks bound to their first card numbers: %s", sorted(new))
        return list(new), refused

    @staticmethod
    def _event_row(p: _Prepared, now: float, outcome: Status) -> dict[str, Any]:
        return {
            "event_id": p.event_id,
            "kiosk_id": p.kiosk_id,
            "type": p.event_type,
            "received_at": now,
            "outcome": outcome.value,
        }

    @classmethod
    def _bulk_insert(cls, conn: Connection, fresh: list[_Prepared], now: float) -> None:
        _insert_many(
            conn,
            db.events,
            [cls._event_row(p, now, Status.STORED if p.signup else Status.REJECTED) for p in fresh],
        )
        signups = [p.signup for p in fresh if p.signup is not None]
        if not signups:
            return
        _insert_many(conn, db.customers, [_customer_row(s, now) for s in signups])
        # Cards point at their customer rows; one look-up by the (unique) card numbers just inserted.
        by_card: dict[str, int] = {}
        c = db.customers.c
        cards_in_batch = [s.card for s in signups]
        for i in range(0, len(cards_in_batch), _SEEN_CHUNK):
            chunk = cards_in_batch[i : i + _SEEN_CHUNK]
            by_card.update((card, cid) for card, cid in conn.execute(sa.select(c.card, c.id).where(c.card.in_(chunk))))
        _insert_many(conn, db.cards, [_card_row(s, by_card[s.card], now) for s in signups])
        _insert_many(conn, db.consent_records, [row for s in signups for row in _consent_rows(s)])

    def _insert_one_by_one(self, conn: Connection, fresh: list[tuple[int, _Prepared]], now: float) -> set[int]:
        """The slow path after a clash: each event in its own savepoint. Returns the clashing indexes."""
        conflicts: set[int] = set()
        for i, p in fresh:
            stored = p.signup is not None
            conn.execute(_INSERT_EVENTS, self._event_row(p, now, Status.STORED if stored else Status.REJECTED))
            if p.signup is None:
                continue
            sp = conn.begin_nested()
            try:
                self._store_signup(conn, p.signup, now)
            except IntegrityError:
                sp.rollback()
                conn.execute(
                    db.events.update().where(db.events.c.event_id == p.event_id).values(outcome=Status.REJECTED.value)
                )
                conflicts.add(i)
            else:
                sp.commit()
        return conflicts

    @staticmethod
    def _store_signup(conn: Connection, s: _Signup, now: float) -> None:
        result = conn.execute(_INSERT_CUSTOMERS, _customer_row(s, now))
        customer_id = result.inserted_primary_key[0]  # type: ignore[index]
        conn.execute(_INSERT_CARDS, _card_row(s, customer_id, now))
        conn.execute(_INSERT_CONSENTS, _consent_rows(s))


def _retry_on_clash(conn: Connection, work: Callable[[], _T], attempts: int = 3) -> _T:
    """Run ``work`` in a savepoint, again after a unique-key clash (another head office bound first)."""
    for attempt in range(attempts):
        sp = conn.begin_nested()
        try:
            result = work()
        except IntegrityError:
            sp.rollback()
            if attempt == attempts - 1:
                raise
            continue
        sp.commit()
        return result
    raise AssertionError("unreachable")


def _customer_row(s: _Signup, now: float) -> dict[str, Any]:
    return {
        "card": s.card,
        "kiosk_id": s.kiosk_id,
        "event_id": s.event_id,
        "ads_consent": s.ads_consent,
        "blocked": False,
        "created_at": now,
        **s.personal,
    }


def _card_row(s: _Signup, customer_id: int, now: float) -> dict[str, Any]:
    return {"card": s.card, "customer_id": customer_id, "kiosk_id": s.kiosk_id, "issued_at": now, "blocked": False}


def _consent_rows(s: _Signup) -> list[dict[str, Any]]:
    return [
        {
            **{k: r[k] for k in _CONSENT_FIELDS},
            "kiosk_id": s.kiosk_id,
            "card": s.card,
            "event_id": s.event_id,
        }
        for r in s.consents
    ]


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
