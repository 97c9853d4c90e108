"""Loyalty programme rules: the rules document, short summaries and the arithmetic behind them.

Everything is computed from ``ProgramRules``; nothing here is hard-coded per store. Texts must print
in code page CP866, so amounts are written as "4 200 руб." / "4,200 RUB" (never the rouble sign),
thousands are separated by a no-break space (U+00A0, present in CP866) and config-supplied values
pass through ``consent.printable``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from kiosk.core.consent import printable
from kiosk.core.model import LANGS, ProgramRules, Tier

log = logging.getLogger(__name__)

NBSP: Final = "\u00a0"


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGS)}")


# --- Words and numbers -------------------------------------------------------------------------


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian word form for ``n``: plural_ru(n, "балл", "балла", "баллов")."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _plural_en(n: int, one: str, many: str) -> str:
    return one if abs(n) == 1 else many


def _group(digits: str, sep: str) -> str:
    parts: list[str] = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return sep.join(parts)


def format_number(value: int | float, lang: str) -> str:
    """'4 200' / '4,200'; fractions to two places ('12,50' / '12.50') only when there are any."""
    _check_lang(lang)
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole, _, frac = f"{amount:.2f}".partition(".")
    grouped = _group(whole, NBSP if lang == "ru" else ",")
    if frac != "00":
        grouped += ("," if lang == "ru" else ".") + frac
    return sign + grouped


def format_rub(amount: int | float, lang: str) -> str:
    """'4 200 руб.' (no-break spaces) or '4,200 RUB'."""
    number = format_number(amount, lang)
    return f"{number}{NBSP}руб." if lang == "ru" else f"{number}{NBSP}RUB"


def _points(n: int, lang: str) -> str:
    if lang == "en":
        return f"{n} {_plural_en(n, 'point', 'points')}"
    return f"{n} {plural_ru(n, 'балл', 'балла', 'баллов')}"


def _days(n: int, lang: str) -> str:
    if lang == "en":
        return f"{n} {_plural_en(n, 'day', 'days')}"
    return f"{n} {plural_ru(n, 'день', 'дня', 'дней')}"


# --- Arithmetic --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierProgress:
    current: Tier | None
    next: Tier | None
    remaining_rub: int
    """Roubles of purchases still needed for ``next`` (0 at the top tier or without tiers)."""


def _sorted_tiers(rules: ProgramRules) -> list[Tier]:
    return sorted(rules.tiers, key=lambda t: t.from_rub)


def tier_progress(rules: ProgramRules, total_spent_rub: int) -> TierProgress:
    current: Tier | None = None
    upcoming: Tier | None = None
    for tier in _sorted_tiers(rules):
        if tier.from_rub <= total_spent_rub:
            current = tier
        else:
            upcoming = tier
            break
    remaining = upcoming.from_rub - total_spent_rub if upcoming is not None else 0
    return TierProgress(current=current, next=upcoming, remaining_rub=max(0, remaining))


def _kopecks(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def points_for(rules: ProgramRules, amount_rub: float, excluded_rub: float = 0) -> int:
    """Points earned on a bill: every full ``per_rub`` roubles of the non-excluded amount."""
    if amount_rub < 0 or excluded_rub < 0:
        raise ValueError("amounts must not be negative")
    if excluded_rub > amount_rub:
        raise ValueError("the excluded amount cannot exceed the bill")
    base = _kopecks(amount_rub) - _kopecks(excluded_rub)
    return int(base // rules.per_rub) * rules.points_per


def max_points_payable(rules: ProgramRules, bill_rub: float) -> float:
    """The most of ``bill_rub`` (in roubles, rounded down to kopecks) that may be paid with points."""
    if bill_rub < 0:
        raise ValueError("the bill must not be negative")
    cap = _kopecks(bill_rub) * rules.max_bill_share_pct / 100
    return float(cap.quantize(Decimal("0.01"), rounding=ROUND_FLOOR))


# --- Short lines -------------------------------------------------------------------------------


def _earn_line(rules: ProgramRules, lang: str) -> str:
    per = rules.per_rub
    if lang == "en":
        unit = "rouble" if per == 1 else format_rub(per, lang)
        return f"{_points(rules.points_per, lang)} for every {unit}"
    if per == 1:
        return f"{_points(rules.points_per, lang)} за каждый рубль"
    every = plural_ru(per, "каждый", "каждые", "каждые")
    return f"{_points(rules.points_per, lang)} за {every} {format_rub(per, lang)}"


def _activation_line(rules: ProgramRules, lang: str) -> str:
    days = rules.activation_delay_days
    if lang == "en":
        return "Points active at once" if days == 0 else f"Points active after {_days(days, lang)}"
    return "Баллы активны сразу" if days == 0 else f"Баллы активны через {_days(days, lang)}"


def _tier_line(tier: Tier, lang: str) -> str:
    pct = tier.discount_pct
    if tier.from_rub <= 0:
        return f"{pct}% off every purchase" if lang == "en" else f"Скидка {pct}% на все покупки"
    amount = format_rub(tier.from_rub, lang)
    return f"{pct}% off from {amount} spent" if lang == "en" else f"Скидка {pct}% от {amount} покупок"


def _share_line(rules: ProgramRules, lang: str) -> str:
    pct = rules.max_bill_share_pct
    return f"Pay up to {pct}% with points" if lang == "en" else f"Баллами до {pct}% чека"


def _stamp_line(buy: int, reward: str, lang: str) -> str:
    return f"Buy {buy}: {reward}" if lang == "en" else f"Купите {buy}: {reward}"


def pitch(rules: ProgramRules, lang: str) -> str:
    """One line for the attract screen, e.g. '10 баллов за каждые 100 руб.'."""
    _check_lang(lang)
    if rules.points_per > 0:
        return _earn_line(rules, lang)
    tiers = _sorted_tiers(rules)
    if tiers:
        top = tiers[-1].discount_pct
        return f"Up to {top}% off" if lang == "en" else f"Скидка до {top}%"
    if rules.stamp_cards:
        card = rules.stamp_cards[0]
        return _stamp_line(card.buy, printable(card.reward.get(lang)), lang)
    return printable(rules.name.get(lang))


def summary_lines(rules: ProgramRules, lang: str) -> list[str]:
    """Exactly three short lines for the card receipt and the attract screen.

    Taken in this order from what the programme has: earning, the first discount tier, activation of
    points, stamp cards, the share of a bill payable with points, the programme's name. When a
    programme offers fewer than three things the remaining lines are empty strings.
    """
    _check_lang(lang)
    candidates: list[str] = []
    tiers = _sorted_tiers(rules)
    if rules.points_per > 0:
        candidates.append(_earn_line(rules, lang))
    if tiers:
        candidates.append(_tier_line(tiers[0], lang))
    if rules.points_per > 0:
        candidates.append(_activation_line(rules, lang))
    candidates += [_stamp_line(s.buy, printable(s.reward.get(lang)), lang) for s in rules.stamp_cards]
    if rules.points_per > 0 and rules.max_bill_share_pct > 0:
        candidates.append(_share_line(rules, lang))
    candidates.append(printable(rules.name.get(lang)))
    lines = candidates[:3]
    return lines + [""] * (3 - len(lines))


def progress_text(progress: TierProgress, lang: str) -> str:
    """'4 200 руб. до скидки 10%' / '4,200 RUB to 10% off'; at the top: 'максимальная скидка 10%'.

    Empty when the programme has no tiers.
    """
    _check_lang(lang)
    if progress.next is not None:
        amount = format_rub(progress.remaining_rub, lang)
        pct = progress.next.discount_pct
        return f"{amount} to {pct}% off" if lang == "en" else f"{amount} до скидки {pct}%"
    if progress.current is not None:
        pct = progress.current.discount_pct
        return f"top discount {pct}%" if lang == "en" else f"максимальная скидка {pct}%"
    return ""


# --- The rules document ------------------------------------------------------------------------

_RULES_TEXT: Final[dict[str, dict[str, str]]] = {
    "ru": {
        "title": 'Правила программы лояльности "{name}"',
        "operator_h": "Организатор",
        "operator": "{op_name}\nАдрес: {op_address}\nИНН: {op_inn}\nКонтакты: {op_contact}",
        "join_h": "Как стать участником",
        "join": (
            "Зарегистрируйтесь на киоске самообслуживания: заполните анкету, ознакомьтесь с настоящими "
            "Правилами, дайте согласие на обработку персональных данных и подтвердите его кодом из "
            "SMS-сообщения. После этого киоск выдает карту участника с номером и QR-кодом."
        ),
        "wallet": "Карту можно добавить в телефон по QR-коду на чеке.",
        "earn_h": "Начисление баллов",
        "earn": "За каждые полные {per} суммы покупки начисляется {points}.",
        "excluded_h": "Исключения",
        "excluded": (
            "В программе не участвуют следующие товары: баллы на их стоимость не начисляются, "
            "скидка на них не предоставляется."
        ),
        "activation_now": "Баллы можно использовать сразу после покупки.",
        "activation_later": "Баллы можно использовать через {days} после покупки.",
        "spend_h": "Оплата баллами",
        "value": "1 балл равен {value}",
        "share": "Баллами можно оплатить до {pct}% суммы покупки.",
        "share_none": "Баллами нельзя оплатить покупку.",
        "tiers_h": "Накопительная скидка",
        "tiers": "Размер скидки зависит от общей суммы покупок по карте:",
        "tier_free": '"{name}": скидка {pct}% с первой покупки',
        "tier": '"{name}": скидка {pct}% от {amount} покупок',
        "stamps_h": "Карты с отметками",
        "stamp": '"{name}": после {buy} {purchases} - {reward}',
        "check_h": "Баланс и изменения правил",
        "consent_h": "Персональные данные",
        "consent": (
            "Настоящие Правила являются отдельным документом и не содержат согласия на обработку "
            "персональных данных. Согласие на обработку персональных данных и согласие на получение "
            "рекламных сообщений даются отдельно."
        ),
    },
    "en": {
        "title": 'Rules of the loyalty programme "{name}"',
        "operator_h": "Organiser",
        "operator": ("{op_name}\nAddress: {op_address}\nTaxpayer number (INN): {op_inn}\nContact: {op_contact}"),
        "join_h": "How to join",
        "join": (
            "Register at the self-service kiosk: fill in the form, read these rules, give consent to the "
            "processing of personal data and confirm it with the code from an SMS message. The kiosk then "
            "issues a membership card with a number and a QR code."
        ),
        "wallet": "You can add the card to your phone with the QR code on the receipt.",
        "earn_h": "Earning points",
        "earn": "For every full {per} of a purchase you earn {points}.",
        "excluded_h": "Exclusions",
        "excluded": (
            "The following goods are not part of the programme: no points are earned on them and no "
            "discount is given on them."
        ),
        "activation_now": "Points can be used straight after the purchase.",
        "activation_later": "Points can be used {days} after the purchase.",
        "spend_h": "Paying with points",
        "value": "1 point is worth {value}",
        "share": "Points can pay for up to {pct}% of a purchase.",
        "share_none": "Points cannot be used to pay for purchases.",
        "tiers_h": "Cumulative discount",
        "tiers": "The discount depends on the total of your purchases with the card:",
        "tier_free": '"{name}": {pct}% off from the first purchase',
        "tier": '"{name}": {pct}% off from {amount} of purchases',
        "stamps_h": "Stamp cards",
        "stamp": '"{name}": after {buy} {purchases}, {reward}',
        "check_h": "Balance and changes to the rules",
        "consent_h": "Personal data",
        "consent": (
            "These rules are a separate document and do not contain consent to the processing of personal "
            "data. Consent to the processing of personal data and consent to receive advertising messages "
            "are given separately."
        ),
    },
}


def _bullets(items: list[str]) -> str:
    lines = [f"- {item};" for item in items[:-1]]
    lines.append(f"- {items[-1]}.")
    return "\n".join(lines)


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if not text or text[-1] in ".!?" else text + "."


def rules_document(rules: ProgramRules, lang: str) -> str:
    """The programme rules ("положение"); sections the configuration leaves empty are omitted."""
    _check_lang(lang)
    t = _RULES_TEXT[lang]
    op = rules.operator
    sections: list[tuple[str, list[str]]] = []

    sections.append(
        (
            t["operator_h"],
            [
                t["operator"].format(
                    op_name=printable(op.name),
                    op_address=printable(op.legal_address),
                    op_inn=printable(op.inn),
                    op_contact=printable(op.contact),
                )
            ],
        )
    )
    join = [t["join"]]
    if rules.wallet_url:
        join.append(t["wallet"])
    sections.append((t["join_h"], join))

    if rules.points_per > 0:
        earn = [t["earn"].format(per=format_rub(rules.per_rub, lang), points=_points(rules.points_per, lang))]
        if rules.activation_delay_days == 0:
            earn.append(t["activation_now"])
        else:
            earn.append(t["activation_later"].format(days=_days(rules.activation_delay_days, lang)))
        sections.append((t["earn_h"], earn))
        spend = [_sentence(t["value"].format(value=format_rub(rules.point_value_rub, lang)))]
        if rules.max_bill_share_pct > 0:
            spend.append(t["share"].format(pct=rules.max_bill_share_pct))
        else:
            spend.append(t["share_none"])
        sections.append((t["spend_h"], spend))

    tiers = _sorted_tiers(rules)
    if tiers:
        items = []
        for tier in tiers:
            name = printable(tier.name.get(lang))
            if tier.from_rub <= 0:
                items.append(t["tier_free"].format(name=name, pct=tier.discount_pct))
            else:
                amount = format_rub(tier.from_rub, lang)
                items.append(t["tier"].format(name=name, pct=tier.discount_pct, amount=amount))
        sections.append((t["tiers_h"], [t["tiers"] + "\n" + _bullets(items)]))

    if rules.stamp_cards:
        items = []
        for card in rules.stamp_cards:
            if lang == "en":
                purchases = _plural_en(card.buy, "paid purchase", "paid purchases")
            else:
                purchases = plural_ru(card.buy, "оплаченной покупки", "оплаченных покупок", "оплаченных покупок")
            items.append(
                t["stamp"].format(
                    name=printable(card.name.get(lang)),
                    buy=card.buy,
                    purchases=purchases,
                    reward=printable(card.reward.get(lang)),
                )
            )
        sections.append((t["stamps_h"], [_bullets(items)]))

    if rules.excluded:
        listed = _bullets([printable(x.get(lang)) for x in rules.excluded])
        sections.append((t["excluded_h"], [t["excluded"] + "\n" + listed]))

    check = printable(rules.how_to_check.get(lang))
    if check:
        sections.append((t["check_h"], [_sentence(check)]))

    sections.append((t["consent_h"], [t["consent"]]))

    out = [t["title"].format(name=printable(rules.name.get(lang)))]
    for number, (heading, paragraphs) in enumerate(sections, start=1):
        out.append("")
        out.append(f"{number}. {heading}")
        out.extend(paragraphs)
    return "\n".join(out)
