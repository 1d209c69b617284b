"""Shared pieces of the drills: a bot subprocess that can be killed, and what to count afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bot.db.database import Database
from bot.runninghub.simulator import Simulator
from bot.ui.job_buttons import RERUN
from tests.fakediscord.model import FakeChannel, FakeMember, FakeMessage
from tests.fakediscord.rest import Body
from tests.fakediscord.server import FakeDiscord
from tests.harness import BotProcess
from tests.waiting import eventually

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


ALLOWANCE = 100
COST = 10  # z-image in the shipped workflows.toml
CONCURRENCY = 5


def job_states(path: Path) -> dict[int, str]:
    """Read the journal straight from the file (the bot process may be writing it)."""
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return {int(r[0]): str(r[1]) for r in conn.execute("SELECT id, state FROM jobs")}
    except sqlite3.OperationalError:
        return {}


@dataclass
class Drill:
    fake: FakeDiscord
    sim: Simulator
    channel: FakeChannel
    members: list[FakeMember]
    moderator: FakeMember
    env: dict[str, str]
    cwd: Path
    note: str
    runs: list[BotProcess] = field(default_factory=list)
    prompts: dict[int, str] = field(default_factory=dict)  # job id -> its unique prompt
    owners: dict[int, int] = field(default_factory=dict)  # job id -> member id

    @property
    def database(self) -> Path:
        return Path(self.env["DATABASE_PATH"])

    @property
    def logs(self) -> str:
        return "\n".join(run.output for run in self.runs)

    async def start(self) -> BotProcess:
        identified = self.fake.identifies
        bot = BotProcess(self.env, self.cwd)
        self.runs.append(bot)
        await eventually(lambda: self.fake.identifies > identified and self.fake.connected, 60,
                         f"the bot to connect (run {len(self.runs)}) {self.note}\n{bot.output[-3000:]}")
        return bot

    async def submit(self, member: FakeMember, prompt: str) -> int:
        """/generate through the bot's own interaction handling; returns the job id from the reply."""
        ix = await self.fake.invoke(member, self.channel, "generate", {"workflow": "z-image", "prompt": prompt})
        text = await ix.reply(timeout=30)
        match = JOB_LABEL.search(text)
        assert match is not None, f"/generate was refused: {text}"
        self.prompts[int(match[1])] = prompt
        self.owners[int(match[1])] = member.id
        return int(match[1])

    async def health(self) -> str:
        ix = await self.fake.invoke(self.moderator, self.channel, "health")
        return await ix.reply(timeout=30)

    async def states(self) -> dict[int, str]:
        return await asyncio.to_thread(job_states, self.database)

    async def wait_for_states(self, allowed: set[str], timeout: float = 90) -> dict[int, str]:  # noqa: ASYNC109
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            states = await self.states()
            if len(states) == len(self.prompts) and set(states.values()) <= allowed:
                return states
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"jobs did not reach {allowed}: {dict(Counter(states.values()))} {self.note}\n{self.logs[-4000:]}"
                )
            await asyncio.sleep(0.2)

    def tasks_for(self, prompt: str) -> int:
        return sum(1 for task in self.sim.tasks.values() if prompt_of(task.node_info_list) == prompt)

    def creates_for(self, prompt: str) -> int:
        return sum(1 for r in self.sim.creates() if prompt_of((r.json or {}).get("nodeInfoList") or []) == prompt)
