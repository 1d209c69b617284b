"""Coins: /balance and the moderators' /quota group. A stub with the contract's commands and options.

/quota is hidden from non-moderators by default (default_permissions) and enforced on every call
(moderator_only), because server admins can override the default under Integrations.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.db.ledger import MAX_AMOUNT, MAX_REASON, PERIODS
from bot.ui.checks import moderator_only
from bot.ui.i18n import cmd_text
from bot.ui.reply import coming_soon

Amount = app_commands.Range[int, 1, MAX_AMOUNT]
NewAmount = app_commands.Range[int, 0, MAX_AMOUNT]
Reason = app_commands.Range[str, 1, MAX_REASON]

PERIOD_CHOICES = [
    app_commands.Choice(name=cmd_text(f"cmd.period.{period}"), value=period) for period in PERIODS
]


class Coins(commands.Cog):
    quota = app_commands.Group(
        name="quota",
        description=cmd_text("cmd.quota"),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: RHBot) -> None:
        self.bot = bot

    @app_commands.command(name="balance", description=cmd_text("cmd.balance"))
    @app_commands.guild_only()
    @app_commands.describe(member=cmd_text("cmd.balance.member"))
    async def balance(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        await coming_soon(interaction)

    @quota.command(name="grant", description=cmd_text("cmd.quota.grant"))
    @moderator_only()
    @app_commands.describe(
        member=cmd_text("cmd.quota.member"),
        amount=cmd_text("cmd.quota.amount"),
        reason=cmd_text("cmd.quota.reason"),
    )
    async def grant(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        amount: Amount,
        reason: Reason | None = None,
    ) -> None:
        await coming_soon(interaction)

    @quota.command(name="take", description=cmd_text("cmd.quota.take"))
    @moderator_only()
    @app_commands.describe(
        member=cmd_text("cmd.quota.member"),
        amount=cmd_text("cmd.quota.amount"),
        reason=cmd_text("cmd.quota.reason"),
    )
    async def take(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        amount: Amount,
        reason: Reason | None = None,
    ) -> None:
        await coming_soon(interaction)

    @quota.command(name="set", description=cmd_text("cmd.quota.set"))
    @moderator_only()
    @app_commands.describe(
        member=cmd_text("cmd.quota.member"),
        amount=cmd_text("cmd.quota.set_amount"),
        reason=cmd_text("cmd.quota.reason"),
    )
    async def set_(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        amount: NewAmount,
        reason: Reason | None = None,
    ) -> None:
        await coming_soon(interaction)

    @quota.command(name="history", description=cmd_text("cmd.quota.history"))
    @moderator_only()
    @app_commands.describe(member=cmd_text("cmd.quota.member"))
    async def history(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await coming_soon(interaction)

    @quota.command(name="policy", description=cmd_text("cmd.quota.policy"))
    @moderator_only()
    @app_commands.describe(allowance=cmd_text("cmd.quota.allowance"), period=cmd_text("cmd.quota.period"))
    @app_commands.choices(period=PERIOD_CHOICES)
    async def policy(self, interaction: discord.Interaction, allowance: NewAmount, period: str) -> None:
        await coming_soon(interaction)


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Coins(bot))
