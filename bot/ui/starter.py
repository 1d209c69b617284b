"""Who starts a job and where, read from an interaction: what the job service's gates need."""

from __future__ import annotations

import discord

from bot.jobs.service import Starter
from bot.ui.checks import interaction_is_moderator
from bot.ui.i18n import locale_of


def starter_of(interaction: discord.Interaction) -> Starter:
    assert interaction.guild_id is not None  # every way of starting a job is guild-only
    user = interaction.user
    roles = frozenset(role.id for role in user.roles) if isinstance(user, discord.Member) else frozenset()
    channel = interaction.channel
    # A thread is as age-restricted as its parent channel.
    nsfw_source = channel.parent if isinstance(channel, discord.Thread) else channel
    nsfw = bool(nsfw_source is not None and getattr(nsfw_source, "nsfw", False))
    return Starter(
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id or 0,
        member_id=user.id,
        locale=locale_of(interaction),
        role_ids=roles,
        is_moderator=interaction_is_moderator(interaction),
        nsfw_channel=nsfw,
    )
