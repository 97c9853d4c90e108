"""Consent documents: every element of DESIGN.md section 5, in both languages, from the real config."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import consent_terms, load_config
from kiosk.core.consent import (
    ACTIONS,
    CHANNEL_LABELS,
    FIELD_LABELS,
    LEGAL_DESTRUCTION_DAYS,
    Confirmation,
    ConsentDocument,
    ConsentKind,
    Subject,
    ads_channels,
    compose,
    printable,
    render_copy,
)
from kiosk.core.model import LANGS, ConsentTerms, Field, Operator, Text, ThirdParty

KINDS = tuple(ConsentKind)


@pytest.fixture(scope="module")
def terms() -> ConsentTerms:
    return consent_terms(load_config())


def processing(terms: ConsentTerms, lang: str) -> str:
    return compose(terms, ConsentKind.PROCESSING, lang).text


def advertising(terms: ConsentTerms, lang: str) -> str:
    return compose(terms, ConsentKind.ADVERTISING, lang).text


def has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, flags=re.IGNORECASE) is not None


def list_items(text: str) -> list[str]:
    """Each '- item;' line of a document, without the dash and the closing punctuation."""
    return [line[2:].rstrip(";.") for line in text.splitlines() if line.startswith("- ")]


def section(text: str, number: int) -> str:
    """The body of the numbered section ``number`` ('7. Heading' ... up to the next heading)."""
    match = re.search(rf"^{number}\. .*?$(.*?)(?=^\d+\. |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match is not None, f"section {number} missing"
    return match.group(1)


def sample_party() -> ThirdParty:
    return ThirdParty(
        name="ООО «СМС—Центр»",
        address="197000, г. Санкт-Петербург, Невский пр., д. 10",
        purpose=Text("отправка SMS-сообщений с кодом подтверждения", "sending SMS messages with the code"),
    )


# --- Operator, purpose, data, actions, methods ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_operator_name_address_inn_and_contact(terms: ConsentTerms, kind: ConsentKind, lang: str) -> None:
    text = compose(terms, kind, lang).text
    op = terms.operator
    assert "«" in op.name  # the default config uses typographic quotes; they must be mapped
    for value in (op.name, op.legal_address, op.inn, op.contact):
        assert printable(value) in section(text, 1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_operator_policy_link_when_published(terms: ConsentTerms, kind: ConsentKind, lang: str) -> None:
    policy = terms.operator.policy_url
    assert policy is not None  # the default config publishes one
    assert policy in section(compose(terms, kind, lang).text, 1)
    without = dataclasses.replace(terms, operator=dataclasses.replace(terms.operator, policy_url=None))
    assert "https://" not in compose(without, kind, lang).text


@pytest.mark.parametrize("lang", LANGS)
def test_purpose(terms: ConsentTerms, lang: str) -> None:
    assert printable(terms.purpose.get(lang)).rstrip(".") in section(processing(terms, lang), 2)


@pytest.mark.parametrize("lang", LANGS)
def test_every_collected_field_is_listed_in_form_order(terms: ConsentTerms, lang: str) -> None:
    items = list_items(section(processing(terms, lang), 3))
    assert items == [FIELD_LABELS[f].get(lang) for f in terms.collected]
    assert len(items) == len(terms.collected) >= 2


@pytest.mark.parametrize("lang", LANGS)
def test_every_action_is_listed(terms: ConsentTerms, lang: str) -> None:
    items = list_items(section(processing(terms, lang), 4))
    assert items == [a.get(lang) for a in ACTIONS]
    assert len(items) == 13  # the actions of 152-FZ art. 3 p. 3, retrieval included


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        ("ru", ("смешанным способом", "с использованием средств автоматизации", "без их использования",
                "по внутренней сети", "Интернет")),
        ("en", ("both automated and non-automated", "internal network", "Internet")),
    ],
)  # fmt: skip
def test_processing_methods(terms: ConsentTerms, lang: str, phrases: tuple[str, ...]) -> None:
    body = section(processing(terms, lang), 5)
    for phrase in phrases:
        assert phrase in body


# --- Third parties --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_third_party_is_named_with_address_and_purpose(terms: ConsentTerms, lang: str) -> None:
    party = sample_party()
    with_party = replace(terms, third_parties=(party,))
    none_text = section(processing(replace(terms, third_parties=()), lang), 6)
    body = section(processing(with_party, lang), 6)
    items = list_items(body)
    assert len(items) == 1
    assert printable(party.name) in items[0]
    assert printable(party.address) in items[0]
    assert printable(party.purpose.get(lang)) in items[0]
    # The "no third parties" statement is replaced, not kept alongside.
    assert none_text.strip() not in body


@pytest.mark.parametrize(("lang", "phrase"), [("ru", "не передает"), ("en", "does not transfer")])
def test_no_third_parties_is_stated_explicitly(terms: ConsentTerms, lang: str, phrase: str) -> None:
    body = section(processing(replace(terms, third_parties=()), lang), 6)
    assert phrase in body
    assert list_items(body) == []


def test_several_third_parties_each_get_an_item(terms: ConsentTerms) -> None:
    second = ThirdParty(name="АО «Доставка»", address="101000, г. Москва, ул. Тестовая, 5", purpose=Text("x", "y"))
    body = section(processing(replace(terms, third_parties=(sample_party(), second)), "ru"), 6)
    items = list_items(body)
    assert len(items) == 2
    assert printable(second.name) in items[1]


# --- Term, retention, withdrawal ------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_term_and_retention_days(terms: ConsentTerms, lang: str) -> None:
    body = section(processing(terms, lang), 7)
    assert printable(terms.term.get(lang)).rstrip(".") in body
    assert re.search(rf"\b{terms.retention_after_days}\b", body)


@pytest.mark.parametrize(
    ("days", "lang", "expected"),
    [
        (30, "ru", "в течение 30 дней"),
        (21, "ru", "в течение 21 дня"),
        (1, "ru", "в течение 1 дня"),
        (3, "ru", "в течение 3 дней"),
        (11, "ru", "в течение 11 дней"),
        (45, "en", "within 45 days"),
        (1, "en", "within 1 day"),
        (0, "ru", "незамедлительно"),
        (0, "en", "without delay"),
    ],
)
def test_retention_wording(terms: ConsentTerms, days: int, lang: str, expected: str) -> None:
    assert expected in section(processing(replace(terms, retention_after_days=days), lang), 7)


@pytest.mark.parametrize("lang", LANGS)
def test_withdrawal_and_destruction_within_the_legal_period(terms: ConsentTerms, lang: str) -> None:
    body = section(processing(terms, lang), 8)
    assert printable(terms.withdrawal.get(lang)).rstrip(".") in body
    assert f"{LEGAL_DESTRUCTION_DAYS} " in body
    assert ("уничтожает" if lang == "ru" else "destroys") in body


@pytest.mark.parametrize("lang", LANGS)
def test_contact_for_requests_and_rights(terms: ConsentTerms, lang: str) -> None:
    text = processing(terms, lang)
    assert printable(terms.operator.contact) in section(text, 1)
    assert ("уточнения, блокирования или уничтожения" if lang == "ru" else "corrected, blocked or destroyed") in (
        section(text, 9)
    )


@pytest.mark.parametrize(
    ("lang", "rules_word", "ads_word"),
    [
        ("ru", "Правила программы лояльности", "рекламных сообщений"),
        ("en", "rules of the loyalty programme", "advertising"),
    ],
)
def test_separate_from_rules_and_from_advertising(
    terms: ConsentTerms, lang: str, rules_word: str, ads_word: str
) -> None:
    body = section(processing(terms, lang), 10)
    assert ("отдельным документом" if lang == "ru" else "separate document") in body
    assert rules_word in body
    assert printable(terms.program_name.get(lang)) in body
    assert ads_word in body


@pytest.mark.parametrize(("lang", "word"), [("ru", "кода из SMS"), ("en", "code from the SMS")])
def test_confirmation_by_sms_code_to_the_subjects_phone(terms: ConsentTerms, lang: str, word: str) -> None:
    body = section(processing(terms, lang), 11)
    assert word in body
    assert FIELD_LABELS[Field.PHONE].get(lang) in body


@pytest.mark.parametrize("lang", LANGS)
def test_heading_and_version(terms: ConsentTerms, lang: str) -> None:
    doc = compose(terms, ConsentKind.PROCESSING, lang)
    first = doc.text.splitlines()[0]
    assert first == (
        "Согласие на обработку персональных данных" if lang == "ru" else "Consent to the processing of personal data"
    )
    assert terms.version in doc.text.splitlines()[2]
    assert doc.version == terms.version
    assert doc.kind is ConsentKind.PROCESSING
    assert doc.lang == lang


# --- Only collected data --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_fields_not_collected_are_not_named(terms: ConsentTerms, kind: ConsentKind, lang: str) -> None:
    narrow = replace(terms, collected=(Field.NAME, Field.PHONE), ads_channels=("sms",))
    text = compose(narrow, kind, lang).text
    for field in (Field.BIRTH_DATE, Field.GENDER, Field.EMAIL):
        assert not has_word(text, FIELD_LABELS[field].get(lang)), field
    for word in ("рождения", "birth", "gender", "электронной почты"):
        assert word not in text
    if kind is ConsentKind.PROCESSING:
        assert list_items(section(text, 3)) == [
            FIELD_LABELS[Field.NAME].get(lang),
            FIELD_LABELS[Field.PHONE].get(lang),
        ]
    # ... while the full default form names them.
    full = processing(terms, lang)
    assert has_word(full, FIELD_LABELS[Field.GENDER].get(lang))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_name_is_not_mentioned_when_not_collected(terms: ConsentTerms, kind: ConsentKind, lang: str) -> None:
    phone_only = replace(terms, collected=(Field.PHONE,), ads_channels=("sms",))
    text = compose(phone_only, kind, lang).text
    assert not has_word(text, FIELD_LABELS[Field.NAME].get(lang))
    assert has_word(compose(terms, kind, lang).text, FIELD_LABELS[Field.NAME].get(lang))


# --- Hash -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_hash_is_sha256_of_the_text_and_deterministic(terms: ConsentTerms, kind: ConsentKind, lang: str) -> None:
    doc = compose(terms, kind, lang)
    assert doc.sha256 == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    rebuilt = consent_terms(load_config())
    assert compose(rebuilt, kind, lang) == doc


def _variants(terms: ConsentTerms) -> dict[str, ConsentTerms]:
    op = terms.operator
    return {
        "version": replace(terms, version=terms.version + "a"),
        "operator.name": replace(terms, operator=replace(op, name=op.name + " 2")),
        "operator.address": replace(terms, operator=replace(op, legal_address=op.legal_address + ", к. 2")),
        "operator.inn": replace(terms, operator=replace(op, inn="500100732259")),
        "operator.contact": replace(terms, operator=replace(op, contact="dpo@zerno.example")),
        "purpose": replace(terms, purpose=Text(terms.purpose.ru + " и др.", terms.purpose.en + " etc.")),
        "term": replace(terms, term=Text(terms.term.ru + " и далее", terms.term.en + " and later")),
        "retention": replace(terms, retention_after_days=terms.retention_after_days + 1),
        "withdrawal": replace(terms, withdrawal=Text("звонок оператору", "a call to the operator")),
        "third_parties": replace(terms, third_parties=(sample_party(),)),
        "collected": replace(terms, collected=(Field.NAME, Field.PHONE, Field.EMAIL)),
        "program_name": replace(terms, program_name=Text("Другая программа", "Another programme")),
    }


@pytest.mark.parametrize("lang", LANGS)
def test_processing_hash_changes_with_every_config_value(terms: ConsentTerms, lang: str) -> None:
    base = compose(terms, ConsentKind.PROCESSING, lang).sha256
    hashes = {name: compose(v, ConsentKind.PROCESSING, lang).sha256 for name, v in _variants(terms).items()}
    for name, digest in hashes.items():
        assert digest != base, name
    assert len(set(hashes.values())) == len(hashes)


@pytest.mark.parametrize("lang", LANGS)
def test_advertising_hash_changes_with_its_config_values(terms: ConsentTerms, lang: str) -> None:
    base = compose(terms, ConsentKind.ADVERTISING, lang).sha256
    changed = [
        replace(terms, ads_purpose=Text("новости", "news")),
        replace(terms, ads_channels=("sms",)),
        replace(terms, version="2027-01-01"),
        replace(terms, operator=replace(terms.operator, contact="ads@zerno.example")),
    ]
    digests = [compose(t, ConsentKind.ADVERTISING, lang).sha256 for t in changed]
    assert base not in digests
    assert len(set(digests)) == len(digests)


def test_languages_and_kinds_are_distinct_documents(terms: ConsentTerms) -> None:
    digests = {compose(terms, k, lang).sha256 for k in KINDS for lang in LANGS}
    assert len(digests) == len(KINDS) * len(LANGS)


def test_no_unfilled_placeholders(terms: ConsentTerms) -> None:
    for kind in KINDS:
        for lang in LANGS:
            text = compose(terms, kind, lang).text
            assert "{" not in text and "}" not in text


def test_unknown_language_is_rejected(terms: ConsentTerms) -> None:
    with pytest.raises(ValueError, match="language"):
        compose(terms, ConsentKind.PROCESSING, "de")


# --- The printed copy -----------------------------------------------------------------------------

SENT = datetime(2026, 12, 4, 10, 14, 30, tzinfo=UTC)
CONFIRMED = datetime(2026, 12, 4, 10, 15, 3, tzinfo=UTC)
SHOWN = datetime(2026, 12, 4, 10, 13, 58, tzinfo=UTC)


def _copy(doc: ConsentDocument, lang: str, subject: Subject | None = None) -> str:
    return render_copy(
        doc,
        subject or Subject(name="Валентина", masked_phone="+7 *** ***-**-90"),
        consent_id="01JEX4Q5R7M2N8P3S6T9V0W1YZ",
        kiosk_id="kiosk-0001",
        shown_at=SHOWN,
        confirmation=Confirmation(method="sms-code", code_sent_at=SENT, confirmed_at=CONFIRMED, attempts=2),
        lang=lang,
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_copy_is_the_exact_text_then_the_subject_block(terms: ConsentTerms, kind: ConsentKind, lang: str) -> None:
    doc = compose(terms, kind, lang)
    copy = _copy(doc, lang)
    assert copy.startswith(doc.text + "\n\n")
    tail = copy[len(doc.text) :]
    for value in ("Валентина", "+7 *** ***-**-90", "01JEX4Q5R7M2N8P3S6T9V0W1YZ", "kiosk-0001"):
        assert value in tail
        assert value not in doc.text  # customer-specific data stays out of the hashed text
    assert doc.version in tail
    assert doc.sha256[:32] in tail and doc.sha256[32:] in tail
    date = "04.12.2026" if lang == "ru" else "2026-12-04"
    assert f"{date} 10:14:30 UTC" in tail  # code sent
    assert f"{date} 10:15:03 UTC" in tail  # code confirmed
    assert f"{date} 10:13:58 UTC" in tail  # text shown
    assert re.search(r"\b2\b", tail.splitlines()[-2])  # attempts
    assert ("код из SMS на номер +7 *** ***-**-90" if lang == "ru" else "SMS code to +7 *** ***-**-90") in tail


def test_copy_converts_times_to_utc_and_omits_an_empty_name(terms: ConsentTerms) -> None:
    doc = compose(terms, ConsentKind.PROCESSING, "ru")
    msk = timezone(timedelta(hours=3))
    copy = render_copy(
        doc,
        Subject(name="", masked_phone="+7 *** ***-**-90"),
        "C1",
        "kiosk-0001",
        shown_at=datetime(2026, 12, 4, 13, 0, 0, tzinfo=msk),
        confirmation=None,
        lang="ru",
    )
    tail = copy[len(doc.text) :]
    assert "04.12.2026 10:00:00 UTC" in tail
    assert "Имя:" not in tail
    assert "не получено" in tail


def test_copy_maps_the_customers_name_to_printable_characters(terms: ConsentTerms) -> None:
    doc = compose(terms, ConsentKind.PROCESSING, "en")
    copy = _copy(doc, "en", Subject(name="Zoë «Z»", masked_phone="+7 *** ***-**-90"))
    assert 'Name: Zoe "Z"' in copy
    copy.encode("cp866")


# --- Advertising ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_advertising_document_contents(terms: ConsentTerms, lang: str) -> None:
    text = advertising(terms, lang)
    heading = "Согласие на получение рекламных сообщений" if lang == "ru" else "Consent to receive advertising messages"
    assert text.splitlines()[0] == heading
    assert printable(terms.ads_purpose.get(lang)) in section(text, 2)
    assert list_items(section(text, 3)) == [CHANNEL_LABELS[c].get(lang) for c in terms.ads_channels]
    data = list_items(section(text, 4))
    assert FIELD_LABELS[Field.PHONE].get(lang) in data
    assert FIELD_LABELS[Field.EMAIL].get(lang) in data  # e-mail is collected and a channel by default
    optional = section(text, 5)
    assert ("необязательно" if lang == "ru" else "optional") in optional
    assert ("не влияет на участие" if lang == "ru" else "does not affect taking part") in optional
    withdraw = section(text, 6)
    assert printable(terms.term.get(lang)).rstrip(".") in withdraw
    assert printable(terms.withdrawal.get(lang)).rstrip(".") in withdraw
    assert ("в любое время" if lang == "ru" else "at any time") in withdraw
    assert ("в каждом рекламном сообщении" if lang == "ru" else "every advertising message") in withdraw
    assert ("отдельным документом" if lang == "ru" else "separate document") in section(text, 7)


@pytest.mark.parametrize("lang", LANGS)
def test_advertising_is_separate_from_processing(terms: ConsentTerms, lang: str) -> None:
    ads = advertising(terms, lang)
    proc = processing(terms, lang)
    assert ads != proc
    for action in ACTIONS:
        assert f"- {action.get(lang)}" not in ads


@pytest.mark.parametrize("lang", LANGS)
def test_advertising_channels_follow_the_config(terms: ConsentTerms, lang: str) -> None:
    all_three = replace(terms, ads_channels=("messenger", "sms", "email", "sms"))
    assert list_items(section(advertising(all_three, lang), 3)) == [
        CHANNEL_LABELS[c].get(lang) for c in ("messenger", "sms", "email")
    ]
    sms_only = replace(terms, ads_channels=("sms",))
    body = advertising(sms_only, lang)
    assert list_items(section(body, 3)) == [CHANNEL_LABELS["sms"].get(lang)]
    assert list_items(section(body, 4)) == [FIELD_LABELS[Field.PHONE].get(lang)]


def test_email_channel_is_dropped_when_email_is_not_collected(terms: ConsentTerms) -> None:
    no_email = replace(terms, collected=(Field.NAME, Field.PHONE), ads_channels=("sms", "email"))
    assert ads_channels(no_email) == ("sms",)
    with pytest.raises(ValueError, match="channel"):
        compose(replace(no_email, ads_channels=("email",)), ConsentKind.ADVERTISING, "ru")


# --- CP866 ----------------------------------------------------------------------------------------


def _hostile(terms: ConsentTerms) -> ConsentTerms:
    return replace(
        terms,
        operator=Operator(
            name="ООО «Зерно» — кофейня", legal_address="г. Москва, ул. Ленина, д. 1–3", inn="7707083893",
            contact="“privacy”@zerno.example",
        ),
        purpose=Text("участие в программе «Зерно Бонус»…", "taking part in ‘Zerno Bonus’ — the programme"),
        third_parties=(sample_party(),),
        program_name=Text("«Зерно Бонус»", "Zerno Bonus ₽"),
    )  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
def test_documents_and_copies_encode_in_cp866(terms: ConsentTerms, kind: ConsentKind, lang: str) -> None:
    for t in (terms, _hostile(terms)):
        doc = compose(t, kind, lang)
        doc.text.encode("cp866")
        _copy(doc, lang).encode("cp866")
        for ch in "«»—–’“”₽…":
            assert ch not in doc.text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ООО «Зерно»", 'ООО "Зерно"'),
        ("а — б – в", "а - б - в"),
        ("it’s", "it's"),
        ("100 ₽", "100 руб."),
        ("Café", "Cafe"),
        ("中", "?"),
        ("  a\n\tb  ", "a b"),
        ("№ 5", "№ 5"),
        ("ёлка\u00a0Ёж", "ёлка\u00a0Ёж"),
        ("1\u202f000", "1\u00a0000"),
    ],
)
def test_printable_mapping(raw: str, expected: str) -> None:
    assert printable(raw) == expected


@given(st.text())
def test_printable_always_encodes_in_cp866_and_is_idempotent(raw: str) -> None:
    out = printable(raw)
    out.encode("cp866")
    assert printable(out) == out
