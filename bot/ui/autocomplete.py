"""The shared `workflow` autocomplete: filters the registry in memory and answers at once.

Autocomplete cannot be deferred and must answer within 3 seconds, so this does no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.messages import t
from bot.ui.i18n import locale_of

if TYPE_CHECKING:
    from bot.workflows import Workflow, WorkflowRegistry

MAX_CHOICES = 25  # Discord's limit
MAX_NAME = 100  # Discord's limit on a choice's name


def choice_name(workflow: Workflow, locale: str) -> str:
    """ "style-transfer — Restyle a photo · image, image2 · 20 coins", cut to fit 100 characters."""
    needs = ", ".join(i.name for i in workflow.required_inputs if not i.is_param)
    tail = " · ".join(p for p in (needs, t("frame.workflows.cost", locale, cost=workflow.cost)) if p)
    head = workflow.alias
    room = MAX_NAME - len(head) - len(tail) - len(" —  · ")
    description = workflow.description.strip()
    if room >= 8 and description:
        if len(description) > room:
            description = description[: room - 1].rstrip() + "…"
        return f"{head} — {description} · {tail}"
    return f"{head} · {tail}"[:MAX_NAME]


def workflow_choices(registry: WorkflowRegistry, current: str, locale: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=choice_name(w, locale), value=w.alias)
        for w in registry.search(current.strip(), limit=MAX_CHOICES)[:MAX_CHOICES]
    ]


async def workflow_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    registry: WorkflowRegistry = interaction.client.workflows  # type: ignore[attr-defined]
    return workflow_choices(registry, current, locale_of(interaction))
