"""pytest fixtures for the fake Discord, plus `running_bot` to run a discord.py client against it.

Register with `pytest_plugins = ["tests.fakediscord.plugin"]` in the root conftest (or import the
fixtures into a local conftest).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import discord
import pytest

from tests.fakediscord.server import FakeDiscord

log = logging.getLogger(__name__)

__all__ = ["fake_discord", "fake_discord_server", "running_bot"]


@pytest.fixture
async def fake_discord_server() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord (token "fake-token"), stopped after the test. discord.py is NOT patched."""
    fake = FakeDiscord(token="fake-token")
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    if fake.errors:
        pytest.fail(f"the fake Discord crashed while handling requests: {fake.errors}")


@pytest.fixture
async def fake_discord(fake_discord_server: FakeDiscord) -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord with discord.py pointed at it (Route.BASE, DEFAULT_GATEWAY) for the test."""
    with fake_discord_server.patch_discord():
        yield fake_discord_server


@contextlib.asynccontextmanager
async def running_bot(
    client: discord.Client,
    fake: FakeDiscord,
    *,
    token: str | None = None,
    timeout: float = 5,  # noqa: ASYNC109
    fast: bool = True,
) -> AsyncIterator[discord.Client]:
    """Start `client` against `fake`, wait for on_ready, and close it on exit.

    discord.py must already point at the fake (fake.patch_discord() or the fake_discord fixture).
    A start-up failure (LoginFailure, a gateway close) is raised here instead of hanging.
    With fast=True, discord.py's waits meant for the real service are cut on this instance:
    on_ready 0.05 s after the last GUILD_CREATE (not 2 s) and no 5 s pause before a re-IDENTIFY.
    """
    if fake.api_base != discord.http.Route.BASE:
        raise RuntimeError("discord.py is not pointed at this fake: use fake.patch_discord()")
    if fast:
        _make_fast(client)
    task = asyncio.create_task(client.start(token or fake.token), name="fakediscord-bot")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not client.is_ready():
            if task.done():
                task.result()  # raises the start-up error
                raise RuntimeError("the bot stopped before it was ready")
            if loop.time() > deadline:
                raise TimeoutError(f"the bot was not ready within {timeout:g}s")
            await asyncio.sleep(0.01)
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 5)


def _make_fast(client: discord.Client) -> None:
    state = client._connection
    state.guild_ready_timeout = min(state.guild_ready_timeout, 0.05)
    if type(client).before_identify_hook is discord.Client.before_identify_hook:

        async def no_identify_pause(shard_id: int | None, *, initial: bool = False) -> None:
            return None

        client.before_identify_hook = no_identify_pause  # type: ignore[method-assign]
