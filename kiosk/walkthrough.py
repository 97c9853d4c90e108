"""A text walk-through of one sign-up on simulated inputs (``python -m kiosk walkthrough``).

It drives the same ``SignupService`` the screens use, with the development SMS backend, and
shows each step: the rules summary, a form with a typo that is rejected then corrected, the
consent document's identity, a wrong code then the right one, and the card that was issued.
"""

from __future__ import annotations

from pathlib import Path

from kiosk import config as kconfig
from kiosk.core import program
from kiosk.core.consent import ConsentKind
from kiosk.errors import ExitCode
from kiosk.i18n import t
from kiosk.keys import load_keys
from kiosk.signup import CodeToSend, SignupResult, SignupService
from kiosk.store.db import Store

SAMPLE = {
    "name": "Валентина",
    "phone": "8 (916) 123-45-67",
    "birth_date": "06.07.1997",
    "gender": "female",
    "email": "",
}


def walkthrough(config_path: Path | None, lang: str = "ru") -> int:
    cfg = kconfig.load_config(config_path)
    keys = load_keys(cfg)
    rules = kconfig.program_rules(cfg)
    with Store(cfg.database_path) as store:
        service = SignupService(cfg, store, keys)
        print(f"== {t(lang, 'walkthrough.title')} ==")

        session = service.start()
        print(f"\n-- 1. {t(lang, 'walkthrough.step_rules')}")
        for line in program.summary_lines(rules, lang):
            print(f"   {line}")
        session.accept_rules(service.clock())

        print(f"\n-- 2. {t(lang, 'walkthrough.step_form')}")
        # a different simulated phone each run, so repeated runs stay clear of the resend and daily caps
        n = len(store.journal())
        sample = dict(SAMPLE, phone=f"8 (916) 123-{n // 100 % 100:02d}-{n % 100:02d}")
        typo = dict(sample, birth_date="31.02.1997")
        errors = service.submit_form(session, typo)
        for field, reason in errors.items():
            print(f"   {field}: {t(lang, 'reason.' + reason, min_age=cfg.form.min_age)}")
        errors = service.submit_form(session, sample)
        assert not errors, errors
        print("   OK")

        print(f"\n-- 3. {t(lang, 'walkthrough.step_consent')}")
        doc = service.document(ConsentKind.PROCESSING, lang)
        print(f"   {doc.text.splitlines()[0]}")
        print(f"   version {doc.version}, sha256 {doc.sha256[:16]}...")
        session.show_consent(service.clock())
        session.give_consent(processing=True, ads=False, now=service.clock(), lang=lang)

        print(f"\n-- 4. {t(lang, 'walkthrough.step_code')}")
        sent = service.prepare_code(session)
        if not isinstance(sent, CodeToSend):
            print(f"   {t(lang, 'otp.' + sent.reason.value, seconds=int(sent.retry_after_s or 0))}")
            return ExitCode.FAILURE
        wrong = "0" * cfg.otp.length if sent.code != "0" * cfg.otp.length else "1" * cfg.otp.length
        rejected = service.confirm_code(session, wrong, lang)
        if not isinstance(rejected, SignupResult):
            print(f"   {wrong}: {t(lang, 'otp.' + rejected.reason.value, left=rejected.attempts_left)}")
        result = service.confirm_code(session, sent.code, lang)
        assert isinstance(result, SignupResult)
        print(f"   {'*' * len(sent.code)}: OK")

        print(f"\n-- 5. {t(lang, 'walkthrough.step_done', card=result.card_number)}")
        print(f"   QR: {result.qr_payload}")
        print(f"   consent id: {result.processing.consent_id}, event {result.event_id}")
        backlog, _ = store.outbox_stats(service.clock())
        print(f"   outbox: {backlog} event(s) sealed for head office")
        session.end(session.end_reason)  # type: ignore[arg-type]
    return ExitCode.OK
