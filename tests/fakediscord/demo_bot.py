"""A small throw-away discord.py bot that exercises the fake the way the real bot will.

It is deliberately plain discord.py (no project code), so the fake's tests fail only when the fake
stops speaking Discord.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

log = logging.getLogger(__name__)

WORKFLOWS = ["z-image", "z-image-turbo", "flux-dev", "upscale"]
RERUN_ID = "demo:rerun"
DONE_ID = "demo:done"


class ResultView(discord.ui.View):
    """A persistent view: timeout=None and a fixed custom_id, so a restarted bot can handle it."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Re-run", style=discord.ButtonStyle.primary, custom_id=RERUN_ID)
    async def rerun(self, interaction: discord.Interaction, button: discord.ui.Button[ResultView]) -> None:
        await interaction.response.send_message(f"re-run requested by {interaction.user.name}", ephemeral=True)

    @discord.ui.button(label="Done", style=discord.ButtonStyle.secondary, custom_id=DONE_ID)
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button[ResultView]) -> None:
        await interaction.response.edit_message(content="done", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Text", custom_id="demo:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("thanks", ephemeral=True)


class DemoBot(commands.Bot):
    def __init__(self, *, intents: discord.Intents | None = None, sync_guild: int | None = None) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents or discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.sync_guild = sync_guild
        self.errors: list[BaseException] = []
        self.seen: dict[str, Any] = {}
        self.events: list[str] = []
        self.delay = 0.0  # seconds /slow waits before acknowledging
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self._add_commands()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before every re-IDENTIFY; a test has no rate limit to respect.
        return None

    async def setup_hook(self) -> None:
        self.add_view(ResultView())

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.events.append(f"available:{guild.name}")

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.events.append(f"join:{guild.name}")

    async def on_resumed(self) -> None:
        self.events.append("resumed")

    async def _on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        self.errors.append(original)

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command(description="Run a workflow")
        @app_commands.describe(workflow="Workflow alias", prompt="What to draw", image="An input image")
        async def generate(
            interaction: discord.Interaction,
            workflow: str,
            prompt: str | None = None,
            image: discord.Attachment | None = None,
        ) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            self.seen["locale"] = str(interaction.locale)
            self.seen["filesize_limit"] = interaction.filesize_limit
            self.seen["app_permissions"] = interaction.app_permissions
            self.seen["image"] = image
            data = await image.read() if image is not None else b""
            await interaction.followup.send(f"queued {workflow}: {prompt} ({len(data)} bytes)", ephemeral=True)
            channel = interaction.channel
            assert isinstance(channel, discord.TextChannel)
            await channel.send(
                f"{interaction.user.mention} result for {workflow}",
                file=discord.File(io.BytesIO(data[::-1]), filename="result.png"),
                view=ResultView(),
                allowed_mentions=discord.AllowedMentions(users=[interaction.user], everyone=False, roles=False),
            )

        @generate.autocomplete("workflow")
        async def workflow_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=w, value=w) for w in WORKFLOWS if w.startswith(current)][:25]

        quota = app_commands.Group(name="quota", description="Coins")

        @quota.command(name="grant", description="Grant coins")
        async def grant(interaction: discord.Interaction, member: discord.Member, amount: int) -> None:
            self.seen["member"] = member
            await interaction.response.send_message(f"granted {amount} to {member.name}")

        tree.add_command(quota)

        @tree.command(description="Acknowledge after a delay")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.delay)
            await interaction.response.defer()

        @tree.command(description="Defer, wait, then follow up (falls back to the channel)")
        async def late(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)
            await asyncio.sleep(self.delay)
            try:
                await interaction.followup.send("done")
            except discord.HTTPException as exc:
                self.errors.append(exc)
                assert isinstance(interaction.channel, discord.TextChannel)
                await interaction.channel.send(f"{interaction.user.mention} done (delivered late)")

        @tree.command(description="Defer, wait, then deliver by followup or, once expired, in the channel")
        async def expiry(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)
            await asyncio.sleep(self.delay)
            if interaction.is_expired():
                assert isinstance(interaction.channel, discord.TextChannel)
                await interaction.channel.send("expired, posted in the channel")
            else:
                await interaction.followup.send("still fresh")

        @tree.command(description="Ask for feedback in a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @tree.command(description="Answer with a file, then swap it for another")
        async def render(interaction: discord.Interaction, size: int = 3) -> None:
            await interaction.response.send_message(
                "here", file=discord.File(io.BytesIO(b"a" * size), "a.txt"), ephemeral=True
            )
            await interaction.edit_original_response(attachments=[discord.File(io.BytesIO(b"def"), "b.txt")])

        @tree.command(description="Reply with an embed and then edit it")
        async def card(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=discord.Embed(title="Card", description="first"))
            await interaction.edit_original_response(content="edited", embed=None)
