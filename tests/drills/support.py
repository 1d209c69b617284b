"""Shared pieces of the drills: a bot subprocess that can be killed, and what to count afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from aiohttp import web

from bot.db.database import Database
from bot.ui.notifier import result_marker
from tests.fakediscord.model import FakeChannel, FakeMessage
from tests.fakediscord.rest import Body
from tests.fakediscord.server import FakeDiscord
from tests.harness import bot_env, start_bot_process

JOB_LABEL = re.compile(r"#(\d+)")


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

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        await self._reap(10)

    async def stop(self, timeout: float = 20) -> int:  # noqa: ASYNC109 - a deadline for the child
        """SIGTERM, the clean stop; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return await self._reap(timeout)

    async def _reap(self, timeout: float) -> int:  # noqa: ASYNC109
        # The fake Discord and the simulator live on this event loop: wait off the loop.
        status = await asyncio.to_thread(self.process.wait, timeout)
        for reader in self._readers:
            await asyncio.to_thread(reader.join, 5)
        return status


def process_env(fake: FakeDiscord, tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = bot_env(token=fake.token, tmp_path=tmp_path, **overrides)
    env["FAKE_DISCORD_API_BASE"] = fake.api_base
    env["FAKE_DISCORD_GATEWAY"] = fake.gateway_url
    return env


async def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05  # noqa: ASYNC109
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def result_messages(fake: FakeDiscord, channel: FakeChannel) -> dict[int, list[FakeMessage]]:
    """Job id -> the result messages posted for it (found by the first button's custom_id)."""
    found: dict[int, list[FakeMessage]] = {}
    for message in fake.messages(channel):
        if message.deleted:
            continue
        for custom_id in message.custom_ids:
            match = re.fullmatch(r"rh:rerun:(\d+)", custom_id)
            if match and custom_id == result_marker(int(match[1])):
                found.setdefault(int(match[1]), []).append(message)
                break
    return found


def prompt_of(node_info_list: list[dict[str, object]]) -> str | None:
    """The prompt a create carried (z-image: CLIPTextEncode node 6, field text)."""
    for node in node_info_list:
        if str(node.get("nodeId")) == "6" and node.get("fieldName") == "text":
            return str(node.get("fieldValue"))
    return None


async def ledger_rows(db: Database, job_id: int) -> list[tuple[str, int, int]]:
    """(kind, amount, held_change) of every ledger row of one job, oldest first."""
    rows = await db.fetchall("SELECT kind, amount, held_change FROM ledger WHERE job_id = ? ORDER BY id", (job_id,))
    return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]


class SlowResultAnswers:
    """Make the fake Discord store a result message at once but answer the POST `delay` seconds later.

    That is the window in which a crash leaves a result in the channel that the journal does not
    know was posted. `stored` is set each time a result message has been stored.
    """

    def __init__(self, fake: FakeDiscord, delay: float) -> None:
        self.delay = delay
        self.stored = asyncio.Event()
        self._released = asyncio.Event()
        routes = fake._rest.routes
        index = next(i for i, r in enumerate(routes) if r.method == "POST" and r.pattern.pattern.endswith("/messages"))
        original = routes[index].handler

        async def handler(request: web.Request, body: Body, match: re.Match[str]) -> web.Response:
            response = await original(request, body, match)
            if "rh:rerun:" in str((body.json or {}).get("components")):
                self.stored.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), self.delay)
            return response

        routes[index] = dataclasses.replace(routes[index], handler=handler)

    def release(self) -> None:
        """Answer every held post now, and every later one at once."""
        self.delay = 0
        self._released.set()
