"""Head office's configuration file: the programme rules, the operator and the SMS limits.

The same TOML file serves ``serve --program FILE`` (tiers and points for card lookups, SMS caps) and
``publish-config FILE`` (what is signed and sent to the kiosks)::

    version = 3                       # increases with every published change
    kiosks = ["kiosk-0001"]           # where publish-config sends it (or --kiosk)
    [operator] ...                    # as in the kiosk's config.toml
    [program] ...
    [consent] ... [form] ... [otp] ... [texts] ...

Sections are validated with the kiosk's own models (``kiosk.config``), so a document head office
publishes is one the kiosks accept.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
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
from kiosk.core import model
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


def program_rules(program: ProgramSection, operator: OperatorSection | None) -> model.ProgramRules:
    """Head office's view of the programme: the same rules the kiosks apply."""
    op = operator_of(operator) if operator is not None else model.Operator("", "", "", "")
    return rules_of(program, op)


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
    kiosks = data.get("kiosks", [])
    if not isinstance(kiosks, list) or not all(isinstance(k, str) and k for k in kiosks):
        problems.append(("kiosks", "must be a list of kiosk ids"))
    if "program" not in sections:
        problems.append(("program", "required key is missing"))
    if problems:
        raise ConfigError(source, problems)
    return HqSettings(
        version=int(version),
        kiosks=tuple(kiosks),
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
