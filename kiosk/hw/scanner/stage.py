"""From per-frame decoder results to one report per presentation of a card.

A camera sees the same card in many consecutive frames, and decoders miss it in some of them
(motion blur, glare). ``DecodeStage`` reports a code when it comes into view and stays quiet
while it remains there; a code counts as gone once it has been missing for at least
``absent_frames`` frames *and* ``absent_s`` seconds, after which showing it again is a new
presentation. Pure logic: the caller passes the time in.

Each new code is classified once (``classify``, normally ``kiosk.core.cards.parse_scan`` with
the MAC key bound). Codes that classify as rejections are reported once per presentation as
ignored, with a reason, and never as cards. When a card shows both its QR and its EAN-13, only
the first symbol read is reported (QR preferred within a frame).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from kiosk.hw.scanner.decode import QR, Decoded

log = logging.getLogger(__name__)

_LC1 = re.compile(r"^LC1:(\d{13})\.")
_EAN13 = re.compile(r"^\d{13}$")

CLASSIFY_ERROR = "classify-error"
UNRECOGNISED = "unrecognised"


def card_key(text: str) -> str:
    """What identifies the card behind a code: the 13-digit number of an LC1 QR or an EAN-13."""
    m = _LC1.match(text)
    if m:
        return m.group(1)
    return text


def default_is_rejection(result: object) -> bool:
    """A classify result is a rejection when it is None, an exception, or a ``*Rejection`` object."""
    return result is None or isinstance(result, BaseException) or type(result).__name__.endswith("Rejection")


def reason_of(result: object) -> str:
    """A short reason code for a rejected result (its ``reason`` attribute when it has one)."""
    if isinstance(result, BaseException):
        return CLASSIFY_ERROR
    reason = getattr(result, "reason", None)
    if isinstance(reason, Enum):
        return str(reason.value)
    if reason is not None:
        return str(reason)
    return UNRECOGNISED


@dataclass(frozen=True)
class StageReport:
    """A code that came into view."""

    text: str
    format: str
    result: object
    ignored: bool
    reason: str | None

    def __repr__(self) -> str:
        return f"StageReport(format={self.format!r}, ignored={self.ignored}, reason={self.reason!r})"


@dataclass
class _InView:
    last_seen: float
    missed: int
    key: str | None
    """Card key when the code was accepted as a card, else None."""


class DecodeStage:
    def __init__(
        self,
        classify: Callable[[str], object],
        *,
        is_rejection: Callable[[object], bool] | None = None,
        absent_s: float = 1.0,
        absent_frames: int = 2,
    ) -> None:
        if absent_s < 0 or absent_frames < 0:
            raise ValueError("absent_s and absent_frames must not be negative")
        self._classify = classify
        self._is_rejection = is_rejection or default_is_rejection
        self.absent_s = absent_s
        self.absent_frames = absent_frames
        self._in_view: dict[str, _InView] = {}

    @property
    def in_view(self) -> int:
        """How many distinct codes are currently considered in view."""
        return len(self._in_view)

    def reset(self) -> None:
        """Forget everything in view: the next sighting of any code is a new presentation."""
        self._in_view.clear()

    def _gone(self, seen: _InView, now: float) -> bool:
        return seen.missed >= self.absent_frames and now - seen.last_seen >= self.absent_s

    def _classify_text(self, text: str) -> object:
        try:
            return self._classify(text)
        except Exception as exc:  # a classifier bug must not stop the scanner
            log.error("classifying a scanned code failed: %s", type(exc).__name__)
            return exc

    def feed(self, decoded: Iterable[Decoded], now: float) -> list[StageReport]:
        """One frame's decoder results (possibly none) at time ``now``; returns new presentations."""
        frame: dict[str, Decoded] = {}
        for item in sorted(decoded, key=lambda d: d.format != QR):
            frame.setdefault(item.text, item)
        for text, absent in self._in_view.items():
            if text not in frame:
                absent.missed += 1
        reports: list[StageReport] = []
        for text, item in frame.items():
            seen = self._in_view.get(text)
            if seen is not None and not self._gone(seen, now):
                seen.last_seen = now
                seen.missed = 0
                continue
            result = self._classify_text(text)
            rejected = self._is_rejection(result)
            key = None if rejected else card_key(text)
            shown_already = key is not None and any(
                other.key == key and not self._gone(other, now) for other in self._in_view.values()
            )
            self._in_view[text] = _InView(last_seen=now, missed=0, key=key)
            if shown_already:
                continue
            reports.append(
                StageReport(
                    text=text,
                    format=item.format,
                    result=result,
                    ignored=rejected,
                    reason=reason_of(result) if rejected else None,
                )
            )
        for text in [t for t, seen in self._in_view.items() if self._gone(seen, now)]:
            del self._in_view[text]
        return reports
