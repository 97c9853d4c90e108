"""Texts shown to people, by language. Russian is the default; every key exists in both catalogs.

Catalogs are TOML files beside this module (``ru.toml``, ``en.toml``), flat ``section.key``
names with ``{placeholders}`` filled by ``str.format``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

LANGS = ("ru", "en")
DEFAULT_LANG = "ru"


def _flatten(prefix: str, data: dict[str, object], out: dict[str, str]) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(name + ".", value, out)
        else:
            out[name] = str(value)


@cache
def catalog(lang: str) -> dict[str, str]:
    if lang not in LANGS:
        lang = DEFAULT_LANG
    text = resources.files(__package__).joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    _flatten("", tomllib.loads(text), out)
    return out


def t(lang: str, key: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` (falling back to Russian, then to the key itself)."""
    text = catalog(lang).get(key) or catalog(DEFAULT_LANG).get(key) or key
    return text.format(**values) if values else text
