"""/workflows: every enabled alias with its description, what it needs, its params and its cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.messages import t
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import reply

if TYPE_CHECKING:
    from bot.workflows import Workflow, WorkflowInput

# Discord's embed limits, with a margin under the 6000-character total for title and footer.
MAX_FIELDS = 25
FIELD_VALUE_LIMIT = 1024
FIELD_NAME_LIMIT = 256
EMBED_BUDGET = 5000
COLOUR = discord.Colour.blurple()


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe_option_input(item: WorkflowInput, locale: str) -> str:
    """`image` (image) or `prompt` (text, up to 1500 characters)."""
    details = [t(f"frame.kind.{item.kind}", locale)]
    if item.kind == "text" and item.max_length:
        details.append(t("frame.workflows.max_length", locale, count=item.max_length))
    return f"`{item.name}` ({', '.join(details)})"


def describe_param(item: WorkflowInput, locale: str) -> str:
    """• `steps`: whole number, 1 to 60, default 25 — what it does."""
    details = [t(f"frame.kind.{item.kind}", locale)]
    if item.choices:
        details.append(
            t("frame.workflows.choices", locale, choices=", ".join(f"`{c}`" for c in item.choices))
        )
    elif item.min is not None and item.max is not None:
        details.append(t("frame.workflows.range", locale, min=item.min, max=item.max))
    elif item.min is not None:
        details.append(t("frame.workflows.at_least", locale, min=item.min))
    elif item.max is not None:
        details.append(t("frame.workflows.at_most", locale, max=item.max))
    if item.default is not None:
        details.append(t("frame.workflows.default", locale, value=_shown(item.default)))
    line = f"• `{item.name}`: {', '.join(details)}"
    if item.description:
        line += f" — {item.description}"
    return line


def workflow_field(workflow: Workflow, locale: str) -> tuple[str, str]:
    """(field name, field value) for one alias, within Discord's field limits."""
    name = f"{workflow.alias} · {t('frame.workflows.cost', locale, cost=workflow.cost)}"
    options = [i for i in workflow.inputs if not i.is_param]
    needed = [describe_option_input(i, locale) for i in options if i.required]
    optional = [describe_option_input(i, locale) for i in options if not i.required]
    lines = [workflow.description]
    lines.append(
        t(
            "frame.workflows.needs",
            locale,
            inputs=", ".join(needed) or t("frame.workflows.nothing_needed", locale),
        )
    )
    if optional:
        lines.append(t("frame.workflows.optional", locale, inputs=", ".join(optional)))
    params = [describe_param(i, locale) for i in workflow.inputs if i.is_param]
    if params:
        lines.append(t("frame.workflows.params", locale))
        lines.extend(params)
    return _cut(name, FIELD_NAME_LIMIT), _cut("\n".join(lines), FIELD_VALUE_LIMIT)


def workflow_embeds(workflows: Sequence[Workflow], locale: str) -> list[discord.Embed]:
    """The listing as embeds, each within one message's limits (25 fields, 6000 characters)."""
    pages: list[list[tuple[str, str]]] = [[]]
    used = 0
    for workflow in workflows:
        name, value = workflow_field(workflow, locale)
        if pages[-1] and (len(pages[-1]) >= MAX_FIELDS or used + len(name) + len(value) > EMBED_BUDGET):
            pages.append([])
            used = 0
        pages[-1].append((name, value))
        used += len(name) + len(value)
    embeds = []
    for number, fields in enumerate(pages, start=1):
        title = (
            t("frame.workflows.title", locale)
            if len(pages) == 1
            else t("frame.workflows.page", locale, page=number, pages=len(pages))
        )
        embed = discord.Embed(title=title, colour=COLOUR)
        for name, value in fields:
            embed.add_field(name=name, value=value, inline=False)
        embed.set_footer(text=t("frame.workflows.footer", locale))
        embeds.append(embed)
    return embeds


class Workflows(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.bot = bot

    @app_commands.command(name="workflows", description=cmd_text("cmd.workflows"))
    @app_commands.guild_only()
    async def workflows(self, interaction: discord.Interaction) -> None:
        locale = locale_of(interaction)
        available = self.bot.workflows.all()
        if not available:
            await reply(interaction, t("frame.workflows.empty", locale))
            return
        # One embed per message keeps every message under the 6000-character total.
        for embed in workflow_embeds(available, locale):
            await reply(interaction, embed=embed)


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Workflows(bot))
