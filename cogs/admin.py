"""Moderator tools: /health. A stub with the contract's command."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.ui.checks import moderator_only
from bot.ui.i18n import cmd_text
from bot.ui.reply import coming_soon


class Admin(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.bot = bot

    @app_commands.command(name="health", description=cmd_text("cmd.health"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def health(self, interaction: discord.Interaction) -> None:
        await coming_soon(interaction)


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Admin(bot))
