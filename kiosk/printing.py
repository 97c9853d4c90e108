"""What the kiosk prints, composed from the core documents, the catalogs and the configuration.

Receipt layouts (``kiosk.hw.printer.receipts``) take finished strings; this module supplies them,
so the same texts reach the screen and the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk import __version__
from kiosk import config as kconfig
from kiosk.config import Config
from kiosk.core import program
from kiosk.hw.printer import receipts
from kiosk.i18n import t
from kiosk.signup import ConsentCopy, SignupResult


@dataclass(frozen=True)
class Job:
    kind: str  # card | consent | ads-consent | rules | test
    data: bytes


def _labels(lang: str) -> dict[str, str]:
    return {key: t(lang, f"receipt.{key}") for key in ("card", "show", "wallet")}


def card_job(cfg: Config, card_number: str, qr_payload: str, wallet_url: str | None, lang: str) -> Job:
    p = cfg.hardware.printer
    rules = kconfig.program_rules(cfg)
    data = receipts.card_receipt(
        paper_mm=p.paper_mm,
        native_qr=p.native_qr,
        program_name=rules.name.get(lang),
        store_name=cfg.kiosk.store_name.get(lang),
        card_number=card_number,
        qr_payload=qr_payload,
        summary_lines=[line for line in program.summary_lines(rules, lang) if line],
        wallet_url=wallet_url,
        labels=_labels(lang),
        profile=p.profile,
    )
    return Job("card", data)


def consent_job(cfg: Config, copy: ConsentCopy, lang: str, kind: str = "consent") -> Job:
    title = t(lang, "receipt.ads_title" if kind == "ads-consent" else "receipt.consent_title")
    data = receipts.consent_copy(
        paper_mm=cfg.hardware.printer.paper_mm, title=title, text=copy.text, footer_lines=[t(lang, "receipt.keep")]
    )
    return Job(kind, data)


def signup_jobs(cfg: Config, result: SignupResult, lang: str) -> list[Job]:
    """The card, then the consent copy, then the advertising consent copy when given."""
    jobs = [
        card_job(cfg, result.card_number, result.qr_payload, result.wallet_url, lang),
        consent_job(cfg, result.processing, lang),
    ]
    if result.advertising is not None:
        jobs.append(consent_job(cfg, result.advertising, lang, "ads-consent"))
    return jobs


def rules_job(cfg: Config, lang: str) -> Job:
    text = program.rules_document(kconfig.program_rules(cfg), lang)
    return Job("rules", receipts.rules_receipt(paper_mm=cfg.hardware.printer.paper_mm, text=text))


def test_job(cfg: Config, now: float) -> Job:
    p = cfg.hardware.printer
    when = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    data = receipts.test_page(
        paper_mm=p.paper_mm, kiosk_id=cfg.kiosk.id, version=__version__, now_text=when, profile=p.profile
    )
    return Job("test", data)


def sample_job(cfg: Config, receipt: str, lang: str, now: float) -> Job:
    """A receipt with sample data, for installers and reviewers (``kiosk print-test``)."""
    if receipt == "test":
        return test_job(cfg, now)
    if receipt == "rules":
        return rules_job(cfg, lang)
    from kiosk.core import cards
    from kiosk.core.consent import Confirmation, ConsentKind, Subject, compose, render_copy
    from kiosk.keys import load_keys

    if receipt == "card":
        card = cards.card_number(cfg.kiosk.number, 9_999_999)
        payload = cards.qr_payload(card, load_keys(cfg).card_mac)
        return card_job(cfg, card, payload, cards.wallet_url(cfg.program.wallet_url, card), lang)
    doc = compose(kconfig.consent_terms(cfg), ConsentKind.PROCESSING, lang)
    at = datetime.fromtimestamp(now, UTC)
    confirmation = Confirmation(method="sms-code", code_sent_at=at, confirmed_at=at, attempts=1)
    subject = Subject(name=t(lang, "sample.name"), masked_phone="+7 *** ***-**-00")
    text = render_copy(doc, subject, "SAMPLE", cfg.kiosk.id, at, confirmation, lang)
    return consent_job(cfg, ConsentCopy("SAMPLE", doc, text), lang)
