"""The message catalog: every user-facing string, in English and Simplified Chinese.

Entries live in `bot/catalog/<area>.py` as `MESSAGES = {"key": {"en": ..., "zh-CN": ...}}` so each
feature keeps its own strings; they are merged here into one key space. Placeholders use
`str.format` names, and both languages of an entry use the same names.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache

import bot.catalog

ENGLISH = "en"
CHINESE = "zh-CN"
LANGUAGES = (ENGLISH, CHINESE)


@cache
def catalog() -> Mapping[str, Mapping[str, str]]:
    merged: dict[str, Mapping[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(bot.catalog.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"bot.catalog.{info.name}")
        for key, entry in getattr(module, "MESSAGES", {}).items():
            if key in merged:
                raise ValueError(f"message id {key!r} is defined twice (again in bot/catalog/{info.name}.py)")
            merged[key] = entry
    return merged


def language(*locales: str | None) -> str:
    """The first locale we can serve, from the most specific (member) to the least (guild)."""
    for locale in locales:
        if not locale:
            continue
        value = str(locale)
        if value.lower().startswith("zh"):
            return CHINESE
        if value.lower().startswith("en"):
            return ENGLISH
    return ENGLISH


def t(key: str, locale: str | None = None, /, **params: object) -> str:
    """Render message `key` in `locale` (falling back to English)."""
    entry = catalog()[key]
    text = entry.get(language(locale)) or entry[ENGLISH]
    return text.format(**params) if params else text
