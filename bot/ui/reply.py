"""The one way the frame answers an interaction, whatever state the interaction is in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord

from bot.errors import UserError
from bot.texts import t
from bot.ui.i18n import locale_of

log = logging.getLogger(__name__)


def command_name(interaction: discord.Interaction) -> str:
    """The command as the member typed it, without the slash ("quota grant")."""
    command = interaction.command
    if command is not None:
        return command.qualified_name
    data = interaction.data or {}
    return str(data.get("name", "?"))


async def reply(
    interaction: discord.Interaction, content: str | None = None, *, ephemeral: bool = True, **kwargs: Any
) -> discord.Message | None:
    """Answer `interaction`: the first response, else a followup, else (token expired) the channel.

    A followup after an ephemeral deferral edits the "thinking..." message and keeps it ephemeral.
    After 15 minutes the interaction token is dead, so only `channel.send` is left; that message
    is public by nature. Returns the message when Discord gave one back.
    """
    if content is not None:
        kwargs["content"] = content
    if interaction.is_expired():
        channel = interaction.channel
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("interaction %s expired and its channel cannot be posted to", interaction.id)
            return None
        return await channel.send(**kwargs)
    if not interaction.response.is_done():
        response = await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
        resource = response.resource
        return resource if isinstance(resource, discord.Message) else None
    return await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)


@asynccontextmanager
async def refusals(interaction: discord.Interaction) -> AsyncIterator[None]:
    """For button callbacks, which do not pass through the tree's error handler: the same answers."""
    try:
        yield
    except UserError as exc:
        await reply(interaction, exc.render(locale_of(interaction)))
    except Exception:
        log.exception("button %s failed", interaction.data.get("custom_id") if interaction.data else "?")
        await reply(interaction, t("error.unexpected", locale_of(interaction)))
