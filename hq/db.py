"""Head office's database (SQLAlchemy Core): SQLite for development and tests, PostgreSQL in production.

Personal fields of ``customers`` are nullable: a withdrawal destroys them (sets them to NULL) while the
ids, times and the consent records' text hashes stay as proof. Times are UTC seconds since the epoch,
except the consent records' own times, which are kept exactly as the kiosk recorded them (ISO 8601).
Money is kept in kopecks (integers), so sums are exact on every database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("card", sa.String(32), nullable=False, unique=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("phone", sa.String(32), index=True),
    sa.Column("birth_date", sa.String(10)),
    sa.Column("gender", sa.String(16)),
    sa.Column("email", sa.String(320)),
    sa.Column("ads_consent", sa.Boolean, nullable=False, default=False),
    sa.Column("blocked", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("withdrawn_at", sa.Double),
)

cards = sa.Table(
    "cards",
    metadata,
    sa.Column("card", sa.String(32), primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("issued_at", sa.Double, nullable=False),
    sa.Column("blocked", sa.Boolean, nullable=False, default=False),
)

consent_records = sa.Table(
    "consent_records",
    metadata,
    sa.Column("consent_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("shown_at", sa.String(40), nullable=False),
    sa.Column("confirmed_at", sa.String(40), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("masked_phone", sa.String(32), nullable=False),
    sa.Column("code_sent_at", sa.String(40), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("card", sa.String(32), nullable=False, index=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("withdrawn_at", sa.Double),
)

withdrawals = sa.Table(
    "withdrawals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("card", sa.String(32), nullable=False, index=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("received_at", sa.Double, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # stored | rejected
)

rejected_events = sa.Table(
    "rejected_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), index=True),
    sa.Column("topic_kiosk_id", sa.String(64)),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # as received; personal data in it is sealed
    sa.Column("received_at", sa.Double, nullable=False),
)

kiosks = sa.Table(
    "kiosks",
    metadata,
    sa.Column("kiosk_id", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, nullable=False, unique=True),  # the kiosk digits of its card numbers
    sa.Column("bound_at", sa.Double, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # settings | first_event
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("card", sa.String(32), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # purchase | redeem
    sa.Column("amount_kop", sa.BigInteger, nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("posted_at", sa.Double, nullable=False),
    sa.Column("active_from", sa.Double, nullable=False),
    sa.CheckConstraint("kind IN ('purchase', 'redeem')", name="ledger_kind"),
)

sms_sends = sa.Table(
    "sms_sends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("phone_key", sa.String(64), nullable=False, index=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False, index=True),
    sa.Column("sent_at", sa.Double, nullable=False),
)

PERSONAL_COLUMNS = ("name", "phone", "birth_date", "gender", "email")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy own transactions (pysqlite's own BEGIN handling breaks SAVEPOINT).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def connect(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``); creates the tables."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    if create:
        metadata.create_all(engine)
    return engine
