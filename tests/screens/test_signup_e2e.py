"""Sign-ups driven through the real screens by the virtual customer, down to the printed bytes."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.core import cards
from kiosk.demo import run_demo
from kiosk.hw.printer.render import render


def _decoded_qr(path: Path) -> list[str]:
    receipt = render(path.read_bytes(), paper_dots=576)
    return [c.text for c in receipt.codes if c.format == "QRCode"]


def test_sign_up_prints_a_qr_that_decodes_to_the_issued_card(kiosk_env) -> None:
    kiosk, customer, _clock, tmp = kiosk_env
    outcome = customer.sign_up()
    assert outcome.outcome == "registered", outcome
    assert kiosk.store.journal_entry(outcome.card_number) is not None
    assert customer.wait_until(
        lambda: not kiosk.print_worker.pending() and len(list((tmp / "receipts").glob("*.bin"))) >= 2
    )
    first = sorted((tmp / "receipts").glob("*.bin"))[0]
    payloads = _decoded_qr(first)
    assert payloads, "no QR code read back from the card receipt"
    scan = cards.parse_scan(payloads[0], kiosk.keys.card_mac)
    assert isinstance(scan, cards.CardScan) and scan.authenticated
    assert scan.card == outcome.card_number
    assert kiosk.ui.current.name == "attract" and kiosk.ui.result is None


def test_wrong_code_then_the_right_one(kiosk_env) -> None:
    kiosk, customer, *_ = kiosk_env
    seen: list[list[str]] = []
    customer.on_step = lambda: seen.append(list(kiosk.ui.painter.record.texts))
    outcome = customer.sign_up({"code": "wrong-then-correct", "ads": True})
    assert outcome.outcome == "registered"
    assert len(outcome.consent_ids) == 2
    wrong = "Неверный код. Осталось попыток: 4"
    assert any(wrong in frame for frame in seen)


def test_wrong_codes_until_no_attempts_left(kiosk_env) -> None:
    kiosk, customer, *_ = kiosk_env
    outcome = customer.sign_up({"code": "wrong"})
    assert outcome.outcome == "rejected" and outcome.reason == "attempts_exhausted"
    assert kiosk.ui.session is None
    assert kiosk.store.journal() == []
    customer.tap("start_again")
    assert kiosk.ui.current.name == "attract"


def test_demo_command_keeps_its_state_under_its_folder(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run_demo(out, size=(800, 480), script={"language": "en"})
    assert result["outcome"] == "registered"
    saved = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert saved["card_number"] == result["card_number"] and saved["consent_ids"]
    shots = sorted(p.name for p in (out / "screens").glob("*.png"))
    assert shots[0].startswith("01-attract") and any("done" in s for s in shots)
    assert list((out / "receipts").glob("*.png")) and list((out / "receipts").glob("*.bin"))
    assert (out / "state" / "kiosk.db").exists()
