"""The message catalog: both languages everywhere, matching placeholders, language fallbacks."""

from __future__ import annotations

import re
import string
from pathlib import Path
from types import SimpleNamespace

import discord
import pytest
from discord.app_commands import TranslationContext, TranslationContextLocation

from bot.texts import CHINESE, ENGLISH, TRADITIONAL, language, messages, t
from bot.ui.i18n import CatalogTranslator, cmd_text, locale_of


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_entry_has_english_and_chinese_with_the_same_placeholders() -> None:
    entries = messages()
    assert "error.unexpected" in entries  # the frame's module is part of the merged catalog
    for key, entry in entries.items():
        assert set(entry) == {ENGLISH, CHINESE}, key
        assert entry[ENGLISH].strip() and entry[CHINESE].strip(), key
        assert placeholders(entry[ENGLISH]) == placeholders(entry[CHINESE]), key


def test_command_descriptions_fit_discord_limits() -> None:
    # Discord refuses a sync with any description or choice name over 100 characters.
    for key, entry in messages().items():
        if key.startswith("cmd."):
            assert 1 <= len(entry[ENGLISH]) <= 100, key
            assert 1 <= len(entry[CHINESE]) <= 100, key


@pytest.mark.parametrize(
    ("locales", "expected"),
    [
        (("zh-CN",), CHINESE),
        (("zh-TW",), TRADITIONAL),
        (("zh-HK",), TRADITIONAL),
        (("en-US",), ENGLISH),
        (("en-GB", "zh-CN"), ENGLISH),
        (("fr", "zh-CN"), CHINESE),  # the member's locale is not served: the guild's is
        (("de", "ja"), ENGLISH),
        ((None, "zh-CN"), CHINESE),
        ((None, None), ENGLISH),
        ((), ENGLISH),
    ],
)
def test_language_fallbacks(locales: tuple[str | None, ...], expected: str) -> None:
    assert language(*locales) == expected


def test_t_renders_in_the_language_and_falls_back_to_english() -> None:
    assert t("workflows.cost", "zh-CN", cost=20) == "20 金币"
    assert t("workflows.cost", "en-US", cost=20) == "20 coins"
    assert t("workflows.cost", "pt-BR", cost=20) == "20 coins"
    assert t("workflows.cost", None, cost=20) == "20 coins"


def interaction(locale: discord.Locale | None, guild_locale: discord.Locale | None) -> discord.Interaction:
    return SimpleNamespace(locale=locale, guild_locale=guild_locale)  # type: ignore[return-value]


def test_locale_of_prefers_the_member_then_the_guild_then_english() -> None:
    assert locale_of(interaction(discord.Locale.chinese, discord.Locale.american_english)) == CHINESE
    assert locale_of(interaction(discord.Locale.british_english, discord.Locale.chinese)) == ENGLISH
    assert locale_of(interaction(discord.Locale.french, discord.Locale.chinese)) == CHINESE
    assert locale_of(interaction(discord.Locale.french, None)) == ENGLISH


async def test_translator_localizes_descriptions_to_chinese_only() -> None:
    translator = CatalogTranslator()
    text = cmd_text("cmd.workflows")
    assert text.message == messages()["cmd.workflows"][ENGLISH]
    description = TranslationContext(TranslationContextLocation.command_description, None)
    chinese = await translator.translate(text, discord.Locale.chinese, description)
    assert chinese == messages()["cmd.workflows"][CHINESE]
    assert await translator.translate(text, discord.Locale.japanese, description) is None
    assert await translator.translate(text, discord.Locale.american_english, description) is None


async def test_translator_keeps_names_english() -> None:
    translator = CatalogTranslator()
    for location in (
        TranslationContextLocation.command_name,
        TranslationContextLocation.group_name,
        TranslationContextLocation.parameter_name,
    ):
        context = TranslationContext(location, None)
        assert await translator.translate(cmd_text("cmd.quota"), discord.Locale.chinese, context) is None
    # A string without a catalog key (a plain name) is left alone.
    plain = discord.app_commands.locale_str("generate")
    context = TranslationContext(TranslationContextLocation.command_description, None)
    assert await translator.translate(plain, discord.Locale.chinese, context) is None


def test_every_reason_of_the_workflows_toml_parser_is_in_the_catalog_in_both_languages() -> None:
    # The parser names its reasons by key (bot/workflows.py); each must be written in both languages,
    # and the catalog keeps no reason the parser no longer gives.
    source = (Path(__file__).resolve().parents[1] / "bot" / "workflows.py").read_text(encoding="utf-8")
    used = set(re.findall(r"""["'](wfconfig\.[a-z_.]+)["']""", source))
    written = {key for key in messages() if key.startswith("wfconfig.")}
    assert len(used) > 40
    assert used == written
    for key in used:
        english, chinese = messages()[key][ENGLISH], messages()[key][CHINESE]
        # wfadmin.reload_failed* end the sentence after {reason}: a reason never ends it itself.
        assert not english.endswith((".", "。")) and not chinese.endswith((".", "。")), key
        # Chinese punctuation is full-width; ASCII stays only in code (backticks) and placeholders.
        prose = re.sub(r"`[^`]*`|\{[a-z_]+\}", "", chinese)
        assert not set(prose) & set("(),:;!?"), key
        assert re.search(r"[\u4e00-\u9fff]", chinese), key
