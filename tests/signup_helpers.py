"""Helpers for driving sign-ups through the real service in tests (fake clock, real store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kiosk.config import Config
from kiosk.core import otp
from kiosk.core.flow import SignupSession
from kiosk.keys import load_keys
from kiosk.signup import CodeToSend, SignupResult, SignupService
from kiosk.store.db import Store

CUSTOMER = {
    "name": "Валентина Щукина-Ёлкина",
    "phone": "8 (916) 482-73-59",
    "birth_date": "06.07.1997",
    "gender": "female",
    "email": "valentina.shch@example.ru",
}

# Every way the customer's data could appear in bytes: as typed, normalised, and in other formats.
NEEDLES = [
    "Валентина",
    "Щукина",
    "Ёлкина",
    "Щукина-Ёлкина",
    "+79164827359",
    "79164827359",
    "89164827359",
    "9164827359",
    "916) 482-73-59",
    "482-73-59",
    "4827359",
    "06.07.1997",
    "1997-07-06",
    "19970706",
    "valentina.shch",
    "example.ru",
]


def needle_bytes() -> list[bytes]:
    out: list[bytes] = []
    for n in NEEDLES:
        out.append(n.encode("utf-8"))
        out.append(n.encode("utf-16-le"))
        if not n.isascii():
            out.append(n.lower().encode("utf-8"))
            out.append(n.upper().encode("utf-8"))
    return out


def scan_files(paths: list[Path]) -> list[tuple[str, str]]:
    """Every (file, needle) where a needle's bytes occur in a file."""
    hits = []
    needles = needle_bytes()
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        for needle in needles:
            if needle in data:
                hits.append((str(path), needle.decode("utf-8", "replace")))
    return hits


@dataclass
class FakeClock:
    t: float = 1_790_000_000.0  # 2026-09-21

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Harness:
    cfg: Config
    store: Store
    service: SignupService
    clock: FakeClock
    sent: list[CodeToSend] = field(default_factory=list)

    def files(self) -> list[Path]:
        return sorted(p for p in self.cfg.resolve(".").rglob("*") if p.is_file())


def harness(cfg: Config, clock: FakeClock | None = None) -> Harness:
    clock = clock or FakeClock()
    store = Store(cfg.database_path)
    service = SignupService(cfg, store, load_keys(cfg), clock=clock)
    return Harness(cfg, store, service, clock)


def to_code(
    h: Harness, values: dict[str, str] | None = None, ads: bool = False, lang: str = "ru"
) -> tuple[SignupSession, CodeToSend | otp.Refused]:
    """A new session taken through rules, form and consent to the code step; returns what the code request gave."""
    s = h.service.start()
    s.accept_rules(h.clock())
    errors = h.service.submit_form(s, dict(values or CUSTOMER))
    assert not errors, errors
    s.show_consent(h.clock())
    assert s.give_consent(True, ads, h.clock(), lang=lang)
    sent = h.service.prepare_code(s)
    if isinstance(sent, CodeToSend):
        h.sent.append(sent)
    return s, sent


def sign_up(h: Harness, values: dict[str, str] | None = None, ads: bool = False, lang: str = "ru") -> SignupResult:
    s, sent = to_code(h, values, ads, lang)
    assert isinstance(sent, CodeToSend), sent
    h.clock.advance(5)
    result = h.service.confirm_code(s, sent.code, lang)
    assert isinstance(result, SignupResult), result
    s.end(s.end_reason)  # type: ignore[arg-type]
    return result
