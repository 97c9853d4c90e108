"""Loyalty programme rules: arithmetic, Russian plurals, the rules document and the short lines."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import load_config, program_rules
from kiosk.core.consent import printable
from kiosk.core.model import LANGS, Operator, ProgramRules, StampCard, Text, Tier
from kiosk.core.program import (
    NBSP,
    TierProgress,
    format_rub,
    max_points_payable,
    pitch,
    plural_ru,
    points_for,
    progress_text,
    rules_document,
    summary_lines,
    tier_progress,
)

SILVER = Tier(Text("Серебро", "Silver"), 5000, 5)
GOLD = Tier(Text("Золото", "Gold"), 25000, 10)
OPERATOR = Operator(
    name="ООО «Зерно»", legal_address="123456, г. Москва, ул. Примерная, д. 1", inn="7707083893", contact="+7 495 1"
)


def plain(text: str) -> str:
    return text.replace(NBSP, " ")


@pytest.fixture(scope="module")
def rules() -> ProgramRules:
    return program_rules(load_config())


@pytest.fixture
def two_tiers() -> ProgramRules:
    return ProgramRules(name=Text("Зерно Бонус", "Zerno Bonus"), operator=OPERATOR, tiers=(SILVER, GOLD))


def bare(rules: ProgramRules) -> ProgramRules:
    """The same programme with every optional section left empty."""
    return replace(rules, tiers=(), excluded=(), stamp_cards=(), how_to_check=Text("", ""), wallet_url=None)


# --- Plurals and amounts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "баллов"), (1, "балл"), (2, "балла"), (3, "балла"), (4, "балла"), (5, "баллов"), (10, "баллов"),
        (11, "баллов"), (12, "баллов"), (14, "баллов"), (15, "баллов"), (21, "балл"), (22, "балла"),
        (25, "баллов"), (101, "балл"), (111, "баллов"), (112, "баллов"), (1001, "балл"), (1004, "балла"),
    ],
)  # fmt: skip
def test_plural_points(n: int, expected: str) -> None:
    assert plural_ru(n, "балл", "балла", "баллов") == expected


@pytest.mark.parametrize(("n", "expected"), [(1, "день"), (2, "дня"), (14, "дней"), (21, "день"), (34, "дня")])
def test_plural_days(n: int, expected: str) -> None:
    assert plural_ru(n, "день", "дня", "дней") == expected


@pytest.mark.parametrize(("n", "expected"), [(1, "рубль"), (3, "рубля"), (5, "рублей"), (13, "рублей"), (51, "рубль")])
def test_plural_roubles(n: int, expected: str) -> None:
    assert plural_ru(n, "рубль", "рубля", "рублей") == expected


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        (4200, "ru", "4 200 руб."),
        (4200, "en", "4,200 RUB"),
        (0, "ru", "0 руб."),
        (999, "ru", "999 руб."),
        (1000, "en", "1,000 RUB"),
        (1234567, "ru", "1 234 567 руб."),
        (1234567.5, "ru", "1 234 567,50 руб."),
        (1234567.5, "en", "1,234,567.50 RUB"),
        (1.0, "ru", "1 руб."),
        (0.5, "en", "0.50 RUB"),
    ],
)
def test_format_rub(amount: float, lang: str, expected: str) -> None:
    out = format_rub(amount, lang)
    assert plain(out) == expected
    assert "₽" not in out and " " not in out  # no-break spaces only, so amounts never split across lines
    out.encode("cp866")


# --- Tiers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spent", "current", "nxt", "remaining", "ru", "en"),
    [
        (0, None, SILVER, 5000, "5 000 руб. до скидки 5%", "5,000 RUB to 5% off"),
        (4999, None, SILVER, 1, "1 руб. до скидки 5%", "1 RUB to 5% off"),
        (5000, SILVER, GOLD, 20000, "20 000 руб. до скидки 10%", "20,000 RUB to 10% off"),
        (20800, SILVER, GOLD, 4200, "4 200 руб. до скидки 10%", "4,200 RUB to 10% off"),
        (25000, GOLD, None, 0, "максимальная скидка 10%", "top discount 10%"),
        (1_000_000, GOLD, None, 0, "максимальная скидка 10%", "top discount 10%"),
    ],
)
def test_tier_progress_and_text(
    two_tiers: ProgramRules,
    spent: int,
    current: Tier | None,
    nxt: Tier | None,
    remaining: int,
    ru: str,
    en: str,
) -> None:
    progress = tier_progress(two_tiers, spent)
    assert progress == TierProgress(current=current, next=nxt, remaining_rub=remaining)
    assert plain(progress_text(progress, "ru")) == ru
    assert plain(progress_text(progress, "en")) == en


def test_default_config_has_the_same_tiers(rules: ProgramRules) -> None:
    assert [(t.from_rub, t.discount_pct) for t in rules.tiers] == [(5000, 5), (25000, 10)]
    assert plain(progress_text(tier_progress(rules, 20800), "ru")) == "4 200 руб. до скидки 10%"


def test_tiers_given_out_of_order_are_sorted(two_tiers: ProgramRules) -> None:
    shuffled = replace(two_tiers, tiers=(GOLD, SILVER))
    assert tier_progress(shuffled, 6000) == tier_progress(two_tiers, 6000)


def test_no_tiers(two_tiers: ProgramRules) -> None:
    progress = tier_progress(replace(two_tiers, tiers=()), 10_000)
    assert progress == TierProgress(None, None, 0)
    assert progress_text(progress, "ru") == ""


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_tier_progress_is_never_negative_and_monotone(a: int, b: int) -> None:
    rules = ProgramRules(
        name=Text("x", "x"),
        operator=OPERATOR,
        tiers=(Tier(Text("a", "a"), 0, 1), SILVER, GOLD, Tier(Text("b", "b"), 100_000, 15)),
    )
    low, high = sorted((a, b))
    p_low, p_high = tier_progress(rules, low), tier_progress(rules, high)
    for spent, p in ((low, p_low), (high, p_high)):
        assert p.remaining_rub >= 0
        assert p.current is not None and p.current.from_rub <= spent
        if p.next is not None:
            assert spent + p.remaining_rub == p.next.from_rub
        else:
            assert p.remaining_rub == 0
    assert p_low.current is not None and p_high.current is not None
    assert p_low.current.discount_pct <= p_high.current.discount_pct
    if p_low.next == p_high.next:
        assert p_low.remaining_rub >= p_high.remaining_rub


# --- Points ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "excluded", "expected"),
    [
        (0, 0, 0),
        (99.99, 0, 0),
        (100, 0, 10),
        (199.99, 0, 10),
        (1000, 0, 100),
        (1000, 150, 80),
        (1000, 1000, 0),
        (sum([0.1] * 3000), 0, 30),  # 299.99999999999... is 300.00 in kopecks
    ],
)
def test_points_for(rules: ProgramRules, amount: float, excluded: float, expected: int) -> None:
    assert rules.points_per == 10 and rules.per_rub == 100
    assert points_for(rules, amount, excluded) == expected


def test_points_for_other_rates(rules: ProgramRules) -> None:
    assert points_for(replace(rules, points_per=3, per_rub=50), 175) == 9
    assert points_for(replace(rules, points_per=0), 10_000) == 0


@pytest.mark.parametrize(("amount", "excluded"), [(-1, 0), (100, -1), (100, 101)])
def test_points_for_rejects_bad_amounts(rules: ProgramRules, amount: float, excluded: float) -> None:
    with pytest.raises(ValueError, match=r"amount|bill"):
        points_for(rules, amount, excluded)


@given(st.integers(min_value=0, max_value=10**8), st.integers(min_value=0, max_value=10**8))
def test_points_for_is_monotone(a: int, b: int) -> None:
    rules = ProgramRules(name=Text("x", "x"), operator=OPERATOR, points_per=7, per_rub=30)
    low, high = sorted((a / 100, b / 100))
    assert 0 <= points_for(rules, low) <= points_for(rules, high)


def test_max_points_payable(rules: ProgramRules) -> None:
    assert rules.max_bill_share_pct == 50
    assert max_points_payable(rules, 1000) == 500.0
    assert max_points_payable(rules, 999.99) == 499.99
    assert max_points_payable(replace(rules, max_bill_share_pct=0), 1000) == 0.0
    assert max_points_payable(replace(rules, max_bill_share_pct=100), 123.45) == 123.45
    with pytest.raises(ValueError, match="bill"):
        max_points_payable(rules, -5)


# --- The rules document ---------------------------------------------------------------------------


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^\d+\. ", line)]


@pytest.mark.parametrize("lang", LANGS)
def test_rules_document_contains_every_configured_element(rules: ProgramRules, lang: str) -> None:
    doc = plain(rules_document(rules, lang))
    op = rules.operator
    assert printable(rules.name.get(lang)) in doc.splitlines()[0]
    for value in (op.name, op.legal_address, op.inn, op.contact):
        assert printable(value) in doc
    earn = f"{rules.points_per} балл" if lang == "ru" else f"{rules.points_per} points"
    assert earn in doc
    assert plain(format_rub(rules.per_rub, lang)) in doc
    assert (
        f"через {rules.activation_delay_days} дней" if lang == "ru" else f"{rules.activation_delay_days} days after"
    ) in doc
    assert plain(format_rub(rules.point_value_rub, lang)) in doc
    assert f"{rules.max_bill_share_pct}%" in doc
    assert rules.tiers
    for tier in rules.tiers:
        line = next(ln for ln in doc.splitlines() if printable(tier.name.get(lang)) in ln)
        assert f"{tier.discount_pct}%" in line
        assert plain(format_rub(tier.from_rub, lang)) in line
    assert rules.excluded
    for item in rules.excluded:
        assert any(ln.startswith(f"- {printable(item.get(lang))}") for ln in doc.splitlines())
    assert rules.stamp_cards
    for card in rules.stamp_cards:
        line = next(ln for ln in doc.splitlines() if printable(card.name.get(lang)) in ln)
        assert f" {card.buy} " in line
        assert printable(card.reward.get(lang)) in line
    assert printable(rules.how_to_check.get(lang)) in doc
    assert ("отдельным документом" if lang == "ru" else "separate document") in doc
    assert ("согласия на обработку персональных данных" if lang == "ru" else "consent to the processing") in doc


@pytest.mark.parametrize(
    ("lang", "optional_headings"),
    [
        ("ru", ("Накопительная скидка", "Карты с отметками", "Исключения", "Баланс и изменения правил")),
        ("en", ("Cumulative discount", "Stamp cards", "Exclusions", "Balance and changes to the rules")),
    ],
)
def test_empty_sections_are_omitted(rules: ProgramRules, lang: str, optional_headings: tuple[str, ...]) -> None:
    full = headings(rules_document(rules, lang))
    empty = headings(rules_document(bare(rules), lang))
    for heading in optional_headings:
        assert any(h.endswith(heading) for h in full), heading
        assert not any(h.endswith(heading) for h in empty), heading
    assert len(empty) == len(full) - len(optional_headings)
    for doc in (full, empty):  # sections stay numbered 1..n without gaps
        assert [int(h.split(".")[0]) for h in doc] == list(range(1, len(doc) + 1))


@pytest.mark.parametrize("lang", LANGS)
def test_programme_without_points_has_no_points_sections(rules: ProgramRules, lang: str) -> None:
    with_points = rules_document(rules, lang)
    without = rules_document(replace(rules, points_per=0), lang)
    heading = "Начисление баллов" if lang == "ru" else "Earning points"
    assert heading in with_points and heading not in without
    assert len(headings(without)) == len(headings(with_points)) - 2


@pytest.mark.parametrize(("lang", "phrase"), [("ru", "сразу после покупки"), ("en", "straight after the purchase")])
def test_immediate_activation(rules: ProgramRules, lang: str, phrase: str) -> None:
    assert phrase in rules_document(replace(rules, activation_delay_days=0), lang)
    assert phrase not in rules_document(rules, lang)


def test_stamp_card_plural(rules: ProgramRules) -> None:
    one = replace(rules, stamp_cards=(StampCard(Text("Карта", "Card"), 1, Text("второй в подарок", "x")),))
    assert "после 1 оплаченной покупки" in rules_document(one, "ru")
    assert "after 1 paid purchase," in rules_document(one, "en")
    assert "после 5 оплаченных покупок" in rules_document(rules, "ru")


def test_wallet_sentence_only_when_configured(rules: ProgramRules) -> None:
    with_wallet = replace(rules, wallet_url="https://wallet.example/{card}")
    assert "QR" in rules_document(with_wallet, "ru").split("3.")[0]
    assert len(rules_document(with_wallet, "en")) > len(rules_document(replace(rules, wallet_url=None), "en"))


# --- Short lines ----------------------------------------------------------------------------------


def test_summary_and_pitch_for_the_default_programme(rules: ProgramRules) -> None:
    assert [plain(x) for x in summary_lines(rules, "ru")] == [
        "10 баллов за каждые 100 руб.",
        "Скидка 5% от 5 000 руб. покупок",
        "Баллы активны через 14 дней",
    ]
    assert [plain(x) for x in summary_lines(rules, "en")] == [
        "10 points for every 100 RUB",
        "5% off from 5,000 RUB spent",
        "Points active after 14 days",
    ]
    assert plain(pitch(rules, "ru")) == "10 баллов за каждые 100 руб."
    assert plain(pitch(rules, "en")) == "10 points for every 100 RUB"


@pytest.mark.parametrize(
    ("points_per", "per_rub", "ru", "en"),
    [
        (1, 100, "1 балл за каждые 100 руб.", "1 point for every 100 RUB"),
        (2, 21, "2 балла за каждый 21 руб.", "2 points for every 21 RUB"),
        (5, 1, "5 баллов за каждый рубль", "5 points for every rouble"),
        (10, 1000, "10 баллов за каждые 1 000 руб.", "10 points for every 1,000 RUB"),
    ],
)
def test_pitch_wording(rules: ProgramRules, points_per: int, per_rub: int, ru: str, en: str) -> None:
    r = replace(rules, points_per=points_per, per_rub=per_rub)
    assert plain(pitch(r, "ru")) == ru
    assert plain(pitch(r, "en")) == en


@pytest.mark.parametrize("lang", LANGS)
def test_summary_always_has_three_short_lines(rules: ProgramRules, lang: str) -> None:
    variants = [
        rules,
        bare(rules),
        replace(rules, points_per=0),
        replace(bare(rules), points_per=0),
        replace(rules, activation_delay_days=0, tiers=(Tier(Text("Все", "All"), 0, 3),)),
    ]
    for r in variants:
        lines = summary_lines(r, lang)
        assert len(lines) == 3
        assert all(len(line) <= 32 for line in lines), lines
    assert summary_lines(replace(bare(rules), points_per=0), lang)[0] == printable(rules.name.get(lang))
    assert summary_lines(replace(bare(rules), points_per=0), lang)[1:] == ["", ""]


def test_pitch_without_points_falls_back_to_discount_then_stamps(rules: ProgramRules) -> None:
    assert pitch(replace(rules, points_per=0), "ru") == "Скидка до 10%"
    assert pitch(replace(rules, points_per=0, tiers=()), "en") == "Buy 5: the sixth coffee free"


def test_unknown_language_is_rejected(rules: ProgramRules) -> None:
    with pytest.raises(ValueError, match="language"):
        rules_document(rules, "fr")


# --- CP866 ----------------------------------------------------------------------------------------


def _hostile(rules: ProgramRules) -> ProgramRules:
    return replace(
        rules,
        name=Text("«Зерно Бонус» — кофе", "“Zerno” – Bonus ₽"),
        excluded=(Text("кофе «Эспрессо»…", "‘Espresso’"),),
        how_to_check=Text("Спросите на кассе — или в приложении", "Ask at the till – or in the app"),
    )


@pytest.mark.parametrize("lang", LANGS)
def test_everything_encodes_in_cp866(rules: ProgramRules, lang: str) -> None:
    for r in (rules, _hostile(rules), bare(rules), replace(rules, points_per=0, activation_delay_days=0)):
        texts = [rules_document(r, lang), pitch(r, lang), *summary_lines(r, lang)]
        texts += [progress_text(tier_progress(r, s), lang) for s in (0, 4999, 20800, 10**6)]
        for text in texts:
            text.encode("cp866")
            assert not set(text) & set("«»—–’“”₽…")
