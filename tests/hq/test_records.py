"""Purchases and balances, withdrawal, the consent export and the CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hq import db, records
from hq.__main__ import main
from hq.ingest import Ingestor
from hq.keys import HqKeys, load_keys
from hq.settings import HqSettings, parse_settings
from kiosk.errors import ConfigError
from kiosk.sync import contract
from tests.hq.conftest import HQ_TOML, PERSON, FakeClock, events_topic, signup_envelope

DAY = 86400


def _signup(engine: Engine, keys: HqKeys, card: str, **kw: object) -> dict[str, object]:
    env = signup_envelope("kiosk-a", keys.seal.public_key, card=card, **kw)  # type: ignore[arg-type]
    assert Ingestor(engine, keys.seal).ingest_one(events_topic("kiosk-a"), contract.dumps(env)).ackable
    return env


def test_purchase_points_activate_after_the_delay(
    engine: Engine, keys: HqKeys, settings: HqSettings, clock: FakeClock
) -> None:
    _signup(engine, keys, "2000100000014")
    posted = records.purchase(engine, settings.rules, "2000100000014", "4250.50", "300", now=clock())
    assert posted.points == 390  # 3950.50 RUB of eligible bill: 39 full hundreds x 10 points
    b = records.balance(engine, settings.rules, "2000100000014", now=clock())
    assert (b.balance_points, b.pending_points, b.total_spent_rub) == (0, 390, 4250)
    assert b.tier is None and b.next_tier is not None and b.next_tier.discount_pct == 5
    assert b.remaining_rub == 750
    assert b.first_name == "Валентина"

    clock.advance(14 * DAY - 1)
    assert records.balance(engine, settings.rules, "2000100000014", now=clock()).balance_points == 0
    clock.advance(1)
    records.purchase(engine, settings.rules, "2000100000014", 1000, now=clock())
    b = records.balance(engine, settings.rules, "2000100000014", now=clock())
    assert (b.balance_points, b.pending_points, b.total_spent_rub) == (390, 100, 5250)
    assert b.tier is not None and b.tier.name_en == "Silver" and b.next_tier is not None
    assert b.remaining_rub == 25000 - 5250

    records.redeem(engine, "2000100000014", 90, now=clock())
    assert records.balance(engine, settings.rules, "2000100000014", now=clock()).balance_points == 300
    with pytest.raises(ValueError):
        records.redeem(engine, "2000100000014", 301, now=clock())
    with pytest.raises(records.UnknownCard):
        records.purchase(engine, settings.rules, "999900000000", 100, now=clock())


def test_withdraw_destroys_personal_data_but_keeps_the_proof(
    engine: Engine, keys: HqKeys, settings: HqSettings
) -> None:
    env = _signup(engine, keys, "2000100000021")
    records.purchase(engine, settings.rules, "2000100000021", 500, now=1000.0)
    assert records.phone_is_member(engine, PERSON["phone"])
    records.withdraw(engine, "2000100000021", now=2000.0)

    with engine.connect() as conn:
        c = conn.execute(sa.select(db.customers)).one()
        card = conn.execute(sa.select(db.cards)).one()
        consents = conn.execute(sa.select(db.consent_records)).all()
        w = conn.execute(sa.select(db.withdrawals)).one()
        everything = [tuple(r) for t in db.metadata.sorted_tables for r in conn.execute(sa.select(t))]
    assert all(getattr(c, col) is None for col in db.PERSONAL_COLUMNS)
    assert (c.card, c.event_id, c.blocked, c.withdrawn_at) == ("2000100000021", env["event_id"], True, 2000.0)
    assert card.blocked is True
    assert len(consents) == 2 and all(r.withdrawn_at == 2000.0 for r in consents)
    assert {r.sha256 for r in consents} == {"ab" * 32} and all(r.confirmed_at for r in consents)
    assert (w.card, w.at) == ("2000100000021", 2000.0)
    text = repr(everything)
    for value in PERSON.values():
        assert value not in text
    with pytest.raises(records.UnknownCard):
        records.balance(engine, settings.rules, "2000100000021")
    assert not records.phone_is_member(engine, PERSON["phone"])
    records.withdraw(engine, "2000100000021", now=3000.0)  # repeated: nothing changes
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.withdrawals)).scalar() == 1


def test_export_consents_json_lines(engine: Engine, keys: HqKeys) -> None:
    env = _signup(engine, keys, "2000100000038")
    _signup(engine, keys, "2000100000045", ads=False)
    lines = list(records.export_consents(engine))
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 3
    first = next(r for r in rows if r["card"] == "2000100000038" and r["kind"] == "processing")
    sent = next(c for c in env["consents"] if c["kind"] == "processing")  # type: ignore[union-attr]
    for key in (
        "consent_id",
        "version",
        "sha256",
        "shown_at",
        "confirmed_at",
        "code_sent_at",
        "attempts",
        "masked_phone",
    ):
        assert first[key] == sent[key]
    assert first["kiosk_id"] == "kiosk-a" and first["withdrawn_at"] is None
    assert PERSON["phone"] not in "\n".join(lines)


def test_settings_validation() -> None:
    data = tomllib.loads(HQ_TOML)
    settings = parse_settings(data)
    assert settings.version == 7 and settings.kiosks == ("kiosk-a", "kiosk-b")
    assert settings.rules.activation_delay_days == 14 and settings.otp.per_phone_daily_cap == 3
    data["program"]["per_rub"] = 0
    data["bogus"] = {}
    with pytest.raises(ConfigError) as err:
        parse_settings(data, "hq.toml")
    locations = {loc for loc, _ in err.value.problems}
    assert {"program.per_rub", "bogus"} <= locations


def test_cli(tmp_path: Path, keys: HqKeys, capsys: pytest.CaptureFixture[str]) -> None:
    kdir = tmp_path / "cli-keys"
    assert main(["keygen", str(kdir)]) == 0
    for name in ("hq_seal.key", "hq_sign.key", "hq_phone.key"):
        assert stat.S_IMODE((kdir / name).stat().st_mode) == 0o600
    loaded = load_keys(kdir)
    assert bytes(loaded.seal.public_key) != bytes(keys.seal.public_key)
    assert main(["keygen", str(kdir)]) == 3  # refuses to replace keys

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    program = tmp_path / "hq.toml"
    program.write_text(HQ_TOML, encoding="utf-8")
    engine = db.connect(url)
    _signup(engine, loaded, "2000100000090")
    assert main(["purchase", "2000100000090", "1999.99", "--db", url, "--program", str(program)]) == 0
    assert "+190 points" in capsys.readouterr().out
    assert main(["purchase", "000199999999", "100", "--db", url, "--program", str(program)]) == 4
    out = tmp_path / "consents.jsonl"
    assert main(["export-consents", "--db", url, "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 2
    assert main(["withdraw", "2000100000090", "--db", url]) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.customers.c.name)).scalar() is None
    program.write_text("[program]\nper_rub = 0\n", encoding="utf-8")
    assert main(["purchase", "2000100000090", "1", "--db", url, "--program", str(program)]) == 3
