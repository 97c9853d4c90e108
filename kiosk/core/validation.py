"""Validation and normalisation of the sign-up form's fields.

Pure functions: no I/O, no clock (``today`` is passed in). Every function takes whatever a
customer typed and returns either the normalised value or a :class:`Rejection` carrying a stable
:class:`Reason` code that the screens translate. No input, however odd (lone surrogates, NUL,
control or bidi characters, a megabyte of text), makes them raise: oversized input is refused by
a length check before any real work is done.

Decisions worth knowing:

* Names: letters of the Latin and Cyrillic scripts (Unicode categories Lu, Ll, Lt, Lo whose
  character name starts with ``LATIN``/``CYRILLIC``), spaces, hyphens and apostrophes. The text is
  NFC-normalised, ``’`` and ``ʼ`` become ``'``, ``‐``/``‑`` become ``-``, any space separator
  (category Zs, e.g. a no-break space) counts as a space, runs of spaces collapse to one and the
  ends are trimmed. Each space-separated word must be letters joined by single hyphens or
  apostrophes (so no leading/trailing or doubled separators). A name needs at least
  ``NAME_MIN_LETTERS`` (2) letters: a lone letter is far more often a slip of the finger than a
  name. Combining marks are refused (the precomposed NFC forms of ordinary accented letters are
  letters, so only exotic stacks are affected). A word that mixes Latin and Cyrillic letters is
  refused as ``MIXED_SCRIPTS`` (a homoglyph trick such as a Latin ``a`` inside a Cyrillic
  surname); different words may use different scripts. Letter case is kept as typed.
* Phones: only ASCII digits, spaces, ``-``, ``.``, ``(``, ``)`` and one leading ``+`` are
  accepted; the number is parsed with ``phonenumbers`` (default region RU), its calling code must
  be allowed, it must be a valid number and of a mobile type. The result is E.164.
* Birth dates: ``DD.MM.YYYY`` with ASCII digits. Age is counted in full years; someone born on
  29 February comes of age on 28 February of a non-leap year (the last day of that month, as
  Russian civil law counts terms).
* E-mail: syntax only (``email-validator`` with ``check_deliverability=False``); the result is
  the library's normalised form (domain lower-cased, Unicode in NFC). Every refusal other than an
  empty field is ``EMAIL_INVALID``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from kiosk.core.model import Customer, Field, FormRules, Gender

log = logging.getLogger(__name__)

__all__ = [
    "EMAIL_MAX_LEN",
    "NAME_MIN_LETTERS",
    "PHONE_MAX_INPUT_LEN",
    "Reason",
    "Rejection",
    "mask_phone",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "parse_birth_date",
    "parse_gender",
    "validate_form",
]


class Reason(StrEnum):
    """Why a field was refused. Stable codes: the screens map them to texts in every language."""

    REQUIRED = "required"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BAD_CHARACTERS = "bad_characters"
    NO_LETTERS = "no_letters"
    MISPLACED_SEPARATOR = "misplaced_separator"
    MIXED_SCRIPTS = "mixed_scripts"
    PHONE_INVALID = "phone_invalid"
    PHONE_NOT_MOBILE = "phone_not_mobile"
    PHONE_COUNTRY_NOT_ALLOWED = "phone_country_not_allowed"
    DATE_FORMAT = "date_format"
    DATE_INVALID = "date_invalid"
    DATE_FUTURE = "date_future"
    TOO_YOUNG = "too_young"
    TOO_OLD = "too_old"
    GENDER_INVALID = "gender_invalid"
    EMAIL_INVALID = "email_invalid"


@dataclass(frozen=True)
class Rejection:
    """A refused field and the reason; holds no trace of what was typed."""

    field: Field
    reason: Reason


NAME_MIN_LETTERS = 2
PHONE_MAX_INPUT_LEN = 40
EMAIL_MAX_LEN = 254
_DATE_MAX_INPUT_LEN = 40
_GENDER_MAX_INPUT_LEN = 40
DEFAULT_REGION = "RU"

# --- helpers -----------------------------------------------------------------------------------


def _has_surrogate(text: str) -> bool:
    """True when ``text`` holds a lone surrogate (it cannot be encoded, so nothing downstream may see it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# --- names -------------------------------------------------------------------------------------

_APOSTROPHES = {"\u2019": "'", "\u02bc": "'"}  # right single quotation mark, modifier letter apostrophe
_HYPHENS = {"\u2010": "-", "\u2011": "-"}  # hyphen, non-breaking hyphen
_NAME_SEPARATORS = frozenset("-'")
_LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo"})
_LATIN = "LATIN"
_CYRILLIC = "CYRILLIC"


def _letter_script(ch: str) -> str | None:
    """``"LATIN"`` or ``"CYRILLIC"`` for a letter of those scripts, None for anything else."""
    if unicodedata.category(ch) not in _LETTER_CATEGORIES:
        return None
    name = unicodedata.name(ch, "")
    if name.startswith(_LATIN + " "):
        return _LATIN
    if name.startswith(_CYRILLIC + " "):
        return _CYRILLIC
    return None


def normalize_name(raw: str, max_len: int = 60) -> str | Rejection:
    """Return the name normalised (NFC, plain apostrophes, single inner spaces) or a Rejection."""

    def no(reason: Reason) -> Rejection:
        return Rejection(Field.NAME, reason)

    if not isinstance(raw, str):
        return no(Reason.BAD_CHARACTERS)
    # Cheap guard first: NFC and trimming can shorten a text, but never by this much in a real name.
    if len(raw) > 4 * max(max_len, 0) + 32:
        return no(Reason.TOO_LONG)
    if _has_surrogate(raw):
        return no(Reason.BAD_CHARACTERS)

    text = unicodedata.normalize("NFC", raw)
    chars: list[str] = []
    for ch in text:
        ch = _APOSTROPHES.get(ch) or _HYPHENS.get(ch) or ch
        if ch in _NAME_SEPARATORS or _letter_script(ch) is not None:
            chars.append(ch)
        elif unicodedata.category(ch) == "Zs":
            chars.append(" ")
        else:
            # Digits, punctuation, symbols and emoji, combining marks, controls, bidi and
            # zero-width format characters, unassigned and private-use code points.
            return no(Reason.BAD_CHARACTERS)
    words = "".join(chars).split()
    if not words:
        return no(Reason.REQUIRED)
    name = " ".join(words)

    letters = sum(1 for ch in name if ch not in _NAME_SEPARATORS and ch != " ")
    if letters == 0:
        return no(Reason.NO_LETTERS)
    for word in words:
        parts = re.split(r"[-']", word)
        if any(part == "" for part in parts):
            return no(Reason.MISPLACED_SEPARATOR)
        scripts = {_letter_script(ch) for ch in word if ch not in _NAME_SEPARATORS}
        if len(scripts) > 1:
            return no(Reason.MIXED_SCRIPTS)
    if letters < NAME_MIN_LETTERS:
        return no(Reason.TOO_SHORT)
    if len(name) > max_len:
        return no(Reason.TOO_LONG)
    return name


# --- phones ------------------------------------------------------------------------------------

_PHONE_CHARS_RE = re.compile(r"\+?[0-9 ().\-]*", re.ASCII)
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


def normalize_phone(
    raw: str, allowed_country_codes: Iterable[int] = (7,), *, default_region: str = DEFAULT_REGION
) -> str | Rejection:
    """Return a mobile number in E.164 (``+79123456789``) or a Rejection.

    National forms of the default region are understood (``8 (912) 345-67-89``, ``7 912 3456789``).
    The calling code is checked right after parsing, so a Kazakh ``+7 7xx`` number passes when 7
    is allowed.
    """

    def no(reason: Reason) -> Rejection:
        return Rejection(Field.PHONE, reason)

    if not isinstance(raw, str):
        return no(Reason.PHONE_INVALID)
    if len(raw) > PHONE_MAX_INPUT_LEN:
        return no(Reason.TOO_LONG)
    text = raw.strip()
    if not text:
        return no(Reason.REQUIRED)
    # Letters (phonenumbers would read vanity letters or "ext"), other scripts' digits and any
    # other symbol are refused outright; so is a "+" anywhere but in front.
    if _PHONE_CHARS_RE.fullmatch(text) is None:
        return no(Reason.PHONE_INVALID)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return no(Reason.PHONE_INVALID)

    allowed = frozenset(c for c in allowed_country_codes if isinstance(c, int))
    if number.country_code not in allowed:
        return no(Reason.PHONE_COUNTRY_NOT_ALLOWED)
    if not phonenumbers.is_valid_number(number):
        return no(Reason.PHONE_INVALID)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return no(Reason.PHONE_NOT_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_E164_RE = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
_MASK_UNKNOWN = "***"


def mask_phone(e164: str) -> str:
    """Mask a phone for logs and screens: ``+7 *** ***-**-90`` (calling code and last two digits).

    The mask has the same shape whatever the number's length. Anything that is not an E.164 number
    gives ``***``, so a malformed value is never echoed.
    """
    if not isinstance(e164, str) or len(e164) > 16 or _E164_RE.fullmatch(e164) is None:
        return _MASK_UNKNOWN
    try:
        country_code = phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        return _MASK_UNKNOWN
    if not country_code:
        return _MASK_UNKNOWN
    return f"+{country_code} *** ***-**-{e164[-2:]}"


# --- birth date --------------------------------------------------------------------------------

_DATE_RE = re.compile(r"[ ]*([0-9]{2})\.([0-9]{2})\.([0-9]{4})[ ]*", re.ASCII)


def _age_on(born: date, today: date) -> int:
    """Full years between ``born`` and ``today`` (29 February birthdays fall on 28 February)."""
    years = today.year - born.year
    month, day = born.month, born.day
    if (month, day) == (2, 29):
        try:
            date(today.year, 2, 29)
        except ValueError:
            day = 28
    if (today.month, today.day) < (month, day):
        years -= 1
    return years


def parse_birth_date(raw: str, today: date, min_age: int = 14, max_age: int = 120) -> date | Rejection:
    """Parse ``DD.MM.YYYY`` (ASCII digits, spaces around allowed) and check the age on ``today``."""

    def no(reason: Reason) -> Rejection:
        return Rejection(Field.BIRTH_DATE, reason)

    if not isinstance(raw, str) or len(raw) > _DATE_MAX_INPUT_LEN:
        return no(Reason.DATE_FORMAT)
    if not raw.strip():
        return no(Reason.REQUIRED)
    match = _DATE_RE.fullmatch(raw)
    if match is None:
        return no(Reason.DATE_FORMAT)
    day, month, year = (int(g) for g in match.groups())
    try:
        born = date(year, month, day)
    except ValueError:
        return no(Reason.DATE_INVALID)
    if isinstance(today, datetime):  # a datetime does not compare with a date
        today = today.date()
    if born > today:
        return no(Reason.DATE_FUTURE)
    age = _age_on(born, today)
    if age < min_age:
        return no(Reason.TOO_YOUNG)
    if age > max_age:
        return no(Reason.TOO_OLD)
    return born


# --- gender ------------------------------------------------------------------------------------


def parse_gender(raw: str) -> Gender | Rejection:
    """Accept a :class:`Gender` value (``female``/``male``; case and surrounding spaces ignored)."""
    if not isinstance(raw, str) or len(raw) > _GENDER_MAX_INPUT_LEN:
        return Rejection(Field.GENDER, Reason.GENDER_INVALID)
    text = raw.strip()
    if not text:
        return Rejection(Field.GENDER, Reason.REQUIRED)
    try:
        return Gender(text.lower())
    except ValueError:
        return Rejection(Field.GENDER, Reason.GENDER_INVALID)


# --- e-mail ------------------------------------------------------------------------------------


def normalize_email(raw: str) -> str | Rejection:
    """Check the address's syntax (offline) and return email-validator's normalised form."""
    if not isinstance(raw, str) or len(raw) > 4 * EMAIL_MAX_LEN:
        return Rejection(Field.EMAIL, Reason.EMAIL_INVALID)
    text = raw.strip()
    if not text:
        return Rejection(Field.EMAIL, Reason.REQUIRED)
    if len(text) > EMAIL_MAX_LEN or _has_surrogate(text):
        return Rejection(Field.EMAIL, Reason.EMAIL_INVALID)
    try:
        result = validate_email(text, check_deliverability=False, test_environment=False)
    except (EmailNotValidError, ValueError):  # UnicodeError from IDNA is a ValueError too
        return Rejection(Field.EMAIL, Reason.EMAIL_INVALID)
    normalized = result.normalized
    if len(normalized) > EMAIL_MAX_LEN:
        return Rejection(Field.EMAIL, Reason.EMAIL_INVALID)
    return normalized


# --- the whole form ----------------------------------------------------------------------------


def _check(field: Field, raw: str, rules: FormRules, today: date) -> object:
    if field is Field.NAME:
        return normalize_name(raw, rules.name_max_len)
    if field is Field.PHONE:
        return normalize_phone(raw, rules.allowed_country_codes)
    if field is Field.BIRTH_DATE:
        return parse_birth_date(raw, today, rules.min_age, rules.max_age)
    if field is Field.GENDER:
        return parse_gender(raw)
    return normalize_email(raw)


def validate_form(values: Mapping[str, str], rules: FormRules, today: date) -> Customer | dict[Field, Rejection]:
    """Validate every collected field; return the Customer or every Rejection found.

    Fields the rules do not collect are ignored even when ``values`` has them, so they never
    reach the Customer. A collected optional field left empty becomes None. ``Customer.name`` and
    ``Customer.phone`` are plain strings: when the rules do not collect them (or the optional name
    is left empty) they are ``""``.
    """
    rejections: dict[Field, Rejection] = {}
    accepted: dict[Field, object] = {}
    for field in dict.fromkeys(rules.collected):
        raw = values.get(field.value)
        text = raw if isinstance(raw, str) else ""
        if raw is not None and not isinstance(raw, str):
            rejections[field] = Rejection(field, Reason.BAD_CHARACTERS)
            continue
        if not text.strip():
            if field in rules.required:
                rejections[field] = Rejection(field, Reason.REQUIRED)
            continue
        result = _check(field, text, rules, today)
        if isinstance(result, Rejection):
            rejections[field] = result
        else:
            accepted[field] = result

    if rejections:
        log.debug("form refused: %s", ", ".join(f"{f.value}={r.reason.value}" for f, r in rejections.items()))
        return rejections

    name = accepted.get(Field.NAME)
    phone = accepted.get(Field.PHONE)
    born = accepted.get(Field.BIRTH_DATE)
    gender = accepted.get(Field.GENDER)
    email = accepted.get(Field.EMAIL)
    return Customer(
        name=name if isinstance(name, str) else "",
        phone=phone if isinstance(phone, str) else "",
        birth_date=born if isinstance(born, date) else None,
        gender=gender if isinstance(gender, Gender) else None,
        email=email if isinstance(email, str) else None,
    )
