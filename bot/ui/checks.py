"""Who counts as a moderator, and the check that enforces it on moderator commands.

`@app_commands.default_permissions(manage_guild=True)` only hides a command by default (server
admins can change that under Integrations), so every moderator command also carries
`@moderator_only()`, which the bot enforces on each call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from bot.client import RHBot
from bot.config import Settings

T = TypeVar("T")


class NotModerator(app_commands.CheckFailure):
    """The member is neither a Manage Server holder nor in a MODERATOR_ROLE_IDS role."""


def is_moderator(member: discord.Member | discord.User, settings: Settings) -> bool:
    """Manage Server (administrators and the owner have it implicitly) or a moderator role."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    return any(role.id in settings.moderator_role_ids for role in member.roles)


def interaction_is_moderator(interaction: discord.Interaction[RHBot]) -> bool:
    """Like `is_moderator`, also trusting the permissions Discord resolved for this interaction."""
    if interaction.guild is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    return is_moderator(interaction.user, interaction.client.settings)


def moderator_only() -> Callable[[T], T]:
    """An app_commands check that refuses non-moderators with `NotModerator`."""

    def predicate(interaction: discord.Interaction[RHBot]) -> bool:
        if not interaction_is_moderator(interaction):
            raise NotModerator("moderators only")
        return True

    return app_commands.check(predicate)
