"""Plain value types the core rules work on.

The core depends on nothing else of ours: ``kiosk.config`` builds these from the TOML file
(``Config.form_rules()``, ``Config.otp_policy()``, ...), and the same objects can come from a
signed head-office configuration later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

LANGS: tuple[str, ...] = ("ru", "en")


@dataclass(frozen=True)
class Text:
    """A text in every language the kiosk speaks."""

    ru: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.ru

    @classmethod
    def of(cls, mapping: Mapping[str, str]) -> Text:
        return cls(ru=mapping["ru"], en=mapping["en"])


class Field(StrEnum):
    """Every field the form can ever ask for. Passport or ID data is deliberately absent."""

    NAME = "name"
    PHONE = "phone"
    BIRTH_DATE = "birth_date"
    GENDER = "gender"
    EMAIL = "email"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"


@dataclass(frozen=True)
class FormRules:
    """Which fields are collected (in form order) and which of those are required."""

    collected: tuple[Field, ...]
    required: frozenset[Field]
    min_age: int = 14
    max_age: int = 120
    name_max_len: int = 60
    allowed_country_codes: tuple[int, ...] = (7,)


@dataclass(frozen=True)
class Customer:
    """What a customer typed, normalised. Lives in memory only until consent is confirmed."""

    name: str
    phone: str  # E.164
    birth_date: date | None = None
    gender: Gender | None = None
    email: str | None = None


@dataclass(frozen=True)
class OtpPolicy:
    length: int = 6
    lifetime_s: int = 300
    max_attempts: int = 5
    resend_cooldown_s: int = 60
    per_phone_daily_cap: int = 5
    per_kiosk_hourly_cap: int = 30
    allowed_country_codes: tuple[int, ...] = (7,)


@dataclass(frozen=True)
class Operator:
    name: str
    legal_address: str
    inn: str
    contact: str
    policy_url: str | None = None
    """Where the operator publishes its personal-data policy (152-FZ art. 18.1 p. 2)."""


@dataclass(frozen=True)
class ThirdParty:
    name: str
    address: str
    purpose: Text


@dataclass(frozen=True)
class ConsentTerms:
    """Everything the consent documents are composed from (DESIGN.md section 5)."""

    version: str
    operator: Operator
    purpose: Text
    term: Text
    retention_after_days: int
    withdrawal: Text
    third_parties: tuple[ThirdParty, ...]
    collected: tuple[Field, ...]
    ads_purpose: Text
    ads_channels: tuple[str, ...]
    program_name: Text


@dataclass(frozen=True)
class Tier:
    name: Text
    from_rub: int
    discount_pct: int


@dataclass(frozen=True)
class StampCard:
    name: Text
    buy: int
    reward: Text


@dataclass(frozen=True)
class ProgramRules:
    """The loyalty programme as configured; the rules document and the screens read the same object."""

    name: Text
    operator: Operator
    tiers: tuple[Tier, ...] = ()
    points_per: int = 10
    per_rub: int = 100
    activation_delay_days: int = 14
    point_value_rub: float = 1.0
    max_bill_share_pct: int = 50
    excluded: tuple[Text, ...] = ()
    stamp_cards: tuple[StampCard, ...] = ()
    how_to_check: Text = field(default_factory=lambda: Text("", ""))
    wallet_url: str | None = None
