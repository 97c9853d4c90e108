"""Head office's RPC answers: the per-kiosk lookup limit and the one-time-code-only SMS relay."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from hq.ingest import Ingestor, Status
from hq.keys import HqKeys
from hq.rpc import LOOKUP_LIMIT, RpcHandler, is_code_sms
from hq.settings import HqSettings
from kiosk.core.cards import card_number
from kiosk.hw.sms import code_message, sms_length
from kiosk.hw.sms.console import ConsoleSms
from kiosk.sync import contract
from tests.hq.conftest import FakeClock, events_topic, signup_envelope

PHONE = "+79164827359"


@pytest.fixture
def handler(sqlite_engine: Engine, keys: HqKeys, settings: HqSettings, clock: FakeClock) -> RpcHandler:
    return RpcHandler(sqlite_engine, keys, settings, sms=ConsoleSms(), clock=clock)


def test_lookups_are_limited_per_kiosk(handler: RpcHandler, keys: HqKeys, clock: FakeClock) -> None:
    env = signup_envelope("kiosk-a", keys.seal.public_key, card=card_number(1, 1))
    assert Ingestor(handler.engine, keys.seal).ingest_one(events_topic("kiosk-a"), contract.dumps(env)).status is (
        Status.STORED
    )
    answers = []
    for n in range(LOOKUP_LIMIT):
        if n % 2:
            answers.append(handler.handle("kiosk-a", "phone_lookup", {"phone": PHONE}))
        else:
            answers.append(handler.handle("kiosk-a", "card_lookup", {"card": card_number(1, 1 + n)}))
    assert answers[0][1] is None and answers[1] == ({"member": True}, None)
    assert answers[2] == (None, "not_found")
    assert all(error != "rate_limited" for _, error in answers)
    # both kinds share the budget
    assert handler.handle("kiosk-a", "card_lookup", {"card": card_number(1, 1)}) == (None, "rate_limited")
    assert handler.handle("kiosk-a", "phone_lookup", {"phone": PHONE}) == (None, "rate_limited")
    # another kiosk has its own
    assert handler.handle("kiosk-b", "phone_lookup", {"phone": PHONE}) == ({"member": True}, None)
    clock.advance(59)
    assert handler.handle("kiosk-a", "phone_lookup", {"phone": PHONE}) == (None, "rate_limited")
    clock.advance(1.5)  # a minute after the first lookups
    assert handler.handle("kiosk-a", "phone_lookup", {"phone": PHONE}) == ({"member": True}, None)


@pytest.mark.parametrize(
    "text",
    [
        "Your consent confirmation code: 123456. Do not share it. Zerno Coffee House",
        "Код: 4821",
        "12345678",
        "Код 123456. Зерно",
        "x" * 153 + " 123456",  # 160 GSM characters
        "{code} 123456 " + "a" * 144,  # braces are GSM extension characters: 2 each, 160 in all
        "Код 123456 " + "я" * 59,  # 70 UCS-2 characters
        "Code 123456 " + "\U0001f600" * 29,  # 12 + 58 UTF-16 units
    ],
)
def test_code_messages_are_relayed(handler: RpcHandler, text: str) -> None:
    assert is_code_sms(text)
    assert handler.handle("kiosk-a", "send_sms", {"phone": PHONE, "text": text}) == ({"sent": True}, None)
    assert isinstance(handler.sms, ConsoleSms) and handler.sms.outbox[-1] == (PHONE, text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Big sale today at Zerno! Come and see us.",  # no code at all
        "Code: 123",  # too short to be a code
        "Code: 123456789",  # too long
        "Code: A123456",  # not a word of its own
        "Код123456",
        "Code 123456, details at http://zerno.example",
        "Code 123456, see www.zerno.example",
        "Code 123456 zerno.example/x HTTPS-free? no: ftp://zerno.example",
        "Code 123456 HTTP",
        "x" * 154 + " 123456",  # 161 GSM characters: two SMS
        "{code} 123456 " + "a" * 145,  # 161 septets with the extension characters
        "Код 123456 " + "я" * 60,  # 71 UCS-2 characters
        "Code 123456 " + "\U0001f600" * 30,  # 72 UTF-16 units: emoji take two
    ],
)
def test_anything_else_is_refused(handler: RpcHandler, text: str) -> None:
    assert not is_code_sms(text)
    assert handler.handle("kiosk-a", "send_sms", {"phone": PHONE, "text": text}) == (None, "bad_request")
    assert isinstance(handler.sms, ConsoleSms) and handler.sms.outbox == []


def test_sms_lengths() -> None:
    assert sms_length("Code 1234") == (9, 160)
    assert sms_length("[1234]") == (8, 160)
    assert sms_length("Код 1234") == (8, 70)
    assert sms_length("Code 1234 \U0001f600") == (12, 70)


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("store", ["Zerno", "Кофейня «Зерно»", "Сеть кофеен «Очень длинное название для проверки»"])
def test_the_kiosks_code_messages_are_accepted_by_head_office(lang: str, store: str) -> None:
    """What the kiosk composes always fits one SMS and passes head office's relay check."""
    text = code_message(lang, "482913", store)
    assert is_code_sms(text), text
    assert "482913" in text
