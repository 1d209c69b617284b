"""The shared `workflow` autocomplete: filters the registry in memory and answers at once.

Autocomplete cannot be deferred and must answer within 3 seconds, so this does no I/O.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import RHBot
from bot.governance.gate import Requester
from bot.governance.service import Gate
from bot.texts.workflows import choice_name
from bot.ui.i18n import locale_of
from bot.ui.requester import requester_of
from bot.workflows import WorkflowRegistry, WorkflowView

MAX_CHOICES = 25  # Discord's limit


def workflow_choices(
    registry: WorkflowRegistry | WorkflowView, current: str, locale: str, requester: Requester | None = None
) -> list[app_commands.Choice[str]]:
    """Matching aliases; with `requester`, only those the gate lets them run where they are."""
    found = registry.search(current.strip(), limit=len(registry))
    if requester is not None:
        found = Gate.visible(requester, found)
    return [app_commands.Choice(name=choice_name(w, locale), value=w.alias) for w in found[:MAX_CHOICES]]


async def workflow_autocomplete(
    interaction: discord.Interaction[RHBot], current: str
) -> list[app_commands.Choice[str]]:
    requester = requester_of(interaction) if interaction.guild_id is not None else None
    aliases = interaction.client.services.workflows.for_guild(interaction.guild_id)
    return workflow_choices(aliases, current, locale_of(interaction), requester)
