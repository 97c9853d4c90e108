"""Every screen in every state, for the screenshots command and the layout test.

The states are reached through the real sign-up service and simulated devices, not faked.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

from kiosk.core.consent import ConsentKind  # noqa: F401  (documents are composed by the service)
from kiosk.lookup import Balance, TierInfo

SIZES: dict[tuple[int, int], float] = {
    (800, 480): 7.0,
    (1024, 600): 7.0,
    (1280, 800): 10.1,
    (1920, 1080): 15.6,
    (720, 1280): 10.1,
}
"""Display sizes the screens are laid out for, with a typical panel diagonal (inches) for each."""

SAMPLE = {
    "name": "Констанция-Александра Преображенская",
    "phone": "+79161234567",
    "birth_date": "06.07.1997",
    "gender": "female",
    "email": "konstantsiya.preobrazhenskaya@example.ru",
}


def sample_balance(card: str) -> Balance:
    return Balance(
        card=card,
        first_name="Констанция",
        balance_points=12480,
        pending_points=320,
        total_spent_rub=18750,
        tier=TierInfo("Серебро", "Silver", 5),
        next_tier=TierInfo("Золото", "Gold", 10),
        remaining_rub=6250,
    )


_run = itertools.count()


def states(ui: Any) -> Iterator[str]:
    """Put ``ui`` into each state in turn and yield its name; the caller draws/saves it."""
    ui.home()
    yield "attract"
    ui.dimmed = True
    yield "attract-dimmed"
    ui.dimmed = False
    ui.start_signup()
    yield "rules"
    ui.accept_rules()
    form = ui.screens["form"]
    n = next(_run)
    phone = f"916{n // 10000 % 1000:03d}{n % 10000:04d}"  # a number of its own each time: clear of the daily cap
    for name in form.fields:
        form.focus_field(name)
        raw = {"phone": phone, "birth_date": "0607199"}.get(name, SAMPLE[name])
        form.values[name] = raw
        yield f"form-{name}"
        form.errors[name] = {
            "name": "mixed_scripts",
            "phone": "phone_country_not_allowed",
            "birth_date": "date_format",
        }.get(name, "required")
        yield f"form-{name}-error"
        form.errors.clear()
    form.values = {
        "phone": phone,
        "birth_date": "06071997",
        **{k: v for k, v in SAMPLE.items() if k not in ("phone", "birth_date")},
    }
    errors = ui.submit_form(form.submitted())
    assert not errors, errors
    yield "consent-processing"
    consent = ui.screens["consent"]
    consent.processing = True
    yield "consent-processing-ticked"
    consent.go_on()
    yield "consent-ads"
    ui.give_consent(True, True)
    code = ui.screens["code"]
    code.state = "sent"
    code.digits = "123"
    yield "code"
    ui.overlay = "idle"
    ui._idle_shown_s = ui.cfg.kiosk.idle_warning_s
    yield "idle-warning"
    ui.overlay = None
    code.message = ("otp.wrong_code", {"left": 3})
    yield "code-wrong"
    sms = ui.devices.sms
    session = ui.session
    e164 = session.customer.phone
    deadline = time.monotonic() + 5
    sent = None
    while sent is None and time.monotonic() < deadline and hasattr(sms, "last_code_for"):
        ui.step()
        sent = sms.last_code_for(e164)
        time.sleep(0.005)
    if sent is None:
        return
    ui.confirm_code(sent)
    yield "done"
    ui.go("printer_fault")
    yield "printer-fault"
    card = ui.result.card_number
    ui.finish()
    ui.devices.lookup.balances[card] = sample_balance(card)
    ui.balance = ("ok", sample_balance(card))
    ui.go("balance")
    yield "balance"
    for mode in ("loading", "unavailable", "not_found", "bare"):
        ui.balance = (mode, None)
        ui.dirty = True
        yield f"balance-{mode}"
    ui.finish()
    ui.fault = "DiskFullError"
    ui.go("out_of_service")
    yield "out-of-service"
    ui.fault = None
    ui.home()
