"""Results to build on: the Edit and Details buttons, their modals, and the "Generate from image" menu.

Thin: reads the interaction, calls the job service (whose `check_start` is the one gate every way
of starting a job passes before a coin is held or a file downloaded), replies. The looks and
custom ids are in bot/ui/job_buttons.py and bot/ui/results.py; Re-run and Delete are answered
in cogs/jobs.py.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.client import RHBot
from bot.db.journal import Job
from bot.errors import UserError
from bot.jobs.pipeline import InputFile, check_file_size, validate_request
from bot.jobs.service import JobService
from bot.texts import ENGLISH, messages, t
from bot.texts.jobs import queued_reply
from bot.texts.results import details_card
from bot.ui import job_buttons
from bot.ui.i18n import locale_of
from bot.ui.reply import refusals, reply
from bot.ui.requester import requester_of
from bot.ui.results import (
    EDIT_FORM_PATTERN,
    IMAGE_FORM_PATTERN,
    PARAMS_FIELD,
    PICK,
    PICK_TEMPLATE,
    PROMPT_FIELD,
    card_embed,
    edit_modal,
    editable,
    image_modal,
    image_options,
    is_image,
    modal_values,
    pick_options,
)

log = logging.getLogger(__name__)

Interaction = discord.Interaction[RHBot]
MENU_KEY = "results.menu.name"


class EditButton(discord.ui.DynamicItem[discord.ui.Button], template=job_buttons.template(job_buttons.EDIT)):
    """Opens a modal pre-filled with the job's prompt and params; its submit starts a new job."""

    def __init__(self, job_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=job_buttons.EDIT.format(job=job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> EditButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        async with refusals(interaction):
            _refuse_bots(interaction)
            service = interaction.client.services.jobs
            starter = requester_of(interaction)
            job, prompt, params = await service.edit_form(self.job_id, starter.guild_id)
            workflow = service.registry.for_guild(starter.guild_id).get(job.alias)
            if not editable(workflow):
                raise UserError("results.error.nothing_to_edit", job=job.label)
            # Refuse now rather than after the member typed; the submit runs the whole gate again.
            await service.check_start(starter, workflow)
            await interaction.response.send_modal(edit_modal(job, workflow, prompt, params, starter.locale))


class DetailsButton(discord.ui.DynamicItem[discord.ui.Button], template=job_buttons.template(job_buttons.DETAILS)):
    """An ephemeral card: alias, inputs, params with the seed, task id, time taken, coins."""

    def __init__(self, job_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=job_buttons.DETAILS.format(job=job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DetailsButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: Interaction) -> None:
        async with refusals(interaction):
            service = interaction.client.services.jobs
            job = await service.job_in_guild(self.job_id, _guild_id(interaction))
            try:
                workflow = service.registry.for_guild(job.guild_id).get(job.alias)
            except UserError:  # removed since: the card shows what was stored
                workflow = None
            await reply(interaction, embed=card_embed(details_card(job, workflow, locale_of(interaction))))


class PickSelect(discord.ui.DynamicItem[discord.ui.Select], template=PICK_TEMPLATE):
    """The menu's alias select: the chosen alias opens its prompt and params modal."""

    def __init__(self, message_id: int, options: list[discord.SelectOption] | None = None,
                 placeholder: str | None = None) -> None:
        super().__init__(discord.ui.Select(custom_id=PICK.format(message=message_id), options=options or [],
                                           placeholder=placeholder))
        self.message_id = message_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Select, match: re.Match[str]
    ) -> PickSelect:
        return cls(int(match["message"]))

    async def callback(self, interaction: Interaction) -> None:
        async with refusals(interaction):
            _refuse_bots(interaction)
            values = (interaction.data or {}).get("values") or []
            if not values:
                return
            service = interaction.client.services.jobs
            starter = requester_of(interaction)
            workflow = service.registry.for_guild(starter.guild_id).get(str(values[0]))
            await service.check_start(starter, workflow)
            if editable(workflow):
                await interaction.response.send_modal(image_modal(workflow, self.message_id, starter.locale))
                return
            # Nothing to ask: start at once.
            await interaction.response.defer(ephemeral=True, thinking=True)
            await _start_from_images(interaction, workflow.alias, self.message_id, prompt=None, params=None)


def _guild_id(interaction: Interaction) -> int:
    assert interaction.guild_id is not None  # buttons and menus live in guilds only
    return interaction.guild_id


def _refuse_bots(interaction: Interaction) -> None:
    if interaction.user.bot:
        raise UserError("coins.bot_member")


def _check_can_post(interaction: Interaction) -> None:
    permissions = interaction.app_permissions
    if not (permissions.send_messages and permissions.attach_files and permissions.view_channel):
        raise UserError("job.error.cannot_post")


async def _answer_queued(interaction: Interaction, service: JobService, job: Job) -> None:
    await reply(interaction, queued_reply(job, await service.queue_position(job), await service.available(job),
                                          locale_of(interaction)))


async def _fetch_message(interaction: Interaction, message_id: int) -> discord.Message:
    channel = interaction.channel
    if not isinstance(channel, discord.abc.Messageable):
        raise UserError("results.menu.message_gone")
    try:
        return await channel.fetch_message(message_id)
    except (discord.NotFound, discord.Forbidden) as exc:
        raise UserError("results.menu.message_gone") from exc


async def _start_from_images(interaction: Interaction, alias: str, message_id: int, *,
                             prompt: str | None, params: str | None) -> None:
    """The message's images fill image, image2, image3 in order, checked and started like /generate."""
    _check_can_post(interaction)
    service = interaction.client.services.jobs
    starter = requester_of(interaction)
    workflow = service.registry.for_guild(starter.guild_id).get(alias)
    await service.check_start(starter, workflow, prompt=prompt, params=params)
    # Fetched again now: Discord's attachment links expire, and the message may have changed.
    message = await _fetch_message(interaction, message_id)
    images = [a for a in message.attachments if is_image(a)]
    if not images:
        raise UserError("results.menu.no_images")
    chosen = list(zip(image_options(workflow), images, strict=False))
    for option, attachment in chosen:  # refuse a huge file before downloading it
        check_file_size(option, attachment.filename, attachment.size)
    # From download to upload the files are in memory: a few members at a time.
    async with service.transfers:
        files: dict[str, InputFile] = {}
        for option, attachment in chosen:
            try:
                data = await attachment.read()
            except discord.HTTPException as exc:
                raise UserError("job.error.attachment_unreadable", name=attachment.filename) from exc
            files[option] = InputFile(option, attachment.filename, data)
        request = validate_request(workflow, prompt=prompt, files=files, params=params)
        job = await service.start_job(request, starter)
    await _answer_queued(interaction, service, job)


class Results(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.bot = bot
        self.service: JobService = bot.services.jobs
        self.menu = app_commands.ContextMenu(
            name=locale_str(messages()[MENU_KEY][ENGLISH], key=MENU_KEY), callback=self.generate_from_image,
        )
        app_commands.guild_only()(self.menu)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(EditButton, DetailsButton, PickSelect)
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        self.bot.remove_dynamic_items(EditButton, DetailsButton, PickSelect)

    async def generate_from_image(self, interaction: Interaction, message: discord.Message) -> None:
        """An ephemeral select of the aliases that take images and that this member may run here."""
        _refuse_bots(interaction)
        images = [a for a in message.attachments if is_image(a)]
        if not images:
            raise UserError("results.menu.no_images")
        starter = requester_of(interaction)
        await self.service.check_start(starter, None)
        choices = [w for w in self.service.runnable(starter) if image_options(w)]
        if not choices:
            raise UserError("results.menu.no_workflows")
        locale = locale_of(interaction)
        view = job_buttons.PostedView()
        view.add_item(PickSelect(message.id, pick_options(choices), t("results.menu.placeholder", locale)))
        await reply(interaction, t("results.menu.pick", locale, count=len(images)), view=view)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """Modal submits, read by custom id: a form opened before a restart still works after it."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        edit, image = EDIT_FORM_PATTERN.fullmatch(custom_id), IMAGE_FORM_PATTERN.fullmatch(custom_id)
        if edit is None and image is None:
            return
        values = modal_values(interaction.data)  # type: ignore[arg-type]
        prompt, params = values.get(PROMPT_FIELD), values.get(PARAMS_FIELD)
        async with refusals(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
            _refuse_bots(interaction)
            if edit is not None:
                _check_can_post(interaction)
                job = await self.service.edit(int(edit["job"]), requester_of(interaction), prompt=prompt, params=params)
                await _answer_queued(interaction, self.service, job)
            elif image is not None:
                await _start_from_images(interaction, image["alias"], int(image["message"]), prompt=prompt,
                                         params=params)


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Results(bot))
