"""Drills: `python -m bot run` SIGKILLed while jobs are in flight, then restarted.

The bot runs as a subprocess against the fake Discord and the RunningHub simulator, which both
live in this process and so survive every kill; the SQLite file is the same across restarts.
Afterwards every job must be delivered exactly once (or, if a kill hit mid-create, be 'unknown':
holding its coins, never resubmitted), every coin accounted for, and no task created twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import discord
import pytest

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.runninghub.simulator import CREATE_PATH, Simulator
from tests.drills.support import (
    JOB_LABEL,
    SlowResultAnswers,
    ledger_rows,
    prompt_of,
    result_messages,
)
from tests.fakediscord.model import FakeChannel, FakeMember
from tests.fakediscord.server import FakeDiscord
from tests.harness import BotProcess, process_env
from tests.jobs.conftest import png_bytes
from tests.waiting import eventually

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


def status_message_id(path: Path, job_id: int) -> int | None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT status_message_id FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


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


async def check_books(drill: Drill, states: dict[int, str]) -> None:
    """Delivered jobs charged their cost once and posted once; 'unknown' ones hold it; balances add up."""
    note = drill.note
    unknown = {job_id for job_id, state in states.items() if state == "unknown"}
    delivered = {job_id for job_id, state in states.items() if state == "delivered"}
    assert delivered | unknown == set(states), f"{dict(Counter(states.values()))} {note}"

    posted = result_messages(drill.fake, drill.channel)
    for job_id in delivered:
        count = len(posted.get(job_id, []))
        assert count == 1, f"job #{job_id} was posted {count} times {note}"
        (message,) = posted[job_id]
        assert drill.prompts[job_id] in message.content and f"#{job_id}" in message.content
        assert message.files and message.files[0][1].startswith(b"\x89PNG")
    for job_id in unknown:
        assert job_id not in posted, note

    db = await Database.open(drill.database)
    try:
        assert await check_invariants(db) == [], note
        spent: Counter[int] = Counter()
        held: Counter[int] = Counter()
        for job_id in states:
            rows = await ledger_rows(db, job_id)
            if job_id in delivered:
                assert rows == [("hold", -COST, COST), ("charge", 0, -COST)], f"job #{job_id} {note}"
            else:
                assert rows == [("hold", -COST, COST)], f"job #{job_id} {note}"
                held[drill.owners[job_id]] += COST
            spent[drill.owners[job_id]] += COST
        for member_id in set(drill.owners.values()):
            row = await db.fetchone("SELECT available, held FROM balances WHERE member_id = ?", (member_id,))
            assert row is not None
            assert (row[0], row[1]) == (ALLOWANCE - spent[member_id], held[member_id]), note
    finally:
        await db.close()

    # No task created twice: each prompt reached RunningHub as one task at most (one exactly if delivered).
    for job_id, prompt in drill.prompts.items():
        tasks = drill.tasks_for(prompt)
        assert tasks == 1 if job_id in delivered else tasks <= 1, f"job #{job_id}: {tasks} tasks {note}"


@pytest.mark.slow
@pytest.mark.timeout(200)
async def test_fifty_jobs_survive_twenty_sigkills(drill: Drill) -> None:
    jobs, kills = 50, 20
    rng = random.Random(drill.note)
    # Result posts are answered a little late, so some kills land after Discord took a result
    # but before the bot heard back: the restarted bot must find it instead of posting again.
    SlowResultAnswers(drill.fake, 0.3)

    async def add_job() -> None:
        number = len(drill.prompts)
        prompt = f"drill job {number}: a lighthouse, variant {rng.randrange(10**9)}"
        await drill.submit(drill.members[number % len(drill.members)], prompt)

    first_batch = jobs - 2 * (kills - 1)
    for kill in range(kills):
        bot = await drill.start()
        for _ in range(first_batch if kill == 0 else 2):
            await add_job()
        # A random moment: mid-create, mid-poll, mid-download, mid-post, or idle.
        await asyncio.sleep(rng.uniform(0.0, 2.0))
        await bot.kill()
    assert len(drill.prompts) == jobs

    bot = await drill.start()
    states = await drill.wait_for_states({"delivered", "unknown"})
    await asyncio.sleep(0.5)  # a few more sweeps: nothing may move any more
    health = await drill.health()
    for job_id in sorted(j for j, state in states.items() if state == "unknown")[:15]:
        assert f"#{job_id} (z-image" in health, health  # a moderator sees what needs a decision
    assert await bot.stop() == 0, bot.output[-3000:]
    await check_books(drill, await drill.states())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("status_message", [True, False])
async def test_a_kill_after_discord_took_the_result_does_not_post_it_again(drill: Drill, status_message: bool) -> None:
    slow = SlowResultAnswers(drill.fake, 30)  # the answer never comes before the kill
    drill.fake.nonce_window = 0.0  # as if the restart came after Discord forgot the nonce: only the lookup helps
    bot = await drill.start()
    if not status_message:  # the search for the posted result cannot start from the status message
        drill.fake.inject("POST", r"/channels/\d+/messages", status=503, count=2)
    job_id = await drill.submit(drill.members[0], "one result, posted once")
    await asyncio.wait_for(slow.stored.wait(), 20)
    await bot.kill()  # Discord has the message; the journal still says 'succeeded'
    assert (await drill.states())[job_id] == "succeeded"
    assert (await asyncio.to_thread(status_message_id, drill.database, job_id) is not None) == status_message

    slow.release()
    bot = await drill.start()
    states = await drill.wait_for_states({"delivered"})
    assert await bot.stop() == 0
    assert "found the result message posted before a restart" in bot.output
    await check_books(drill, states)


@pytest.mark.timeout(60)
async def test_a_kill_mid_create_leaves_the_job_unknown_holding_its_coins(drill: Drill) -> None:
    # The create is received but answered late; RunningHub starts the task all the same.
    drill.sim.hang_next(1, path=CREATE_PATH, seconds=1.0)
    bot = await drill.start()
    prompt = "created while the bot died"
    job_id = await drill.submit(drill.members[1], prompt)
    await eventually(lambda: drill.creates_for(prompt) == 1, 20, "the create to reach RunningHub")
    await bot.kill()
    await eventually(lambda: drill.tasks_for(prompt) == 1, 20, "RunningHub to start the task anyway")

    for _ in range(2):  # restarted twice: still never sent again
        bot = await drill.start()
        states = await drill.wait_for_states({"unknown"})
        await asyncio.sleep(1.0)  # many scheduler and poller passes
        health = await drill.health()
        assert f"#{job_id} (z-image" in health, health  # listed for a moderator to check and /cancel
        assert await bot.stop() == 0
    assert drill.creates_for(prompt) == 1 and drill.tasks_for(prompt) == 1
    notices = [m for m in drill.fake.messages(drill.channel) if f"#{job_id}" in m.content and m.mentions]
    assert len(notices) == 1, [m.content for m in notices]  # the member is told once
    await check_books(drill, states)


@pytest.mark.timeout(60)
async def test_a_kill_mid_download_posts_the_result_once_after_the_restart(drill: Drill) -> None:
    drill.sim.set_output_size("image", 200_000)
    drill.sim.slow_downloads(50_000)  # four seconds to fetch the output: the kill lands in the middle
    bot = await drill.start()
    job_id = await drill.submit(drill.members[3], "fetched twice, posted once")
    await eventually(lambda: bool(_file_downloads(drill)), 20, "the output download to start")
    await bot.kill()  # the attempt is recorded, nothing was posted
    assert (await drill.states())[job_id] == "succeeded"

    drill.sim.slow_downloads(None)
    bot = await drill.start()
    states = await drill.wait_for_states({"delivered"})
    assert await bot.stop() == 0
    assert "found the result message posted before a restart" not in bot.output
    assert len(_file_downloads(drill)) >= 2
    await check_books(drill, states)


def _file_downloads(drill: Drill) -> list[object]:
    return [r for r in drill.sim.requests if r.path.startswith("/sim/files/")]


@pytest.mark.timeout(60)
async def test_a_kill_mid_upload_fails_the_job_and_returns_its_coins(drill: Drill) -> None:
    drill.sim.hang_next(1, path="/task/openapi/upload", seconds=30)
    bot = await drill.start()
    member = drill.members[2]
    images = {
        name: drill.fake.host_attachment(png_bytes(color), f"{name}.png", "image/png")
        for name, color in (("image", (200, 10, 10)), ("image2", (10, 10, 200)))
    }
    await drill.fake.invoke(member, drill.channel, "generate", {"workflow": "style-transfer", **images})
    await eventually(lambda: bool(drill.sim.requests_to("/task/openapi/upload")), 20, "the first upload")
    await bot.kill()  # the job is 'preparing': its files were in the dead process's memory
    (job_id,) = (await drill.states()).keys()

    bot = await drill.start()
    await eventually(lambda: _told(drill, member, job_id), 20, "the member to be told")
    assert await bot.stop() == 0
    assert (await drill.states())[job_id] == "failed"
    assert drill.sim.creates() == []
    db = await Database.open(drill.database)
    try:
        assert await check_invariants(db) == []
        assert [kind for kind, _, _ in await ledger_rows(db, job_id)] == ["hold", "release"]
        row = await db.fetchone("SELECT available, held FROM balances WHERE member_id = ?", (member.id,))
        assert row is not None and (row[0], row[1]) == (ALLOWANCE, 0)
    finally:
        await db.close()


def _told(drill: Drill, member: FakeMember, job_id: int) -> bool:
    return any(f"#{job_id}" in m.content and member.id in m.mentions for m in drill.fake.messages(drill.channel))
