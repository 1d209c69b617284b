"""Everything a member reads: the message catalog (English and Simplified Chinese) and its renderers.

- `t(key, locale, **params)` renders one catalog entry; `Msg` is one not rendered yet (a key and
  its parameters), for texts decided in one place and read in another language later (why a job
  ended is stored as a `Msg`, so every member reads it in their own language).
- The renderers beside this file turn the bot's facts into text: format.py (durations, clipping,
  mentions), jobs.py (status, results, notices, /jobs, /health), coins.py, workflows.py.

Entries live in `bot/texts/catalog/<area>.py` as `MESSAGES = {"key": {"en": ..., "zh-CN": ...}}` so each
feature keeps its own strings; they are merged here into one key space. Placeholders use
`str.format` names, and both languages of an entry use the same names. Traditional Chinese
(zh-TW) is converted from the Simplified text (bot/texts/traditional.py).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import bot.texts.catalog

ENGLISH = "en"
CHINESE = "zh-CN"
TRADITIONAL = "zh-TW"
LANGUAGES = (ENGLISH, CHINESE)  # written by hand; TRADITIONAL is converted from CHINESE
# Locales read in Traditional characters: Taiwan, Hong Kong, Macau.
_TRADITIONAL_LOCALES = ("zh-tw", "zh-hk", "zh-mo", "zh-hant")


@cache
def messages() -> Mapping[str, Mapping[str, str]]:
    merged: dict[str, Mapping[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(bot.texts.catalog.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"bot.texts.catalog.{info.name}")
        for key, entry in getattr(module, "MESSAGES", {}).items():
            if key in merged:
                raise ValueError(f"message id {key!r} is defined twice (again in bot/texts/catalog/{info.name}.py)")
            merged[key] = entry
    return merged


@cache
def traditional_messages() -> Mapping[str, str]:
    """key -> zh-TW text, converted once from zh-CN."""
    from bot.texts.traditional import to_traditional  # only a process that meets a zh-TW member loads OpenCC

    return {key: to_traditional(entry[CHINESE]) for key, entry in messages().items() if CHINESE in entry}


def language(*locales: str | None) -> str:
    """The first locale we can serve, from the most specific (member) to the least (guild)."""
    for locale in locales:
        if not locale:
            continue
        value = str(locale)
        if value.lower().startswith(_TRADITIONAL_LOCALES):
            return TRADITIONAL
        if value.lower().startswith("zh"):
            return CHINESE
        if value.lower().startswith("en"):
            return ENGLISH
    return ENGLISH


def t(key: str, locale: str | None = None, /, **params: object) -> str:
    """Render message `key` in `locale` (falling back to English); `Msg` parameters render in it too."""
    entry = messages()[key]
    lang = language(locale)
    if lang == TRADITIONAL:
        text = traditional_messages().get(key) or entry[ENGLISH]
    else:
        text = entry.get(lang) or entry[ENGLISH]
    if not params:
        return text
    rendered = {k: v.render(locale) if isinstance(v, Msg) else v for k, v in params.items()}
    return text.format(**rendered)


@dataclass(frozen=True)
class Msg:
    """A catalog text not rendered yet: rendered in whichever language its reader needs.

    Parameters are plain JSON values or other `Msg`s, so a `Msg` survives a round trip through
    the database (`to_json` / `from_json`).
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, locale: str | None = None) -> str:
        return t(self.key, locale, **self.params)

    def to_json(self) -> str:
        return json.dumps(_encode(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | None) -> Msg | None:
        if not raw:
            return None
        try:
            decoded = _decode(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            decoded = None
        if isinstance(decoded, Msg) and decoded.key in messages():
            return decoded
        # Not one of ours (a row written before reasons were keys): its words are all there is.
        return cls("raw", {"text": raw})


def _encode(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"key": value.key, "params": {k: _encode(v) for k, v in value.params.items()}}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"key", "params"}:
        return Msg(str(value["key"]), {k: _decode(v) for k, v in dict(value["params"]).items()})
    return value
