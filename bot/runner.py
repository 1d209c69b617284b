"""`python -m bot run`: open everything the bot needs, run it, and close it all on the way out.

Start-up problems an operator can fix (a refused token, a broken workflows.toml, a database
that cannot be opened) end the process with one line on stderr and a non-zero exit status,
never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator

import aiohttp
import discord

from bot.config import ConfigError, Settings
from bot.db.database import Database, DatabaseError
from bot.logs import setup_logging

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2


class StartupError(Exception):
    """A start-up failure the operator can fix; str() is the one line to print."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def run(settings: Settings) -> int:
    """Run the bot until it is stopped (SIGTERM, Ctrl-C) or fails; return the exit status."""
    # Logs go to stdout; stderr carries only the one-line reason when the start fails.
    setup_logging(settings.log_level, settings.secrets(), stream=sys.stdout)
    try:
        return asyncio.run(run_bot(settings))
    except StartupError as exc:
        _fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C before the bot was up, or a second one while stopping
        return EXIT_OK
    except Exception:
        log.exception("the bot stopped after an unexpected error")
        return EXIT_FAILURE


async def run_bot(settings: Settings) -> int:
    """The async core of `run`; raises StartupError for failures the operator can fix."""
    # Imported here so `python -m bot generate` and friends never pay for the bot's imports.
    from bot.client import RHBot
    from bot.runninghub.client import RunningHubClient
    from bot.workflows import WorkflowConfigError, load_workflows

    try:
        token = settings.require_discord()
    except ConfigError as exc:
        raise StartupError(str(exc), EXIT_CONFIG) from None
    try:
        workflows = load_workflows(settings.workflows_path)
    except WorkflowConfigError as exc:
        raise StartupError(str(exc), EXIT_CONFIG) from None
    try:
        db = await Database.open(settings.database_path)
    except DatabaseError as exc:
        raise StartupError(str(exc)) from None

    try:
        async with aiohttp.ClientSession() as session, _runninghub_base_url(settings) as base_url:
            runninghub = RunningHubClient(session, base_url, settings.runninghub_api_key)
            async with RHBot(settings, session, db, workflows, runninghub) as bot:
                await _run_until_stopped(bot, token)
    except discord.LoginFailure:
        raise StartupError(
            "the Discord bot token was refused: copy it again from the developer portal "
            "(your application -> Bot -> Reset Token) into DISCORD_TOKEN"
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise StartupError(
            "Discord refused a privileged intent; this bot needs none, so check that nothing "
            "else changed the intents"
        ) from None
    finally:
        await db.close()
    log.info("stopped")
    return EXIT_OK


@contextlib.asynccontextmanager
async def _runninghub_base_url(settings: Settings) -> AsyncIterator[str]:
    """The RunningHub address: the configured one, or a simulator started here for the bot's life."""
    if not settings.use_simulator:
        yield settings.runninghub_base_url
        return
    from bot.runninghub.simulator import Simulator

    simulator = Simulator(api_key=settings.runninghub_api_key, concurrency=settings.runninghub_concurrency)
    base_url = await simulator.start()
    log.info("using the built-in RunningHub simulator at %s (fake results, no coins spent)", base_url)
    try:
        yield base_url
    finally:
        await simulator.stop()


async def _run_until_stopped(bot: discord.Client, token: str) -> None:
    """`bot.start` until it ends by itself or SIGTERM / SIGINT asks for a clean stop."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError):  # not on this platform / not the main thread
            pass
    running = asyncio.create_task(bot.start(token), name="discord-client")
    stopping = asyncio.create_task(stop.wait(), name="stop-signal")
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            log.info("stopping: closing the Discord connection")
            # Bot.close() unloads the cogs first, so their cog_unload stops loops and tasks.
            await bot.close()
        await running
    finally:
        stopping.cancel()
        if not running.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        for sig in handled:
            loop.remove_signal_handler(sig)
