"""The kiosk's SQLite store (sqlite-utils).

Holds no personal data in clear: the journal keeps card numbers, consent ids and event ids;
the outbox keeps envelopes whose personal fields are sealed to head office; OTP state and rate
counters are keyed by a keyed hash of the phone. Pragmas follow DESIGN.md section 9: WAL,
``synchronous=FULL``, ``secure_delete=ON``, foreign keys on.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from kiosk.errors import DiskFullError, StoreError
from kiosk.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

DAY = 86400.0
HOUR = 3600.0


@dataclass(frozen=True)
class JournalEntry:
    card_number: str
    seq: int
    event_id: str
    consent_processing_id: str
    consent_ads_id: str | None
    consent_version: str
    consent_sha256: str
    created_at: float


@dataclass(frozen=True)
class OutboxEvent:
    event_id: str
    type: str
    created_at: float
    envelope: dict[str, Any]
    attempts: int = 0
    last_error: str | None = None


@contextmanager
def _storage_errors(what: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "full" in text:
            raise DiskFullError(f"database: disk full while {what}") from exc
        raise StoreError(f"database: {what}: {text}") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database: {what}: {exc}") from exc
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise DiskFullError(f"database: disk full while {what}") from exc
        raise


class Store:
    """One connection, used from the thread that owns the store (the app loop) and the sync worker.

    A lock serialises access so the sync thread may share it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        with _storage_errors("opening"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA foreign_keys=ON")
            self.db = sqlite_utils.Database(conn)
            MIGRATIONS.apply(self.db)

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, what: str) -> Iterator[sqlite_utils.Database]:
        with self._lock, _storage_errors(what), self.db.atomic():
            yield self.db

    # --- health -------------------------------------------------------------------------------

    def integrity_check(self) -> str:
        with self._lock, _storage_errors("checking integrity"):
            return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # --- OTP state and rate counters (keyed by phone_key, never the phone) ----------------------

    def load_challenge(self, phone_key: str) -> dict[str, Any] | None:
        with self._lock, _storage_errors("reading OTP state"):
            row = self.db.execute("SELECT data FROM otp_challenges WHERE phone_key = ?", [phone_key]).fetchone()
        return json.loads(row[0]) if row else None

    def save_challenge(self, phone_key: str, data: dict[str, Any], now: float) -> None:
        with self._tx("saving OTP state") as db:
            db.execute(
                "INSERT INTO otp_challenges(phone_key, data, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(phone_key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                [phone_key, json.dumps(data), now],
            )

    def record_code_sent(self, phone_key: str, data: dict[str, Any], now: float) -> None:
        """One transaction: the new challenge and the send counted against both caps."""
        with self._tx("recording a code") as db:
            db.execute(
                "INSERT INTO otp_challenges(phone_key, data, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(phone_key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                [phone_key, json.dumps(data), now],
            )
            db.execute("INSERT INTO otp_sends(phone_key, sent_at) VALUES (?, ?)", [phone_key, now])

    def rate_counts(self, phone_key: str, now: float) -> tuple[int, int]:
        """(codes sent to this phone in 24 h, codes sent by this kiosk in 1 h)."""
        with self._lock, _storage_errors("reading rate counters"):
            phone = self.db.execute(
                "SELECT count(*) FROM otp_sends WHERE phone_key = ? AND sent_at > ?", [phone_key, now - DAY]
            ).fetchone()[0]
            kiosk = self.db.execute("SELECT count(*) FROM otp_sends WHERE sent_at > ?", [now - HOUR]).fetchone()[0]
        return int(phone), int(kiosk)

    def prune_otp(self, now: float, challenge_ttl_s: float) -> None:
        """Forget what no rule needs any more: sends older than a day (the daily cap's window) and
        challenges older than ``challenge_ttl_s`` (past their code's lifetime and resend cooldown)."""
        with self._tx("pruning OTP state") as db:
            db.execute("DELETE FROM otp_sends WHERE sent_at <= ?", [now - DAY])
            db.execute("DELETE FROM otp_challenges WHERE updated_at <= ?", [now - challenge_ttl_s])

    # --- the sign-up transaction -----------------------------------------------------------

    def complete_signup(
        self,
        kiosk_number: int,
        now: float,
        build: Callable[[int], tuple[JournalEntry, OutboxEvent]],
        phone_key: str | None = None,
    ) -> tuple[JournalEntry, OutboxEvent]:
        """ONE transaction: the next card sequence, the journal row, the sealed outbox event, audit.

        ``build(seq)`` makes the journal entry and the event for the card with that sequence number.
        If anything fails nothing is written, and the sequence number is not consumed.
        """
        with self._tx("completing a sign-up") as db:
            row = db.execute("SELECT value FROM counters WHERE name = 'card_seq'").fetchone()
            seq = (int(row[0]) if row else 0) + 1
            db.execute(
                "INSERT INTO counters(name, value) VALUES ('card_seq', ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                [seq],
            )
            entry, event = build(seq)
            db.execute(
                "INSERT INTO journal(card_number, seq, event_id, consent_processing_id, consent_ads_id, "
                "consent_version, consent_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    entry.card_number,
                    entry.seq,
                    entry.event_id,
                    entry.consent_processing_id,
                    entry.consent_ads_id,
                    entry.consent_version,
                    entry.consent_sha256,
                    entry.created_at,
                ],
            )
            self._insert_event(db, event)
            if phone_key is not None:
                db.execute("DELETE FROM otp_challenges WHERE phone_key = ?", [phone_key])
            db.execute(
                "INSERT INTO audit(at, kind, detail) VALUES (?, 'signup', ?)",
                [now, json.dumps({"card": entry.card_number, "event_id": entry.event_id})],
            )
        return entry, event

    @staticmethod
    def _insert_event(db: sqlite_utils.Database, event: OutboxEvent) -> None:
        db.execute(
            "INSERT INTO outbox(event_id, type, created_at, envelope, attempts) VALUES (?, ?, ?, ?, 0)",
            [event.event_id, event.type, event.created_at, json.dumps(event.envelope, separators=(",", ":"))],
        )

    def add_event(self, event: OutboxEvent) -> None:
        """Queue an event that is not part of a sign-up (e.g. a reprint or a staff action)."""
        with self._tx("queueing an event") as db:
            self._insert_event(db, event)

    def mark_printed(self, card_number: str, what: str, now: float) -> None:
        column = {"card": "card_printed_at", "consent": "consent_printed_at"}[what]
        with self._tx("marking a receipt printed") as db:
            db.execute(f"UPDATE journal SET {column} = ? WHERE card_number = ?", [now, card_number])  # noqa: S608

    # --- journal ---------------------------------------------------------------------------

    def journal(self) -> list[JournalEntry]:
        with self._lock, _storage_errors("reading the journal"):
            rows = self.db.execute(
                "SELECT card_number, seq, event_id, consent_processing_id, consent_ads_id, consent_version, "
                "consent_sha256, created_at FROM journal ORDER BY seq"
            ).fetchall()
        return [JournalEntry(*r) for r in rows]

    def journal_entry(self, card_number: str) -> JournalEntry | None:
        with self._lock, _storage_errors("reading the journal"):
            r = self.db.execute(
                "SELECT card_number, seq, event_id, consent_processing_id, consent_ads_id, consent_version, "
                "consent_sha256, created_at FROM journal WHERE card_number = ?",
                [card_number],
            ).fetchone()
        return JournalEntry(*r) if r else None

    # --- outbox ----------------------------------------------------------------------------

    def outbox_batch(self, limit: int, after_id: int = 0) -> list[tuple[int, OutboxEvent]]:
        """The oldest events first (by insertion order), with their row ids."""
        with self._lock, _storage_errors("reading the outbox"):
            rows = self.db.execute(
                "SELECT id, event_id, type, created_at, envelope, attempts, last_error FROM outbox "
                "WHERE id > ? ORDER BY id LIMIT ?",
                [after_id, limit],
            ).fetchall()
        return [(r[0], OutboxEvent(r[1], r[2], r[3], json.loads(r[4]), r[5], r[6])) for r in rows]

    def outbox_payloads(self, limit: int, after_id: int = 0) -> list[tuple[int, str, bytes]]:
        """``(row id, event id, envelope as stored)`` oldest first: what the drain publishes as is."""
        with self._lock, _storage_errors("reading the outbox"):
            rows = self.db.execute(
                "SELECT id, event_id, envelope FROM outbox WHERE id > ? ORDER BY id LIMIT ?", [after_id, limit]
            ).fetchall()
        return [(r[0], r[1], r[2].encode("utf-8")) for r in rows]

    def ack(self, event_ids: list[str]) -> int:
        """Delete events head office has durably stored. Unknown ids are ignored; returns rows deleted.

        The only transaction here that is not fsynced on commit (``synchronous=NORMAL`` for its
        duration; WAL keeps the file consistent either way): a delete lost to a power cut just means
        head office receives those events once more, and it is idempotent on ``event_id``. Every
        transaction that creates data stays ``synchronous=FULL``.
        """
        if not event_ids:
            return 0
        with self._lock:
            self.db.execute("PRAGMA synchronous=NORMAL")
            try:
                with self._tx("deleting acknowledged events") as db:
                    deleted = 0
                    for chunk_start in range(0, len(event_ids), 500):
                        chunk = event_ids[chunk_start : chunk_start + 500]
                        marks = ",".join("?" * len(chunk))
                        cur = db.execute(f"DELETE FROM outbox WHERE event_id IN ({marks})", chunk)  # noqa: S608
                        deleted += cur.rowcount
            finally:
                self.db.execute("PRAGMA synchronous=FULL")
        return deleted

    def note_attempt(self, event_ids: list[str], error: str | None = None) -> None:
        if not event_ids:
            return
        with self._tx("counting delivery attempts") as db:
            for event_id in event_ids:
                db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE event_id = ?",
                    [error, event_id],
                )

    def outbox_stats(self, now: float) -> tuple[int, float | None]:
        """(backlog size, age in seconds of the oldest event or None)."""
        with self._lock, _storage_errors("reading the outbox"):
            count, oldest = self.db.execute("SELECT count(*), min(created_at) FROM outbox").fetchone()
        return int(count), (now - float(oldest)) if oldest is not None else None

    # --- audit -----------------------------------------------------------------------------

    def audit(self, kind: str, detail: dict[str, Any], now: float) -> None:
        """Record a non-personal event (staff actions, faults, config changes)."""
        with self._tx("writing the audit log") as db:
            db.execute("INSERT INTO audit(at, kind, detail) VALUES (?, ?, ?)", [now, kind, json.dumps(detail)])

    def audit_rows(self, kind: str | None = None) -> list[tuple[float, str, dict[str, Any]]]:
        with self._lock, _storage_errors("reading the audit log"):
            if kind is None:
                rows = self.db.execute("SELECT at, kind, detail FROM audit ORDER BY id").fetchall()
            else:
                rows = self.db.execute(
                    "SELECT at, kind, detail FROM audit WHERE kind = ? ORDER BY id", [kind]
                ).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    # --- small key/value state (applied config version, etc.) -------------------------------

    def get_state(self, key: str) -> str | None:
        with self._lock, _storage_errors("reading state"):
            row = self.db.execute("SELECT value FROM state WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else None

    def set_state(self, key: str, value: str) -> None:
        with self._tx("writing state") as db:
            db.execute(
                "INSERT INTO state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
