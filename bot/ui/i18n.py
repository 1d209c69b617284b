"""Language for Discord: command descriptions localized at sync, replies in the member's language.

Command and option names stay English everywhere (members share commands in chat); descriptions,
choice names and message context menu names carry a catalog key and are sent to Discord with
their zh-CN translation and the zh-TW one converted from it.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.texts import CHINESE, ENGLISH, language, messages, traditional_messages

# Names are identifiers members type; only descriptions and choice names get translated.
_UNTRANSLATED = frozenset(
    {
        TranslationContextLocation.command_name,
        TranslationContextLocation.group_name,
        TranslationContextLocation.parameter_name,
    }
)


def cmd_text(key: str) -> locale_str:
    """A command/option description from the catalog: English as sent, the key for the translator."""
    return locale_str(messages()[key][ENGLISH], key=key)


class CatalogTranslator(app_commands.Translator):
    """Gives Discord the zh-CN and zh-TW text of every description that names a catalog key."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        if locale not in (discord.Locale.chinese, discord.Locale.taiwan_chinese):
            return None
        # A context menu's name is what members see in the Apps menu, not something they type.
        if context.location in _UNTRANSLATED and not isinstance(context.data, app_commands.ContextMenu):
            return None
        key = string.extras.get("key")
        if key is None:
            return None
        if locale is discord.Locale.taiwan_chinese:
            return traditional_messages().get(key)
        return messages()[key].get(CHINESE)


def locale_of(interaction: discord.Interaction) -> str:
    """The catalog language for this interaction: the member's locale, then the guild's, then English."""
    return language(
        str(interaction.locale) if interaction.locale else None,
        str(interaction.guild_locale) if interaction.guild_locale else None,
    )
