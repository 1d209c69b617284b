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

import discord

from bot import net
from bot.config import ConfigError, Settings
from bot.db.database import DatabaseError
from bot.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.logs import setup_logging

log = logging.getLogger(__name__)


class StartupError(Exception):
    """A start-up failure the operator can fix; str() is the one line to print."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
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
        return EXIT_FAILED


async def run_bot(settings: Settings) -> int:
    """The async core of `run`; raises StartupError for failures the operator can fix."""
    # Imported here so `python -m bot generate` and friends never pay for the bot's imports.
    from bot.app import open_resources
    from bot.client import RHBot
    from bot.workflows import WorkflowConfigError

    try:
        token = settings.require_discord()
    except ConfigError as exc:
        raise StartupError(str(exc), EXIT_USAGE) from None
    try:
        # DISCORD_PROXY for REST, gateway and attachments; RUNNINGHUB_PROXY is in open_resources' session.
        async with (
            open_resources(settings) as resources,
            RHBot(resources, **net.discord_options(settings.discord_proxy)) as bot,
        ):
            await _run_until_stopped(bot, token)
    except WorkflowConfigError as exc:
        raise StartupError(str(exc), EXIT_USAGE) from None
    except DatabaseError as exc:
        raise StartupError(str(exc)) from None
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
    except net.UNREACHABLE as exc:
        # Only the login gets here: once connected, discord.py reconnects by itself.
        raise StartupError(net.cannot_reach_discord(settings.discord_proxy, exc)) from None
    log.info("stopped")
    return EXIT_OK


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
