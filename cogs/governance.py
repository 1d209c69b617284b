"""Governance: /settings, /blocklist, /block and /unblock, for moderators (design §9).

Thin: reads the interaction, calls the settings store and the gate (bot/db/guild_settings.py,
bot/governance/), replies ephemerally. Every command is hidden from non-moderators by default
(default_permissions) and checked again on each use (moderator_only), because server admins can
change the default under Integrations.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import AppCommandOptionType, ChannelType, app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.db.guild_settings import LANGUAGES, MAX_COOLDOWN, MAX_REASON
from bot.errors import UserError
from bot.governance.blocklist import MAX_ENTRY
from bot.governance.gate import channel_list
from bot.texts import t
from bot.texts.format import channel_mention
from bot.texts.governance import blocklist_text, settings_text
from bot.ui.checks import moderator_only
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import reply

log = logging.getLogger(__name__)

# Where messages can be posted: text and announcement channels, their threads, forums.
POSTABLE = (
    ChannelType.text,
    ChannelType.news,
    ChannelType.news_thread,
    ChannelType.public_thread,
    ChannelType.private_thread,
    ChannelType.forum,
    ChannelType.media,
)
Seconds = app_commands.Range[int, 0, MAX_COOLDOWN]
Entry = app_commands.Range[str, 1, MAX_ENTRY]
Reason = app_commands.Range[str, 1, MAX_REASON]
ACTIONS = ("add", "remove", "clear")
LANGUAGE_CHOICES = [
    app_commands.Choice(name=cmd_text(f"cmd.language.{value}"), value=value) for value in LANGUAGES
]
ACTION_CHOICES = [app_commands.Choice(name=cmd_text(f"cmd.channels.{a}"), value=a) for a in ACTIONS]
MODERATORS = discord.Permissions(manage_guild=True)
Interaction = discord.Interaction[RHBot]


class PostableChannel(app_commands.Transformer):
    """A channel option Discord limits to POSTABLE types; the value is not looked up in the cache."""

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[ChannelType]:
        return list(POSTABLE)

    async def transform(self, interaction: Interaction, value: Any, /) -> Any:
        return value  # checked in the command, so that a wrong type gets our own sentence


def _postable(channel: app_commands.AppCommandChannel | app_commands.AppCommandThread) -> int:
    """The channel's id, or the refusal when messages cannot be posted there."""
    if getattr(channel, "type", None) not in POSTABLE:
        raise UserError("gov.bad.channel_type", channel=channel_mention(channel.id))
    return channel.id


def _guild_id(interaction: Interaction) -> int:
    assert interaction.guild_id is not None  # every command here is guild_only
    return interaction.guild_id


async def _thinking(interaction: Interaction) -> None:
    """Acknowledge before touching the database: Discord allows 3 seconds, the write lock may be busy."""
    await interaction.response.defer(ephemeral=True, thinking=True)


def _guild_group(name: str) -> app_commands.Group:
    return app_commands.Group(
        name=name,
        description=cmd_text(f"cmd.{name}"),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        default_permissions=MODERATORS,
    )


class Governance(commands.Cog):
    settings = _guild_group("settings")
    blocklist = _guild_group("blocklist")

    def __init__(self, bot: RHBot) -> None:
        self.store = bot.services.guild_settings
        self.gate = bot.services.gate
        self.ledger = bot.services.ledger

    # ---- /settings ---------------------------------------------------------------------------

    @settings.command(name="show", description=cmd_text("cmd.settings.show"))
    @moderator_only()
    async def show(self, interaction: Interaction) -> None:
        await _thinking(interaction)
        guild_id = _guild_id(interaction)
        text = settings_text(
            await self.store.get(guild_id),
            await self.store.blocked_members(guild_id),
            await self.ledger.policy(guild_id),
            await self.ledger.role_policies(guild_id),
            locale_of(interaction),
        )
        await reply(interaction, text)

    @settings.command(name="channels", description=cmd_text("cmd.settings.channels"))
    @moderator_only()
    @app_commands.describe(
        action=cmd_text("cmd.settings.channels.action"), channel=cmd_text("cmd.settings.channels.channel")
    )
    @app_commands.choices(action=ACTION_CHOICES)
    async def channels(
        self,
        interaction: Interaction,
        action: str,
        channel: app_commands.Transform[app_commands.AppCommandChannel, PostableChannel] | None = None,
    ) -> None:
        locale = locale_of(interaction)
        guild_id, actor = _guild_id(interaction), interaction.user.id
        if action not in ACTIONS:
            raise UserError("error.bad_value", value=f"`{action[:40]}`")
        if action == "clear":
            if channel is not None:
                raise UserError("gov.bad.channel_not_needed")
            await _thinking(interaction)
            await self.store.clear_channels(guild_id, actor)
            await reply(interaction, t("gov.ok.channels.clear", locale))
            return
        if channel is None:
            raise UserError(f"gov.bad.channel_needed.{action}")
        channel_id = _postable(channel)
        await _thinking(interaction)
        if action == "add":
            settings = await self.store.add_channel(guild_id, channel_id, actor)
            text = t("gov.ok.channels.add", locale, channel=channel_mention(channel_id),
                     channels=channel_list(settings.allowed_channels))
        else:
            settings = await self.store.remove_channel(guild_id, channel_id, actor)
            if settings.allowed_channels:
                text = t("gov.ok.channels.remove", locale, channel=channel_mention(channel_id),
                         channels=channel_list(settings.allowed_channels))
            else:
                text = t("gov.ok.channels.remove_last", locale, channel=channel_mention(channel_id))
        await reply(interaction, text)

    @settings.command(name="modlog", description=cmd_text("cmd.settings.modlog"))
    @moderator_only()
    @app_commands.describe(channel=cmd_text("cmd.settings.modlog.channel"))
    async def modlog(
        self,
        interaction: Interaction,
        channel: app_commands.Transform[app_commands.AppCommandChannel, PostableChannel] | None = None,
    ) -> None:
        locale = locale_of(interaction)
        channel_id = None
        if channel is not None:
            channel_id = _postable(channel)
            self._check_can_post(interaction, channel)
        await _thinking(interaction)
        await self.store.set_modlog(_guild_id(interaction), channel_id, interaction.user.id)
        if channel_id is None:
            await reply(interaction, t("gov.ok.modlog.off", locale))
        else:
            await reply(interaction, t("gov.ok.modlog.set", locale, channel=channel_mention(channel_id)))

    @staticmethod
    def _check_can_post(interaction: Interaction, channel: Any) -> None:
        """Refuse a modlog channel the bot cannot post in (when the channel is in the cache)."""
        guild = interaction.guild
        resolved = channel.resolve() if hasattr(channel, "resolve") else None
        if guild is None or resolved is None or not hasattr(resolved, "permissions_for"):
            return
        permissions = resolved.permissions_for(guild.me)
        can_send = permissions.send_messages_in_threads if isinstance(resolved, discord.Thread) else (
            permissions.send_messages
        )
        if not (permissions.view_channel and can_send):
            raise UserError("gov.bad.modlog_cannot_post", channel=channel_mention(channel.id))

    @settings.command(name="cooldown", description=cmd_text("cmd.settings.cooldown"))
    @moderator_only()
    @app_commands.describe(seconds=cmd_text("cmd.settings.cooldown.seconds"))
    async def cooldown(self, interaction: Interaction, seconds: Seconds) -> None:
        locale = locale_of(interaction)
        await _thinking(interaction)
        await self.store.set_cooldown(_guild_id(interaction), seconds, interaction.user.id)
        if seconds:
            await reply(interaction, t("gov.ok.cooldown.set", locale, seconds=seconds))
        else:
            await reply(interaction, t("gov.ok.cooldown.off", locale))

    @settings.command(name="language", description=cmd_text("cmd.settings.language"))
    @moderator_only()
    @app_commands.describe(value=cmd_text("cmd.settings.language.value"))
    @app_commands.choices(value=LANGUAGE_CHOICES)
    async def language(self, interaction: Interaction, value: str) -> None:
        await _thinking(interaction)
        settings = await self.store.set_language(_guild_id(interaction), value, interaction.user.id)
        await reply(interaction, t(f"gov.ok.language.{settings.language}", locale_of(interaction)))

    # ---- /blocklist --------------------------------------------------------------------------

    @blocklist.command(name="add", description=cmd_text("cmd.blocklist.add"))
    @moderator_only()
    @app_commands.describe(text=cmd_text("cmd.blocklist.text"))
    async def blocklist_add(self, interaction: Interaction, text: Entry) -> None:
        await _thinking(interaction)
        entry = await self.store.add_entry(_guild_id(interaction), text, interaction.user.id)
        await reply(interaction, t("gov.ok.blocklist.add", locale_of(interaction), entry=entry.replace("`", "ˋ")))

    @blocklist.command(name="remove", description=cmd_text("cmd.blocklist.remove"))
    @moderator_only()
    @app_commands.describe(text=cmd_text("cmd.blocklist.text"))
    async def blocklist_remove(self, interaction: Interaction, text: Entry) -> None:
        await _thinking(interaction)
        entry = await self.store.remove_entry(_guild_id(interaction), text, interaction.user.id)
        await reply(interaction, t("gov.ok.blocklist.remove", locale_of(interaction), entry=entry.replace("`", "ˋ")))

    @blocklist.command(name="list", description=cmd_text("cmd.blocklist.list"))
    @moderator_only()
    async def blocklist_list(self, interaction: Interaction) -> None:
        await _thinking(interaction)
        settings = await self.store.get(_guild_id(interaction))
        await reply(interaction, blocklist_text(settings.blocklist, locale_of(interaction)))

    # ---- /block, /unblock ----------------------------------------------------------------------

    @app_commands.command(name="block", description=cmd_text("cmd.block"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    @app_commands.describe(member=cmd_text("cmd.block.member"), reason=cmd_text("cmd.block.reason"))
    async def block(
        self, interaction: Interaction, member: discord.Member, reason: Reason | None = None
    ) -> None:
        if member.bot:
            raise UserError("gov.bad.bot_member")
        await _thinking(interaction)
        blocked = await self.gate.block(_guild_id(interaction), member.id, reason, interaction.user.id)
        locale = locale_of(interaction)
        if blocked.reason:
            await reply(interaction, t("gov.ok.block_reason", locale, member=member.mention, reason=blocked.reason))
        else:
            await reply(interaction, t("gov.ok.block", locale, member=member.mention))

    @app_commands.command(name="unblock", description=cmd_text("cmd.unblock"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    @app_commands.describe(member=cmd_text("cmd.unblock.member"))
    async def unblock(self, interaction: Interaction, member: discord.Member | discord.User) -> None:
        # Member or User: someone who left the server can still be unblocked.
        await _thinking(interaction)
        await self.gate.unblock(_guild_id(interaction), member.id, interaction.user.id)
        await reply(interaction, t("gov.ok.unblock", locale_of(interaction), member=member.mention))


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Governance(bot))
