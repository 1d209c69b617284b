"""Drills: Discord answering 429 (with Via) and 5xx to the bot's channel posts.

The real bot runs in this process against the fake Discord and the simulator. discord.py waits
out a 429 and retries 500/502 by itself; a 503 it raises at once, and a long enough stretch of
429s makes it give up: then the job service must retry the delivery later. Either way each
result is posted exactly once and charged exactly once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import RHBot
from bot.db.invariants import check_invariants
from bot.jobs.delivery import GIVE_UP_AFTER
from bot.jobs.states import JobState
from bot.runninghub.simulator import Simulator
from tests.drills.support import JOB_LABEL, ledger_rows, result_messages
from tests.fakediscord.model import FakeChannel, FakeMember, RecordedRequest
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import running_bot
from tests.waiting import eventually

POSTS = r"/channels/\d+/messages"
COST = 10  # z-image


@dataclass
class Drill:
    fake: FakeDiscord
    sim: Simulator
    bot: RHBot
    channel: FakeChannel
    members: list[FakeMember]
    moderator: FakeMember

    async def submit(self, prompt: str, member: int = 0) -> int:
        options = {"workflow": "z-image", "prompt": prompt}
        ix = await self.fake.invoke(self.members[member], self.channel, "generate", options)
        text = await ix.reply(timeout=20)
        match = JOB_LABEL.search(text)
        assert match is not None, text
        return int(match[1])

    async def delivered(self, job_id: int) -> bool:
        job = await self.bot.services.journal.get(job_id)
        return job is not None and job.state == JobState.DELIVERED

    def result_posts(self, job_id: int) -> list[RecordedRequest]:
        """Every POST of this job's result message, faulted or not, in order."""
        marker = f"rh:rerun:{job_id}"
        return [r for r in self.fake.requests_to("POST", POSTS) if marker in str((r.json or {}).get("components"))]

    async def check_delivered_once(self, job_id: int, prompt: str) -> None:
        await eventually(lambda: self.delivered(job_id), timeout=30)
        posted = result_messages(self.fake, self.channel).get(job_id, [])
        assert len(posted) == 1
        assert prompt in posted[0].content and posted[0].files[0][1].startswith(b"\x89PNG")
        assert [r.status for r in self.result_posts(job_id)].count(200) == 1
        assert await ledger_rows(self.bot.services.db, job_id) == [("hold", -COST, COST), ("charge", 0, -COST)]
        assert await check_invariants(self.bot.services.db) == []


@pytest.fixture
async def drill(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[Drill]:  # noqa: F811
    sim = Simulator(queue_seconds=0.1, run_seconds=0.3, concurrency=2)
    await sim.start()
    guild = fake_discord.add_guild("Drill")
    channel = guild.add_channel("generate")
    members = [guild.add_member(f"painter{n}") for n in range(4)]
    moderator = guild.add_member("moderator", permissions=discord.Permissions(manage_guild=True))
    env = {"DISCORD_GUILD_ID": str(guild.id), "RUNNINGHUB_CONCURRENCY": "2", "POLL_INTERVAL": "0.05"}
    try:
        async with running_bot(fake_discord, tmp_path=tmp_path, simulator=sim, env=env) as bot:
            yield Drill(fake_discord, sim, bot, channel, members, moderator)
    finally:
        await sim.stop()


async def test_429s_on_the_result_post_are_waited_out(drill: Drill) -> None:
    job_id = await drill.submit("rate limited")
    drill.fake.inject("POST", POSTS, status=429, count=3, retry_after=0.1)  # after the status message
    await drill.check_delivered_once(job_id, "rate limited")
    assert [r.status for r in drill.result_posts(job_id)] == [429, 429, 429, 200]
    job = await drill.bot.services.journal.get(job_id)
    assert job is not None and job.delivery_attempts == 1  # all within the first attempt


@pytest.mark.parametrize("status", [500, 502])
async def test_500_and_502_on_the_result_post_are_retried(drill: Drill, status: int) -> None:
    job_id = await drill.submit(f"server error {status}")
    drill.fake.inject("POST", POSTS, status=status, count=1)
    await drill.check_delivered_once(job_id, f"server error {status}")
    assert [r.status for r in drill.result_posts(job_id)] == [status, 200]


@pytest.mark.parametrize(("status", "via"), [(503, True), (429, False)])  # 429 without Via: a Cloudflare ban
async def test_an_error_raised_at_once_fails_the_attempt_and_the_delivery_is_retried_later(
    drill: Drill, status: int, via: bool
) -> None:
    job_id = await drill.submit("unavailable")
    drill.fake.inject("POST", POSTS, status=status, count=1, via=via)
    await eventually(lambda: bool(drill.result_posts(job_id)), 20, "the first result post")
    job = await drill.bot.services.journal.get(job_id)
    assert job is not None and job.state == "succeeded"  # charged, waiting for its next attempt
    await drill.check_delivered_once(job_id, "unavailable")
    assert [r.status for r in drill.result_posts(job_id)] == [status, 200]
    # Posted again under the same nonce: had the first gone through after all, Discord would
    # hand that message back instead of posting a second one.
    first, second = drill.result_posts(job_id)
    assert first.json["nonce"] == second.json["nonce"]


async def test_a_long_stretch_of_errors_fails_several_attempts_then_delivers_once(drill: Drill) -> None:
    drill.bot.services.jobs.delivery.retry_base = 0.3  # production waits 5 s, 10 s...
    job_id = await drill.submit("a long stretch")
    # discord.py gives up after five 429s; then a 503 (raised at once); then a 502 it retries itself.
    drill.fake.inject("POST", POSTS, status=429, count=5, retry_after=0.05)
    drill.fake.inject("POST", POSTS, status=503, count=1)
    drill.fake.inject("POST", POSTS, status=502, count=1)
    await drill.check_delivered_once(job_id, "a long stretch")
    assert [r.status for r in drill.result_posts(job_id)] == [429] * 5 + [503, 502, 200]


async def test_several_jobs_through_a_stretch_of_errors_are_each_delivered_once(drill: Drill) -> None:
    drill.bot.services.jobs.delivery.retry_base = 0.3
    prompts = [f"batch {n}" for n in range(4)]
    jobs = [await drill.submit(prompt, member=n) for n, prompt in enumerate(prompts)]
    drill.fake.inject("POST", POSTS, status=503, count=3)
    drill.fake.inject("POST", POSTS, status=429, count=6, retry_after=0.05)
    drill.fake.inject("POST", POSTS, status=500, count=1)
    for job_id, prompt in zip(jobs, prompts, strict=True):
        await drill.check_delivered_once(job_id, prompt)
    assert len(result_messages(drill.fake, drill.channel)) == len(jobs)


@pytest.mark.parametrize("count", [1, 3])
async def test_503s_on_the_status_message_do_not_stop_the_job(drill: Drill, count: int) -> None:
    drill.fake.inject("POST", POSTS, status=503, count=count)  # the status message is the first post
    job_id = await drill.submit("status trouble")
    await drill.check_delivered_once(job_id, "status trouble")
    statuses = [m for m in drill.fake.messages(drill.channel) if f"#{job_id}" in m.content and not m.custom_ids]
    assert len(statuses) <= 1  # posted once or not at all, never twice


async def test_an_outage_longer_than_the_retries_leaves_the_job_for_resend(drill: Drill) -> None:
    drill.bot.services.jobs.delivery.retry_base = 0.01
    job_id = await drill.submit("a long outage")
    drill.fake.inject("POST", POSTS, status=503, count=1000)

    async def given_up() -> bool:
        job = await drill.bot.services.journal.get(job_id)
        return job is not None and job.next_delivery_at > time.time() + 86400

    await eventually(given_up, timeout=30)
    job = await drill.bot.services.journal.get(job_id)
    assert job is not None and job.state == JobState.SUCCEEDED
    assert [r.status for r in drill.result_posts(job_id)] == [503] * GIVE_UP_AFTER  # then it stopped trying
    health = await (await drill.fake.invoke(drill.moderator, drill.channel, "health")).reply(timeout=20)
    assert f"#{job_id} (z-image" in health  # listed as finished but not delivered

    drill.fake.clear_faults()  # Discord is back; the member asks for the result
    ix = await drill.fake.invoke(drill.members[0], drill.channel, "resend", {"job": job_id})
    await ix.reply(timeout=20)
    await drill.check_delivered_once(job_id, "a long outage")


async def test_a_retried_delivery_never_takes_an_older_deployments_message_for_its_own(
    fake_discord: FakeDiscord, tmp_path: Path  # noqa: F811
) -> None:
    guild = fake_discord.add_guild("Drill")
    channel = guild.add_channel("generate")
    member = guild.add_member("painter")
    env = {"DISCORD_GUILD_ID": str(guild.id), "POLL_INTERVAL": "0.05"}
    async with Simulator(queue_seconds=0.05, run_seconds=0.1) as sim:
        for deployment in ("first", "second"):  # the same bot account, a fresh database: job numbers restart
            async with running_bot(fake_discord, tmp_path=tmp_path / deployment, simulator=sim, env=env) as bot:
                drill = Drill(fake_discord, sim, bot, channel, [member], member)
                assert bot.services.jobs is not None
                bot.services.jobs.delivery.retry_base = 0.1
                if deployment == "second":
                    # Discord trouble: the status post fails (twice: it is retried once), then the result post.
                    fake_discord.inject("POST", POSTS, status=503, count=3)
                job_id = await drill.submit(f"{deployment} deployment")
                assert job_id == 1
                await eventually(lambda drill=drill: drill.delivered(1), timeout=20)
    results = [m for m in fake_discord.messages(channel) if "rh:rerun:1" in m.custom_ids]
    assert [m.content.splitlines()[1] for m in results] == ["> first deployment", "> second deployment"]
