"""Moderator tools: /health, what a moderator checks when members say jobs are stuck."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.jobs.texts import health_report
from bot.ui.checks import moderator_only
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import reply


class Admin(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.bot = bot

    @app_commands.command(name="health", description=cmd_text("cmd.health"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def health(self, interaction: discord.Interaction) -> None:
        # Deferred first: asking RunningHub for the account status can take a few seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        service = self.bot.jobs
        if service is None:
            raise RuntimeError("the job service is not running")
        report = await service.health()
        await reply(interaction, health_report(report, locale_of(interaction)))


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Admin(bot))
