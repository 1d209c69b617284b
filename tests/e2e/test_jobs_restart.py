"""Jobs across restarts: `python -m bot run` in subprocesses, killed and started again.

The fake Discord and the RunningHub simulator run in this test process, so both outlive the bot;
the two bot processes share one SQLite file. Their whole output (at DEBUG) is checked for the
bot token and the API key.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.runninghub.simulator import Simulator
from bot.texts import t
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeMember, FakeMessage
from tests.fakediscord.server import FakeDiscord
from tests.harness import BotProcess, bot_env

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GxYzAb.restart-test-bot-token-value-0123456789"
API_KEY = "5f0e1d2c3b4a59687766554433221100"
ALLOWANCE = 100


async def until(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@dataclass
class Scene:
    fake: FakeDiscord
    sim: Simulator
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember
    bob: FakeMember
    env: dict[str, str]
    folder: Path
    processes: list[BotProcess] = field(default_factory=list)

    @property
    def db_path(self) -> Path:
        return Path(self.env["DATABASE_PATH"])

    async def start_bot(self) -> BotProcess:
        # The previous process's gateway connection must be gone, so interactions reach the new one.
        await until(lambda: not self.fake.connected, what="the old gateway connection to close")
        process = BotProcess(self.env, self.folder)
        self.processes.append(process)
        try:
            await self.fake.wait_until_connected(timeout=30)
        except TimeoutError:
            raise AssertionError(f"the bot did not connect:\n{process.output[-3000:]}") from None
        return process

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the bot's SQLite file from this process (WAL: readers never block the bot)."""
        if not self.db_path.exists():
            return []
        with sqlite3.connect(self.db_path, timeout=10) as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]

    def state(self, job_id: int) -> str | None:
        found = self.rows("SELECT state FROM jobs WHERE id = ?", (job_id,))
        return found[0][0] if found else None

    def balance(self, member: FakeMember) -> tuple[int, int]:
        (row,) = self.rows(
            "SELECT available, held FROM balances WHERE guild_id = ? AND member_id = ?", (self.guild.id, member.id)
        )
        return int(row[0]), int(row[1])

    def ledger_kinds(self, job_id: int) -> list[str]:
        return [r[0] for r in self.rows("SELECT kind FROM ledger WHERE job_id = ? ORDER BY id", (job_id,))]

    def results(self, job_id: int) -> list[FakeMessage]:
        return [m for m in self.fake.messages(self.channel) if f"rh:rerun:{job_id}" in m.custom_ids]

    async def generate(self, member: FakeMember, prompt: str) -> int:
        ix = await self.fake.invoke(member, self.channel, "generate", {"workflow": "z-image", "prompt": prompt})
        text = await ix.reply(timeout=30)
        assert ix.ack_latency is not None and ix.ack_latency < 3.0
        assert ix.ephemeral is True
        found = re.match(r"Job #(\d+) ", text)
        assert found, text
        return int(found[1])

    async def books_balance(self) -> None:
        db = await Database.open(self.db_path)
        try:
            assert await check_invariants(db) == []
        finally:
            await db.close()

    def assert_no_secrets(self) -> None:
        for process in self.processes:
            assert process.lines, "the bot's output was not captured"
            assert TOKEN not in process.output and API_KEY not in process.output
            assert "Traceback" not in process.output
        for message in self.fake.messages(self.channel, interactions=True):
            assert TOKEN not in message.content and API_KEY not in message.content


@pytest.fixture
def sim_options() -> dict[str, object]:
    return {"queue_seconds": 0.1, "run_seconds": 0.2}


@pytest.fixture
async def scene(tmp_path: Path, sim_options: dict[str, object]) -> AsyncIterator[Scene]:
    fake = FakeDiscord(token=TOKEN)
    sim = Simulator(api_key=API_KEY, **sim_options)  # type: ignore[arg-type]
    await fake.start()
    await sim.start()
    guild = fake.add_guild("Art Club", locale="en-US")
    channel = guild.add_channel("general")
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    env = bot_env(
        token=TOKEN,
        tmp_path=tmp_path,
        runninghub_url=sim.base_url,
        runninghub_key=API_KEY,
        DISCORD_GUILD_ID=str(guild.id),
        DEFAULT_ALLOWANCE=str(ALLOWANCE),
        POLL_INTERVAL="0.05",
        LOG_LEVEL="DEBUG",
        FAKE_DISCORD_API_BASE=fake.api_base,
        FAKE_DISCORD_GATEWAY=fake.gateway_url,
    )
    built = Scene(fake, sim, guild, channel, alice, bob, env, tmp_path)
    try:
        yield built
    finally:
        for process in built.processes:
            if process.process.poll() is None:
                await process.kill()
        await sim.stop()
        await fake.stop()
    assert fake.errors == []


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.1, "run_seconds": 1.5}])
async def test_killed_while_the_task_runs_it_is_delivered_and_charged_exactly_once(
    scene: Scene, sim_options: dict
) -> None:
    first = await scene.start_bot()
    job_id = await scene.generate(scene.alice, "survive the crash")
    await until(lambda: scene.state(job_id) == "running", what="the task to run")
    (task,) = scene.sim.tasks.values()
    assert task.state == "RUNNING"

    assert await first.kill() == -signal.SIGKILL
    assert scene.results(job_id) == []  # nothing was delivered before the crash

    second = await scene.start_bot()
    await until(lambda: scene.state(job_id) == "delivered", what="the job to be delivered")
    await asyncio.sleep(0.5)  # many more sweeps: still one post
    assert await second.stop() == 0

    (result,) = scene.results(job_id)
    assert [data for _, data in result.files] == list(task.files.values())
    assert result.mentions == [scene.alice.id]
    assert len(scene.sim.creates()) == 1  # resumed, never resubmitted
    assert scene.ledger_kinds(job_id) == ["hold", "charge"]
    assert scene.balance(scene.alice) == (ALLOWANCE - 10, 0)
    # The status message the first process posted was finished by the second, in place.
    ((status_id, result_id),) = scene.rows("SELECT status_message_id, result_message_id FROM jobs")
    assert result_id == result.id
    status = scene.fake.message(status_id)
    assert status.content.startswith("✅") and len([m for m in scene.fake.messages(scene.channel)]) == 2
    await scene.books_balance()
    scene.assert_no_secrets()


async def test_the_buttons_of_a_result_work_after_a_restart(scene: Scene) -> None:
    first = await scene.start_bot()
    job_id = await scene.generate(scene.alice, "a lighthouse")
    await until(lambda: scene.state(job_id) == "delivered", what="the first job to be delivered")
    (result,) = scene.results(job_id)
    assert await first.stop() == 0

    await scene.start_bot()
    # Delete is for the member who ran the job (or a moderator): bob is refused.
    refused = await scene.fake.click(scene.bob, result, f"rh:delete:{job_id}")
    assert await refused.reply(timeout=30) == t("job.error.not_yours", "en", job=f"#{job_id}")
    assert refused.ephemeral is True and not scene.fake.message(result.id).deleted

    # "Run again", pressed by bob on the old message, is a new job for bob.
    click = await scene.fake.click(scene.bob, result, f"rh:rerun:{job_id}")
    answer = await click.reply(timeout=30)
    assert click.ack_latency is not None and click.ack_latency < 3.0 and click.ephemeral is True
    found = re.match(r"Job #(\d+) ", answer)
    assert found, answer
    rerun = int(found[1])
    await until(lambda: scene.state(rerun) == "delivered", what="the re-run to be delivered")
    (again,) = scene.results(rerun)
    assert again.mentions == [scene.bob.id]
    tasks = list(scene.sim.tasks.values())
    assert [data for _, data in again.files] == list(tasks[1].files.values())
    first_nodes, second_nodes = ([n for n in c.json["nodeInfoList"] if n["fieldName"] != "seed"]
                                 for c in scene.sim.creates())
    assert first_nodes == second_nodes  # the same inputs; the seed the bot drew is drawn again

    # The owner may delete their result.
    deleted = await scene.fake.click(scene.alice, result, f"rh:delete:{job_id}")
    await deleted.acked(timeout=30)
    await until(lambda: scene.fake.message(result.id).deleted, what="the result to be deleted")

    assert await scene.processes[-1].stop() == 0
    assert scene.balance(scene.alice) == (ALLOWANCE - 10, 0)
    assert scene.balance(scene.bob) == (ALLOWANCE - 10, 0)
    assert scene.ledger_kinds(rerun) == ["hold", "charge"]
    await scene.books_balance()
    scene.assert_no_secrets()
