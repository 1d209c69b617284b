"""The shared `workflow` autocomplete: filters the registry in memory and answers at once.

Autocomplete cannot be deferred and must answer within 3 seconds, so this does no I/O.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.client import RHBot
from bot.texts.workflows import choice_name
from bot.ui.i18n import locale_of
from bot.workflows import WorkflowRegistry

MAX_CHOICES = 25  # Discord's limit


def workflow_choices(registry: WorkflowRegistry, current: str, locale: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=choice_name(w, locale), value=w.alias)
        for w in registry.search(current.strip(), limit=MAX_CHOICES)[:MAX_CHOICES]
    ]


async def workflow_autocomplete(
    interaction: discord.Interaction[RHBot], current: str
) -> list[app_commands.Choice[str]]:
    return workflow_choices(interaction.client.services.workflows, current, locale_of(interaction))
