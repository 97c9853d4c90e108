"""Storing sign-up events: idempotency, refusals, sealed payloads (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hq import db
from hq.ingest import Ingestor, Reason, Status, ack_messages
from hq.keys import HqKeys
from hq.settings import parse_settings
from kiosk.core.cards import card_number
from kiosk.errors import ConfigError
from kiosk.keys import load_dev_hq_private
from kiosk.sync import contract
from tests.conftest import make_config
from tests.hq.conftest import HQ_TOML, PERSON, events_topic, signup_envelope
from tests.signup_helpers import harness, sign_up


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_same_event_twice_stores_one_customer_and_acks_both(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    env = signup_envelope("kiosk-a", keys.seal.public_key)
    payload = contract.dumps(env)
    first = ing.ingest_one(events_topic("kiosk-a"), payload)
    second = ing.ingest_one(events_topic("kiosk-a"), payload)
    assert (first.status, second.status) == (Status.STORED, Status.DUPLICATE)
    assert _count(engine, db.customers) == 1
    assert _count(engine, db.consent_records) == 2
    acks = ack_messages([first, second])
    assert [t for t, _ in acks] == ["loyalty/v1/kiosk/kiosk-a/acks"]
    assert contract.parse_ack(acks[0][1]) == [env["event_id"], env["event_id"]]


def test_duplicate_inside_one_batch_and_others_unaffected(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    a = contract.dumps(signup_envelope("kiosk-a", keys.seal.public_key, card="2000100000014"))
    b = contract.dumps(signup_envelope("kiosk-b", keys.seal.public_key, card="2000200000013"))
    out = ing.ingest([(events_topic("kiosk-a"), a), (events_topic("kiosk-a"), a), (events_topic("kiosk-b"), b)])
    assert [o.status for o in out] == [Status.STORED, Status.DUPLICATE, Status.STORED]
    assert _count(engine, db.customers) == 2
    acks = dict(ack_messages(out))
    assert len(contract.parse_ack(acks["loyalty/v1/kiosk/kiosk-a/acks"])) == 2
    assert len(contract.parse_ack(acks["loyalty/v1/kiosk/kiosk-b/acks"])) == 1


def test_sealed_payload_is_opened_into_the_customer_row(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    env = signup_envelope("kiosk-a", keys.seal.public_key, card="2000100000427", ads=False)
    assert PERSON["name"] not in json.dumps(env, ensure_ascii=False)
    assert ing.ingest_one(events_topic("kiosk-a"), contract.dumps(env)).status is Status.STORED
    with engine.connect() as conn:
        row = conn.execute(sa.select(db.customers)).one()
        card = conn.execute(sa.select(db.cards)).one()
    assert (row.name, row.phone, row.birth_date, row.gender, row.email) == tuple(
        PERSON[k] for k in ("name", "phone", "birth_date", "gender", "email")
    )
    assert row.card == card.card == "2000100000427"
    assert row.kiosk_id == "kiosk-a" and row.ads_consent is False and row.blocked is False


def test_envelope_from_the_real_kiosk_signup(tmp_path: Path, sqlite_engine: Engine) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    result = sign_up(h, ads=True)
    [(_, event)] = h.store.outbox_batch(10)
    ing = Ingestor(sqlite_engine, load_dev_hq_private(cfg))
    out = ing.ingest_one(events_topic(cfg.kiosk.id), contract.dumps(event.envelope))
    assert out.status is Status.STORED, out
    with sqlite_engine.connect() as conn:
        customer = conn.execute(sa.select(db.customers)).one()
        consents = conn.execute(sa.select(db.consent_records).order_by(db.consent_records.c.kind)).all()
    assert customer.card == result.card_number
    assert customer.phone == "+79164827359" and customer.name.startswith("Валентина")
    assert [c.kind for c in consents] == ["advertising", "processing"]
    assert {c.consent_id for c in consents} == {result.processing.consent_id, result.advertising.consent_id}
    assert consents[1].sha256 == result.processing.document.sha256


def test_event_for_another_kiosk_is_refused_but_kept_and_acked(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    env = signup_envelope("kiosk-b", keys.seal.public_key)  # claims to be kiosk-b ...
    out = ing.ingest_one(events_topic("kiosk-a"), contract.dumps(env))  # ... on kiosk-a's topic
    assert out.status is Status.REJECTED and out.reason is Reason.KIOSK_MISMATCH
    assert _count(engine, db.customers) == 0 and _count(engine, db.consent_records) == 0
    with engine.connect() as conn:
        dead = conn.execute(sa.select(db.rejected_events)).one()
    assert (dead.event_id, dead.topic_kiosk_id, dead.reason) == (env["event_id"], "kiosk-a", "kiosk_mismatch")
    assert PERSON["phone"].encode() not in dead.payload  # kept sealed
    # the ack goes to the kiosk that sent it, never to the kiosk it named
    assert [t for t, _ in ack_messages([out])] == ["loyalty/v1/kiosk/kiosk-a/acks"]
    again = ing.ingest_one(events_topic("kiosk-a"), contract.dumps(env))
    assert again.status is Status.DUPLICATE


def test_malformed_payloads(sqlite_engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(sqlite_engine, keys.seal)
    other = HqKeys(seal=type(keys.seal).generate(), sign=keys.sign, phone=keys.phone)
    wrong_key = signup_envelope("kiosk-a", other.seal.public_key)
    no_phone = signup_envelope("kiosk-a", keys.seal.public_key, person={"name": "X"})
    unknown = {**signup_envelope("kiosk-a", keys.seal.public_key), "type": "refund"}
    no_consent = {**signup_envelope("kiosk-a", keys.seal.public_key), "consents": []}
    cases = [
        (b"not json", Reason.NOT_JSON, False),
        (contract.dumps({"type": "signup"}), Reason.NO_EVENT_ID, False),
        (contract.dumps(wrong_key), Reason.UNSEALABLE, True),
        (contract.dumps(no_phone), Reason.MALFORMED, True),
        (contract.dumps(unknown), Reason.UNKNOWN_TYPE, True),
        (contract.dumps(no_consent), Reason.MALFORMED, True),
    ]
    for payload, reason, ackable in cases:
        out = ing.ingest_one(events_topic("kiosk-a"), payload)
        assert (out.status, out.reason, out.ackable) == (Status.REJECTED, reason, ackable)
    assert ing.ingest_one("other/topic", b"{}").reason is Reason.BAD_TOPIC
    assert _count(sqlite_engine, db.customers) == 0
    assert _count(sqlite_engine, db.rejected_events) == len(cases) + 1
    assert ing.counts["rejected:malformed"] == 2


def test_card_conflict_is_dead_lettered_and_acked(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    first = signup_envelope("kiosk-a", keys.seal.public_key, card="2000100000076")
    clash = signup_envelope("kiosk-a", keys.seal.public_key, card="2000100000076")
    out = ing.ingest(
        [(events_topic("kiosk-a"), contract.dumps(first)), (events_topic("kiosk-a"), contract.dumps(clash))]
    )
    assert [o.status for o in out] == [Status.STORED, Status.REJECTED]
    assert out[1].reason is Reason.CONFLICT and out[1].ackable
    assert _count(engine, db.customers) == 1 and _count(engine, db.consent_records) == 2
    with engine.connect() as conn:
        outcome = conn.execute(sa.select(db.events.c.outcome).where(db.events.c.event_id == clash["event_id"])).scalar()
    assert outcome == "rejected"


def test_bulk_batch_links_cards_and_falls_back_only_for_the_clash(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    pub = keys.seal.public_key
    earlier = signup_envelope("kiosk-a", pub, card="2000100000908")
    assert ing.ingest_one(events_topic("kiosk-a"), contract.dumps(earlier)).status is Status.STORED
    good = [signup_envelope("kiosk-a", pub, card=card_number(1, 100 + i)) for i in range(3)]
    clash = signup_envelope("kiosk-a", pub, card="2000100000908")  # card taken by an earlier batch
    broken = {**signup_envelope("kiosk-a", pub, card="2000100002001"), "sealed": "AAAA"}
    batch = [good[0], earlier, clash, good[1], broken, good[2]]
    out = ing.ingest([(events_topic("kiosk-a"), contract.dumps(e)) for e in batch])
    assert [o.status for o in out] == [
        Status.STORED,
        Status.DUPLICATE,
        Status.REJECTED,
        Status.STORED,
        Status.REJECTED,
        Status.STORED,
    ]
    assert (out[2].reason, out[4].reason) == (Reason.CONFLICT, Reason.UNSEALABLE)
    assert _count(engine, db.customers) == 4 and _count(engine, db.consent_records) == 8
    with engine.connect() as conn:
        linked = conn.execute(
            sa.select(db.cards.c.card, db.customers.c.card, db.customers.c.event_id).join(
                db.customers, db.cards.c.customer_id == db.customers.c.id
            )
        ).all()
        dead = conn.execute(sa.select(db.rejected_events.c.event_id).order_by(db.rejected_events.c.id)).scalars()
        assert list(dead) == [clash["event_id"], broken["event_id"]]
    assert len(linked) == 4 and all(card == customer_card for card, customer_card, _ in linked)
    assert {e for _, _, e in linked} == {earlier["event_id"], *(g["event_id"] for g in good)}
    # the same batch again (a redelivery) is all duplicates and writes nothing
    again = ing.ingest([(events_topic("kiosk-a"), contract.dumps(e)) for e in batch])
    assert {o.status for o in again} == {Status.DUPLICATE}
    assert _count(engine, db.customers) == 4 and _count(engine, db.rejected_events) == 2


def _kiosks(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {k: n for k, n in conn.execute(sa.select(db.kiosks.c.kiosk_id, db.kiosks.c.number))}


def test_first_event_binds_the_kiosk_number_and_other_numbers_are_refused(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    pub = keys.seal.public_key
    own = signup_envelope("kiosk-a", pub, card=card_number(1, 1))
    assert ing.ingest_one(events_topic("kiosk-a"), contract.dumps(own)).status is Status.STORED
    assert _kiosks(engine) == {"kiosk-a": 1}
    # kiosk-a now issues kiosk 2's numbers: refused, kept and acked
    foreign = signup_envelope("kiosk-a", pub, card=card_number(2, 1))
    out = ing.ingest_one(events_topic("kiosk-a"), contract.dumps(foreign))
    assert (out.status, out.reason, out.ackable) == (Status.REJECTED, Reason.CARD_NOT_THIS_KIOSKS, True)
    # another kiosk id with kiosk-a's number: refused too, and it binds nothing
    thief = signup_envelope("kiosk-b", pub, card=card_number(1, 2))
    out = ing.ingest_one(events_topic("kiosk-b"), contract.dumps(thief))
    assert (out.status, out.reason) == (Status.REJECTED, Reason.CARD_NOT_THIS_KIOSKS)
    assert _kiosks(engine) == {"kiosk-a": 1}
    with engine.connect() as conn:
        dead = conn.execute(sa.select(db.rejected_events.c.event_id, db.rejected_events.c.reason)).all()
    assert sorted(dead) == sorted(
        [(foreign["event_id"], "card_not_this_kiosks"), (thief["event_id"], "card_not_this_kiosks")]
    )
    assert _count(engine, db.customers) == 1
    assert ing.counts["rejected:card_not_this_kiosks"] == 2
    # kiosk-b with a number of its own is fine
    fair = signup_envelope("kiosk-b", pub, card=card_number(2, 1))
    assert ing.ingest_one(events_topic("kiosk-b"), contract.dumps(fair)).status is Status.STORED
    assert _kiosks(engine) == {"kiosk-a": 1, "kiosk-b": 2}


def test_binding_inside_one_batch_and_on_the_fallback_path(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    pub = keys.seal.public_key
    earlier = signup_envelope("kiosk-a", pub, card=card_number(1, 5))
    assert ing.ingest_one(events_topic("kiosk-a"), contract.dumps(earlier)).status is Status.STORED
    batch = [
        ("kiosk-c", signup_envelope("kiosk-c", pub, card=card_number(3, 1))),  # binds kiosk-c to 3
        ("kiosk-c", signup_envelope("kiosk-c", pub, card=card_number(4, 1))),  # then 4 is not its number
        ("kiosk-d", signup_envelope("kiosk-d", pub, card=card_number(3, 2))),  # nor is 3 kiosk-d's
        ("kiosk-a", signup_envelope("kiosk-a", pub, card=card_number(1, 5))),  # a card clash: per-event path
        ("kiosk-a", signup_envelope("kiosk-a", pub, card=card_number(3, 3))),  # refused on that path too
        ("kiosk-a", signup_envelope("kiosk-a", pub, card=card_number(1, 6))),
    ]
    out = ing.ingest([(events_topic(k), contract.dumps(e)) for k, e in batch])
    assert [(o.status, o.reason) for o in out] == [
        (Status.STORED, None),
        (Status.REJECTED, Reason.CARD_NOT_THIS_KIOSKS),
        (Status.REJECTED, Reason.CARD_NOT_THIS_KIOSKS),
        (Status.REJECTED, Reason.CONFLICT),
        (Status.REJECTED, Reason.CARD_NOT_THIS_KIOSKS),
        (Status.STORED, None),
    ]
    assert _kiosks(engine) == {"kiosk-a": 1, "kiosk-c": 3}
    with engine.connect() as conn:
        cards = set(conn.execute(sa.select(db.customers.c.card)).scalars())
    assert cards == {card_number(1, 5), card_number(3, 1), card_number(1, 6)}


def test_a_kiosk_whose_only_event_clashed_stays_unbound(engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(engine, keys.seal)
    pub = keys.seal.public_key
    first = signup_envelope("kiosk-a", pub, card=card_number(1, 9))
    assert ing.ingest_one(events_topic("kiosk-a"), contract.dumps(first)).status is Status.STORED
    clash = signup_envelope("kiosk-e", pub, card=card_number(1, 9))
    # kiosk-e has kiosk-a's number: refused before it could clash
    assert ing.ingest_one(events_topic("kiosk-e"), contract.dumps(clash)).reason is Reason.CARD_NOT_THIS_KIOSKS
    assert _kiosks(engine) == {"kiosk-a": 1}


def test_settings_bind_kiosks_before_any_event(engine: Engine, keys: HqKeys) -> None:
    pub = keys.seal.public_key
    # kiosk-b got in first with number 1 (trust on first use) ...
    tofu = Ingestor(engine, keys.seal)
    early = signup_envelope("kiosk-b", pub, card=card_number(1, 1))
    assert tofu.ingest_one(events_topic("kiosk-b"), contract.dumps(early)).status is Status.STORED
    # ... but head office's settings say number 1 is kiosk-a's and kiosk-b is number 2
    listing = 'kiosks = [{id = "kiosk-a", number = 1}, {id = "kiosk-b", number = 2}, "kiosk-c"]'
    settings = parse_settings(tomllib.loads(HQ_TOML.replace('kiosks = ["kiosk-a", "kiosk-b"]', listing)))
    assert settings.kiosks == ("kiosk-a", "kiosk-b", "kiosk-c")
    ing = Ingestor(engine, keys.seal, kiosk_numbers=settings.kiosk_numbers)
    wrong = signup_envelope("kiosk-b", pub, card=card_number(1, 2))
    assert ing.ingest_one(events_topic("kiosk-b"), contract.dumps(wrong)).reason is Reason.CARD_NOT_THIS_KIOSKS
    assert _kiosks(engine) == {"kiosk-a": 1, "kiosk-b": 2}
    listed = signup_envelope("kiosk-a", pub, card=card_number(1, 3))
    assert ing.ingest_one(events_topic("kiosk-a"), contract.dumps(listed)).status is Status.STORED
    # a kiosk listed without a number is still bound by its first event
    c = signup_envelope("kiosk-c", pub, card=card_number(7, 1))
    assert ing.ingest_one(events_topic("kiosk-c"), contract.dumps(c)).status is Status.STORED
    assert _kiosks(engine) == {"kiosk-a": 1, "kiosk-b": 2, "kiosk-c": 7}


def test_a_card_number_that_is_not_ours_is_malformed(sqlite_engine: Engine, keys: HqKeys) -> None:
    ing = Ingestor(sqlite_engine, keys.seal)
    for card in ("000100000001", "2000100000015", "4600000000003"):  # old layout, bad check digit, a product
        env = signup_envelope("kiosk-a", keys.seal.public_key, card=card)
        assert ing.ingest_one(events_topic("kiosk-a"), contract.dumps(env)).reason is Reason.MALFORMED
    assert _kiosks(sqlite_engine) == {}


@pytest.mark.parametrize(
    ("listing", "where"),
    [
        ('kiosks = [{id = "kiosk-a", number = 0}]', "kiosks.0.number"),
        ('kiosks = [{id = "kiosk-a", number = 10000}]', "kiosks.0.number"),
        ('kiosks = [{id = "kiosk-a", number = "1"}]', "kiosks.0.number"),
        ('kiosks = [{id = "kiosk-a", number = 1}, {id = "kiosk-b", number = 1}]', "kiosks.1.number"),
        ('kiosks = [{id = "kiosk-a", number = 1}, "kiosk-a"]', "kiosks.1"),
        ("kiosks = [{number = 1}]", "kiosks.0"),
        ('kiosks = [{id = "kiosk-a", number = 1, secret = "x"}]', "kiosks.0"),
        ("kiosks = [3]", "kiosks.0"),
        ('kiosks = "kiosk-a"', "kiosks"),
    ],
)
def test_settings_refuse_bad_kiosk_listings(listing: str, where: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(tomllib.loads(HQ_TOML.replace('kiosks = ["kiosk-a", "kiosk-b"]', listing)))
    assert where in [loc for loc, _ in err.value.problems]
