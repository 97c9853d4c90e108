"""Head office's bookkeeping: purchases, balances, withdrawals, the consent audit and SMS counters."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hq import db
from kiosk.core import model
from kiosk.core.program import points_for, tier_progress
from kiosk.lookup import Balance, TierInfo

log = logging.getLogger(__name__)

DAY = 86400.0


class UnknownCard(LookupError):
    """No customer holds this card (or it was blocked after a withdrawal)."""


def _kopecks(rub: float | Decimal | str) -> int:
    return int((Decimal(str(rub)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _active_card(conn: Connection, card: str) -> sa.Row[Any, Any] | None:
    q = (
        sa.select(db.customers.c.id, db.customers.c.name)
        .select_from(db.customers.join(db.cards, db.cards.c.customer_id == db.customers.c.id))
        .where(db.cards.c.card == card, db.cards.c.blocked.is_(False), db.customers.c.blocked.is_(False))
    )
    return conn.execute(q).first()


@dataclass(frozen=True)
class Posted:
    card: str
    points: int
    active_from: float


def purchase(
    engine: Engine,
    rules: model.ProgramRules,
    card: str,
    amount_rub: float | Decimal | str,
    excluded_rub: float | Decimal | str = 0,
    *,
    now: float | None = None,
) -> Posted:
    """Post a purchase: points by the programme's accrual, active after the activation delay."""
    now = time.time() if now is None else now
    amount, excluded = _kopecks(amount_rub), _kopecks(excluded_rub)
    points = points_for(rules, amount / 100, excluded / 100)
    active_from = now + rules.activation_delay_days * DAY
    with engine.begin() as conn:
        if _active_card(conn, card) is None:
            raise UnknownCard(card)
        conn.execute(
            db.ledger.insert().values(
                card=card, kind="purchase", amount_kop=amount, points=points, posted_at=now, active_from=active_from
            )
        )
    log.info("purchase posted on card %s: %d points", card, points)
    return Posted(card, points, active_from)


def redeem(engine: Engine, card: str, points: int, *, now: float | None = None) -> None:
    """Spend active points (raises ValueError when the balance is short)."""
    now = time.time() if now is None else now
    if points <= 0:
        raise ValueError("points to redeem must be positive")
    with engine.begin() as conn:
        if _active_card(conn, card) is None:
            raise UnknownCard(card)
        if _sums(conn, card, now)[0] < points:
            raise ValueError("not enough active points")
        conn.execute(
            db.ledger.insert().values(
                card=card, kind="redeem", amount_kop=0, points=-points, posted_at=now, active_from=now
            )
        )


def _sums(conn: Connection, card: str, now: float) -> tuple[int, int, int]:
    L = db.ledger.c
    active = sa.func.coalesce(sa.func.sum(sa.case((L.active_from <= now, L.points), else_=0)), 0)
    pending = sa.func.coalesce(sa.func.sum(sa.case((L.active_from > now, L.points), else_=0)), 0)
    spent = sa.func.coalesce(sa.func.sum(sa.case((L.kind == "purchase", L.amount_kop), else_=0)), 0)
    row = conn.execute(sa.select(active, pending, spent).where(L.card == card)).one()
    return int(row[0]), int(row[1]), int(row[2])


def _tier(t: model.Tier | None) -> TierInfo | None:
    return None if t is None else TierInfo(t.name.ru, t.name.en, t.discount_pct)


def balance(engine: Engine, rules: model.ProgramRules, card: str, *, now: float | None = None) -> Balance:
    now = time.time() if now is None else now
    with engine.connect() as conn:
        row = _active_card(conn, card)
        if row is None:
            raise UnknownCard(card)
        active, pending, spent_kop = _sums(conn, card, now)
    total_rub = spent_kop // 100
    progress = tier_progress(rules, total_rub)
    name = row.name or ""
    return Balance(
        card=card,
        first_name=name.split(" ")[0][:60],
        balance_points=active,
        pending_points=pending,
        total_spent_rub=total_rub,
        tier=_tier(progress.current),
        next_tier=_tier(progress.next),
        remaining_rub=progress.remaining_rub,
    )


def phone_is_member(engine: Engine, e164: str) -> bool:
    q = sa.select(db.customers.c.id).where(db.customers.c.phone == e164, db.customers.c.blocked.is_(False)).limit(1)
    with engine.connect() as conn:
        return conn.execute(q).first() is not None


def withdraw(engine: Engine, card: str, *, source: str = "operator", now: float | None = None) -> None:
    """Record a withdrawal of consent, block the card and destroy the personal data.

    The customer row keeps its id, card, kiosk and times; the consent records keep their ids, times,
    text versions and hashes (the proof that consent was given, and when it ended) and get
    ``withdrawn_at``. The withdrawal itself is a new row, not an edit of the consent.
    """
    now = time.time() if now is None else now
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(db.customers.c.id, db.customers.c.withdrawn_at).where(db.customers.c.card == card)
        ).first()
        if row is None:
            raise UnknownCard(card)
        if row.withdrawn_at is not None:
            log.info("card %s: consent already withdrawn", card)
            return
        conn.execute(db.withdrawals.insert().values(card=card, customer_id=row.id, at=now, source=source))
        conn.execute(
            db.customers.update()
            .where(db.customers.c.id == row.id)
            .values(blocked=True, ads_consent=False, withdrawn_at=now, **dict.fromkeys(db.PERSONAL_COLUMNS))
        )
        conn.execute(db.cards.update().where(db.cards.c.card == card).values(blocked=True))
        conn.execute(
            db.consent_records.update()
            .where(db.consent_records.c.card == card, db.consent_records.c.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
    log.info("card %s: consent withdrawn, personal data destroyed", card)


def export_consents(engine: Engine) -> Iterator[str]:
    """The consent records as JSON lines (for an audit), oldest first."""
    c = db.consent_records.c
    with engine.connect() as conn:
        for row in conn.execute(sa.select(db.consent_records).order_by(c.confirmed_at, c.consent_id)):
            yield json.dumps(dict(row._mapping), ensure_ascii=False, sort_keys=True)


# --- SMS counters --------------------------------------------------------------------------------


def sms_counts(engine: Engine, phone_key: str, kiosk_id: str, now: float) -> tuple[int, int]:
    """Sends in the last 24 h to this phone, and in the last hour from this kiosk."""
    s = db.sms_sends.c
    with engine.connect() as conn:
        phone = conn.execute(
            sa.select(sa.func.count()).where(s.phone_key == phone_key, s.sent_at > now - DAY)
        ).scalar_one()
        kiosk = conn.execute(
            sa.select(sa.func.count()).where(s.kiosk_id == kiosk_id, s.sent_at > now - 3600)
        ).scalar_one()
    return int(phone), int(kiosk)


def record_sms(engine: Engine, phone_key: str, kiosk_id: str, now: float) -> None:
    with engine.begin() as conn:
        conn.execute(db.sms_sends.insert().values(phone_key=phone_key, kiosk_id=kiosk_id, sent_at=now))
