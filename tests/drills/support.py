"""Shared pieces of the drills: a bot subprocess that can be killed, and what to count afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re

from aiohttp import web

from bot.db.database import Database
from bot.ui.job_buttons import RERUN
from tests.fakediscord.model import FakeChannel, FakeMessage
from tests.fakediscord.rest import Body
from tests.fakediscord.server import FakeDiscord

JOB_LABEL = re.compile(r"#(\d+)")



def result_messages(fake: FakeDiscord, channel: FakeChannel) -> dict[int, list[FakeMessage]]:
    """Job id -> the result messages posted for it (found by the first button's custom_id)."""
    found: dict[int, list[FakeMessage]] = {}
    for message in fake.messages(channel):
        if message.deleted:
            continue
        for custom_id in message.custom_ids:
            match = re.fullmatch(r"rh:rerun:(\d+)", custom_id)
            if match and custom_id == RERUN.format(job=int(match[1])):
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
