"""Sign-up service: the core flow wired to the store, the keys and an SMS sender.

The screens, the demo and the CLI walk-through all go through this one class, so the rule
"nothing typed touches disk before the code is confirmed" is enforced in one place: the only
writes before ``confirm_code`` succeeds are the OTP challenge and send counters, keyed by a
keyed hash of the phone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ulid import ULID

from kiosk import config as kconfig
from kiosk.config import Config
from kiosk.core import cards, otp
from kiosk.core.consent import (
    Confirmation,
    ConsentDocument,
    ConsentKind,
    Subject,
    compose,
    render_copy,
)
from kiosk.core.flow import EndReason, SignupSession, Step
from kiosk.core.model import Customer
from kiosk.core.validation import mask_phone
from kiosk.keys import Keys
from kiosk.store.db import JournalEntry, OutboxEvent, Store
from kiosk.store.seal import seal

log = logging.getLogger(__name__)

EVENT_SCHEMA = "loyalty.signup/1"


def utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CodeToSend:
    """A code ready to go out by SMS. The caller sends it and forgets it; it is never stored."""

    phone: str
    code: str
    challenge: otp.Challenge

    def __repr__(self) -> str:  # a stray %r or a traceback must not show the code or the number
        return f"CodeToSend(phone={mask_phone(self.phone)!r}, code='***')"


@dataclass(frozen=True)
class ConsentCopy:
    consent_id: str
    document: ConsentDocument
    text: str  # the printed copy: the document plus the customer's details and the confirmation


@dataclass(frozen=True)
class SignupResult:
    card_number: str
    qr_payload: str
    wallet_url: str | None
    event_id: str
    first_name: str
    masked_phone: str
    processing: ConsentCopy
    advertising: ConsentCopy | None


@dataclass(frozen=True)
class CodeRejected:
    reason: otp.Refusal
    attempts_left: int
    ended: bool  # the session ended (attempts exhausted)


class SignupService:
    def __init__(self, cfg: Config, store: Store, keys: Keys, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.keys = keys
        self.clock = clock
        self.reconfigure(cfg)
        self.on_committed: Callable[[], None] | None = None
        """Called after a sign-up's transaction commits (the sync link wakes its outbox drain)."""

    def reconfigure(self, cfg: Config) -> None:
        """Take a new configuration (head office's signed one): rules, limits and documents.

        Call it between customers only: a session keeps the rules and the text it started with.
        """
        self.cfg = cfg
        self.form_rules = kconfig.form_rules(cfg)
        self.policy = kconfig.otp_policy(cfg)
        self.terms = kconfig.consent_terms(cfg)
        self._docs: dict[tuple[ConsentKind, str], ConsentDocument] = {}

    # --- documents -------------------------------------------------------------------------

    def document(self, kind: ConsentKind, lang: str) -> ConsentDocument:
        key = (kind, lang)
        if key not in self._docs:
            self._docs[key] = compose(self.terms, kind, lang)
        return self._docs[key]

    # --- the session -----------------------------------------------------------------------

    def start(self) -> SignupSession:
        now = self.clock()
        # every new customer is a good moment to forget OTP state nobody needs any more
        self.store.prune_otp(now, max(self.policy.lifetime_s, self.policy.resend_cooldown_s))
        return SignupSession(rules=self.form_rules, started_at=now)

    def submit_form(self, session: SignupSession, values: dict[str, str]) -> dict[str, str]:
        """Validate; returns ``{field: reason code}`` (empty when the form was accepted)."""
        now = self.clock()
        today = date.fromtimestamp(now)  # the kiosk's local date decides the customer's age
        errors = session.submit_form(values, today, now)
        return {f.value: r.reason.value for f, r in errors.items()}

    def prepare_code(self, session: SignupSession) -> CodeToSend | otp.Refused:
        """Issue (or re-issue) a code for the session's phone and count it. Fast: safe on the UI thread."""
        if session.step is not Step.CODE or session.customer is None:
            raise RuntimeError("prepare_code outside the code step")
        now = self.clock()
        phone = session.customer.phone
        key = otp.phone_key(self.keys.otp, phone)
        previous_data = self.store.load_challenge(key)
        previous = otp.challenge_from_dict(previous_data) if previous_data else None
        phone_count, kiosk_count = self.store.rate_counts(key, now)
        result = otp.issue(self.policy, self.keys.otp, phone, now, otp.RateCounts(phone_count, kiosk_count), previous)
        if isinstance(result, otp.Refused):
            log.info("code for %s refused: %s", mask_phone(phone), result.reason.value)
            return result
        self.store.record_code_sent(key, otp.challenge_to_dict(result.challenge), now)
        session.code_sent(result.challenge, now)
        log.info("code issued for %s (send %d)", mask_phone(phone), result.challenge.sends)
        return CodeToSend(phone=phone, code=result.code, challenge=result.challenge)

    def confirm_code(self, session: SignupSession, entered: str, lang: str) -> SignupResult | CodeRejected:
        """Check the code; on success write the sign-up (one transaction) and return what to print."""
        if session.challenge is None or session.customer is None:
            raise RuntimeError("confirm_code before a code was sent")
        now = self.clock()
        outcome = otp.verify(self.policy, self.keys.otp, session.challenge, entered, now)
        if not isinstance(outcome, otp.Verified):
            refused, updated = outcome
            self.store.save_challenge(updated.phone_key, otp.challenge_to_dict(updated), now)
            session.code_refused(updated, now)
            ended = session.finished
            if refused.reason is otp.Refusal.ATTEMPTS_EXHAUSTED and not ended:
                session.end(EndReason.ATTEMPTS_EXHAUSTED)
                ended = True
            log.info("code refused: %s, %d attempts left", refused.reason.value, updated.attempts_left)
            return CodeRejected(refused.reason, updated.attempts_left, ended)
        customer = session.confirm(outcome, now)
        # the record and the printed copy name the text the customer read and ticked, even if the
        # screen's language was switched afterwards
        return self._complete(session, customer, session.consent_lang or lang, now)

    def _complete(self, session: SignupSession, customer: Customer, lang: str, now: float) -> SignupResult:
        challenge = session.challenge
        assert challenge is not None and session.code_sent_at is not None
        shown_at = session.consent_shown_at or now
        masked = mask_phone(customer.phone)
        event_id = str(ULID.from_timestamp(now))
        processing_id = str(ULID.from_timestamp(now))
        ads_id = str(ULID.from_timestamp(now)) if session.consent_ads else None
        documents = [(ConsentKind.PROCESSING, processing_id)]
        if ads_id is not None:
            documents.append((ConsentKind.ADVERTISING, ads_id))
        attempts = self.policy.max_attempts - challenge.attempts_left + 1

        records = []
        for kind, consent_id in documents:
            doc = self.document(kind, lang)
            records.append(
                {
                    "consent_id": consent_id,
                    "kind": kind.value,
                    "version": doc.version,
                    "sha256": doc.sha256,
                    "lang": lang,
                    "shown_at": utc_iso(shown_at),
                    "confirmed_at": utc_iso(now),
                    "method": "sms-code",
                    "masked_phone": masked,
                    "code_sent_at": utc_iso(session.code_sent_at),
                    "attempts": attempts,
                    "outcome": "given",
                }
            )
        personal = {
            "name": customer.name,
            "phone": customer.phone,
            "birth_date": customer.birth_date.isoformat() if customer.birth_date else None,
            "gender": customer.gender.value if customer.gender else None,
            "email": customer.email,
        }
        sealed = seal(personal, self.keys.hq_seal_public)
        processing_doc = self.document(ConsentKind.PROCESSING, lang)

        def build(seq: int) -> tuple[JournalEntry, OutboxEvent]:
            card = cards.card_number(self.cfg.kiosk.number, seq)
            envelope = {
                "event_id": event_id,
                "type": "signup",
                "ts": utc_iso(now),
                "kiosk_id": self.cfg.kiosk.id,
                "schema": EVENT_SCHEMA,
                "card_number": card,
                "ads_consent": ads_id is not None,
                "consents": records,
                "sealed": sealed,
            }
            entry = JournalEntry(
                card_number=card,
                seq=seq,
                event_id=event_id,
                consent_processing_id=processing_id,
                consent_ads_id=ads_id,
                consent_version=processing_doc.version,
                consent_sha256=processing_doc.sha256,
                created_at=now,
            )
            return entry, OutboxEvent(event_id, "signup", now, envelope)

        entry, _ = self.store.complete_signup(self.cfg.kiosk.number, now, build, phone_key=challenge.phone_key)
        log.info("sign-up complete: card %s, event %s", entry.card_number, event_id)
        if self.on_committed is not None:
            self.on_committed()

        confirmation = Confirmation(
            method="sms-code",
            code_sent_at=datetime.fromtimestamp(session.code_sent_at, UTC),
            confirmed_at=datetime.fromtimestamp(now, UTC),
            attempts=attempts,
        )
        subject = Subject(name=customer.name, masked_phone=masked)
        copies = []
        for kind, consent_id in documents:
            doc = self.document(kind, lang)
            text = render_copy(
                doc, subject, consent_id, self.cfg.kiosk.id, datetime.fromtimestamp(shown_at, UTC), confirmation, lang
            )
            copies.append(ConsentCopy(consent_id, doc, text))
        return SignupResult(
            card_number=entry.card_number,
            qr_payload=cards.qr_payload(entry.card_number, self.keys.card_mac),
            wallet_url=cards.wallet_url(self.cfg.program.wallet_url, entry.card_number),
            event_id=event_id,
            first_name=customer.name.split(" ")[0],
            masked_phone=masked,
            processing=copies[0],
            advertising=copies[1] if len(copies) > 1 else None,
        )
