"""Head office's configuration file: the programme rules, the operator and the SMS limits.

The same TOML file serves ``serve --program FILE`` (tiers and points for card lookups, SMS caps) and
``publish-config FILE`` (what is signed and sent to the kiosks)::

    version = 3                       # increases with every published change
    kiosks = ["kiosk-0001"]           # where publish-config sends it (or --kiosk)
    # or, binding each kiosk to the kiosk number in its card numbers (see ``hq.ingest``):
    # kiosks = [{id = "kiosk-0001", number = 1}, "kiosk-0002"]
    [operator] ...                    # as in the kiosk's config.toml
    [program] ...
    [consent] ... [form] ... [otp] ... [texts] ...

Sections are validated with the kiosk's own models (``kiosk.config``), so a document head office
publishes is one the kiosks accept.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kiosk.config import (
    ConsentSection,
    FormSection,
    OperatorSection,
    OtpSection,
    ProgramSection,
    operator_of,
    rules_of,
)
from kiosk.core import cards, model
from kiosk.errors import ConfigError

CONFIG_SECTIONS: dict[str, type[BaseModel] | None] = {
    "program": ProgramSection,
    "operator": OperatorSection,
    "consent": ConsentSection,
    "form": FormSection,
    "otp": OtpSection,
    "texts": None,  # free-form overrides of screen texts: {lang: {key: text}}
}


@dataclass(frozen=True)
class HqSettings:
    version: int
    kiosks: tuple[str, ...]
    rules: model.ProgramRules
    otp: OtpSection
    sections: dict[str, Any]
    """The config sections as written in the file (what publish-config signs)."""
    kiosk_numbers: dict[str, int] = field(default_factory=dict)
    """Kiosk id -> the kiosk number its card numbers carry, for the kiosks listed with a number."""


def program_rules(program: ProgramSection, operator: OperatorSection | None) -> model.ProgramRules:
    """Head office's view of the programme: the same rules the kiosks apply."""
    op = operator_of(operator) if operator is not None else model.Operator("", "", "", "")
    return rules_of(program, op)


def _kiosks(value: Any, problems: list[tuple[str, str]]) -> tuple[list[str], dict[str, int]]:
    """``kiosks``: ids (``"kiosk-0001"``) or tables ``{id = "kiosk-0001", number = 1}``, mixed freely."""
    if not isinstance(value, list):
        problems.append(("kiosks", "must be a list of kiosk ids"))
        return [], {}
    ids: list[str] = []
    numbers: dict[str, int] = {}
    for i, item in enumerate(value):
        where = f"kiosks.{i}"
        if isinstance(item, dict):
            kiosk_id, number = item.get("id"), item.get("number")
            if set(item) - {"id", "number"}:
                problems.append((where, "only id and number may be given"))
                continue
            if (
                not isinstance(number, int)
                or isinstance(number, bool)
                or not cards.KIOSK_MIN <= number <= cards.KIOSK_MAX
            ):
                problems.append((f"{where}.number", f"must be an integer {cards.KIOSK_MIN}..{cards.KIOSK_MAX}"))
                continue
            if number in numbers.values():
                problems.append((f"{where}.number", "is given to two kiosks"))
                continue
        else:
            kiosk_id, number = item, None
        if not isinstance(kiosk_id, str) or not kiosk_id:
            problems.append((where, "must be a kiosk id or a table {id, number}"))
            continue
        if kiosk_id in ids:
            problems.append((where, "kiosk listed twice"))
            continue
        ids.append(kiosk_id)
        if number is not None:
            numbers[kiosk_id] = number
    return ids, numbers


def parse_settings(data: dict[str, Any], source: str = "<memory>") -> HqSettings:
    problems: list[tuple[str, str]] = []
    validated: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("version", "kiosks"):
            continue
        if key not in CONFIG_SECTIONS:
            problems.append((key, "unknown key"))
            continue
        sections[key] = value
        model_cls = CONFIG_SECTIONS[key]
        if model_cls is None:
            if not isinstance(value, dict):
                problems.append((key, "must be a table"))
            continue
        try:
            validated[key] = model_cls.model_validate(value)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in (key, *err["loc"]))
                problems.append((loc, str(err["msg"])))
    version = data.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        problems.append(("version", "must be a non-negative integer"))
    kiosks, numbers = _kiosks(data.get("kiosks", []), problems)
    if "program" not in sections:
        problems.append(("program", "required key is missing"))
    if problems:
        raise ConfigError(source, problems)
    return HqSettings(
        version=int(version),
        kiosks=tuple(kiosks),
        kiosk_numbers=numbers,
        rules=program_rules(validated["program"], validated.get("operator")),
        otp=validated.get("otp") or OtpSection(),
        sections=sections,
    )


def load_settings(path: Path) -> HqSettings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [("", f"cannot read the file: {exc.strerror}")]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), [("", f"not valid TOML: {exc}")]) from None
    return parse_settings(data, str(path))
