"""/workflow add|edit|remove|show|reload: moderators manage this server's aliases from Discord.

Thin: reads the interaction, calls bot/workflow_admin.py, replies ephemerally in the moderator's
language. Refusals are UserErrors rendered by the tree's error handler. Hidden from non-moderators
by default (default_permissions) and enforced on every call (moderator_only).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.texts.workflow_admin import (
    render_added,
    render_edited,
    render_reloaded,
    render_removed,
    render_shown,
)
from bot.ui.checks import moderator_only
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import reply
from bot.workflow_admin import WorkflowAdmin

MAX_CHOICES = 25
Interaction = discord.Interaction[RHBot]


def _guild_id(interaction: Interaction) -> int:
    assert interaction.guild_id is not None  # the group is guild_only
    return interaction.guild_id


def _admin(interaction: Interaction) -> WorkflowAdmin:
    return interaction.client.services.workflow_admin


async def _thinking(interaction: Interaction) -> None:
    # Before any I/O (RunningHub, the database): Discord allows 3 seconds.
    await interaction.response.defer(ephemeral=True, thinking=True)


def _choices(aliases: list[str], current: str) -> list[app_commands.Choice[str]]:
    needle = current.strip().lower()
    found = [a for a in aliases if a.startswith(needle)] + [
        a for a in aliases if needle in a and not a.startswith(needle)
    ]
    return [app_commands.Choice(name=a, value=a) for a in found[:MAX_CHOICES]]


async def any_alias(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Every alias of this server, disabled ones too (they can be shown and re-enabled)."""
    view = _admin(interaction).registry.for_guild(interaction.guild_id)
    return _choices(sorted(view.workflows), current)


async def server_alias(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Only the aliases this server added: the ones /workflow remove can remove."""
    registry = _admin(interaction).registry
    return _choices(sorted(registry.server_aliases(_guild_id(interaction))), current)


class WorkflowAdminCog(commands.Cog):
    workflow = app_commands.Group(
        name="workflow",
        description=cmd_text("cmd.workflow"),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: RHBot) -> None:
        self.admin = bot.services.workflow_admin

    @workflow.command(name="add", description=cmd_text("cmd.workflow.add"))
    @moderator_only()
    @app_commands.describe(
        id=cmd_text("cmd.workflow.add.id"),
        alias=cmd_text("cmd.workflow.add.alias"),
        cost=cmd_text("cmd.workflow.add.cost"),
        app=cmd_text("cmd.workflow.add.app"),
        description=cmd_text("cmd.workflow.description"),
        description_zh=cmd_text("cmd.workflow.description_zh"),
    )
    async def add(
        self,
        interaction: Interaction,
        id: str,  # the option's name in the contract (shadows the builtin here only)
        alias: str,
        cost: int,
        app: bool = False,
        description: str | None = None,
        description_zh: str | None = None,
    ) -> None:
        await _thinking(interaction)
        added = await self.admin.add(
            _guild_id(interaction),
            interaction.user.id,
            target_id=id,
            alias=alias,
            cost=cost,
            app=app,
            description=description,
            description_zh=description_zh,
        )
        await reply(interaction, render_added(added, locale_of(interaction)))

    @workflow.command(name="edit", description=cmd_text("cmd.workflow.edit"))
    @moderator_only()
    @app_commands.describe(
        alias=cmd_text("cmd.workflow.alias"),
        cost=cmd_text("cmd.workflow.edit.cost"),
        description=cmd_text("cmd.workflow.description"),
        description_zh=cmd_text("cmd.workflow.edit.description_zh"),
        enabled=cmd_text("cmd.workflow.edit.enabled"),
        timeout=cmd_text("cmd.workflow.edit.timeout"),
    )
    @app_commands.autocomplete(alias=any_alias)
    async def edit(
        self,
        interaction: Interaction,
        alias: str,
        cost: int | None = None,
        description: str | None = None,
        description_zh: str | None = None,
        enabled: bool | None = None,
        timeout: int | None = None,  # noqa: ASYNC109 - the alias's job timeout, an option of the contract
    ) -> None:
        await _thinking(interaction)
        workflow, changes = await self.admin.edit(
            _guild_id(interaction),
            interaction.user.id,
            alias,
            cost=cost,
            description=description,
            description_zh=description_zh,
            enabled=enabled,
            timeout=timeout,
        )
        await reply(interaction, render_edited(workflow, changes, locale_of(interaction)))

    @workflow.command(name="remove", description=cmd_text("cmd.workflow.remove"))
    @moderator_only()
    @app_commands.describe(alias=cmd_text("cmd.workflow.alias"))
    @app_commands.autocomplete(alias=server_alias)
    async def remove(self, interaction: Interaction, alias: str) -> None:
        await _thinking(interaction)
        removed = await self.admin.remove(_guild_id(interaction), interaction.user.id, alias)
        await reply(interaction, render_removed(removed, locale_of(interaction)))

    @workflow.command(name="show", description=cmd_text("cmd.workflow.show"))
    @moderator_only()
    @app_commands.describe(alias=cmd_text("cmd.workflow.alias"))
    @app_commands.autocomplete(alias=any_alias)
    async def show(self, interaction: Interaction, alias: str) -> None:
        shown = self.admin.show(_guild_id(interaction), alias)
        await reply(interaction, render_shown(shown, locale_of(interaction)))

    @workflow.command(name="reload", description=cmd_text("cmd.workflow.reload"))
    @moderator_only()
    async def reload(self, interaction: Interaction) -> None:
        await _thinking(interaction)
        reloaded = await self.admin.reload(_guild_id(interaction))
        await reply(interaction, render_reloaded(reloaded, locale_of(interaction)))


async def setup(bot: RHBot) -> None:
    await bot.add_cog(WorkflowAdminCog(bot))
