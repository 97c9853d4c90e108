"""Invalid values are refused inline, with the reason translated, in both languages."""

from __future__ import annotations

import pytest

from kiosk.i18n import t

CASES = [
    ("name", {"name": "Vалентина"}, "mixed_scripts"),
    ("phone", {"phone": "+7 (495) 123-45-67"}, "phone_not_mobile"),
    ("birth_date", {"birth_date": "31.02.1997"}, "date_invalid"),
]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize(("field", "bad", "reason"), CASES)
def test_inline_error(kiosk_env, lang: str, field: str, bad: dict[str, str], reason: str) -> None:
    kiosk, customer, *_ = kiosk_env
    ui = kiosk.ui
    outcome = customer.sign_up({**bad, "language": lang})
    assert outcome.outcome == "rejected" and outcome.reason == f"form:{field}:{reason}"
    # the customer cancelled right after seeing the error; it was drawn on the frame before
    assert ui.current.name == "attract"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_error_text_is_drawn(kiosk_env, lang: str) -> None:
    kiosk, customer, *_ = kiosk_env
    ui = kiosk.ui
    if lang != ui.lang:
        customer.tap("lang")
    customer.tap("join")
    customer.tap("accept")
    for field, bad, reason in CASES:
        form = ui.screens["form"]
        form.focus_field(field)
        customer.step()
        for _ in range(12):
            if "key:backspace" in customer.names():
                customer.tap("key:backspace")
            elif "pad:back" in customer.names():
                customer.tap("pad:back")
        value = bad[field]
        if field == "name":
            customer.type_text(value)
        else:
            customer.type_digits(customer.phone_digits(value) if field == "phone" else value.replace(".", ""))
        customer.tap("next")
        expected = t(lang, f"reason.{reason}")
        assert expected in ui.painter.record.texts, (field, ui.painter.record.texts)


def test_a_leading_8_is_absorbed_by_the_phone_field(kiosk_env) -> None:
    """People write Russian mobiles as 8 916 ...; the field already shows +7."""
    kiosk, customer, _clock, _tmp = kiosk_env
    outcome = customer.sign_up({"phone": "8 916 482 73 59"})
    assert outcome.outcome == "registered"
    from kiosk.keys import load_dev_hq_private
    from kiosk.store.seal import unseal

    ((_, event),) = kiosk.store.outbox_batch(10)
    assert unseal(event.envelope["sealed"], load_dev_hq_private(kiosk.cfg))["phone"] == "+79164827359"
