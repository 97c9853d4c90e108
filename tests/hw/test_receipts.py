"""Receipt layouts: real bytes, rendered to pixels, read back (text, QR and EAN-13)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as s

from kiosk.config import load_config
from kiosk.core.cards import display_number
from kiosk.hw.printer import receipts
from kiosk.hw.printer.render import render, save_png

CARD = "2000100000014"
PAYLOAD = "LC1:2000100000014.ABCDEFGH"
WALLET = "https://wallet.example/add/2000100000014"
SUMMARY = [
    "10 баллов за каждые 100 руб. покупки",
    "Баллы активируются через 14 дней",
    "Баланс: отсканируйте карту на киоске или спросите на кассе",
]
PAPERS = [58, 80]

CONSENT = """Я, Иванова Мария, даю согласие ООО "Зерно" (ИНН 7707083893), 123456, г. Москва, ул. Примерная, д. 1, на обработку моих персональных данных на следующих условиях.

Цель обработки: участие в программе лояльности "Зерно Бонус": выпуск и обслуживание карты, начисление и списание баллов, предоставление скидок.
Перечень данных:
- имя;
- номер телефона +7 *** ***-**-90;
- дата рождения, пол и адрес электронной почты, если я их указала.
Действия: сбор, запись, систематизация, накопление, хранение, уточнение (обновление, изменение), извлечение, использование, передача (предоставление, доступ), обезличивание, блокирование, удаление, уничтожение.
1. Способы обработки: автоматизированная и неавтоматизированная.
2. Срок: до окончания участия в программе лояльности или до отзыва согласия, и 30 дней после.
Отзыв: письменное заявление по адресу оператора или письмо на privacy@zerno.example.
Подтверждено кодом из SMS, отправленным 01.12.2026 в 10:15:02, введённым в 10:15:40 (МСК). Согласие № C-01HX3K9Q2W."""


def card(paper_mm: int, native_qr: bool = True, wallet: str | None = WALLET, **kw: Any) -> bytes:
    return receipts.card_receipt(
        paper_mm=paper_mm,
        native_qr=native_qr,
        program_name="Зерно Бонус",
        store_name="Кофейня «Зерно»",
        card_number=CARD,
        qr_payload=PAYLOAD,
        summary_lines=SUMMARY,
        wallet_url=wallet,
        **kw,
    )


def norm(text: str) -> str:
    return " ".join(text.split())


def dots(paper_mm: int) -> int:
    return receipts.PAPERS[paper_mm].dots


# -- byte level ----------------------------------------------------------------------------------


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_card_receipt_bytes_native(paper_mm: int) -> None:
    data = card(paper_mm)
    assert data.startswith(b"\x1b@\x1bt\x11")  # init, then CP866 (page 17 in the default profile)
    assert data.count(b"\x1bt") == 1  # no code page switching afterwards
    assert b"\x1dv0" not in data  # no raster image
    module = receipts.QR_MODULE[paper_mm]
    assert b"\x1d(k\x03\x001C" + bytes((module,)) in data  # module size
    # Centred through the line alignment right before the native QR.
    qr_at = data.index(b"\x1d(k")
    assert data.rfind(b"\x1ba\x01", 0, qr_at) > data.rfind(b"\x1ba\x00", 0, qr_at)
    assert b"\x1dkC\x0d" + CARD.encode() in data  # EAN-13, function B
    assert b"\x1dH\x02" in data  # HRI below
    assert b"\x1d!\x11" + display_number(CARD).encode() in data  # GS ! double size
    assert data.endswith(b"\x1dV\x00")
    assert len(data) < 2048


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_card_receipt_raster_fallback(paper_mm: int) -> None:
    data = card(paper_mm, native_qr=False)
    assert b"\x1d(k" not in data
    assert data.count(b"\x1dv0") == 2
    assert data.count(b"\x1bt") == 1
    assert len(data) > 5 * len(card(paper_mm))


def test_profile_without_native_qr_uses_raster() -> None:
    data = card(58, profile="POS-5890")  # its capabilities say no qrCode; CP866 is page 59 there
    assert b"\x1d(k" not in data and b"\x1dv0" in data
    assert data.startswith(b"\x1b@\x1bt\x3b")


def test_bad_card_number_refused() -> None:
    with pytest.raises(ValueError):
        receipts.card_receipt(
            paper_mm=80,
            native_qr=True,
            program_name="P",
            store_name="S",
            card_number="2000100000013",
            qr_payload="x",
            summary_lines=[],
            wallet_url=None,
        )


def test_grouping() -> None:
    assert display_number("2000100000014") == "2 0001 0000001 4"


# -- closed loop: bytes -> pixels -> decoders ------------------------------------------------------


@pytest.mark.parametrize("native_qr", [True, False])
@pytest.mark.parametrize("paper_mm", PAPERS)
def test_card_receipt_read_back(paper_mm: int, native_qr: bool, tmp_path: Path) -> None:
    data = card(paper_mm, native_qr=native_qr)
    rr = render(data, paper_dots=dots(paper_mm))
    assert rr.unknown == []
    found = {(c.format, c.text) for c in rr.codes}
    assert ("QRCode", PAYLOAD) in found
    assert ("EAN13", CARD) in found
    assert ("QRCode", WALLET) in found
    assert rr.cuts == 1
    text = "\n".join(rr.lines)
    assert "Зерно Бонус" in text and 'Кофейня "Зерно"' in text
    assert display_number(CARD) in rr.lines
    for line in SUMMARY:
        assert norm(line) in norm(text)
    assert "?" not in text
    save_png(rr, tmp_path / "card.png")


def test_card_receipt_without_wallet_has_one_qr() -> None:
    rr = render(card(80, wallet=None), paper_dots=576)
    assert sorted(c.format for c in rr.codes) == ["EAN13", "QRCode"]
    assert "Добавить в телефон" not in "\n".join(rr.lines)


def test_labels_override() -> None:
    rr = render(card(80, labels={"card": "Your card", "wallet": "Add to phone"}), paper_dots=576)
    assert "Your card" in rr.lines and "Add to phone" in rr.lines


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_consent_copy_reads_back_exactly(paper_mm: int) -> None:
    columns = receipts.PAPERS[paper_mm].columns
    data = receipts.consent_copy(
        paper_mm=paper_mm,
        title="Согласие на обработку персональных данных",
        text=CONSENT,
        footer_lines=["Версия 2026-12-01", "Киоск kiosk-0001"],
    )
    rr = render(data, paper_dots=dots(paper_mm))
    assert rr.unknown == [] and rr.cuts == 1
    text = "\n".join(rr.lines)
    assert "?" not in text
    assert norm(CONSENT) in norm(text)
    assert "Согласие № C-01HX3K9Q2W" in norm(text)
    assert all(len(line) <= columns for line in rr.lines), max(rr.lines, key=len)
    # List items keep a hanging indent: continuation lines start under the first word.
    wrapped = receipts.wrap(CONSENT, columns)
    item = next(i for i, line in enumerate(wrapped) if line.startswith("- дата рождения"))
    assert wrapped[item + 1].startswith("  ") and not wrapped[item + 1].startswith("   ")
    numbered = next(i for i, line in enumerate(wrapped) if line.startswith("2. Срок"))
    assert wrapped[numbered + 1].startswith("   ") and wrapped[numbered + 1][3] != " "


def test_consent_typographic_characters_are_replaced_not_lost() -> None:
    text = "ООО «Зерно» — оператор… «кавычки» и 100 ₽"
    rr = render(receipts.consent_copy(paper_mm=80, title="T", text=text), paper_dots=576)
    assert norm(receipts.printable(text)) in norm("\n".join(rr.lines))
    assert receipts.printable(text) == 'ООО "Зерно" - оператор... "кавычки" и 100 руб.'


@pytest.mark.parametrize("paper_mm", PAPERS)
def test_rules_and_test_page(paper_mm: int, tmp_path: Path) -> None:
    rules = 'Правила программы "Зерно Бонус"\n\n1. Баллы начисляются за покупки.\n2. Баллы списываются на кассе.'
    rr = render(receipts.rules_receipt(paper_mm=paper_mm, text=rules), paper_dots=dots(paper_mm))
    assert norm(rules) in norm("\n".join(rr.lines))

    data = receipts.test_page(paper_mm=paper_mm, kiosk_id="kiosk-0001", version="0.1.0", now_text="01.12.2026 10:00")
    rr = render(data, paper_dots=dots(paper_mm))
    text = "\n".join(rr.lines)
    # 33 capitals do not fit 32 columns: the word is cut, every letter is still there in order.
    assert re.sub(r"\s", "", receipts.CYRILLIC_CHECK) in re.sub(r"\s", "", text)
    assert "?" not in text
    assert {c.format for c in rr.codes} == {"QRCode", "EAN13"}
    assert ("EAN13", receipts.TEST_CARD) in {(c.format, c.text) for c in rr.codes}
    columns = receipts.PAPERS[paper_mm].columns
    assert receipts.ruler(columns)[1] in rr.lines
    assert len(receipts.ruler(columns)[1]) == columns
    assert f"ESC t {receipts.cp866_page_of('default')}" in text
    save_png(rr, tmp_path / "test.png")


# -- wrapping ---------------------------------------------------------------------------------------

words = s.text(
    alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВ0123456789.,-№", min_size=1, max_size=16
)  # no word longer than a line


@given(s.lists(words, min_size=1, max_size=60), s.sampled_from([32, 48, 16]))
def test_wrap_keeps_every_word_and_fits(ws: list[str], width: int) -> None:
    text = " ".join(ws)
    lines = receipts.wrap(text, width)
    assert all(len(line) <= width for line in lines)
    assert norm(" ".join(lines)) == norm(text)


def test_wrap_keeps_blank_lines_and_cuts_overlong_words() -> None:
    assert receipts.wrap("a\n\nb", 32) == ["a", "", "b"]
    long = "x" * 70
    lines = receipts.wrap(long, 32)
    assert [len(line) for line in lines] == [32, 32, 6]
    assert re.sub(r"\s", "", "".join(lines)) == long


# -- code page ---------------------------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _strings(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _strings(v)]
    return []


def test_our_texts_never_need_replacing() -> None:
    cfg = load_config()
    texts = _strings(cfg.model_dump()) + list(receipts.DEFAULT_LABELS.values())
    texts += [receipts.CYRILLIC_CHECK, CONSENT, *SUMMARY]
    assert len(texts) > 20
    bad = {t: receipts.unprintable(t) for t in texts if receipts.unprintable(t)}
    assert bad == {}
    for t in texts:
        assert b"?" not in receipts.encode(t) or "?" in t


def test_unprintable_detects_what_cp866_lacks() -> None:
    assert receipts.unprintable("日本") == {"日", "本"}
    assert receipts.encode("日") == b"?"
    assert receipts.encode("Café") == b"Cafe"
    assert receipts.encode("Ёё№") == "Ёё№".encode("cp866")
