"""The command tree: every command error becomes one short ephemeral sentence for the member."""

from __future__ import annotations

import logging
import math

import discord
from discord import app_commands
from discord.utils import escape_markdown

from bot.errors import UserError
from bot.texts import t
from bot.ui.i18n import locale_of
from bot.ui.reply import command_name, reply

log = logging.getLogger(__name__)


def refusal_for(error: BaseException, locale: str, command: str) -> str | None:
    """The member-facing sentence for an expected error, or None when the error is a bug."""
    if isinstance(error, UserError):
        try:
            return error.render(locale)
        except KeyError:  # a key missing from the catalog is our bug: report it as one
            return None
    # The specific CheckFailure subclasses come before the generic one.
    if isinstance(error, app_commands.NoPrivateMessage):
        return t("error.guild_only", locale)
    if isinstance(error, app_commands.CommandOnCooldown):
        return t(
            "error.cooldown", locale, command=command, seconds=max(1, math.ceil(error.retry_after))
        )
    if isinstance(error, app_commands.BotMissingPermissions):
        names = ", ".join(
            p.replace("_", " ").replace("guild", "server").title() for p in error.missing_permissions
        )
        return t("error.bot_missing_permissions", locale, permissions=names)
    if isinstance(error, app_commands.CheckFailure):
        # MissingPermissions, our NotModerator and role checks: every gated command is a moderator's.
        return t("error.moderator_only", locale, command=command)
    if isinstance(error, app_commands.TransformerError):
        return t("error.bad_value", locale, value=f"`{escape_markdown(str(error.value))[:80]}`")
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return t("error.out_of_date", locale)
    return None


class RHTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original: BaseException = (
            error.original if isinstance(error, app_commands.CommandInvokeError) else error
        )
        locale = locale_of(interaction)
        command = command_name(interaction)
        message = refusal_for(original, locale, command)
        if message is None:
            log.error(
                "unexpected error in /%s (guild %s, channel %s, member %s)",
                command,
                interaction.guild_id,
                interaction.channel_id,
                interaction.user.id,
                exc_info=original,
            )
            message = t("error.unexpected", locale)
        else:
            log.debug("refused /%s for member %s: %s", command, interaction.user.id, type(original).__name__)
        try:
            await reply(interaction, message)
        except discord.HTTPException as exc:
            log.warning(
                "could not tell member %s about an error in /%s: %s", interaction.user.id, command, exc
            )
