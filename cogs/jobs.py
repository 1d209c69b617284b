"""Jobs: /generate, /jobs, /cancel, /resend and the clicks on result buttons.

Thin: reads the interaction, calls the job service in bot/jobs, replies. The service is built in
`RHBot.setup_hook` (bot/app.py); this cog starts its loops once the gateway is ready and stops
them in `cog_unload`. The buttons' look and custom ids are in bot/ui/job_buttons.py.
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
from bot.errors import UserError
from bot.jobs.pipeline import InputFile, check_file_size, validate_request
from bot.jobs.service import JobService
from bot.texts import t
from bot.texts.jobs import cancelled_reply, jobs_list, queued_reply
from bot.ui import job_buttons
from bot.ui.autocomplete import workflow_autocomplete
from bot.ui.checks import interaction_is_moderator
from bot.ui.i18n import cmd_text, locale_of
from bot.ui.reply import refusals, reply
from bot.ui.requester import requester_of

log = logging.getLogger(__name__)

Interaction = discord.Interaction[RHBot]
# Job ids are SQLite rowids: positive integers.
JobId = app_commands.Range[int, 1, 2**53]
MEDIA_OPTIONS = ("image", "image2", "image3", "audio", "video")


class RerunButton(discord.ui.DynamicItem[discord.ui.Button], template=job_buttons.template(job_buttons.RERUN)):
    """Runs the job again with the same inputs, as a new job paid by whoever clicks."""

    def __init__(self, job_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=job_buttons.RERUN.format(job=job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RerunButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        async with refusals(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
            _refuse_bots(interaction)
            service = interaction.client.services.jobs
            locale = locale_of(interaction)
            job = await service.rerun(self.job_id, requester_of(interaction))
            await reply(interaction, queued_reply(job, await service.queue_position(job), await service.available(job),
                                                  locale))


class DeleteButton(discord.ui.DynamicItem[discord.ui.Button], template=job_buttons.template(job_buttons.DELETE)):
    """Deletes a result message: for the member who ran the job and for moderators."""

    def __init__(self, job_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=job_buttons.DELETE.format(job=job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DeleteButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        async with refusals(interaction):
            await interaction.client.services.jobs.authorise(
                self.job_id, guild_id=_guild_id(interaction), actor_id=interaction.user.id,
                is_moderator=interaction_is_moderator(interaction),
            )
            await interaction.response.defer()
            if interaction.message is not None:
                await interaction.message.delete()
            log.info("job %s: result message deleted by %s", self.job_id, interaction.user.id)


class CancelButton(discord.ui.DynamicItem[discord.ui.Button], template=job_buttons.template(job_buttons.CANCEL)):
    """On a status message: cancels the job at RunningHub and refunds it (owner or moderator)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=job_buttons.CANCEL.format(job=job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        async with refusals(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
            await _cancel(interaction, self.job_id)


async def _cancel(interaction: Interaction, job_id: int) -> None:
    """/cancel and the cancel button: the service checks who may; the answer is ephemeral."""
    ended = await interaction.client.services.jobs.cancel(
        job_id, guild_id=_guild_id(interaction), actor_id=interaction.user.id,
        is_moderator=interaction_is_moderator(interaction),
    )
    await reply(interaction, cancelled_reply(ended, locale_of(interaction)))


def _guild_id(interaction: Interaction) -> int:
    assert interaction.guild_id is not None  # every command here is guild_only
    return interaction.guild_id


def _refuse_bots(interaction: Interaction) -> None:
    if interaction.user.bot:
        raise UserError("coins.bot_member")


class Jobs(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.bot = bot
        self.service: JobService = bot.services.jobs
        self._starter: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(RerunButton, DeleteButton, CancelButton)
        # The loops start once the gateway is ready: deliveries need the guild cache (the guild's
        # upload limit, cached channels). What a previous run left was settled in setup_hook.
        self._starter = asyncio.create_task(self._start_when_ready(), name="rhbot-jobs-start")

    async def _start_when_ready(self) -> None:
        await self.bot.wait_until_ready()
        self.service.start_loops()

    async def cog_unload(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
        await self.service.stop()
        self.bot.remove_dynamic_items(RerunButton, DeleteButton, CancelButton)

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
        interaction: Interaction,
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
        chosen = self.bot.services.workflows.for_guild(interaction.guild_id).get(workflow.strip())
        permissions = interaction.app_permissions
        if not (permissions.send_messages and permissions.attach_files and permissions.view_channel):
            raise UserError("job.error.cannot_post")
        given = dict(zip(MEDIA_OPTIONS, (image, image2, image3, audio, video), strict=True))
        attachments = {option: a for option, a in given.items() if a is not None}
        service = self.service
        starter = requester_of(interaction)
        # Every gate before any file is downloaded or coin held (the same call for every way in).
        await service.check_start(starter, chosen, prompt=prompt, params=params)
        for option, attachment in attachments.items():  # refuse a huge file before downloading it
            check_file_size(option, attachment.filename, attachment.size)
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
            job = await service.start_job(request, starter)
        await reply(interaction, queued_reply(job, await service.queue_position(job), await service.available(job),
                                              locale))

    @app_commands.command(name="jobs", description=cmd_text("cmd.jobs"))
    @app_commands.guild_only()
    async def jobs(self, interaction: Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        recent = await self.service.recent(_guild_id(interaction), interaction.user.id, limit=10)
        await reply(interaction, jobs_list(recent, time.time(), locale_of(interaction)))

    @app_commands.command(name="cancel", description=cmd_text("cmd.cancel"))
    @app_commands.guild_only()
    @app_commands.describe(job=cmd_text("cmd.cancel.job"))
    async def cancel(self, interaction: Interaction, job: JobId) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await _cancel(interaction, job)

    @app_commands.command(name="resend", description=cmd_text("cmd.resend"))
    @app_commands.guild_only()
    @app_commands.describe(job=cmd_text("cmd.resend.job"))
    async def resend(self, interaction: Interaction, job: JobId) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.service.resend(
            job, guild_id=_guild_id(interaction), actor_id=interaction.user.id,
            is_moderator=interaction_is_moderator(interaction),
        )
        await reply(interaction, t("job.ok.resent", locale_of(interaction), job=f"#{job}"))


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Jobs(bot))
