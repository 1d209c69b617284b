"""Gateway behaviour: heartbeats, reconnects, invalid sessions, server-side closes."""

from __future__ import annotations

import math

import discord
import pytest
from discord.ext import commands

from tests.fakediscord import FakeDiscord, running_bot
from tests.fakediscord.demo_bot import DemoBot
from tests.fakediscord.test_fake import eventually


@pytest.fixture
def world(fake_discord: FakeDiscord) -> dict:
    guild = fake_discord.add_guild("Test")
    return {"guild": guild, "channel": guild.add_channel("general"), "alice": guild.add_member("alice")}


async def test_heartbeats_are_acknowledged(fake_discord: FakeDiscord, world: dict) -> None:
    fake_discord.heartbeat_interval_ms = 30
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        await eventually(lambda: fake_discord.heartbeats >= 4)
        assert math.isfinite(bot.latency)
    assert fake_discord.identifies == 1 and fake_discord.resumes == 0


async def test_server_close_4000_is_resumed(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        await fake_discord.close_gateway(4000)
        await eventually(lambda: "resumed" in bot.events, timeout=3)
        ix = await fake_discord.invoke(world["alice"], world["channel"], "card")
        assert await ix.acked() == 4
    assert fake_discord.identifies == 1 and fake_discord.resumes == 1


async def test_invalid_session_makes_the_client_identify_again(fake_discord: FakeDiscord, world: dict) -> None:
    # A stock Bot: running_bot(fast=True) must remove the 2 s ready wait and the 5 s re-IDENTIFY pause.
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.default())

    @bot.tree.command(description="Reply")
    async def card(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("card")

    async with running_bot(bot, fake_discord, timeout=1.5):
        first = bot.ws.session_id
        await fake_discord.invalidate_session()
        await eventually(lambda: fake_discord.identifies == 2 and bot.is_ready(), timeout=3)
        await eventually(lambda: bot.ws is not None and bot.ws.session_id not in (None, first))
        ix = await fake_discord.invoke(world["alice"], world["channel"], "card")
        assert await ix.acked() == 4
    assert fake_discord.resumes == 0


async def test_events_for_a_disconnected_session_wait_for_resume(fake_discord: FakeDiscord, world: dict) -> None:
    bot = DemoBot()
    async with running_bot(bot, fake_discord):
        session = await fake_discord.wait_until_connected()
        await fake_discord.request_reconnect()
        await eventually(lambda: session.connection is None or session.resumes == 1)
        world["guild"].add_role("Late role")
        await eventually(lambda: session.resumes == 1, timeout=3)
        guild = bot.get_guild(world["guild"].id)
        await eventually(lambda: "Late role" in [r.name for r in guild.roles])
    assert fake_discord.identifies == 1
