"""Abandon or walk away at every step: no byte of the customer on disk, nothing left in the screens."""

from __future__ import annotations

import pytest

from tests.signup_helpers import CUSTOMER, scan_files

STOPS = ["rules", "form-name", "form-phone", "form-rejected", "consent", "consent-ads", "code"]


def drive(customer, stop: str) -> None:
    ui = customer.ui
    customer.tap("join")
    if stop == "rules":
        return
    customer.tap("accept")
    customer.type_text(CUSTOMER["name"])
    if stop == "form-name":
        return
    customer.tap("next")
    customer.type_digits(customer.phone_digits(CUSTOMER["phone"]))
    if stop == "form-phone":
        return
    customer.tap("next")
    if stop == "form-rejected":
        customer.type_digits("31021997")
        customer.tap("next")
        assert ui.screens["form"].errors
        return
    customer.type_digits(CUSTOMER["birth_date"].replace(".", ""))
    customer.tap("next")
    customer.tap(f"gender:{CUSTOMER['gender']}")
    customer.type_text(CUSTOMER["email"])
    customer.tap("next")
    assert ui.current.name == "consent"
    if stop == "consent":
        return
    customer.tap("tick:processing")
    customer.tap("continue")
    if stop == "consent-ads":
        return
    customer.tap("continue")
    assert customer.wait_until(lambda: ui.screens["code"].state == "sent")
    customer.type_digits("000")


def assert_nothing_left(kiosk, tmp) -> None:
    ui = kiosk.ui
    assert ui.current.name == "attract" and ui.session is None
    form = ui.screens["form"]
    assert form.values == {} and form.errors == {}
    assert ui.screens["code"].digits == ""
    assert ui.result is None
    ui.step()
    drawn = " ".join(ui.painter.record.texts)
    assert "Валентина" not in drawn and "482" not in drawn
    assert all("Валентина" not in key[0] for key in ui.painter._lines)
    files = [p for p in (tmp / "state").rglob("*") if p.is_file()]
    assert any(p.name == "kiosk.log" for p in files)
    assert scan_files(files) == []


@pytest.mark.parametrize("stop", STOPS)
def test_abandon(kiosk_env, stop: str) -> None:
    kiosk, customer, _clock, tmp = kiosk_env
    drive(customer, stop)
    customer.tap("cancel")
    assert_nothing_left(kiosk, tmp)


@pytest.mark.parametrize("stop", STOPS)
def test_idle_timeout(kiosk_env, stop: str) -> None:
    kiosk, customer, clock, tmp = kiosk_env
    ui = kiosk.ui
    drive(customer, stop)
    clock.skip(kiosk.cfg.kiosk.idle_timeout_s + 1)
    customer.step()
    assert ui.overlay == "idle"
    assert "idle:stay" in {t.name for t in ui.targets}
    assert ui.current.name != "attract"
    clock.skip(kiosk.cfg.kiosk.idle_warning_s)
    customer.step(2)
    assert_nothing_left(kiosk, tmp)


def test_still_there_keeps_the_session(kiosk_env) -> None:
    kiosk, customer, clock, _tmp = kiosk_env
    drive(customer, "form-phone")
    clock.skip(kiosk.cfg.kiosk.idle_timeout_s + 1)
    customer.step()
    customer.tap("idle:stay")
    clock.skip(kiosk.cfg.kiosk.idle_warning_s)
    customer.step(2)
    assert kiosk.ui.current.name == "form" and kiosk.ui.overlay is None
