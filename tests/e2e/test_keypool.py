"""A pool of two RunningHub keys, end to end: /generate through the loopback Discord, the bot's
scheduler and poller, and the simulator, which keeps one account per key and records the key of
every request it receives."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import RHBot
from bot.runninghub.simulator import CREATE_PATH, Simulator
from bot.texts import t
from tests.fakediscord.model import FakeChannel, FakeGuild, FakeMember
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import running_bot
from tests.samples import png_bytes
from tests.waiting import eventually

KEY_A = "poolkeyA" + "0" * 20 + "AAA1"  # 32 letters and digits, like RunningHub's keys
KEY_B = "poolkeyB" + "0" * 20 + "BBB2"
UPLOAD = "/task/openapi/upload"
OUTPUTS = "/task/openapi/outputs"


@dataclass
class Pool:
    fake: FakeDiscord
    sim: Simulator
    bot: RHBot
    guild: FakeGuild
    channel: FakeChannel
    members: list[FakeMember]
    mod: FakeMember

    async def generate(self, member: FakeMember, color: tuple[int, int, int]) -> int:
        image = self.fake.host_attachment(png_bytes(color), "photo.png", "image/png")
        ix = await self.fake.invoke(member, self.channel, "generate", {"workflow": "upscale", "image": image})
        match = re.search(r"#(\d+)", await ix.reply())
        assert match is not None
        return int(match[1])

    async def delivered(self, job_id: int) -> bool:
        job = await self.bot.services.journal.get(job_id)
        return job is not None and job.state == "delivered"


@pytest.fixture
async def pool(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[Pool]:  # noqa: F811
    guild = fake_discord.add_guild("Pooled", locale="en-US")
    channel = guild.add_channel("general")
    members = [guild.add_member(f"member{i}") for i in range(4)]
    mod = guild.add_member("mod", permissions=discord.Permissions(manage_guild=True))
    sim = Simulator(keys=[KEY_A, KEY_B], queue_seconds=0.02, run_seconds=0.4, concurrency=1)
    await sim.start()
    env = {"DISCORD_GUILD_ID": str(guild.id), "DEFAULT_ALLOWANCE": "100",
           "RUNNINGHUB_API_KEY": f"{KEY_A},{KEY_B}", "RUNNINGHUB_CONCURRENCY": "1"}
    try:
        async with running_bot(fake_discord, tmp_path=tmp_path, simulator=sim, env=env) as bot:
            yield Pool(fake_discord, sim, bot, guild, channel, members, mod)
    finally:
        await sim.stop()


async def test_two_keys_of_one_slot_run_four_jobs_two_at_a_time_each_task_on_its_own_key(pool: Pool) -> None:
    sim = pool.sim
    seen: list[tuple[int, int]] = []
    sampling = True

    async def sample() -> None:
        while sampling:
            seen.append((sim.active_count(KEY_A), sim.active_count(KEY_B)))
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    jobs = [await pool.generate(member, (40 * i, 90, 10)) for i, member in enumerate(pool.members)]
    for job_id in jobs:
        await eventually(lambda job_id=job_id: pool.delivered(job_id), 30, f"job #{job_id} to be delivered")
    sampling = False
    await sampler

    assert (1, 1) in seen  # two at a time: one on each key
    assert all(a <= 1 and b <= 1 for a, b in seen)  # never two on one key
    assert sim.account(KEY_A).max_concurrent_seen == 1 and sim.account(KEY_B).max_concurrent_seen == 1
    assert sim.max_concurrent_seen == 2
    assert sorted(task.api_key for task in sim.tasks.values()) == [KEY_A, KEY_A, KEY_B, KEY_B]
    for job_id in jobs:
        job = await pool.bot.services.journal.get(job_id)
        assert job is not None and job.task_id is not None
        task = sim.tasks[job.task_id]
        key = task.api_key  # the key that created the task
        # Its file was uploaded with that key: the name in the task is one that key's upload returned.
        file_name = next(n["fieldValue"] for n in task.node_info_list if n["fieldName"] == "image")
        assert file_name in job.inputs["uploads"].values()
        assert key in sim.upload_keys[file_name]  # uploaded with the key that created the task
        # Every poll of the task was made with its own key.
        polls = [r for r in sim.requests_to(OUTPUTS) if (r.json or {}).get("taskId") == job.task_id]
        assert polls and {r.api_key for r in polls} == {key}


async def test_a_key_answering_802_leaves_the_pool_and_its_queued_jobs_run_on_the_other(pool: Pool) -> None:
    sim = pool.sim
    modlog = pool.guild.add_channel("mod-log")
    ix = await pool.fake.invoke(pool.mod, pool.channel, "settings", {"channel": modlog}, subcommand="modlog")
    await ix.reply()
    sim.revoke_key(KEY_A)  # RunningHub now answers 802 to every request made with it
    jobs = [await pool.generate(member, (10, 40 * i, 200)) for i, member in enumerate(pool.members[:3])]
    for job_id in jobs:
        await eventually(lambda job_id=job_id: pool.delivered(job_id), 30, f"job #{job_id} to be delivered")
    assert sim.creates() and all(r.api_key == KEY_B for r in sim.creates())
    assert {sim.tasks[task].api_key for task in sim.tasks} == {KEY_B}
    refused = [r for r in sim.requests if r.api_key == KEY_A and r.path in (UPLOAD, CREATE_PATH)]
    assert len(refused) == 1  # asked once; then the key was out of the pool
    (key_a, key_b) = pool.bot.services.jobs.pool.keys
    assert not key_a.active and key_b.active

    ix = await pool.fake.invoke(pool.mod, pool.channel, "health")
    report = await ix.reply()
    assert t("health.key_removed", "en", key="…AAA1", reason=t("job.reason.account", "en")) in report

    # The moderators were told, once, in the modlog: the key by its last four characters only.
    (notice,) = [m for m in pool.fake.messages(modlog) if "AAA1" in m.content]
    assert notice.content == t("keypool.removed", "en", key="…AAA1", reason=t("job.reason.account", "en"))
    assert KEY_A not in notice.content and KEY_A[:-4] not in notice.content
    assert notice.mentions == [] and notice.mention_roles == [] and notice.mention_everyone is False


async def test_health_shows_each_key_by_its_last_four_characters_only(pool: Pool) -> None:
    ix = await pool.fake.invoke(pool.mod, pool.channel, "health")
    report = await ix.reply()
    for key in (KEY_A, KEY_B):
        coins = f"{pool.sim.account(key).remain_coins:,}"
        line = t("health.key", "en", key="…" + key[-4:], coins=coins, running=0, used=0, limit=1, api_type="NORMAL")
        assert line in report
        assert key[-5:] not in report  # nothing of a key beyond its last 4 characters
    assert t("health.queue", "en", waiting=0, active=0, limit=2) in report
