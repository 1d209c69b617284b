"""The drills' marker: `slow` drills take tens of seconds each (deselect with -m "not slow")."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.runninghub.simulator import Simulator
from tests.drills.support import ALLOWANCE, CONCURRENCY, Drill
from tests.fakediscord.server import FakeDiscord
from tests.harness import process_env


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long fault drill (tens of seconds); deselect with -m 'not slow'")


@pytest.fixture
async def drill(tmp_path: Path) -> AsyncIterator[Drill]:
    seed = int(os.environ.get("DRILL_SEED") or random.randrange(2**32))
    sim = Simulator(queue_seconds=0.3, run_seconds=1.2, concurrency=CONCURRENCY, seed=seed)
    await sim.start()
    try:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Drill")
            channel = guild.add_channel("generate")
            members = [guild.add_member(f"member{i}") for i in range(25)]
            moderator = guild.add_member("moderator", permissions=discord.Permissions(manage_guild=True))
            env = process_env(
                fake, tmp_path,
                RUNNINGHUB_BASE_URL=sim.base_url, RUNNINGHUB_API_KEY=sim.api_key,
                RUNNINGHUB_CONCURRENCY=str(CONCURRENCY), POLL_INTERVAL="0.1",
                DISCORD_GUILD_ID=str(guild.id), DEFAULT_ALLOWANCE=str(ALLOWANCE),
            )
            drill = Drill(fake, sim, channel, members, moderator, env, tmp_path, f"(DRILL_SEED={seed})")
            try:
                yield drill
            finally:
                for run in drill.runs:
                    await run.kill()
            assert not fake.errors, fake.errors
    finally:
        await sim.stop()
