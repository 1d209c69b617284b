"""Helpers for tests that run the real bot: the command contract, an in-process bot, a subprocess.

- `CONTRACT` is design.md §3's slash commands: option names, types and whether each is required;
  `MESSAGE_COMMANDS` its message context menus with their Chinese names.
- `running_bot(fake, tmp_path=...)` runs an RHBot in this process against the loopback fake Discord.
- `start_bot_process(env)` runs `python -m bot run` in a subprocess (via tests/launch_bot.py,
  which points discord.py at the fake first) for restart and bad-token tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import discord
from discord import AppCommandOptionType

from bot.app import open_resources
from bot.client import RHBot
from bot.config import SIMULATOR_API_KEY, settings_from_mapping

if TYPE_CHECKING:
    from bot.runninghub.simulator import Simulator
    from tests.fakediscord.server import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_WORKFLOWS = ROOT / "data" / "workflows.toml"
SHIPPED_ALIASES = ("animate", "style-transfer", "upscale", "voice-clone", "z-image")
LAUNCHER = Path(__file__).resolve().parent / "launch_bot.py"
# A RunningHub address nothing listens on, for tests that never reach RunningHub.
UNUSED_RUNNINGHUB = "http://127.0.0.1:9"

S = AppCommandOptionType.string.value
I = AppCommandOptionType.integer.value  # noqa: E741
U = AppCommandOptionType.user.value
C = AppCommandOptionType.channel.value
R = AppCommandOptionType.role.value
A = AppCommandOptionType.attachment.value
B = AppCommandOptionType.boolean.value

# command (qualified name) -> option name -> (option type, required); order as in the contract.
CONTRACT: dict[str, dict[str, tuple[int, bool]]] = {
    "generate": {
        "workflow": (S, True),
        "prompt": (S, False),
        "image": (A, False),
        "image2": (A, False),
        "image3": (A, False),
        "audio": (A, False),
        "video": (A, False),
        "params": (S, False),
    },
    "workflows": {},
    "balance": {"member": (U, False)},
    "jobs": {},
    "cancel": {"job": (I, True)},
    "resend": {"job": (I, True)},
    "quota grant": {"member": (U, True), "amount": (I, True), "reason": (S, False)},
    "quota take": {"member": (U, True), "amount": (I, True), "reason": (S, False)},
    "quota set": {"member": (U, True), "amount": (I, True), "reason": (S, False)},
    "quota history": {"member": (U, True)},
    "quota policy": {"allowance": (I, True), "period": (S, True), "role": (R, False)},
    "health": {},
    "settings show": {},
    "settings channels": {"action": (S, True), "channel": (C, False)},
    "settings modlog": {"channel": (C, False)},
    "settings cooldown": {"seconds": (I, True)},
    "settings language": {"value": (S, True)},
    "blocklist add": {"text": (S, True)},
    "blocklist remove": {"text": (S, True)},
    "blocklist list": {},
    "block": {"member": (U, True), "reason": (S, False)},
    "unblock": {"member": (U, True)},
    "workflow add": {
        "id": (S, True),
        "alias": (S, True),
        "cost": (I, True),
        "app": (B, False),
        "description": (S, False),
        "description_zh": (S, False),
    },
    "workflow edit": {
        "alias": (S, True),
        "cost": (I, False),
        "description": (S, False),
        "description_zh": (S, False),
        "enabled": (B, False),
        "timeout": (I, False),
    },
    "workflow remove": {"alias": (S, True)},
    "workflow show": {"alias": (S, True)},
    "workflow reload": {},
}
# Message context menus (command type 3): English name -> its Chinese names (zh-CN, zh-TW) in the Apps menu.
MESSAGE_COMMANDS: dict[str, dict[str, str]] = {
    "Generate from image": {"zh-CN": "用图片生成", "zh-TW": "用圖片生成"},
}
MESSAGE_COMMAND = 3
# top-level commands with default_member_permissions
MODERATOR_COMMANDS = ("quota", "health", "settings", "blocklist", "block", "unblock", "workflow")
MANAGE_GUILD = 1 << 5
PERIODS = ("none", "daily", "weekly", "monthly")

_SUBCOMMAND_TYPES = (AppCommandOptionType.subcommand.value, AppCommandOptionType.subcommand_group.value)


def flatten_commands(payloads: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Mapping[str, Any]]]:
    """Command payloads (as synced to Discord) -> qualified name -> option name -> option payload."""
    flat: dict[str, dict[str, Mapping[str, Any]]] = {}

    def walk(prefix: str, command: Mapping[str, Any]) -> None:
        name = f"{prefix}{command['name']}"
        options = list(command.get("options") or [])
        if options and all(o.get("type") in _SUBCOMMAND_TYPES for o in options):
            for sub in options:
                walk(f"{name} ", sub)
        else:
            flat[name] = {o["name"]: o for o in options}

    for command in payloads:
        if command.get("type", 1) == 1:
            walk("", command)
    return flat


def message_commands(payloads: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The message context menus among the payloads, by name."""
    return {c["name"]: c for c in payloads if c.get("type") == MESSAGE_COMMAND}


def contract_mismatches(payloads: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every way the payloads differ from CONTRACT and MESSAGE_COMMANDS (missing commands, options, types,
    required; a message menu's localized name)."""
    payloads = list(payloads)
    flat = flatten_commands(payloads)
    problems = []
    menus = message_commands(payloads)
    for name, localized in MESSAGE_COMMANDS.items():
        if name not in menus:
            problems.append(f"message command {name!r} is missing")
            continue
        got = dict(menus[name].get("name_localizations") or {})
        if any(got.get(locale) != text for locale, text in localized.items()):
            problems.append(f"message command {name!r} is named {got}, expected {localized}")
    for command, options in CONTRACT.items():
        if command not in flat:
            problems.append(f"/{command} is missing")
            continue
        got = flat[command]
        if list(got) != list(options):
            problems.append(f"/{command} has options {list(got)}, expected {list(options)}")
            continue
        for name, (kind, required) in options.items():
            option = got[name]
            if option.get("type") != kind or bool(option.get("required", False)) != required:
                problems.append(
                    f"/{command} {name}: type {option.get('type')} required {option.get('required')}, "
                    f"expected type {kind} required {required}"
                )
    return problems


def bot_env(
    *,
    token: str,
    tmp_path: Path,
    runninghub_url: str = UNUSED_RUNNINGHUB,
    runninghub_key: str = SIMULATOR_API_KEY,
    **overrides: str,
) -> dict[str, str]:
    """The environment of a test bot: temp database, shipped workflows, fast polling."""
    env = {
        "DISCORD_TOKEN": token,
        "RUNNINGHUB_BASE_URL": runninghub_url,
        "RUNNINGHUB_API_KEY": runninghub_key,
        "DATABASE_PATH": str(tmp_path / "bot.db"),
        "WORKFLOWS_PATH": str(SHIPPED_WORKFLOWS),
        "POLL_INTERVAL": "0.05",
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    *,
    tmp_path: Path,
    simulator: Simulator | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 10.0,
    **bot_kwargs: Any,
) -> AsyncIterator[RHBot]:
    """An RHBot connected to `fake` and ready; closed (with its database) on exit.

    `env` overrides settings by variable name (DISCORD_GUILD_ID, MODERATOR_ROLE_IDS, ...); `bot_kwargs`
    go to RHBot (e.g. `service_options={"client_options": {...}}` to tune the RunningHub client).
    RunningHub is `simulator` when given, else an address nothing listens on.
    """
    runninghub_url = simulator.base_url if simulator is not None else UNUSED_RUNNINGHUB
    runninghub_key = getattr(simulator, "api_key", SIMULATOR_API_KEY)
    mapping = bot_env(
        token=fake.token, tmp_path=tmp_path, runninghub_url=runninghub_url, runninghub_key=runninghub_key
    )
    mapping.update(env or {})
    settings = settings_from_mapping(mapping)
    patched = contextlib.ExitStack()
    if fake.api_base != discord.http.Route.BASE:  # the fake_discord fixture may have done it already
        patched.enter_context(fake.patch_discord())
    try:
        async with open_resources(settings) as resources:
            bot_kwargs.setdefault("guild_ready_timeout", 0.05)
            async with RHBot(resources, **bot_kwargs) as bot:
                client = asyncio.create_task(bot.start(settings.require_discord()), name="test-bot")
                ready = asyncio.create_task(bot.wait_until_ready())
                try:
                    await asyncio.wait(
                        {client, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
                    )
                    if client.done():
                        client.result()  # raises what stopped the bot (LoginFailure, a cog error...)
                        raise RuntimeError("the bot stopped before it was ready")
                    if not ready.done():
                        raise TimeoutError(f"the bot was not ready within {ready_timeout} s")
                    yield bot
                finally:
                    ready.cancel()
                    await bot.close()
                    # Collected, not raised: a start-up failure was raised above already.
                    await asyncio.wait_for(asyncio.gather(client, return_exceptions=True), timeout=5)
    finally:
        patched.close()


def start_bot_process(
    env: Mapping[str, str], *, cwd: Path | None = None, args: Iterable[str] = ("run",)
) -> subprocess.Popen[str]:
    """`python -m bot run` in a subprocess, pointed at the fake Discord.

    `env` is the whole bot environment (see `bot_env`) plus FAKE_DISCORD_API_BASE and
    FAKE_DISCORD_GATEWAY. The process runs in `cwd` (a temp directory, so no developer `.env`
    is read) with stdout and stderr captured as text.
    """
    full = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    }
    full.update(env)
    full["PYTHONPATH"] = str(ROOT)
    full["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, str(LAUNCHER), *args],
        cwd=str(cwd or ROOT),
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def process_env(fake: FakeDiscord, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """`bot_env` for a bot subprocess, plus where the fake Discord listens."""
    env = bot_env(token=fake.token, tmp_path=tmp_path, **overrides)
    env["FAKE_DISCORD_API_BASE"] = fake.api_base
    env["FAKE_DISCORD_GATEWAY"] = fake.gateway_url
    return env


class BotProcess:
    """`python -m bot run` in a subprocess whose output is drained as it comes (a full pipe would stall it)."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.process = start_bot_process(env, cwd=cwd)
        self.lines: list[str] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(stream,), daemon=True)
            for stream in (self.process.stdout, self.process.stderr)
            if stream is not None
        ]
        for reader in self._readers:
            reader.start()

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def kill(self) -> int:
        """SIGKILL: no handler runs, nothing is flushed, closed or cancelled; returns the exit status."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        return await self._reap(10)

    async def stop(self, timeout: float = 30) -> int:  # noqa: ASYNC109 - a deadline for the child
        """SIGTERM, the clean stop; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return await self._reap(timeout)

    async def _reap(self, timeout: float) -> int:  # noqa: ASYNC109
        # The fake Discord and the simulator live on this event loop: wait for the child off it.
        try:
            status = await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = await asyncio.to_thread(self.process.wait, 10)
        for reader in self._readers:
            await asyncio.to_thread(reader.join, 5)
        return status
