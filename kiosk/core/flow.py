"""The sign-up state machine: rules -> form -> consent -> code -> done, plus abandon and idle.

A ``SignupSession`` holds everything the customer typed, in memory only. Nothing here writes
anywhere: the caller persists a sign-up only after ``confirm`` has accepted a ``Verified``
result from the OTP policy, which is the one way into ``Step.DONE``. ``wipe`` forgets the
customer's data; every way out of a session other than DONE goes through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kiosk.core import otp
from kiosk.core.model import Customer, Field, FormRules
from kiosk.core.validation import Rejection, validate_form


class Step(StrEnum):
    RULES = "rules"
    FORM = "form"
    CONSENT = "consent"
    CODE = "code"
    DONE = "done"
    ABANDONED = "abandoned"


class EndReason(StrEnum):
    ABANDONED = "abandoned"
    IDLE_TIMEOUT = "idle_timeout"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    REGISTERED = "registered"


class FlowError(RuntimeError):
    """An operation that the current step does not allow (a programming error in the caller)."""


_FINAL = frozenset({Step.DONE, Step.ABANDONED})


@dataclass
class SignupSession:
    """One customer's sign-up, from the rules screen to the printed card."""

    rules: FormRules
    started_at: float
    step: Step = Step.RULES
    last_activity: float = 0.0
    values: dict[str, str] = field(default_factory=dict)
    customer: Customer | None = None
    consent_processing: bool = False
    consent_ads: bool = False
    consent_shown_at: float | None = None
    consent_lang: str | None = None
    """The language of the consent text the customer ticked: the one recorded and printed."""
    consent_confirmed_at: float | None = None
    challenge: otp.Challenge | None = None
    code_sent_at: float | None = None
    failed_attempts: int = 0
    end_reason: EndReason | None = None

    def __post_init__(self) -> None:
        self.last_activity = self.started_at

    # --- helpers ---------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.step in _FINAL

    def _require(self, *steps: Step) -> None:
        if self.step not in steps:
            raise FlowError(f"not allowed at step {self.step.value}")

    def touch(self, now: float) -> None:
        """Any customer input: restarts the idle countdown."""
        if not self.finished:
            self.last_activity = now

    # --- transitions -----------------------------------------------------------------------

    def accept_rules(self, now: float) -> None:
        self._require(Step.RULES)
        self.touch(now)
        self.step = Step.FORM

    def submit_form(self, values: Mapping[str, str], today: date, now: float) -> dict[Field, Rejection]:
        """Validate the form; on success move to the consent step. Returns the rejections (empty = ok)."""
        self._require(Step.FORM)
        self.touch(now)
        collected = {f.value for f in self.rules.collected}
        self.values = {k: v for k, v in values.items() if k in collected}
        result = validate_form(self.values, self.rules, today)
        if isinstance(result, Customer):
            if self.customer is not None and self.customer.phone != result.phone:
                # A new number needs a new code: the old challenge belongs to the old number.
                self.challenge = None
                self.code_sent_at = None
            self.customer = result
            self.step = Step.CONSENT
            return {}
        return dict(result)

    def show_consent(self, now: float) -> None:
        """The consent document is on screen: the time it was first shown goes into the record."""
        self._require(Step.CONSENT)
        if self.consent_shown_at is None:
            self.consent_shown_at = now

    def give_consent(self, processing: bool, ads: bool, now: float, lang: str = "ru") -> bool:
        """Record the ticks and the language of the text they were given on.

        Processing consent is required to go on; advertising is optional.
        """
        self._require(Step.CONSENT)
        self.touch(now)
        self.consent_lang = lang
        if self.consent_shown_at is None:
            self.consent_shown_at = now
        self.consent_processing = processing
        self.consent_ads = ads
        if not processing:
            return False
        self.step = Step.CODE
        return True

    def code_sent(self, challenge: otp.Challenge, now: float) -> None:
        """A code was sent for this session's phone (the first one or a resend)."""
        self._require(Step.CODE)
        self.touch(now)
        self.challenge = challenge
        self.code_sent_at = now

    def code_refused(self, challenge: otp.Challenge, now: float) -> None:
        """A wrong code: keep the updated challenge (fewer attempts left)."""
        self._require(Step.CODE)
        self.touch(now)
        self.challenge = challenge
        self.failed_attempts += 1
        if challenge.attempts_left <= 0:
            self.end(EndReason.ATTEMPTS_EXHAUSTED)

    def confirm(self, verified: otp.Verified, now: float) -> Customer:
        """The one way into DONE: a verified code for this session's challenge."""
        self._require(Step.CODE)
        if self.challenge is None or self.customer is None or not self.consent_processing:
            raise FlowError("no code was sent in this session")
        if verified.challenge.phone_key != self.challenge.phone_key or not verified.challenge.used:
            raise FlowError("the verified code belongs to another challenge")
        if verified.challenge.code_mac != self.challenge.code_mac:
            raise FlowError("the verified code is not the latest one sent")
        self.challenge = verified.challenge
        self.consent_confirmed_at = now
        self.step = Step.DONE
        self.end_reason = EndReason.REGISTERED
        return self.customer

    def back(self, now: float) -> None:
        """Go one step back (consent -> form, code -> form to change the number)."""
        self.touch(now)
        if self.step in (Step.CONSENT, Step.CODE):
            self.step = Step.FORM
        elif self.step is Step.FORM:
            self.step = Step.RULES
        else:
            raise FlowError(f"no way back from {self.step.value}")

    def idle_expired(self, now: float, timeout_s: float, warning_s: float) -> bool:
        """True when the customer has been away for the timeout plus the warning."""
        return not self.finished and now - self.last_activity >= timeout_s + warning_s

    def idle_warning_due(self, now: float, timeout_s: float) -> bool:
        return not self.finished and now - self.last_activity >= timeout_s

    def end(self, reason: EndReason) -> None:
        """Leave the session for good: wipes everything the customer typed."""
        if self.step is Step.DONE:
            self.wipe()
            return
        self.step = Step.ABANDONED
        self.end_reason = reason
        self.wipe()

    def wipe(self) -> None:
        """Forget the customer's data (the session can never be resumed after this)."""
        self.values.clear()
        self.values = {}
        self.customer = None
        self.challenge = None
        self.consent_processing = False
        self.consent_ads = False
        if self.step is not Step.DONE:
            self.step = Step.ABANDONED
