"""The gate's `Requester` read from a Discord interaction: who asks, where, with which roles."""

from __future__ import annotations

import discord

from bot.governance.gate import Requester
from bot.ui.checks import interaction_is_moderator
from bot.ui.i18n import locale_of


def channel_facts(channel: object) -> tuple[int | None, bool]:
    """(parent channel id, age-restricted) of a channel; a thread carries its parent's flag."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return channel.parent_id, bool(parent is not None and parent.is_nsfw())
    is_nsfw = getattr(channel, "is_nsfw", None)
    return None, bool(is_nsfw()) if callable(is_nsfw) else False


def requester_of(interaction: discord.Interaction) -> Requester:
    """The member behind `interaction` as the gate sees them (guild interactions only)."""
    assert interaction.guild_id is not None  # every way of starting a job is guild_only
    parent_id, nsfw = channel_facts(interaction.channel)
    user = interaction.user
    # @everyone is a role every member holds; it is never a gate.
    roles = (
        frozenset(r.id for r in user.roles if r.id != interaction.guild_id)
        if isinstance(user, discord.Member)
        else frozenset()
    )
    return Requester(
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id or 0,
        member_id=user.id,
        parent_channel_id=parent_id,
        channel_nsfw=nsfw,
        role_ids=roles,
        is_moderator=interaction_is_moderator(interaction),
        locale=locale_of(interaction),
    )
