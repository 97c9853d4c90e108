"""Schema migrations (sqlite-utils ``Migrations``). Append new steps; never edit applied ones."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("kiosk")


@MIGRATIONS()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE journal (
            card_number TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            event_id TEXT NOT NULL UNIQUE,
            consent_processing_id TEXT NOT NULL,
            consent_ads_id TEXT,
            consent_version TEXT NOT NULL,
            consent_sha256 TEXT NOT NULL,
            created_at REAL NOT NULL,
            card_printed_at REAL,
            consent_printed_at REAL
        )"""
    )
    db.execute(
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            created_at REAL NOT NULL,
            envelope TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE otp_challenges (
            phone_key TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            updated_at REAL NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE otp_sends (
            id INTEGER PRIMARY KEY,
            phone_key TEXT NOT NULL,
            sent_at REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX otp_sends_phone ON otp_sends(phone_key, sent_at)")
    db.execute("CREATE INDEX otp_sends_time ON otp_sends(sent_at)")
    db.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    db.execute(
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL
        )"""
    )
    db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
