"""Run `python -m bot ARGS` against the fake Discord named by the environment.

FAKE_DISCORD_API_BASE (e.g. http://127.0.0.1:PORT/api/v10) and FAKE_DISCORD_GATEWAY
(ws://127.0.0.1:PORT/gateway) redirect discord.py's REST and gateway addresses; nothing else
changes, so the process is the real command line, settings, logging and shutdown.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys


def point_discord_at_fake() -> None:
    import discord.gateway
    import discord.http
    import yarl

    api = os.environ.get("FAKE_DISCORD_API_BASE")
    gateway = os.environ.get("FAKE_DISCORD_GATEWAY")
    if api:
        discord.http.Route.BASE = api
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def main() -> None:
    point_discord_at_fake()
    if importlib.util.find_spec("bot.__main__") is not None:
        # Exactly `python -m bot ARGS`, command line parsing included.
        sys.argv = ["bot", *sys.argv[1:]]
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
        return
    # Until the command line exists: what `python -m bot run` does.
    from bot.config import ConfigError, load_settings
    from bot.runner import run

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(settings))


if __name__ == "__main__":
    main()
