"""Card and phone lookups: the balance screen's data comes from head office through this interface.

``MqttLookup`` (in ``kiosk.sync``) asks head office over MQTT RPC; ``SimLookup`` backs the
simulator, the demo and the tests of the screens. Both raise ``LookupUnavailable`` when the
answer cannot be had now (offline, timeout), which the screens show as "not available now".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.errors import KioskError


class LookupUnavailable(KioskError, ConnectionError):
    """Head office cannot be asked now (no link, timeout)."""


class CardNotFound(KioskError, LookupError):
    """Head office does not know this card (or it was blocked after a withdrawal)."""


@dataclass(frozen=True)
class TierInfo:
    name_ru: str
    name_en: str
    discount_pct: int

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ru


@dataclass(frozen=True)
class Balance:
    card: str
    first_name: str
    balance_points: int
    pending_points: int  # earned, not yet active (activation delay)
    total_spent_rub: int
    tier: TierInfo | None
    next_tier: TierInfo | None
    remaining_rub: int  # to the next tier; 0 at the top

    def to_dict(self) -> dict[str, Any]:
        def tier(t: TierInfo | None) -> dict[str, Any] | None:
            return None if t is None else {"name": {"ru": t.name_ru, "en": t.name_en}, "discount_pct": t.discount_pct}

        return {
            "card": self.card,
            "first_name": self.first_name,
            "balance_points": self.balance_points,
            "pending_points": self.pending_points,
            "total_spent_rub": self.total_spent_rub,
            "tier": tier(self.tier),
            "next_tier": tier(self.next_tier),
            "remaining_rub": self.remaining_rub,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Balance:
        """Parse head office's answer; raises ValueError on anything malformed."""

        def tier(v: Any) -> TierInfo | None:
            if v is None:
                return None
            name = v["name"]
            return TierInfo(str(name["ru"]), str(name["en"]), int(v["discount_pct"]))

        try:
            return cls(
                card=str(d["card"]),
                first_name=str(d["first_name"])[:60],
                balance_points=int(d["balance_points"]),
                pending_points=int(d["pending_points"]),
                total_spent_rub=int(d["total_spent_rub"]),
                tier=tier(d.get("tier")),
                next_tier=tier(d.get("next_tier")),
                remaining_rub=max(0, int(d["remaining_rub"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed balance: {type(exc).__name__}") from None


class Lookup(Protocol):
    def card(self, card: str) -> Balance:
        """Blocking (call from a worker thread); raises LookupUnavailable or CardNotFound."""
        ...

    def phone_is_member(self, e164: str) -> bool: ...


@dataclass
class SimLookup:
    """In-memory head office for the simulator: balances by card, and an offline switch."""

    balances: dict[str, Balance] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    online: bool = True

    def card(self, card: str) -> Balance:
        if not self.online:
            raise LookupUnavailable("head office is not reachable")
        try:
            return self.balances[card]
        except KeyError:
            raise CardNotFound(card) from None

    def phone_is_member(self, e164: str) -> bool:
        if not self.online:
            raise LookupUnavailable("head office is not reachable")
        return e164 in self.members
