"""A virtual customer: drives the real screens with touch events, key by key, like a person would.

It finds widgets by the names the screens register (``join``, ``key:й``, ``pad:7``, ...), posts
``FINGERDOWN``/``FINGERUP`` at their centres (normalised coordinates, as a touchscreen sends
them) and lets the kiosk loop run. The demo and the screen tests use it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pygame

from kiosk.core.validation import normalize_phone
from kiosk.screens.widgets import Target

DEFAULT_CUSTOMER: dict[str, Any] = {
    "name": "Валентина Щукина-Ёлкина",
    "phone": "8 (916) 482-73-59",
    "birth_date": "06.07.1997",
    "gender": "female",
    "email": "valentina.shch@example.ru",
    "consent": True,
    "ads": False,
    "code": "correct",
    "language": "ru",
}


@dataclass
class Outcome:
    outcome: str  # registered / abandoned / rejected
    reason: str | None = None
    card_number: str | None = None
    consent_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "card_number": self.card_number,
            "consent_ids": self.consent_ids,
        }


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


class VirtualCustomer:
    def __init__(
        self,
        ui: Any,
        *,
        skip_time: Callable[[float], None] | None = None,
        on_step: Callable[[], None] | None = None,
        sms: Any = None,
    ) -> None:
        self.ui = ui
        self.skip_time = skip_time
        self.on_step = on_step
        self.sms = sms if sms is not None else ui.devices.sms
        self.taps: list[str] = []

    # --- seeing and touching -----------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.ui.step()
            if self.on_step is not None:
                self.on_step()

    def names(self) -> set[str]:
        self.step()
        return {t.name for t in self.ui.targets}

    def target(self, name: str) -> Target:
        self.step()
        targets: list[Target] = self.ui.targets
        for t in targets:
            if t.name == name:
                return t
        raise LookupError(f"no {name!r} on screen {self.ui.current.view_id}")

    def touch(self, x: float, y: float) -> None:
        w, h = self.ui.surface.get_size()
        common: dict[str, Any] = {"touch_id": 1, "finger_id": 0, "dx": 0.0, "dy": 0.0, "pressure": 1.0}
        pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, x=x / w, y=y / h, **common))
        pygame.event.post(pygame.event.Event(pygame.FINGERUP, x=x / w, y=y / h, **common))
        self.step()

    def tap(self, name: str) -> None:
        t = self.target(name)
        if not t.enabled:
            raise RuntimeError(f"{name!r} is disabled on {self.ui.current.view_id}")
        self.taps.append(name)
        self.touch(*t.rect.center)

    def drag(self, name_or_rect: Any, dy: float) -> None:
        rect = name_or_rect if isinstance(name_or_rect, pygame.Rect) else self.target(name_or_rect).rect
        w, h = self.ui.surface.get_size()
        x, y = rect.center
        common: dict[str, Any] = {"touch_id": 1, "finger_id": 0, "pressure": 1.0}
        pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, x=x / w, y=y / h, dx=0.0, dy=0.0, **common))
        steps = 6
        for i in range(1, steps + 1):
            yy = y + dy * i / steps
            pygame.event.post(
                pygame.event.Event(pygame.FINGERMOTION, x=x / w, y=yy / h, dx=0.0, dy=dy / steps / h, **common)
            )
        pygame.event.post(pygame.event.Event(pygame.FINGERUP, x=x / w, y=(y + dy) / h, dx=0.0, dy=0.0, **common))
        self.step()

    def type_text(self, text: str) -> None:
        """Type on the on-screen keyboard, switching layouts and shift as a person would."""
        for ch in text:
            for _ in range(5):
                names = self.names()
                key = "key:space" if ch == " " else f"key:{ch}"
                if key in names:
                    self.tap(key)
                    break
                if ch.isalpha():
                    if _is_cyrillic(ch) and "key:to_ru" in names:
                        self.tap("key:to_ru")
                    elif not _is_cyrillic(ch) and "key:to_en" in names:
                        self.tap("key:to_en")
                    else:
                        self.tap("key:shift")
                elif "key:to_sym" in names:
                    self.tap("key:to_sym")
                elif "key:to_en" in names:
                    self.tap("key:to_en")
            else:
                raise LookupError(f"cannot type {ch!r} on {self.ui.current.view_id}")

    def type_digits(self, digits: str) -> None:
        for d in digits:
            self.tap(f"pad:{d}")

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            self.step()
            if predicate():
                return True
            time.sleep(0.01)
        return False

    def walk_away(self) -> None:
        """Leave the kiosk: time passes beyond the idle timeout and its warning."""
        kc = self.ui.cfg.kiosk
        if self.skip_time is None:
            raise RuntimeError("walking away needs a clock the customer can move")
        self.skip_time(kc.idle_timeout_s + 1)
        self.step(2)
        self.skip_time(kc.idle_warning_s + 1)
        self.step(2)

    # --- the journey -------------------------------------------------------------------------

    @staticmethod
    def phone_digits(phone: str) -> str:
        """The digits a person taps for ``phone``: all of them, the habitual leading 8 included,
        except a written "+7" country code, which the field shows already."""
        digits = re.sub(r"\D", "", phone)
        if phone.strip().startswith("+7"):
            digits = digits[1:]
        return digits

    def fill_form(self, script: dict[str, Any]) -> str | None:
        """Fill every field the form asks for; returns ``field:reason`` if the form refused a value."""
        form = self.ui.screens["form"]
        seen = 0
        while self.ui.current.name == "form" and seen < 12:
            seen += 1
            name = form.current
            value = str(script.get(name) or "")
            if name == "name" or name == "email":
                self.type_text(value)
            elif name == "phone":
                self.type_digits(self.phone_digits(value))
            elif name == "birth_date":
                self.type_digits(re.sub(r"\D", "", value))
            elif name == "gender":
                if value:
                    self.tap(f"gender:{value}")
                    continue
                if "skip" in self.names():
                    self.tap("skip")
                    continue
            before = (form.index, self.ui.current.name)
            self.tap("next")
            if self.ui.current.name == "form" and (form.index, "form") == before and name in form.errors:
                return f"{name}:{form.errors[name]}"
        return None

    def sign_up(self, script: dict[str, Any] | None = None) -> Outcome:
        s = dict(DEFAULT_CUSTOMER, **(script or {}))
        ui = self.ui
        if s.get("language") and s["language"] != ui.lang:
            self.tap("lang")
        self.tap("join")
        self.tap("accept")
        refused = self.fill_form(s)
        if refused is not None:
            self.tap("cancel")
            return Outcome("rejected", reason=f"form:{refused}")
        if not s.get("consent", True):
            self.tap("cancel")
            return Outcome("abandoned", reason="no_consent")
        self.tap("tick:processing")
        self.tap("continue")
        if s.get("ads"):
            self.tap("tick:ads")
        self.tap("continue")
        e164 = normalize_phone("+7" + self.phone_digits(str(s["phone"])))
        assert isinstance(e164, str)
        code_screen = ui.screens["code"]
        if not self.wait_until(lambda: code_screen.state in ("sent", "failed", "refused")):
            return Outcome("abandoned", reason="no_sms")
        if code_screen.state != "sent":
            return Outcome("rejected", reason=code_screen.message[0] if code_screen.message else code_screen.state)
        mode = s.get("code", "correct")
        if mode == "none":
            self.walk_away()
            return Outcome("abandoned", reason="idle_timeout")
        correct = self.sms.last_code_for(e164)
        wrong = "".join(str((int(c) + 1) % 10) for c in correct)
        if mode in ("wrong", "wrong-then-correct"):
            self.type_digits(wrong)
            while mode == "wrong" and ui.current.name == "code" and code_screen.state != "exhausted":
                self.type_digits(wrong)
            if mode == "wrong":
                return Outcome("rejected", reason="attempts_exhausted")
        self.type_digits(correct)
        if ui.current.name not in ("done", "printer_fault") or ui.result is None:
            return Outcome("rejected", reason=code_screen.message[0] if code_screen.message else "code")
        result = ui.result
        ids = [result.processing.consent_id] + ([result.advertising.consent_id] if result.advertising else [])
        outcome = Outcome("registered", card_number=result.card_number, consent_ids=ids)
        self.wait_until(lambda: len(ui.printing.done) >= len(ui.printing.jobs) or ui.current.name != "done", 20)
        self.step()
        self.tap("finish")
        return outcome
