"""Moderator tools: /health, what a moderator checks when members say jobs are stuck."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.texts.jobs import health_report
from bot.ui.checks import moderator_only
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import reply


class Admin(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.service = bot.services.jobs

    @app_commands.command(name="health", description=cmd_text("cmd.health"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def health(self, interaction: discord.Interaction[RHBot]) -> None:
        # Deferred first: asking RunningHub for the account status can take a few seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.service.health(interaction.guild_id)
        await reply(interaction, health_report(report, locale_of(interaction), now=time.time()))


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Admin(bot))
