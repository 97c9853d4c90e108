"""Field validation and normalisation of the sign-up form."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timedelta

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.config import form_rules, load_config
from kiosk.core.model import Customer, Field, FormRules, Gender
from kiosk.core.validation import (
    Reason,
    Rejection,
    mask_phone,
    normalize_email,
    normalize_name,
    normalize_phone,
    parse_birth_date,
    parse_gender,
    validate_form,
)

TODAY = date(2026, 6, 15)
MEGABYTE = "а" * (1 << 20)


def rejected(result: object, field: Field, reason: Reason) -> bool:
    return result == Rejection(field, reason)


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Анна", "Анна"),
        ("Anna", "Anna"),
        ("Ли", "Ли"),
        ("  Анна   Мария  ", "Анна Мария"),
        ("Анна\u00a0Мария", "Анна Мария"),  # no-break space counts as a space
        ("Римский-Корсаков", "Римский-Корсаков"),
        ("Jean-Luc Picard", "Jean-Luc Picard"),
        ("O'Brien", "O'Brien"),
        ("O\u2019Brien", "O'Brien"),  # typographic apostrophe becomes a plain one
        ("Мар\u02bcяна", "Мар'яна"),
        ("Анна\u2011Мария", "Анна-Мария"),  # non-breaking hyphen
        ("И\u0306ван", "Йван"),  # decomposed й is composed
        ("Е\u0308лкина", "Ёлкина"),
        ("Zoe\u0308", "Zoë"),
        ("Anna Иванова", "Anna Иванова"),  # different words may use different scripts
        ("Łukasz Żółć", "Łukasz Żółć"),
        ("Ёжиков", "Ёжиков"),
    ],
)
def test_name_accepted_and_normalised(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected
    assert unicodedata.is_normalized("NFC", expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", Reason.REQUIRED),
        ("   ", Reason.REQUIRED),
        ("\u00a0\u2003", Reason.REQUIRED),
        ("Анна2", Reason.BAD_CHARACTERS),
        ("Анна 😀", Reason.BAD_CHARACTERS),
        ("Ан\u200bна", Reason.BAD_CHARACTERS),  # zero-width space
        ("Ан\u200dна", Reason.BAD_CHARACTERS),  # zero-width joiner
        ("\ufeffАнна", Reason.BAD_CHARACTERS),  # byte-order mark
        ("Анна\x00", Reason.BAD_CHARACTERS),
        ("\tАнна", Reason.BAD_CHARACTERS),
        ("Анна\nМария", Reason.BAD_CHARACTERS),
        ("Анна.", Reason.BAD_CHARACTERS),
        ("Анна\u0301", Reason.BAD_CHARACTERS),  # combining accent without a precomposed form
        ("Ａｎｎａ", Reason.BAD_CHARACTERS),  # fullwidth Latin
        ("Αννα", Reason.BAD_CHARACTERS),  # Greek
        ("ₐnna", Reason.BAD_CHARACTERS),  # Latin subscript (modifier) letter
        ("Анна\ud800", Reason.BAD_CHARACTERS),  # lone surrogate
        ("Анна\ue000", Reason.BAD_CHARACTERS),  # private use
        ("-", Reason.NO_LETTERS),
        ("'-'", Reason.NO_LETTERS),
        (" - ' ", Reason.NO_LETTERS),
        ("А", Reason.TOO_SHORT),
        ("  Z ", Reason.TOO_SHORT),
        ("-Анна", Reason.MISPLACED_SEPARATOR),
        ("Анна-", Reason.MISPLACED_SEPARATOR),
        ("'Анна", Reason.MISPLACED_SEPARATOR),
        ("Анна'", Reason.MISPLACED_SEPARATOR),
        ("Анна--Мария", Reason.MISPLACED_SEPARATOR),
        ("Анна-'Мария", Reason.MISPLACED_SEPARATOR),
        ("O''Brien", Reason.MISPLACED_SEPARATOR),
        ("Анна - Мария", Reason.MISPLACED_SEPARATOR),
        ("Ивaнов", Reason.MIXED_SCRIPTS),  # Latin "a" inside a Cyrillic surname
        ("Pаul", Reason.MIXED_SCRIPTS),  # Cyrillic "а" inside a Latin name
        ("Анна-Maria", Reason.MIXED_SCRIPTS),  # a hyphenated name is one word
        ("Я" * 61, Reason.TOO_LONG),
        (MEGABYTE, Reason.TOO_LONG),
        (" " * (1 << 20), Reason.TOO_LONG),
    ],
)
def test_name_rejected(raw: str, reason: Reason) -> None:
    assert rejected(normalize_name(raw), Field.NAME, reason)


@pytest.mark.parametrize(
    "bidi", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
)
def test_name_rejects_every_bidi_control(bidi: str) -> None:
    assert rejected(normalize_name(f"Ан{bidi}на"), Field.NAME, Reason.BAD_CHARACTERS)


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u061c", "\u200c"])
def test_name_rejects_direction_marks_and_zero_width(mark: str) -> None:
    assert rejected(normalize_name(f"Anna{mark}"), Field.NAME, Reason.BAD_CHARACTERS)


def test_name_length_is_counted_after_normalisation() -> None:
    assert normalize_name("Я" * 60) == "Я" * 60
    # Spaces that collapse away do not count.
    padded = "   " + "Я" * 30 + "      " + "Я" * 29 + "   "
    assert normalize_name(padded) == "Я" * 30 + " " + "Я" * 29
    assert rejected(normalize_name("Я" * 11, max_len=10), Field.NAME, Reason.TOO_LONG)
    assert normalize_name("Я" * 10, max_len=10) == "Я" * 10


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "8 (912) 345-67-89",
        "+7 912 345 67 89",
        "7 912 3456789",
        "89123456789",
        "+79123456789",
        "+7(912)345-67-89",
        "8.912.345.67.89",
        "  +7 912 345-67-89  ",
    ],
)
def test_phone_formats_give_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+79123456789"


def test_kazakh_number_shares_code_7_and_is_allowed() -> None:
    assert normalize_phone("+7 701 123 45 67") == "+77011234567"
    assert normalize_phone("8 701 123 45 67") == "+77011234567"
    assert phonenumbers.region_code_for_number(phonenumbers.parse("+77011234567")) == "KZ"


def test_other_allowed_countries() -> None:
    assert normalize_phone("+375 29 123 45 67", (7, 375)) == "+375291234567"
    # In the US mobile and fixed ranges overlap: FIXED_LINE_OR_MOBILE counts as mobile.
    us = phonenumbers.parse("+12015550123")
    assert phonenumbers.number_type(us) == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE
    assert normalize_phone("+1 201 555 0123", [1]) == "+12015550123"


@pytest.mark.parametrize(
    ("raw", "allowed", "reason"),
    [
        ("", (7,), Reason.REQUIRED),
        ("   ", (7,), Reason.REQUIRED),
        ("+7 123 456 78 90", (7,), Reason.PHONE_INVALID),  # no such Russian range
        ("8 (123) 456-78-90", (7,), Reason.PHONE_INVALID),
        ("7 123 4567890", (7,), Reason.PHONE_INVALID),
        ("81234567890", (7,), Reason.PHONE_INVALID),
        ("+7 912 345 67", (7,), Reason.PHONE_INVALID),  # too short
        ("12", (7,), Reason.PHONE_INVALID),
        ("()--", (7,), Reason.PHONE_INVALID),
        ("+999 123 456 789", (7,), Reason.PHONE_INVALID),  # unassigned calling code
        ("8 912 ABC 67 89", (7,), Reason.PHONE_INVALID),  # letters
        ("8-800-FLOWERS", (7,), Reason.PHONE_INVALID),
        ("+7 912 345 67 89 ext 12", (7,), Reason.PHONE_INVALID),
        ("+7 912 345 67 89 доб. 12", (7,), Reason.PHONE_INVALID),
        ("+7 ٩١٢ ٣٤٥ ٦٧ ٨٩", (7,), Reason.PHONE_INVALID),  # Arabic-Indic digits
        ("+７ ９１２ ３４５ ６７ ８９", (7,), Reason.PHONE_INVALID),  # fullwidth digits
        ("7+9123456789", (7,), Reason.PHONE_INVALID),
        ("++79123456789", (7,), Reason.PHONE_INVALID),
        ("+79123456789\x00", (7,), Reason.PHONE_INVALID),
        ("+7912345\ud80067", (7,), Reason.PHONE_INVALID),
        ("+7 495 123-45-67", (7,), Reason.PHONE_NOT_MOBILE),  # Moscow landline
        ("8 (495) 123-45-67", (7,), Reason.PHONE_NOT_MOBILE),
        ("+380 50 123 4567", (7,), Reason.PHONE_COUNTRY_NOT_ALLOWED),
        ("+380 123", (7,), Reason.PHONE_COUNTRY_NOT_ALLOWED),  # the country is checked first
        ("+375 29 123 45 67", (7,), Reason.PHONE_COUNTRY_NOT_ALLOWED),
        ("+7 912 345 67 89", (375,), Reason.PHONE_COUNTRY_NOT_ALLOWED),
        ("+7 912 345 67 89", (), Reason.PHONE_COUNTRY_NOT_ALLOWED),
        ("8 912 345 67 89" + " " * 26, (7,), Reason.TOO_LONG),  # 41 characters
        (MEGABYTE, (7,), Reason.TOO_LONG),
    ],
)
def test_phone_rejected(raw: str, allowed: tuple[int, ...], reason: Reason) -> None:
    assert rejected(normalize_phone(raw, allowed), Field.PHONE, reason)


def test_phone_length_limit_is_40_characters() -> None:
    raw = "8 912 345 67 89".ljust(40)
    assert len(raw) == 40
    assert normalize_phone(raw) == "+79123456789"


def test_phone_allowed_codes_may_be_any_iterable() -> None:
    assert normalize_phone("+79123456789", iter([375, 7])) == "+79123456789"
    assert normalize_phone("+79123456789", {7}) == "+79123456789"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+79123456789", "+7 *** ***-**-89"),
        ("+77011234590", "+7 *** ***-**-90"),
        ("+380501234567", "+380 *** ***-**-67"),
        ("+12015550123", "+1 *** ***-**-23"),
    ],
)
def test_mask_phone(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked
    # Nothing but the calling code and the last two digits survives.
    middle = e164[len(masked.split()[0]) : -2]
    assert middle not in mask_phone(e164)


@pytest.mark.parametrize(
    "bad",
    ["", "79123456789", "+7 912 345 67 89", "+", "+0123456789", "+99912345678", "Анна", MEGABYTE, "\ud800"],
)
def test_mask_phone_never_echoes_malformed_input(bad: str) -> None:
    assert mask_phone(bad) == "***"


# --- birth dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01.02.2000", date(2000, 2, 1)),
        ("  01.02.2000  ", date(2000, 2, 1)),
        ("29.02.2000", date(2000, 2, 29)),
        ("31.12.1990", date(1990, 12, 31)),
    ],
)
def test_birth_date_accepted(raw: str, expected: date) -> None:
    assert parse_birth_date(raw, TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", Reason.REQUIRED),
        ("  ", Reason.REQUIRED),
        ("1.2.2000", Reason.DATE_FORMAT),
        ("01.02.00", Reason.DATE_FORMAT),
        ("2000-02-01", Reason.DATE_FORMAT),
        ("01/02/2000", Reason.DATE_FORMAT),
        ("01 02 2000", Reason.DATE_FORMAT),
        ("01.02.2000г", Reason.DATE_FORMAT),
        ("01.02.2000\n", Reason.DATE_FORMAT),
        ("０１.０２.２０００", Reason.DATE_FORMAT),  # fullwidth digits
        ("٠١.٠٢.٢٠٠٠", Reason.DATE_FORMAT),  # Arabic-Indic digits
        ("01.02.02000", Reason.DATE_FORMAT),
        ("01.02.2000\x00", Reason.DATE_FORMAT),
        (MEGABYTE, Reason.DATE_FORMAT),
        ("31.02.2000", Reason.DATE_INVALID),
        ("29.02.2001", Reason.DATE_INVALID),
        ("00.01.2000", Reason.DATE_INVALID),
        ("01.13.2000", Reason.DATE_INVALID),
        ("01.01.0000", Reason.DATE_INVALID),
        ("16.06.2026", Reason.DATE_FUTURE),
        ("01.01.9999", Reason.DATE_FUTURE),
        ("15.06.2026", Reason.TOO_YOUNG),  # born today
        ("16.06.2012", Reason.TOO_YOUNG),  # 14 tomorrow
        ("14.06.1905", Reason.TOO_OLD),  # 121
    ],
)
def test_birth_date_rejected(raw: str, reason: Reason) -> None:
    assert rejected(parse_birth_date(raw, TODAY), Field.BIRTH_DATE, reason)


def test_age_boundaries() -> None:
    assert parse_birth_date("15.06.2012", TODAY) == date(2012, 6, 15)  # 14 today
    assert parse_birth_date("15.06.1906", TODAY) == date(1906, 6, 15)  # 120 today
    assert parse_birth_date("16.06.1905", TODAY) == date(1905, 6, 16)  # 120 until tomorrow
    assert rejected(parse_birth_date("16.06.2008", TODAY, min_age=18), Field.BIRTH_DATE, Reason.TOO_YOUNG)
    assert parse_birth_date("15.06.2008", TODAY, min_age=18) == date(2008, 6, 15)
    assert rejected(parse_birth_date("14.06.1946", TODAY, max_age=79), Field.BIRTH_DATE, Reason.TOO_OLD)


def test_leap_day_birthday_comes_on_28_february_in_common_years() -> None:
    born = "29.02.2008"
    assert parse_birth_date(born, date(2022, 2, 28)) == date(2008, 2, 29)
    assert rejected(parse_birth_date(born, date(2022, 2, 27)), Field.BIRTH_DATE, Reason.TOO_YOUNG)
    # In a leap year the birthday is the 29th itself.
    assert rejected(parse_birth_date("29.02.2000", date(2024, 2, 28), min_age=24), Field.BIRTH_DATE, Reason.TOO_YOUNG)
    assert parse_birth_date("29.02.2000", date(2024, 2, 29), min_age=24) == date(2000, 2, 29)


def test_birth_date_accepts_a_datetime_as_today() -> None:
    assert parse_birth_date("01.02.2000", datetime(2026, 6, 15, 12, 30)) == date(2000, 2, 1)
    assert rejected(parse_birth_date("16.06.2026", datetime(2026, 6, 15, 23, 59)), Field.BIRTH_DATE, Reason.DATE_FUTURE)


# --- gender ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("female", Gender.FEMALE), ("male", Gender.MALE), (" Female ", Gender.FEMALE), ("MALE", Gender.MALE)],
)
def test_gender_accepted(raw: str, expected: Gender) -> None:
    assert parse_gender(raw) is expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", Reason.REQUIRED),
        (" ", Reason.REQUIRED),
        ("f", Reason.GENDER_INVALID),
        ("женский", Reason.GENDER_INVALID),
        ("other", Reason.GENDER_INVALID),
        ("male\x00", Reason.GENDER_INVALID),
        ("fe male", Reason.GENDER_INVALID),
        (MEGABYTE, Reason.GENDER_INVALID),
    ],
)
def test_gender_rejected(raw: str, reason: Reason) -> None:
    assert rejected(parse_gender(raw), Field.GENDER, reason)


# --- e-mail ----------------------------------------------------------------------------------


def address(length: int) -> str:
    """A syntactically valid address of exactly ``length`` characters (64-character local part)."""
    domain_len = length - 65 - len(".com")
    labels = [("b" * 63)] * (domain_len // 64)
    rest = domain_len - 64 * len(labels)
    if rest:
        labels.append("c" * rest)
    return "a" * 64 + "@" + ".".join(labels) + ".com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("anna@example.com", "anna@example.com"),
        ("  Anna.Petrova+kiosk@Example.COM \t", "Anna.Petrova+kiosk@example.com"),
        ("anna@пример.рф", "anna@пример.рф"),
        ("anna@xn--e1afmkfd.xn--p1ai", "anna@пример.рф"),
        ("анна@пример.рф", "анна@пример.рф"),
    ],
)
def test_email_accepted_and_normalised(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", Reason.REQUIRED),
        ("  ", Reason.REQUIRED),
        ("anna", Reason.EMAIL_INVALID),
        ("anna@", Reason.EMAIL_INVALID),
        ("@example.com", Reason.EMAIL_INVALID),
        ("anna@@example.com", Reason.EMAIL_INVALID),
        ("anna@example", Reason.EMAIL_INVALID),
        ("anna@localhost", Reason.EMAIL_INVALID),
        ("an na@example.com", Reason.EMAIL_INVALID),
        ("anna..p@example.com", Reason.EMAIL_INVALID),
        ("Anna <anna@example.com>", Reason.EMAIL_INVALID),
        ("anna@example.com\x00", Reason.EMAIL_INVALID),
        ("anna@exa\ud800mple.com", Reason.EMAIL_INVALID),
        ("anna@[192.0.2.1]", Reason.EMAIL_INVALID),
        (address(255), Reason.EMAIL_INVALID),
        (MEGABYTE, Reason.EMAIL_INVALID),
    ],
)
def test_email_rejected(raw: str, reason: Reason) -> None:
    assert rejected(normalize_email(raw), Field.EMAIL, reason)


def test_email_length_limit() -> None:
    longest = address(254)
    assert len(longest) == 254 and len(address(255)) == 255
    assert normalize_email(longest) == longest


# --- the whole form --------------------------------------------------------------------------

ALL = (Field.NAME, Field.PHONE, Field.BIRTH_DATE, Field.GENDER, Field.EMAIL)
FULL_RULES = FormRules(collected=ALL, required=frozenset({Field.NAME, Field.PHONE}))
GOOD = {
    "name": " Анна  Петрова ",
    "phone": "8 (912) 345-67-89",
    "birth_date": "01.02.2000",
    "gender": "female",
    "email": "Anna@Example.com",
}


def test_form_all_fields_valid() -> None:
    assert validate_form(GOOD, FULL_RULES, TODAY) == Customer(
        name="Анна Петрова",
        phone="+79123456789",
        birth_date=date(2000, 2, 1),
        gender=Gender.FEMALE,
        email="Anna@example.com",
    )


def test_form_with_the_default_configuration() -> None:
    rules = form_rules(load_config())
    result = validate_form({"name": "Анна", "phone": "+79123456789"}, rules, TODAY)
    assert result == Customer(name="Анна", phone="+79123456789")
    missing = validate_form({"name": "", "phone": " "}, rules, TODAY)
    assert missing == {
        Field.NAME: Rejection(Field.NAME, Reason.REQUIRED),
        Field.PHONE: Rejection(Field.PHONE, Reason.REQUIRED),
    }


def test_form_optional_empty_fields_become_none() -> None:
    values = dict(GOOD, birth_date="  ", gender="", email="")
    assert validate_form(values, FULL_RULES, TODAY) == Customer(name="Анна Петрова", phone="+79123456789")
    del values["email"]  # absent is the same as empty
    assert validate_form(values, FULL_RULES, TODAY) == Customer(name="Анна Петрова", phone="+79123456789")


def test_form_reports_every_rejection() -> None:
    values = {"name": "Ивaнов", "phone": "+7 495 123-45-67", "birth_date": "31.02.2000", "gender": "x"}
    rules = FormRules(collected=ALL, required=frozenset(ALL))
    assert validate_form(values, rules, TODAY) == {
        Field.NAME: Rejection(Field.NAME, Reason.MIXED_SCRIPTS),
        Field.PHONE: Rejection(Field.PHONE, Reason.PHONE_NOT_MOBILE),
        Field.BIRTH_DATE: Rejection(Field.BIRTH_DATE, Reason.DATE_INVALID),
        Field.GENDER: Rejection(Field.GENDER, Reason.GENDER_INVALID),
        Field.EMAIL: Rejection(Field.EMAIL, Reason.REQUIRED),
    }


def test_form_invalid_optional_field_is_still_rejected() -> None:
    values = dict(GOOD, email="not an address")
    assert validate_form(values, FULL_RULES, TODAY) == {Field.EMAIL: Rejection(Field.EMAIL, Reason.EMAIL_INVALID)}


def test_form_ignores_fields_it_does_not_collect() -> None:
    rules = FormRules(collected=(Field.NAME, Field.PHONE), required=frozenset({Field.NAME, Field.PHONE}))
    # Valid extra values are dropped, invalid ones are not even looked at.
    assert validate_form(GOOD, rules, TODAY) == Customer(name="Анна Петрова", phone="+79123456789")
    values = dict(GOOD, birth_date="nonsense", gender="?", email="@@")
    assert validate_form(values, rules, TODAY) == Customer(name="Анна Петрова", phone="+79123456789")


def test_form_uses_the_rules_limits() -> None:
    rules = FormRules(
        collected=ALL,
        required=frozenset(ALL),
        min_age=30,
        name_max_len=10,
        allowed_country_codes=(375,),
    )
    assert validate_form(GOOD, rules, TODAY) == {
        Field.NAME: Rejection(Field.NAME, Reason.TOO_LONG),
        Field.PHONE: Rejection(Field.PHONE, Reason.PHONE_COUNTRY_NOT_ALLOWED),
        Field.BIRTH_DATE: Rejection(Field.BIRTH_DATE, Reason.TOO_YOUNG),
    }


def test_form_accepts_field_keys_and_survives_non_text_values() -> None:
    by_field: dict[str, str] = {Field(k): v for k, v in GOOD.items()}
    assert isinstance(validate_form(by_field, FULL_RULES, TODAY), Customer)
    odd: dict[str, object] = dict(GOOD, phone=79123456789)
    assert validate_form(odd, FULL_RULES, TODAY) == {  # type: ignore[arg-type]
        Field.PHONE: Rejection(Field.PHONE, Reason.BAD_CHARACTERS)
    }


# --- properties ------------------------------------------------------------------------------

SPECIALS = (
    "\x00\t\n\r\x7f\u00a0\u2019\u02bc\u2010\u2011\u200b\u200c\u200d\u200e\u200f\u061c\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u0301\u0306\u0308'- .+()"
)
any_text = st.one_of(
    st.text(),
    st.text(st.characters(codec=None, categories=None, exclude_categories=())),  # includes surrogates
    st.text(st.sampled_from(SPECIALS + "Аа-Яя Anna 0123456789")),
    st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.binary().map(lambda b: b.decode("latin-1")),
)

CYRILLIC_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüñøłŁŽçß"


@st.composite
def name_like(draw: st.DrawFn) -> str:
    """Names made of words in one script, with separators, odd spaces and decomposed letters."""
    words = []
    for _ in range(draw(st.integers(1, 3))):
        letters = draw(st.sampled_from([CYRILLIC_LETTERS, LATIN_LETTERS]))
        parts = draw(st.lists(st.text(st.sampled_from(letters), min_size=1, max_size=8), min_size=1, max_size=3))
        seps = draw(st.lists(st.sampled_from("-'\u2019\u2011"), min_size=len(parts) - 1, max_size=len(parts) - 1))
        word = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))
        if draw(st.booleans()):
            word = unicodedata.normalize("NFD", word)
        words.append(word)
    gaps = draw(st.lists(st.sampled_from([" ", "  ", "\u00a0", " \u2003 "]), min_size=len(words) + 1))
    return gaps[0] + "".join(w + g for w, g in zip(words, gaps[1:], strict=False))


@given(any_text)
@settings(max_examples=300)
def test_every_function_returns_its_type_or_a_rejection(raw: str) -> None:
    assert isinstance(normalize_name(raw), str | Rejection)
    assert isinstance(normalize_phone(raw), str | Rejection)
    assert isinstance(parse_birth_date(raw, TODAY), date | Rejection)
    assert isinstance(parse_gender(raw), Gender | Rejection)
    assert isinstance(normalize_email(raw), str | Rejection)
    assert isinstance(mask_phone(raw), str)
    assert isinstance(validate_form(dict.fromkeys(GOOD, raw), FULL_RULES, TODAY), Customer | dict)


@given(st.one_of(any_text, name_like()))
@settings(max_examples=300)
def test_name_normalisation_is_idempotent(raw: str) -> None:
    result = normalize_name(raw)
    if isinstance(result, str):
        assert normalize_name(result) == result
        assert result == result.strip() and "  " not in result
        assert unicodedata.is_normalized("NFC", result)
    else:
        assert result.field is Field.NAME


@given(name_like())
def test_well_formed_names_are_accepted(raw: str) -> None:
    result = normalize_name(raw, max_len=100)
    if sum(ch.isalpha() for ch in raw) >= 2:
        assert isinstance(result, str)
        assert "\u2019" not in result and "\u2011" not in result
    else:
        assert result == Rejection(Field.NAME, Reason.TOO_SHORT)


SEPARATORS = st.sampled_from(["", " ", "-", "(", ")", ".", "  "])


@st.composite
def phone_like(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["+7", "8", "7", "+79", "89", "+380", "+375", "+1", "+44", "", "+"]))
    digits = draw(st.text(st.sampled_from("0123456789"), min_size=0, max_size=13))
    out = prefix
    for ch in digits:
        out += draw(SEPARATORS) + ch
    return out


@st.composite
def ru_mobile(draw: st.DrawFn) -> str:
    digits = draw(st.text(st.sampled_from("0123456789"), min_size=9, max_size=9))
    return draw(st.sampled_from(["+79", "89", "79", "8 9", "+7 (9"])) + digits


ALLOWED_SETS = st.sampled_from([(7,), (7, 375), (380,), (1, 44), (7, 380, 375, 1)])


@given(st.one_of(any_text, phone_like(), ru_mobile()), ALLOWED_SETS)
@settings(max_examples=500)
def test_phone_results_are_e164_of_an_allowed_country(raw: str, allowed: tuple[int, ...]) -> None:
    result = normalize_phone(raw, allowed)
    if isinstance(result, str):
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", result)
        number = phonenumbers.parse(result)
        assert number.country_code in allowed
        assert result.startswith(f"+{number.country_code}")
        assert normalize_phone(result, allowed) == result
        assert mask_phone(result) == f"+{number.country_code} *** ***-**-{result[-2:]}"
    else:
        assert result.field is Field.PHONE


@given(ru_mobile())
def test_russian_mobiles_are_mostly_accepted(raw: str) -> None:
    result = normalize_phone(raw)
    digits = "".join(ch for ch in raw if ch.isdigit())
    expected = "+7" + digits[-10:]
    # A few 9xx blocks are unassigned; everything else must come back in E.164.
    assert result == expected or result == Rejection(Field.PHONE, Reason.PHONE_INVALID)


@given(st.one_of(any_text, st.emails()))
@settings(max_examples=300)
def test_email_normalisation_is_idempotent(raw: str) -> None:
    result = normalize_email(raw)
    if isinstance(result, str):
        assert normalize_email(result) == result
        assert len(result) <= 254
    else:
        assert result.field is Field.EMAIL


def anniversary(born: date, years: int) -> date | None:
    """The day ``years`` full years after ``born`` (28 February for a 29 February birthday)."""
    if born.year + years > 9999:
        return None
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 2, 28)


@given(st.dates(), st.dates())
def test_birth_dates_round_trip_and_ages_are_consistent(born: date, today: date) -> None:
    raw = f"{born.day:02d}.{born.month:02d}.{born.year:04d}"
    result = parse_birth_date(raw, today)
    of_age, too_old = anniversary(born, 14), anniversary(born, 121)
    if born > today:
        assert result == Rejection(Field.BIRTH_DATE, Reason.DATE_FUTURE)
    elif of_age is None or today < of_age:
        assert result == Rejection(Field.BIRTH_DATE, Reason.TOO_YOUNG)
    elif too_old is not None and today >= too_old:
        assert result == Rejection(Field.BIRTH_DATE, Reason.TOO_OLD)
    else:
        assert result == born
    # The day before the 14th birthday is too young, the birthday itself is not.
    if of_age is not None and of_age > date.min:
        assert parse_birth_date(raw, of_age - timedelta(days=1)) == Rejection(Field.BIRTH_DATE, Reason.TOO_YOUNG)
        assert parse_birth_date(raw, of_age) == born


field_value = {
    Field.NAME: st.one_of(st.sampled_from(["Анна", "Jean-Luc", "Ивaнов", ""]), st.text(max_size=10)),
    Field.PHONE: st.one_of(st.sampled_from(["+79123456789", "8 (912) 345-67-89", "+74951234567", ""]), ru_mobile()),
    Field.BIRTH_DATE: st.sampled_from(["01.02.2000", "31.02.2000", "01.01.2025", "", "x"]),
    Field.GENDER: st.sampled_from(["female", "male", "", "other"]),
    Field.EMAIL: st.one_of(st.sampled_from(["anna@example.com", "", "@"]), st.emails()),
}


@st.composite
def form_case(draw: st.DrawFn) -> tuple[FormRules, dict[str, str]]:
    collected = tuple(draw(st.lists(st.sampled_from(ALL), unique=True)))
    required = frozenset(draw(st.lists(st.sampled_from(ALL), unique=True)))
    values = {f.value: draw(field_value[f]) for f in draw(st.lists(st.sampled_from(ALL), unique=True))}
    return FormRules(collected=collected, required=required), values


EMPTY = {"name": "", "phone": "", "birth_date": None, "gender": None, "email": None}


@given(form_case())
@settings(max_examples=300)
def test_form_never_returns_fields_it_does_not_collect(case: tuple[FormRules, dict[str, str]]) -> None:
    rules, values = case
    result = validate_form(values, rules, TODAY)
    if isinstance(result, Customer):
        for f in dataclass_fields(Customer):
            if Field(f.name) not in rules.collected:
                assert getattr(result, f.name) == EMPTY[f.name]
    else:
        assert result
        assert set(result) <= set(rules.collected)
        for field, rejection in result.items():
            assert rejection.field is field
            if not values.get(field.value, "").strip():
                assert rejection.reason is Reason.REQUIRED and field in rules.required
