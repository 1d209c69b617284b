"""Results to build on: the edit and details buttons, their modals, and the "Generate from image" menu.

Thin: reads the interaction, calls the job service (which runs the one start gate before any
coin is held or file downloaded), replies. The re-run and delete buttons are in cogs/jobs.py.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.client import RHBot
from bot.errors import UserError
from bot.messages import ENGLISH, catalog, t
from bot.ui.i18n import locale_of
from bot.ui.reply import refusals, reply
from bot.ui.results import (
    EDIT_FORM,
    IMAGE_FORM,
    PARAMS_FIELD,
    PROMPT_FIELD,
    DetailsButton,
    EditButton,
    PickSelect,
    answer_queued,
    check_can_post,
    image_options,
    is_image,
    modal_values,
    pick_options,
    refuse_bots,
    service_of,
    start_from_images,
)
from bot.ui.starter import starter_of

log = logging.getLogger(__name__)

MENU_KEY = "results.menu.name"


class Results(commands.Cog):
    def __init__(self, bot: RHBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(
            name=locale_str(catalog()[MENU_KEY][ENGLISH], key=MENU_KEY), callback=self.generate_from_image,
        )
        app_commands.guild_only()(self.menu)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(EditButton, DetailsButton, PickSelect)
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        self.bot.remove_dynamic_items(EditButton, DetailsButton, PickSelect)

    async def generate_from_image(self, interaction: discord.Interaction, message: discord.Message) -> None:
        refuse_bots(interaction)
        images = [a for a in message.attachments if is_image(a)]
        if not images:
            raise UserError("results.menu.no_images")
        service = service_of(interaction)
        starter = starter_of(interaction)
        await service.check_start(starter, None)
        choices = [w for w in service.runnable(starter) if image_options(w)]
        if not choices:
            raise UserError("results.menu.no_workflows")
        locale = locale_of(interaction)
        view = discord.ui.View(timeout=None)
        view.add_item(PickSelect(message.id, pick_options(choices, locale), t("results.menu.placeholder", locale)))
        await reply(interaction, t("results.menu.pick", locale, count=len(images)), view=view)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Modal submits, by custom id, so that a form opened before a restart still works after it."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        edit, image = EDIT_FORM.fullmatch(custom_id), IMAGE_FORM.fullmatch(custom_id)
        if edit is None and image is None:
            return
        values = modal_values(interaction.data)  # type: ignore[arg-type]
        prompt, params = values.get(PROMPT_FIELD), values.get(PARAMS_FIELD)
        async with refusals(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
            refuse_bots(interaction)
            if edit is not None:
                service = service_of(interaction)
                check_can_post(interaction)
                job = await service.edit(int(edit["job"]), starter_of(interaction), prompt=prompt, params=params)
                await answer_queued(interaction, service, job)
            elif image is not None:
                await start_from_images(interaction, image["alias"], int(image["message"]), prompt=prompt,
                                        params=params)


async def setup(bot: RHBot) -> None:
    await bot.add_cog(Results(bot))
