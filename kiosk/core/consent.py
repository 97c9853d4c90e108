"""Consent documents under 152-FZ art. 9: processing of personal data, and advertising messages.

Two separate documents, each in Russian and English, composed from ``ConsentTerms``.

The composed text (``ConsentDocument.text``) is the SAME for every customer: it names the subject
generically ("the person whose name and phone number are given in the form"), so its version and
SHA-256 prove which text was shown. Whatever belongs to one customer (name, masked phone, date,
consent id, SMS confirmation) is appended by ``render_copy`` after that text, clearly separated.

Every text here must print on a cheap thermal printer in code page CP866, so config-supplied values
pass through ``printable`` (which maps typographic quotes and dashes to plain ones) and the templates
use only CP866 characters. Text is made of short paragraphs and "- " list items so that it wraps
well on 32-48 columns.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from kiosk.core.model import LANGS, ConsentTerms, Field, Text, ThirdParty

log = logging.getLogger(__name__)

PRINTER_CODEPAGE: Final = "cp866"

LEGAL_DESTRUCTION_DAYS: Final = 30
"""152-FZ art. 21 part 5: after a withdrawal the data is destroyed within 30 days."""

SEPARATOR: Final = "-" * 32


class ConsentKind(StrEnum):
    PROCESSING = "processing"
    ADVERTISING = "advertising"


@dataclass(frozen=True)
class Subject:
    """What is printed about the customer on their copy."""

    name: str
    masked_phone: str


@dataclass(frozen=True)
class Confirmation:
    """How the consent was confirmed; datetimes are UTC."""

    method: str
    code_sent_at: datetime
    confirmed_at: datetime
    attempts: int


@dataclass(frozen=True)
class ConsentDocument:
    kind: ConsentKind
    lang: str
    version: str
    text: str
    sha256: str


# --- Characters --------------------------------------------------------------------------------

_CHAR_MAP: Final[dict[str, str]] = {
    "«": '"',
    "»": '"',
    "„": '"',
    "“": '"',
    "”": '"',
    "‟": '"',
    "″": '"',
    "‹": "'",
    "›": "'",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "—": "-",
    "–": "-",
    "‒": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "―": "-",
    "…": "...",
    "₽": "руб.",
    "×": "x",
    "•": "-",
    "\u202f": "\u00a0",
    "\u2007": "\u00a0",
}

_SPACES_RE: Final = re.compile(r" {2,}")


def _encodable(text: str) -> bool:
    try:
        text.encode(PRINTER_CODEPAGE)
    except UnicodeEncodeError:
        return False
    return True


def _safe_char(ch: str) -> str:
    if ch in _CHAR_MAP:
        return _CHAR_MAP[ch]
    category = unicodedata.category(ch)
    if ch in "\t\n\r\v\f" or (category in ("Zs", "Zl", "Zp") and ch != "\u00a0"):
        return " "
    if category in ("Cc", "Cf"):
        # Control characters (ESC, GS, ...) would be printer commands; format characters are invisible.
        return ""
    if _encodable(ch):
        return ch
    # Accented Latin letters and the like: keep the base letter.
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and _encodable(base) and all(unicodedata.category(c)[0] in "LN" for c in base):
        return base
    return "?"


def printable(text: str) -> str:
    """Map ``text`` to characters the printer's CP866 code page has, on one line.

    Typographic quotes become ``"`` or ``'``, dashes become ``-``, ``₽`` becomes ``руб.``, accented
    Latin letters lose their accents, control characters are dropped (they would reach the printer
    as commands) and anything else the code page lacks becomes ``?``. Runs of whitespace, line breaks
    included, collapse to one space, so a configured value cannot break the layout of a document.
    """
    mapped = "".join(_safe_char(ch) for ch in text)
    return _SPACES_RE.sub(" ", mapped).strip()


def _printable_block(text: str) -> str:
    """Like ``printable`` but keeps the line structure (for whole documents)."""
    return "\n".join("".join(_safe_char(ch) for ch in line) for line in text.split("\n"))


# --- Fixed vocabulary --------------------------------------------------------------------------

FIELD_LABELS: Final[dict[Field, Text]] = {
    Field.NAME: Text("имя", "name"),
    Field.PHONE: Text("номер мобильного телефона", "mobile phone number"),
    Field.BIRTH_DATE: Text("дата рождения", "date of birth"),
    Field.GENDER: Text("пол", "gender"),
    Field.EMAIL: Text("адрес электронной почты", "e-mail address"),
}

ACTIONS: Final[tuple[Text, ...]] = (
    Text("сбор", "collection"),
    Text("запись", "recording"),
    Text("систематизация", "systematisation"),
    Text("накопление", "accumulation"),
    Text("хранение", "storage"),
    Text("извлечение", "retrieval"),
    Text("уточнение (обновление, изменение)", "refinement (updating, changing)"),
    Text("использование", "use"),
    Text("передача (предоставление, доступ)", "transfer (provision, access)"),
    Text("обезличивание", "depersonalisation"),
    Text("блокирование", "blocking"),
    Text("удаление", "deletion"),
    Text("уничтожение", "destruction"),
)

CHANNEL_LABELS: Final[dict[str, Text]] = {
    "sms": Text("SMS-сообщения", "SMS messages"),
    "email": Text("электронная почта", "e-mail"),
    "messenger": Text("сообщения в мессенджерах", "messenger messages"),
}

_PHONE_CHANNELS: Final = frozenset({"sms", "messenger"})

# --- Document templates ------------------------------------------------------------------------
#
# One template per kind and language. Placeholders in braces are filled by ``compose``; list
# placeholders receive "- " items already joined by line breaks. ``_PHRASES`` holds the variable
# parts (who the subject is, the third-party clause, day counts).

_PROCESSING_TEMPLATE: Final[dict[str, str]] = {
    "ru": """\
Согласие на обработку персональных данных
Программа лояльности "{program}"
Версия текста: {version}

Я, субъект персональных данных, {subject_who} (далее - Субъект), в соответствии со ст. 9 \
Федерального закона от 27.07.2006 № 152-ФЗ "О персональных данных" свободно, своей волей и в своем \
интересе даю Оператору, указанному в разделе 1, конкретное, предметное, информированное, сознательное \
и однозначное согласие на обработку моих персональных данных на следующих условиях.

1. Оператор
{operator_name}
Адрес: {operator_address}
ИНН: {operator_inn}
Контакты для обращений: {operator_contact}{operator_policy}

2. Цель обработки
Цель обработки персональных данных - {purpose}.

3. Перечень персональных данных
{data_list}

4. Действия с персональными данными
{actions_list}

5. Способы обработки
Обработка осуществляется смешанным способом: с использованием средств автоматизации и без их \
использования, с передачей по внутренней сети Оператора и по сети Интернет.

6. Третьи лица
{third_parties}

7. Срок действия согласия
Согласие действует {term}.
По истечении срока действия согласия персональные данные уничтожаются {retention}, если иное \
не предусмотрено федеральным законом.

8. Отзыв согласия
Субъект может отозвать согласие в любое время. Способ отзыва: {withdrawal}.
После получения отзыва Оператор прекращает обработку персональных данных и уничтожает их в срок, \
не превышающий {legal_days} с даты получения отзыва, если иное не предусмотрено федеральным законом.

9. Права Субъекта
Субъект вправе получать сведения об обработке своих персональных данных, требовать их уточнения, \
блокирования или уничтожения, обращаясь к Оператору по контактам из раздела 1.

10. Отдельный документ
Настоящее согласие является отдельным документом. Оно не входит в Правила программы лояльности \
"{program}" и не включает согласие на получение рекламных сообщений, которое дается отдельно \
и только по желанию Субъекта.

11. Подтверждение
Субъект подтверждает настоящее согласие вводом кода из SMS-сообщения, отправленного на указанный им \
номер мобильного телефона. Оператор хранит запись о подтверждении: номер согласия, версию \
и контрольную сумму этого текста, время отправки кода и время его ввода.""",
    "en": """\
Consent to the processing of personal data
Loyalty programme "{program}"
Text version: {version}

I, the data subject {subject_who} (the "Subject"), in accordance with Article 9 of Federal Law \
No. 152-FZ of 27 July 2006 "On Personal Data", freely, of my own will and in my own interest give the \
Operator named in section 1 my specific, informed, conscious and unambiguous consent to the processing \
of my personal data on the following terms.

1. Operator
{operator_name}
Address: {operator_address}
Taxpayer number (INN): {operator_inn}
Contact for requests: {operator_contact}{operator_policy}

2. Purpose of processing
The purpose of the processing is {purpose}.

3. Personal data
{data_list}

4. Actions with the personal data
{actions_list}

5. Processing methods
Mixed processing: both automated and non-automated, with transfer over the Operator's internal \
network and over the Internet.

6. Third parties
{third_parties}

7. Term of the consent
This consent is valid {term}.
When the consent ends, the personal data is destroyed {retention}, unless federal law provides \
otherwise.

8. Withdrawal
The Subject may withdraw this consent at any time. How to withdraw: {withdrawal}.
On receiving a withdrawal the Operator stops processing the personal data and destroys it within \
{legal_days} of receipt, unless federal law provides otherwise.

9. The Subject's rights
The Subject may obtain information about the processing of their personal data and demand that it be \
corrected, blocked or destroyed by contacting the Operator as shown in section 1.

10. A separate document
This consent is a separate document. It is not part of the rules of the loyalty programme \
"{program}" and does not include consent to receive advertising messages, which is given separately \
and only if the Subject wishes.

11. Confirmation
The Subject confirms this consent by entering the code from the SMS message sent to the mobile phone \
number they gave. The Operator keeps a record of the confirmation: the consent number, the version \
and checksum of this text, the time the code was sent and the time it was entered.""",
}

_ADVERTISING_TEMPLATE: Final[dict[str, str]] = {
    "ru": """\
Согласие на получение рекламных сообщений
Программа лояльности "{program}"
Версия текста: {version}

Я, субъект персональных данных, {subject_who} (далее - Субъект), свободно, своей волей и в своем \
интересе даю согласие на получение от Оператора рекламных и информационных сообщений и на обработку \
моих персональных данных для этой цели (ст. 15 Федерального закона от 27.07.2006 № 152-ФЗ \
"О персональных данных", ст. 18 Федерального закона от 13.03.2006 № 38-ФЗ "О рекламе").

1. Оператор
{operator_name}
Адрес: {operator_address}
ИНН: {operator_inn}
Контакты для обращений: {operator_contact}{operator_policy}

2. Цель
Цель - {purpose}.

3. Каналы связи
{channels_list}

4. Используемые данные
{data_list}

5. Добровольность
Это согласие необязательно и дается только по желанию Субъекта. Отказ от него не влияет на участие \
в программе лояльности "{program}" и на ее условия.

6. Срок действия и отзыв
Согласие действует {term}.
Субъект может отозвать согласие в любое время. Способ отзыва: {withdrawal}. Кроме того, в каждом \
рекламном сообщении указано, как отказаться от рассылки.
После получения отзыва Оператор немедленно прекращает отправку рекламных сообщений.

7. Отдельный документ
Настоящее согласие является отдельным документом. Оно не зависит от согласия на обработку \
персональных данных для участия в программе лояльности и от Правил программы.

8. Подтверждение
Субъект дает это согласие отдельной отметкой на экране киоска и подтверждает его вводом кода \
из SMS-сообщения, отправленного на указанный им номер мобильного телефона.""",
    "en": """\
Consent to receive advertising messages
Loyalty programme "{program}"
Text version: {version}

I, the data subject {subject_who} (the "Subject"), freely, of my own will and in my own interest \
consent to receiving advertising and information messages from the Operator and to the processing of \
my personal data for this purpose (Article 15 of Federal Law No. 152-FZ of 27 July 2006 "On Personal \
Data", Article 18 of Federal Law No. 38-FZ of 13 March 2006 "On Advertising").

1. Operator
{operator_name}
Address: {operator_address}
Taxpayer number (INN): {operator_inn}
Contact for requests: {operator_contact}{operator_policy}

2. Purpose
The purpose is {purpose}.

3. Channels
{channels_list}

4. Data used
{data_list}

5. Optional
This consent is optional and is given only if the Subject wishes. Declining it does not affect taking \
part in the loyalty programme "{program}" or its terms.

6. Term and withdrawal
This consent is valid {term}.
The Subject may withdraw this consent at any time. How to withdraw: {withdrawal}. In addition, every \
advertising message says how to unsubscribe.
On receiving a withdrawal the Operator stops sending advertising messages immediately.

7. A separate document
This consent is a separate document. It does not depend on the consent to the processing of personal \
data for the loyalty programme or on the programme rules.

8. Confirmation
The Subject gives this consent by a separate tick on the kiosk screen and confirms it by entering the \
code from the SMS message sent to the mobile phone number they gave.""",
}

_PHRASES: Final[dict[str, dict[str, str]]] = {
    "ru": {
        "subject_name_phone": (
            "имя и номер мобильного телефона которого указаны в анкете на экране киоска "
            "и в конце печатной копии настоящего согласия"
        ),
        "subject_phone": (
            "номер мобильного телефона которого указан в анкете на экране киоска "
            "и в конце печатной копии настоящего согласия"
        ),
        "third_parties_some": (
            "Оператор поручает обработку персональных данных следующим лицам и передает им "
            "персональные данные только для указанной цели:"
        ),
        "third_party_item": "- {name}, адрес: {address}; цель: {purpose}",
        "third_parties_none": (
            "Оператор не передает персональные данные третьим лицам и не поручает их обработку "
            "другим лицам, за исключением случаев, предусмотренных федеральным законом."
        ),
        "within": "в течение {days}",
        "without_delay": "незамедлительно",
        "copy_title": "Экземпляр Субъекта",
        "copy_name": "Имя: {value}",
        "copy_phone": "Телефон: {value}",
        "copy_date": "Дата: {value}",
        "copy_consent_id": "Согласие №: {value}",
        "copy_kiosk": "Киоск: {value}",
        "copy_version": "Версия текста: {value}",
        "copy_sha": "SHA-256 текста:",
        "copy_shown": "Текст показан: {value}",
        "copy_method_sms": "Подтверждение: код из SMS на номер {phone}",
        "copy_method_other": "Подтверждение: {method}",
        "copy_sent": "Код отправлен: {value}",
        "copy_confirmed": "Код введен: {value}",
        "copy_attempts": "Попыток ввода: {value}",
        "copy_unconfirmed": "Подтверждение: не получено",
        "date": "%d.%m.%Y",
        "datetime": "%d.%m.%Y %H:%M:%S UTC",
    },
    "en": {
        "subject_name_phone": (
            "whose name and mobile phone number are given in the form on the kiosk screen "
            "and at the end of the printed copy of this consent"
        ),
        "subject_phone": (
            "whose mobile phone number is given in the form on the kiosk screen "
            "and at the end of the printed copy of this consent"
        ),
        "third_parties_some": (
            "The Operator entrusts the processing of personal data to the following parties and "
            "transfers personal data to them only for the stated purpose:"
        ),
        "third_party_item": "- {name}, address: {address}; purpose: {purpose}",
        "third_parties_none": (
            "The Operator does not transfer personal data to third parties and does not entrust its "
            "processing to anyone else, except where federal law requires it."
        ),
        "within": "within {days}",
        "without_delay": "without delay",
        "copy_title": "Subject's copy",
        "copy_name": "Name: {value}",
        "copy_phone": "Phone: {value}",
        "copy_date": "Date: {value}",
        "copy_consent_id": "Consent No.: {value}",
        "copy_kiosk": "Kiosk: {value}",
        "copy_version": "Text version: {value}",
        "copy_sha": "SHA-256 of the text:",
        "copy_shown": "Text shown: {value}",
        "copy_method_sms": "Confirmation: SMS code to {phone}",
        "copy_method_other": "Confirmation: {method}",
        "copy_sent": "Code sent: {value}",
        "copy_confirmed": "Code entered: {value}",
        "copy_attempts": "Attempts: {value}",
        "copy_unconfirmed": "Confirmation: not received",
        "date": "%Y-%m-%d",
        "datetime": "%Y-%m-%d %H:%M:%S UTC",
    },
}


# --- Composition -------------------------------------------------------------------------------


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGS)}")


def _days_gen(n: int, lang: str) -> str:
    """'30 дней' / '21 дня' (genitive, after 'в течение') or '30 days'."""
    if lang == "en":
        return f"{n} {'day' if n == 1 else 'days'}"
    word = "дня" if n % 10 == 1 and n % 100 != 11 else "дней"
    return f"{n} {word}"


def _retention(days: int, lang: str) -> str:
    phrases = _PHRASES[lang]
    if days <= 0:
        return phrases["without_delay"]
    return phrases["within"].format(days=_days_gen(days, lang))


def _bullets(items: list[str]) -> str:
    """'- a;' ... '- z.' as in a Russian legal list; one item per line."""
    if not items:
        return ""
    lines = [f"- {item};" for item in items[:-1]]
    lines.append(f"- {items[-1]}.")
    return "\n".join(lines)


def _subject_who(terms: ConsentTerms, lang: str) -> str:
    key = "subject_name_phone" if Field.NAME in terms.collected else "subject_phone"
    return _PHRASES[lang][key]


def _third_parties(parties: tuple[ThirdParty, ...], lang: str) -> str:
    phrases = _PHRASES[lang]
    if not parties:
        return phrases["third_parties_none"]
    items = [
        phrases["third_party_item"].format(
            name=printable(p.name), address=printable(p.address), purpose=printable(p.purpose.get(lang))
        )
        for p in parties
    ]
    return phrases["third_parties_some"] + "\n" + "\n".join(items)


def _ordered_unique(values: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


_POLICY_LABEL: Final[dict[str, str]] = {
    "ru": "Политика обработки персональных данных",
    "en": "Personal data processing policy",
}


def ads_channels(terms: ConsentTerms) -> tuple[str, ...]:
    """The advertising channels that can actually reach the customer (e-mail only if it is collected)."""
    return tuple(c for c in _ordered_unique(terms.ads_channels) if c != "email" or Field.EMAIL in terms.collected)


def _common(terms: ConsentTerms, lang: str) -> dict[str, str]:
    op = terms.operator
    return {
        "program": printable(terms.program_name.get(lang)),
        "version": printable(terms.version),
        "subject_who": _subject_who(terms, lang),
        "operator_name": printable(op.name),
        "operator_address": printable(op.legal_address),
        "operator_inn": printable(op.inn),
        "operator_contact": printable(op.contact),
        "operator_policy": (f"\n{_POLICY_LABEL[lang]}: {printable(op.policy_url)}" if op.policy_url else ""),
        "term": printable(terms.term.get(lang)).rstrip("."),
        "withdrawal": printable(terms.withdrawal.get(lang)).rstrip("."),
    }


def _processing_text(terms: ConsentTerms, lang: str) -> str:
    values = _common(terms, lang)
    values.update(
        purpose=printable(terms.purpose.get(lang)).rstrip("."),
        data_list=_bullets([FIELD_LABELS[f].get(lang) for f in terms.collected]),
        actions_list=_bullets([a.get(lang) for a in ACTIONS]),
        third_parties=_third_parties(terms.third_parties, lang),
        retention=_retention(terms.retention_after_days, lang),
        legal_days=_days_gen(LEGAL_DESTRUCTION_DAYS, lang),
    )
    return _PROCESSING_TEMPLATE[lang].format(**values)


def _advertising_text(terms: ConsentTerms, lang: str) -> str:
    channels = ads_channels(terms)
    if not channels:
        raise ValueError("no advertising channel can reach the customer (e-mail is not collected)")
    data: list[Field] = []
    if any(c in _PHONE_CHANNELS for c in channels):
        data.append(Field.PHONE)
    if "email" in channels:
        data.append(Field.EMAIL)
    labels = [CHANNEL_LABELS[c].get(lang) if c in CHANNEL_LABELS else printable(c) for c in channels]
    values = _common(terms, lang)
    values.update(
        purpose=printable(terms.ads_purpose.get(lang)).rstrip("."),
        channels_list=_bullets(labels),
        data_list=_bullets([FIELD_LABELS[f].get(lang) for f in data]),
    )
    return _ADVERTISING_TEMPLATE[lang].format(**values)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compose(terms: ConsentTerms, kind: ConsentKind, lang: str) -> ConsentDocument:
    """The fixed document the customer reads on screen; identical for every customer."""
    _check_lang(lang)
    kind = ConsentKind(kind)
    raw = _processing_text(terms, lang) if kind is ConsentKind.PROCESSING else _advertising_text(terms, lang)
    text = _printable_block(raw)
    return ConsentDocument(kind=kind, lang=lang, version=terms.version, text=text, sha256=text_sha256(text))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def render_copy(
    doc: ConsentDocument,
    subject: Subject,
    consent_id: str,
    kiosk_id: str,
    shown_at: datetime,
    confirmation: Confirmation | None,
    lang: str,
) -> str:
    """The printed copy: the exact document text, then the customer's block after a separator.

    Naive datetimes are taken as UTC; aware ones are converted to UTC.
    """
    _check_lang(lang)
    p = _PHRASES[lang]

    def when(moment: datetime) -> str:
        return _utc(moment).strftime(p["datetime"])

    phone = printable(subject.masked_phone)
    dated = confirmation.confirmed_at if confirmation is not None else shown_at
    lines = [SEPARATOR, p["copy_title"]]
    name = printable(subject.name)
    if name:
        lines.append(p["copy_name"].format(value=name))
    lines += [
        p["copy_phone"].format(value=phone),
        p["copy_date"].format(value=_utc(dated).strftime(p["date"])),
        p["copy_consent_id"].format(value=printable(consent_id)),
        p["copy_kiosk"].format(value=printable(kiosk_id)),
        p["copy_version"].format(value=printable(doc.version)),
        p["copy_sha"],
        doc.sha256[:32],
        doc.sha256[32:],
        p["copy_shown"].format(value=when(shown_at)),
    ]
    if confirmation is None:
        lines.append(p["copy_unconfirmed"])
    else:
        if confirmation.method == "sms-code":
            lines.append(p["copy_method_sms"].format(phone=phone))
        else:
            lines.append(p["copy_method_other"].format(method=printable(confirmation.method)))
        lines += [
            p["copy_sent"].format(value=when(confirmation.code_sent_at)),
            p["copy_confirmed"].format(value=when(confirmation.confirmed_at)),
            p["copy_attempts"].format(value=confirmation.attempts),
        ]
    lines.append(SEPARATOR)
    return doc.text + "\n\n" + "\n".join(lines) + "\n"
