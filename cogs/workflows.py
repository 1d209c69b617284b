"""/workflows: every enabled alias with its description, what it needs, its params and its cost.

The text is rendered in bot/texts/workflows.py; this cog only puts it into embeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.texts import t
from bot.texts.workflows import workflow_pages
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import reply
from bot.ui.requester import requester_of
from bot.workflows import Workflow

COLOUR = discord.Colour.blurple()


def workflow_embeds(workflows: Sequence[Workflow], locale: str) -> list[discord.Embed]:
    """The listing's pages (bot/texts/workflows.py) as embeds."""
    embeds = []
    for page in workflow_pages(workflows, locale):
        embed = discord.Embed(title=page.title, colour=COLOUR)
        for name, value in page.fields:
            embed.add_field(name=name, value=value, inline=False)
        embed.set_footer(text=page.footer)
        embeds.append(embed)
    return embeds


class Workflows(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.jobs = bot.services.jobs

    @app_commands.command(name="workflows", description=cmd_text("cmd.workflows"))
    @app_commands.guild_only()
    async def workflows(self, interaction: discord.Interaction[RHBot]) -> None:
        locale = locale_of(interaction)
        # Only what this member may run in this channel: the gate's own alias rules.
        available = self.jobs.runnable(requester_of(interaction))
        if not available:
            await reply(interaction, t("workflows.empty", locale))
            return
        # One embed per message keeps every message under the 6000-character total.
        for embed in workflow_embeds(available, locale):
            await reply(interaction, embed=embed)


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Workflows(bot))
