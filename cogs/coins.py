"""Coins: /balance and the moderators' /quota group (grant, take, set, history, policy).

Thin: reads the interaction, calls the ledger (bot/db/ledger.py), replies ephemerally in the
member's language. Refusals are UserErrors, rendered by the tree's error handler (and by
`refusals` for the history page buttons, which do not pass through the tree).

/quota is hidden from non-moderators by default (default_permissions) and enforced on every call
(moderator_only), because server admins can override the default under Integrations.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.db.ledger import MAX_AMOUNT, MAX_REASON, PERIODS, Ledger
from bot.errors import UserError
from bot.texts import t
from bot.texts.coins import PAGE_SIZE, balance_text, change_text, clamp_page, history_page, policy_text
from bot.texts.governance import role_policy_text
from bot.ui.checks import interaction_is_moderator, moderator_only
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import refusals, reply

log = logging.getLogger(__name__)

Amount = app_commands.Range[int, 1, MAX_AMOUNT]
NewAmount = app_commands.Range[int, 0, MAX_AMOUNT]
Reason = app_commands.Range[str, 1, MAX_REASON]

PERIOD_CHOICES = [app_commands.Choice(name=cmd_text(f"cmd.period.{period}"), value=period) for period in PERIODS]
COLOUR = discord.Colour.gold()


Interaction = discord.Interaction[RHBot]


def _guild_id(interaction: Interaction) -> int:
    assert interaction.guild_id is not None  # every command here is guild_only
    return interaction.guild_id


def role_ids(member: discord.Member | discord.User) -> frozenset[int]:
    """The member's roles (without @everyone), for role allowances; none for someone who left."""
    if not isinstance(member, discord.Member):
        return frozenset()
    return frozenset(r.id for r in member.roles if r.id != member.guild.id)


def _refuse_bot(member: discord.Member | discord.User) -> None:
    # Bots cannot hold coins; the ledger does not know who is a bot, so the cog checks.
    if member.bot:
        raise UserError("coins.bot_member")


async def _thinking(interaction: Interaction) -> None:
    """Acknowledge before touching the database: Discord allows 3 seconds, the write lock may be busy."""
    await interaction.response.defer(ephemeral=True, thinking=True)


# ---- /quota history pages ---------------------------------------------------------------------


HISTORY_PAGE = "rh:hist:{member}:{page}"


class HistoryPageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=HISTORY_PAGE.format(member="(?P<member>[0-9]+)", page="(?P<page>[0-9]+)"),
):
    """Shows another page of a member's ledger. Moderator rights are checked again on each click."""

    def __init__(self, member_id: int, page: int, label: str = "", *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or str(page),
                style=discord.ButtonStyle.secondary,
                custom_id=HISTORY_PAGE.format(member=member_id, page=page),
                disabled=disabled,
            )
        )
        self.member_id = member_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> HistoryPageButton:
        return cls(int(match["member"]), int(match["page"]))

    async def callback(self, interaction: Interaction) -> None:
        async with refusals(interaction):
            if not interaction_is_moderator(interaction):
                raise UserError("error.moderator_only", command="quota history")
            await interaction.response.defer()  # an update of the page message, answered below
            embed, view = await history_message(interaction, self.member_id, self.page)
            await interaction.edit_original_response(embed=embed, view=view)


async def history_message(
    interaction: Interaction, member_id: int, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    """Page `page` (1 = newest) of the member's ledger as an embed, with Newer/Older buttons."""
    locale = locale_of(interaction)
    ledger = interaction.client.services.ledger
    guild_id = _guild_id(interaction)
    total = await ledger.count_history(guild_id, member_id)
    page = clamp_page(page, total)  # the history may have grown since the buttons were made
    entries = await ledger.history(guild_id, member_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, total=total)
    shown = history_page(entries, member_id=member_id, total=total, page=page, locale=locale)
    embed = discord.Embed(title=shown.title, description=shown.description, colour=COLOUR)
    if shown.pages > 1:
        embed.set_footer(text=shown.footer)
    if shown.pages == 1:
        return embed, None
    view = discord.ui.View(timeout=None)
    view.add_item(HistoryPageButton(member_id, page - 1, "◀ " + t("coins.history.newer", locale), disabled=page == 1))
    view.add_item(
        HistoryPageButton(member_id, page + 1, t("coins.history.older", locale) + " ▶", disabled=page == shown.pages)
    )
    return embed, view


# ---- the cog ----------------------------------------------------------------------------------


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
        self.ledger: Ledger = bot.services.ledger

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(HistoryPageButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(HistoryPageButton)

    @app_commands.command(name="balance", description=cmd_text("cmd.balance"))
    @app_commands.guild_only()
    @app_commands.describe(member=cmd_text("cmd.balance.member"))
    async def balance(self, interaction: Interaction, member: discord.Member | None = None) -> None:
        other = member is not None and member.id != interaction.user.id
        if other and not interaction_is_moderator(interaction):
            raise UserError("coins.not_moderator")
        target = member if member is not None else interaction.user
        _refuse_bot(target)
        await _thinking(interaction)
        guild_id = _guild_id(interaction)
        roles = role_ids(target)
        found = await self.ledger.balance(guild_id, target.id, role_ids=roles)
        policy = await self.ledger.policy_for(guild_id, roles)
        text = balance_text(found, policy, locale_of(interaction), member_id=target.id if other else None)
        await reply(interaction, text)

    async def _change(
        self,
        interaction: Interaction,
        kind: str,
        member: discord.Member,
        amount: int,
        reason: str | None,
    ) -> None:
        """grant, take or set: one ledger write with the moderator as actor, then the new balance."""
        _refuse_bot(member)
        await _thinking(interaction)
        ledger = self.ledger
        change = {"grant": ledger.grant, "take": ledger.take, "set": ledger.set}[kind]
        balance = await change(
            _guild_id(interaction), member.id, amount, interaction.user.id, reason, role_ids=role_ids(member)
        )
        await reply(interaction, change_text(kind, member.id, amount, balance, locale_of(interaction)))

    @quota.command(name="grant", description=cmd_text("cmd.quota.grant"))
    @moderator_only()
    @app_commands.describe(
        member=cmd_text("cmd.quota.member"),
        amount=cmd_text("cmd.quota.amount"),
        reason=cmd_text("cmd.quota.reason"),
    )
    async def grant(
        self,
        interaction: Interaction,
        member: discord.Member,
        amount: Amount,
        reason: Reason | None = None,
    ) -> None:
        await self._change(interaction, "grant", member, amount, reason)

    @quota.command(name="take", description=cmd_text("cmd.quota.take"))
    @moderator_only()
    @app_commands.describe(
        member=cmd_text("cmd.quota.member"),
        amount=cmd_text("cmd.quota.amount"),
        reason=cmd_text("cmd.quota.reason"),
    )
    async def take(
        self,
        interaction: Interaction,
        member: discord.Member,
        amount: Amount,
        reason: Reason | None = None,
    ) -> None:
        await self._change(interaction, "take", member, amount, reason)

    @quota.command(name="set", description=cmd_text("cmd.quota.set"))
    @moderator_only()
    @app_commands.describe(
        member=cmd_text("cmd.quota.member"),
        amount=cmd_text("cmd.quota.set_amount"),
        reason=cmd_text("cmd.quota.reason"),
    )
    async def set_(
        self,
        interaction: Interaction,
        member: discord.Member,
        amount: NewAmount,
        reason: Reason | None = None,
    ) -> None:
        await self._change(interaction, "set", member, amount, reason)

    @quota.command(name="history", description=cmd_text("cmd.quota.history"))
    @moderator_only()
    @app_commands.describe(member=cmd_text("cmd.quota.member"))
    async def history(self, interaction: Interaction, member: discord.Member | discord.User) -> None:
        # Member or User: a member who left the server still has a history worth reading.
        _refuse_bot(member)
        await _thinking(interaction)
        embed, view = await history_message(interaction, member.id, 1)
        if view is None:
            await reply(interaction, embed=embed)
        else:
            await reply(interaction, embed=embed, view=view)

    @quota.command(name="policy", description=cmd_text("cmd.quota.policy"))
    @moderator_only()
    @app_commands.describe(
        allowance=cmd_text("cmd.quota.allowance"), period=cmd_text("cmd.quota.period"), role=cmd_text("cmd.quota.role")
    )
    @app_commands.choices(period=PERIOD_CHOICES)
    async def policy(
        self, interaction: Interaction, allowance: NewAmount, period: str, role: discord.Role | None = None
    ) -> None:
        await _thinking(interaction)
        guild_id = _guild_id(interaction)
        if role is not None and role.id == guild_id:
            role = None  # @everyone's allowance is the server's
        policy = await self.ledger.set_policy(
            guild_id, allowance, period, interaction.user.id, role_id=role.id if role is not None else None
        )
        if role is None:
            await reply(interaction, policy_text(policy, locale_of(interaction)))
        else:
            await reply(interaction, role_policy_text(role.id, policy, locale_of(interaction)))


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Coins(bot))
