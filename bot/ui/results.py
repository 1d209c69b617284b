"""What result messages and the "Generate from image" menu show: buttons, modals, a select, the details card.

Every custom id is namespaced `rh:` and carries what its handler needs (a job id, an alias, a
message), so a click or a submit works after a restart: buttons and the select are DynamicItems,
and modal submits are read by custom id in cogs/results.py (discord.py routes a submit only to a
Modal object of the process that sent it). The templates are the constants below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import discord

from bot.db.journal import DELIVERED, ENDED_BADLY, SUCCEEDED, Job
from bot.errors import UserError
from bot.jobs.inputs import SEED, JobInputs, params_text
from bot.jobs.pipeline import InputFile, check_file_size, validate_request
from bot.jobs.service import JobService
from bot.jobs.texts import clip, duration, state_name
from bot.messages import t
from bot.ui.i18n import locale_of
from bot.ui.reply import refusals, reply
from bot.ui.starter import starter_of
from bot.workflows import IMAGE_OPTIONS, Workflow

EDIT_ID = "rh:edit:{job}"
EDIT_TEMPLATE = r"rh:edit:(?P<job>[0-9]+)"
DETAILS_ID = "rh:details:{job}"
DETAILS_TEMPLATE = r"rh:details:(?P<job>[0-9]+)"
EDIT_FORM_ID = "rh:editform:{job}"
EDIT_FORM = re.compile(r"rh:editform:(?P<job>[0-9]+)")
# The menu's message is always in the channel of the interaction: only its id is carried.
PICK_ID = "rh:pick:{message}"
PICK_TEMPLATE = r"rh:pick:(?P<message>[0-9]+)"
IMAGE_FORM_ID = "rh:imageform:{alias}:{message}"
IMAGE_FORM = re.compile(r"rh:imageform:(?P<alias>[a-z0-9][a-z0-9_-]{0,31}):(?P<message>[0-9]+)")
PROMPT_FIELD = "prompt"
PARAMS_FIELD = "params"

MODAL_TITLE_LIMIT = 45
TEXT_INPUT_LIMIT = 4000
FIELD_LIMIT = 1024  # characters in one embed field's value
MAX_PICK_OPTIONS = 25
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")


# ---- what an alias takes ----------------------------------------------------------------------


def image_options(workflow: Workflow) -> list[str]:
    """The image inputs of an alias, in the order a message's images fill them."""
    names = {i.name for i in workflow.option_inputs if i.kind == "image"}
    return [option for option in IMAGE_OPTIONS if option in names]


def editable(workflow: Workflow) -> bool:
    """Whether an edit modal has anything to show: a prompt or params."""
    return workflow.input("prompt") is not None or bool(workflow.params)


def is_image(attachment: discord.Attachment) -> bool:
    """Looks like an image; the real type is checked on the bytes (magic numbers) before anything runs."""
    if attachment.content_type and attachment.content_type.startswith("image/"):
        return True
    return attachment.filename.lower().endswith(IMAGE_SUFFIXES)


# ---- buttons ---------------------------------------------------------------------------------


def rerun_label(cost: int, locale: str | None) -> str:
    """The re-run button shows what the clicker pays."""
    if cost == 0:
        return t("results.button.rerun_free", locale)
    return t("results.button.rerun", locale, coins=cost)


def edit_button(job_id: int, locale: str | None) -> discord.ui.Button[Any]:
    return discord.ui.Button(label=t("results.button.edit", locale), style=discord.ButtonStyle.secondary,
                             emoji="✏️", custom_id=EDIT_ID.format(job=job_id))


def details_button(job_id: int, locale: str | None) -> discord.ui.Button[Any]:
    return discord.ui.Button(label=t("results.button.details", locale), style=discord.ButtonStyle.secondary,
                             emoji="ℹ️", custom_id=DETAILS_ID.format(job=job_id))


# ---- modals ----------------------------------------------------------------------------------


def _title(text: str) -> str:
    return clip(text, MODAL_TITLE_LIMIT)


def _fields(modal: discord.ui.Modal, workflow: Workflow, locale: str | None, prompt: str, params: str) -> None:
    prompt_input = workflow.input("prompt")
    if prompt_input is not None:
        limit = min(TEXT_INPUT_LIMIT, prompt_input.max_length or TEXT_INPUT_LIMIT)
        modal.add_item(discord.ui.Label(
            text=t("results.field.prompt", locale),
            component=discord.ui.TextInput(
                custom_id=PROMPT_FIELD, style=discord.TextStyle.paragraph, default=prompt[:limit] or None,
                required=prompt_input.required, max_length=limit,
            ),
        ))
    if workflow.params:
        modal.add_item(discord.ui.Label(
            text=t("results.field.params", locale),
            description=t("results.field.params_hint", locale),
            component=discord.ui.TextInput(
                custom_id=PARAMS_FIELD, style=discord.TextStyle.paragraph, default=params[:TEXT_INPUT_LIMIT] or None,
                required=False, max_length=TEXT_INPUT_LIMIT,
            ),
        ))


def edit_modal(job: Job, workflow: Workflow, prompt: str, params: str, locale: str | None) -> discord.ui.Modal:
    """Pre-filled with the job's prompt and params (its seed included)."""
    modal = discord.ui.Modal(title=_title(t("results.edit.title", locale, job=job.label, alias=job.alias)),
                             custom_id=EDIT_FORM_ID.format(job=job.id), timeout=15 * 60)
    _fields(modal, workflow, locale, prompt, params)
    return modal


def image_modal(workflow: Workflow, message_id: int, locale: str | None) -> discord.ui.Modal:
    custom_id = IMAGE_FORM_ID.format(alias=workflow.alias, message=message_id)
    modal = discord.ui.Modal(title=_title(t("results.image.title", locale, alias=workflow.alias)),
                             custom_id=custom_id, timeout=15 * 60)
    _fields(modal, workflow, locale, "", "")
    return modal


def modal_values(data: Mapping[str, Any] | None) -> dict[str, str]:
    """custom_id -> text of a modal submit, whether its inputs sit in action rows or in labels."""
    values: dict[str, str] = {}

    def walk(items: Iterable[Mapping[str, Any]]) -> None:
        for item in items:
            if "components" in item:
                walk(item["components"])
            elif "component" in item:
                walk([item["component"]])
            elif item.get("custom_id") is not None and isinstance(item.get("value"), str):
                values[str(item["custom_id"])] = item["value"]

    walk((data or {}).get("components") or [])
    return values


# ---- the alias select of the menu -------------------------------------------------------------


def pick_options(workflows: Iterable[Workflow], locale: str | None) -> list[discord.SelectOption]:
    options = []
    for workflow in list(workflows)[:MAX_PICK_OPTIONS]:
        description = clip(workflow.summary(), 100) if workflow.summary() else None
        options.append(discord.SelectOption(label=workflow.alias, value=workflow.alias, description=description))
    return options


# ---- the details card ------------------------------------------------------------------------


def _field(text: str) -> str:
    return clip(text, FIELD_LIMIT) if text else "—"


def _coins(job: Job, locale: str | None) -> str:
    if job.state in (SUCCEEDED, DELIVERED):
        return t("results.details.charged", locale, coins=job.cost)
    if job.state in ENDED_BADLY:
        return t("results.details.refunded", locale, coins=job.cost)
    return t("results.details.held", locale, coins=job.cost)


def effective_params(job: Job, inputs: JobInputs, workflow: Workflow | None) -> dict[str, Any]:
    """Every param the task ran with: the member's, the drawn seed, and the alias's defaults."""
    values: dict[str, Any] = {}
    if workflow is not None:
        for item in workflow.params:
            if item.name in inputs.params:
                values[item.name] = inputs.params[item.name]
            elif item.default is not None:
                values[item.name] = item.default
    values.update({k: v for k, v in inputs.params.items() if k not in values})
    return values


def details_embed(job: Job, workflow: Workflow | None, locale: str | None) -> discord.Embed:
    """Alias, every input, every param (the seed marked drawn or set), task id, time, coins."""
    inputs = JobInputs.from_json(job.inputs)
    none = t("results.details.none", locale)
    unknown = t("results.details.unknown", locale)
    embed = discord.Embed(title=t("results.details.title", locale, alias=job.alias, job=job.label))
    embed.add_field(name=t("results.details.requester", locale), value=f"<@{job.member_id}>")
    embed.add_field(name=t("results.details.state", locale), value=state_name(job.state, locale))
    if job.source_job_id is not None:
        embed.add_field(name=t("results.details.rerun_of", locale), value=f"#{job.source_job_id}")
    embed.add_field(name=t("results.details.prompt", locale), value=_field(inputs.prompt or none), inline=False)
    files = [t("results.details.file", locale, option=option, name=inputs.files.get(option, "?"))
             for option in sorted(inputs.uploads)]
    embed.add_field(name=t("results.details.files", locale), value=_field("\n".join(files) or none), inline=False)
    params = effective_params(job, inputs, workflow)
    seed = params.pop(SEED, None)
    shown = params_text(workflow, params)
    embed.add_field(name=t("results.details.params", locale), value=_field(f"`{shown}`" if shown else none),
                    inline=False)
    if seed is not None:
        key = "results.details.seed_drawn" if inputs.seed_drawn else "results.details.seed_given"
        embed.add_field(name=t("results.details.seed", locale), value=t(key, locale, seed=seed))
    embed.add_field(name=t("results.details.task", locale), value=f"`{job.task_id}`" if job.task_id else unknown)
    if job.finished_at is not None:
        taken = duration(job.finished_at - (job.submitted_at or job.created_at), locale)
    else:
        taken = unknown
    embed.add_field(name=t("results.details.time", locale), value=taken)
    embed.add_field(name=t("results.details.coins", locale), value=_coins(job, locale))
    consumed = str(job.consume_coins) if job.consume_coins is not None else unknown
    embed.add_field(name=t("results.details.consume", locale), value=consumed)
    return embed


# ---- the buttons, the select and what their submits start ------------------------------------


def service_of(interaction: discord.Interaction) -> JobService:
    service = getattr(interaction.client, "jobs", None)
    if service is None:
        raise RuntimeError("the job service is not running")
    return service


def _queued(job: Any, position: int, locale: str) -> str:
    return t("job.ok.queued", locale, job=job.label, alias=job.alias, position=max(position, 1), coins=job.cost)


async def answer_queued(interaction: discord.Interaction, service: JobService, job: Any) -> None:
    position = await service.journal.queue_position(job)
    await reply(interaction, _queued(job, position, locale_of(interaction)))


def check_can_post(interaction: discord.Interaction) -> None:
    permissions = interaction.app_permissions
    if not (permissions.send_messages and permissions.attach_files and permissions.view_channel):
        raise UserError("job.error.cannot_post")


def refuse_bots(interaction: discord.Interaction) -> None:
    if interaction.user.bot:
        raise UserError("coins.bot_member")


class EditButton(discord.ui.DynamicItem[discord.ui.Button], template=EDIT_TEMPLATE):
    """Opens a modal pre-filled with the job's prompt and params; its submit starts a new job."""

    def __init__(self, job_id: int, locale: str | None = None) -> None:
        super().__init__(edit_button(job_id, locale))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> EditButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with refusals(interaction):
            refuse_bots(interaction)
            service = service_of(interaction)
            starter = starter_of(interaction)
            job, prompt, params = await service.edit_form(self.job_id, starter.guild_id)
            workflow = service.registry.get(job.alias)
            if not editable(workflow):
                raise UserError("results.error.nothing_to_edit", job=job.label)
            # Refuse now rather than after the member typed (the submit runs the whole gate again).
            await service.check_start(starter, workflow)
            await interaction.response.send_modal(edit_modal(job, workflow, prompt, params, starter.locale))


class DetailsButton(discord.ui.DynamicItem[discord.ui.Button], template=DETAILS_TEMPLATE):
    """An ephemeral card: alias, inputs, params with the seed, task id, time taken, coins."""

    def __init__(self, job_id: int, locale: str | None = None) -> None:
        super().__init__(details_button(job_id, locale))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DetailsButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with refusals(interaction):
            service = service_of(interaction)
            assert interaction.guild_id is not None
            job = await service.job_in_guild(self.job_id, interaction.guild_id)
            try:
                workflow = service.registry.get(job.alias)
            except UserError:  # removed from workflows.toml since: show what was stored
                workflow = None
            await reply(interaction, embed=details_embed(job, workflow, locale_of(interaction)))


class PickSelect(discord.ui.DynamicItem[discord.ui.Select], template=PICK_TEMPLATE):
    """The menu's alias select: the chosen alias opens the prompt and params modal."""

    def __init__(self, message_id: int, options: list[discord.SelectOption] | None = None,
                 placeholder: str | None = None) -> None:
        super().__init__(discord.ui.Select(custom_id=PICK_ID.format(message=message_id), options=options or [],
                                           placeholder=placeholder))
        self.message_id = message_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str]
    ) -> PickSelect:
        return cls(int(match["message"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with refusals(interaction):
            refuse_bots(interaction)
            values = (interaction.data or {}).get("values") or []
            if not values:
                return
            service = service_of(interaction)
            starter = starter_of(interaction)
            workflow = service.registry.get(str(values[0]))
            await service.check_start(starter, workflow)
            if editable(workflow):
                await interaction.response.send_modal(image_modal(workflow, self.message_id, starter.locale))
                return
            # Nothing to ask: start at once.
            await interaction.response.defer(ephemeral=True, thinking=True)
            await start_from_images(interaction, workflow.alias, self.message_id, prompt=None, params=None)


async def _fetch_message(interaction: discord.Interaction, message_id: int) -> discord.Message:
    channel = interaction.channel
    if not isinstance(channel, discord.abc.Messageable):
        raise UserError("results.menu.message_gone")
    try:
        return await channel.fetch_message(message_id)
    except (discord.NotFound, discord.Forbidden) as exc:
        raise UserError("results.menu.message_gone") from exc


async def start_from_images(interaction: discord.Interaction, alias: str, message_id: int, *,
                            prompt: str | None, params: str | None) -> None:
    """The message's images fill image, image2, image3 in order; checked and started like /generate."""
    check_can_post(interaction)
    service = service_of(interaction)
    starter = starter_of(interaction)
    workflow = service.registry.get(alias)
    await service.check_start(starter, workflow, prompt=prompt, params=params)
    # Fetched again now: Discord's attachment URLs expire, and the message may have changed.
    message = await _fetch_message(interaction, message_id)
    images = [a for a in message.attachments if is_image(a)]
    if not images:
        raise UserError("results.menu.no_images")
    chosen = list(zip(image_options(workflow), images, strict=False))
    for option, attachment in chosen:  # refuse a huge file before downloading it
        check_file_size(option, attachment.filename, attachment.size)
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
    await answer_queued(interaction, service, job)
