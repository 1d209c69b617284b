"""Jobs: /generate, /jobs, /cancel, /resend and the buttons on result messages.

Thin: reads the interaction, calls the job service in bot/jobs, replies. `cog_load` builds the
service and settles what a previous run left behind; its loops start once the gateway is ready
and stop in `cog_unload`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import RHBot
from bot.db.journal import Job
from bot.errors import UserError
from bot.jobs.pipeline import InputFile, check_file_size, validate_request
from bot.jobs.service import JobService
from bot.jobs.texts import duration, state_name
from bot.jobs.webhook import WebhookReceiver
from bot.messages import t
from bot.ui.autocomplete import workflow_autocomplete
from bot.ui.checks import interaction_is_moderator
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.notifier import DiscordNotifier
from bot.ui.reply import refusals, reply

log = logging.getLogger(__name__)

# Job ids are SQLite rowids: positive integers.
JobId = app_commands.Range[int, 1, 2**53]
MEDIA_OPTIONS = ("image", "image2", "image3", "audio", "video")


class RerunButton(discord.ui.DynamicItem[discord.ui.Button], template=r"rh:rerun:(?P<job>[0-9]+)"):
    """Runs the job again with the same inputs, as a new job paid by whoever clicks."""

    def __init__(self, job_id: int, label: str = "Run again") -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.primary, emoji="🔁",
                              custom_id=f"rh:rerun:{job_id}")
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RerunButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with refusals(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
            service = _service(interaction)
            locale = locale_of(interaction)
            _refuse_bots(interaction)
            job = await service.rerun(self.job_id, guild_id=_guild_id(interaction), member_id=interaction.user.id,
                                      locale=locale)
            await reply(interaction, await _queued_text(service, job, locale))


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"rh:delete:(?P<job>[0-9]+)"):
    """Deletes a result message: for the member who ran the job and for moderators."""

    def __init__(self, job_id: int, label: str = "Delete") -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, emoji="🗑️",
                              custom_id=f"rh:delete:{job_id}")
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DeleteButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with refusals(interaction):
            service = _service(interaction)
            job = await service.journal.get(self.job_id)
            if job is None or job.guild_id != _guild_id(interaction):
                raise UserError("job.error.not_found", number=self.job_id)
            if job.member_id != interaction.user.id and not interaction_is_moderator(interaction):
                raise UserError("job.error.not_yours", job=job.label)
            await interaction.response.defer()
            if interaction.message is not None:
                await interaction.message.delete()
            log.info("job %s: result message deleted by %s", job.id, interaction.user.id)


def result_view(job: Job) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RerunButton(job.id, t("button.rerun", job.locale)))
    view.add_item(DeleteButton(job.id, t("button.delete", job.locale)))
    return view


def _service(interaction: discord.Interaction) -> JobService:
    service = getattr(interaction.client, "jobs", None)
    if service is None:
        raise RuntimeError("the job service is not running")
    return service


def _guild_id(interaction: discord.Interaction) -> int:
    assert interaction.guild_id is not None  # every command here is guild_only
    return interaction.guild_id


def _refuse_bots(interaction: discord.Interaction) -> None:
    if interaction.user.bot:
        raise UserError("coins.bot_member")


async def _queued_text(service: JobService, job: Job, locale: str) -> str:
    position = await service.journal.queue_position(job)
    return t("job.ok.queued", locale, job=job.label, alias=job.alias, position=max(position, 1), coins=job.cost)


class Jobs(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.bot = bot
        self.webhook: WebhookReceiver | None = None
        self._starter: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        bot = self.bot
        bot.add_dynamic_items(RerunButton, DeleteButton)
        service = JobService(
            settings=bot.settings, journal=bot.journal, ledger=bot.ledger, registry=bot.workflows,
            client=bot.runninghub, session=bot.http_session, notifier=DiscordNotifier(bot, result_view),
        )
        bot.jobs = service
        if bot.settings.webhooks_enabled and bot.settings.webhook_secret:
            self.webhook = WebhookReceiver(bot.settings.webhook_secret, service.on_webhook, service.spawn)
            await self.webhook.start(bot.settings.webhook_host, bot.settings.webhook_port)
        # Settle what a previous run left behind now, before any interaction can start a job...
        await service.recover()
        # ...but run the loops once the gateway is ready: cog_load runs before it connects, and
        # deliveries need the guild cache (the guild's upload limit, cached channels).
        self._starter = asyncio.create_task(self._start_when_ready(service), name="rhbot-jobs-start")

    async def _start_when_ready(self, service: JobService) -> None:
        await self.bot.wait_until_ready()
        service.start_loops()

    async def cog_unload(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
        if self.webhook is not None:
            await self.webhook.stop()
        if self.bot.jobs is not None:
            await self.bot.jobs.stop()
            self.bot.jobs = None
        self.bot.remove_dynamic_items(RerunButton, DeleteButton)

    @app_commands.command(name="generate", description=cmd_text("cmd.generate"))
    @app_commands.guild_only()
    @app_commands.describe(
        workflow=cmd_text("cmd.generate.workflow"),
        prompt=cmd_text("cmd.generate.prompt"),
        image=cmd_text("cmd.generate.image"),
        image2=cmd_text("cmd.generate.image2"),
        image3=cmd_text("cmd.generate.image3"),
        audio=cmd_text("cmd.generate.audio"),
        video=cmd_text("cmd.generate.video"),
        params=cmd_text("cmd.generate.params"),
    )
    @app_commands.autocomplete(workflow=workflow_autocomplete)
    async def generate(
        self,
        interaction: discord.Interaction,
        workflow: str,
        prompt: str | None = None,
        image: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        audio: discord.Attachment | None = None,
        video: discord.Attachment | None = None,
        params: str | None = None,
    ) -> None:
        # Acknowledge before any I/O: Discord allows 3 seconds. Ephemeral, so refusals stay private.
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = locale_of(interaction)
        _refuse_bots(interaction)
        chosen = self.bot.workflows.get(workflow.strip())
        permissions = interaction.app_permissions
        if not (permissions.send_messages and permissions.attach_files and permissions.view_channel):
            raise UserError("job.error.cannot_post")
        given = dict(zip(MEDIA_OPTIONS, (image, image2, image3, audio, video), strict=True))
        attachments = {option: a for option, a in given.items() if a is not None}
        for option, attachment in attachments.items():  # refuse a huge file before downloading it
            check_file_size(option, attachment.filename, attachment.size)
        service = _service(interaction)
        # From download to upload the files are in memory: a few members at a time (the deferral is sent).
        async with service.transfers:
            files: dict[str, InputFile] = {}
            for option, attachment in attachments.items():
                try:
                    data = await attachment.read()
                except discord.HTTPException as exc:
                    raise UserError("job.error.attachment_unreadable", name=attachment.filename) from exc
                files[option] = InputFile(option, attachment.filename, data)
            request = validate_request(chosen, prompt=prompt, files=files, params=params)
            job = await service.intake(
                request, guild_id=_guild_id(interaction), channel_id=interaction.channel_id or 0,
                member_id=interaction.user.id, locale=locale,
            )
        await reply(interaction, await _queued_text(_service(interaction), job, locale))

    @app_commands.command(name="jobs", description=cmd_text("cmd.jobs"))
    @app_commands.guild_only()
    async def jobs(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = locale_of(interaction)
        recent = await _service(interaction).recent(_guild_id(interaction), interaction.user.id, limit=10)
        if not recent:
            await reply(interaction, t("jobs.none", locale))
            return
        now = time.time()
        lines = [f"**{t('jobs.title', locale)}**"]
        for job in recent:
            lines.append(t("jobs.line", locale, job=job.label, alias=job.alias, state=state_name(job.state, locale),
                           coins=job.cost, age=duration(now - job.created_at, locale)))
        await reply(interaction, "\n".join(lines))

    @app_commands.command(name="cancel", description=cmd_text("cmd.cancel"))
    @app_commands.guild_only()
    @app_commands.describe(job=cmd_text("cmd.cancel.job"))
    async def cancel(self, interaction: discord.Interaction, job: JobId) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = locale_of(interaction)
        ended = await _service(interaction).cancel(
            job, guild_id=_guild_id(interaction), actor_id=interaction.user.id,
            is_moderator=interaction_is_moderator(interaction),
        )
        await reply(interaction, t("job.ok.cancelled", locale, job=ended.label, coins=ended.cost))

    @app_commands.command(name="resend", description=cmd_text("cmd.resend"))
    @app_commands.guild_only()
    @app_commands.describe(job=cmd_text("cmd.resend.job"))
    async def resend(self, interaction: discord.Interaction, job: JobId) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await _service(interaction).resend(
            job, guild_id=_guild_id(interaction), actor_id=interaction.user.id,
            is_moderator=interaction_is_moderator(interaction),
        )
        await reply(interaction, t("job.ok.resent", locale_of(interaction), job=f"#{job}"))


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Jobs(bot))
