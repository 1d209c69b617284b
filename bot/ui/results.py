"""The Discord shapes of results to build on: the edit and image modals, the alias select, the details embed.

Custom ids carry what their handler needs (a job id, an alias, a message id), so a click or a
submit works after a restart: the results cog (cogs/results.py) registers a DynamicItem for the
select and the buttons of bot/ui/job_buttons.py, and reads modal submits by custom id, because
discord.py routes a submit only to a Modal object of the process that sent it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import discord

from bot.db.journal import Job
from bot.jobs.inputs import SEED, JobInputs
from bot.texts import t
from bot.texts.format import clip
from bot.texts.results import Card, edit_title, image_title
from bot.workflows import IMAGE_OPTIONS, Workflow

EDIT_FORM = "rh:editform:{job}"
EDIT_FORM_PATTERN = re.compile(r"rh:editform:(?P<job>[0-9]+)")
# The menu's message is always in the channel of the interaction: only its id is carried.
PICK = "rh:pick:{message}"
PICK_TEMPLATE = r"rh:pick:(?P<message>[0-9]+)"
IMAGE_FORM = "rh:imageform:{alias}:{message}"
IMAGE_FORM_PATTERN = re.compile(r"rh:imageform:(?P<alias>[a-z0-9][a-z0-9_-]{0,31}):(?P<message>[0-9]+)")
PROMPT_FIELD = "prompt"
PARAMS_FIELD = "params"

TEXT_INPUT_LIMIT = 4000
MODAL_LIFETIME = 15 * 60  # seconds discord.py keeps a sent modal; its submit is handled by custom id anyway
MAX_PICK_OPTIONS = 25
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")


# ---- what an alias takes ----------------------------------------------------------------------


def image_options(workflow: Workflow) -> list[str]:
    """The image inputs of an alias, in the order a message's images fill them."""
    names = {i.name for i in workflow.option_inputs if i.kind == "image"}
    return [option for option in IMAGE_OPTIONS if option in names]


def editable(workflow: Workflow) -> bool:
    """Whether a form for this alias has anything to ask: a prompt or params."""
    return workflow.input("prompt") is not None or bool(workflow.params)


def is_image(attachment: discord.Attachment) -> bool:
    """Looks like an image; the real type is checked on the bytes (magic numbers) before anything runs."""
    if attachment.content_type and attachment.content_type.startswith("image/"):
        return True
    return attachment.filename.lower().endswith(IMAGE_SUFFIXES)


# ---- modals ----------------------------------------------------------------------------------


def _add_fields(modal: discord.ui.Modal, workflow: Workflow, locale: str | None, prompt: str, params: str,
                hint: str = "results.field.params_hint") -> None:
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
            description=t(hint, locale),
            component=discord.ui.TextInput(
                custom_id=PARAMS_FIELD, style=discord.TextStyle.paragraph,
                default=params[:TEXT_INPUT_LIMIT] or None, required=False, max_length=TEXT_INPUT_LIMIT,
            ),
        ))


def edit_modal(job: Job, workflow: Workflow, prompt: str, params: str, locale: str | None) -> discord.ui.Modal:
    """Pre-filled with the job's prompt and params (the seed it used included)."""
    modal = discord.ui.Modal(title=edit_title(job, locale), custom_id=EDIT_FORM.format(job=job.id),
                             timeout=MODAL_LIFETIME)
    hint = "results.field.seed_hint" if SEED in JobInputs.from_json(job.inputs).params else "results.field.params_hint"
    _add_fields(modal, workflow, locale, prompt, params, hint)
    return modal


def image_modal(workflow: Workflow, message_id: int, locale: str | None) -> discord.ui.Modal:
    modal = discord.ui.Modal(title=image_title(workflow, locale),
                             custom_id=IMAGE_FORM.format(alias=workflow.alias, message=message_id),
                             timeout=MODAL_LIFETIME)
    _add_fields(modal, workflow, locale, "", "")
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


# ---- the alias select and the details card ------------------------------------------------------


def pick_options(workflows: Iterable[Workflow]) -> list[discord.SelectOption]:
    return [
        discord.SelectOption(label=w.alias, value=w.alias, description=clip(w.summary(), 100) or None)
        for w in list(workflows)[:MAX_PICK_OPTIONS]
    ]


def card_embed(card: Card) -> discord.Embed:
    embed = discord.Embed(title=card.title)
    for name, value, inline in card.fields:
        embed.add_field(name=name, value=value, inline=inline)
    return embed
