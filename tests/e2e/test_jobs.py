"""Jobs end to end: /generate to results in the channel, through the real discord.py client.

The bot runs in this process against the loopback fake Discord and the RunningHub simulator.
Every test checks what reached Discord (bytes, mentions, edits), what the simulator received
(uploads, creates, cancels), the rows in the SQLite file, and that the books balance.
The restart and process tests are in test_jobs_restart.py.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import RHBot
from bot.db.invariants import check_invariants
from bot.jobs.delivery import delivery_nonce
from bot.runninghub.simulator import CREATE_PATH, Simulator
from bot.texts import t
from tests.fakediscord.model import (
    MIB,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
)
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import running_bot
from tests.samples import png_bytes, wav_bytes
from tests.waiting import eventually

MANAGE_GUILD = discord.Permissions(manage_guild=True)
ALLOWANCE = 100
OUTPUTS = "/task/openapi/outputs"
UPLOAD = "/task/openapi/upload"
CHANNEL_POSTS = r"/channels/\d+/messages"
# Long enough to inject a Discord fault after the task started and before its result is posted.
RUNS_A_WHILE = {"queue_seconds": 0.05, "run_seconds": 0.5, "concurrency": 1}



@dataclass
class World:
    fake: FakeDiscord
    sim: Simulator
    bot: RHBot
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember
    bob: FakeMember
    carol: FakeMember
    mod: FakeMember

    # ---- driving the bot

    async def command(
        self, member: FakeMember, name: str, options: dict[str, object] | None = None
    ) -> tuple[str, FakeInteraction]:
        """Run a slash command; its one ephemeral answer and the interaction (acked within 3 s)."""
        ix = await self.fake.invoke(member, self.channel, name, options or {})
        text = await ix.reply()
        assert ix.ack_latency is not None and ix.ack_latency < 3.0  # Discord's hard limit
        assert ix.ephemeral is True, f"/{name} answered publicly"
        assert not ix.rejected, ix.rejected
        return text, ix

    async def generate(self, member: FakeMember, workflow: str = "z-image", **options: object) -> tuple[str, int]:
        """/generate that is accepted: the answer and the new job's id."""
        text, _ = await self.command(member, "generate", {"workflow": workflow, **options})
        found = re.match(r"Job #(\d+) ", text)
        assert found, text
        return text, int(found[1])

    def attach(self, data: bytes, filename: str, *, size: int | None = None) -> FakeAttachment:
        return self.fake.host_attachment(data, filename, size=size)

    # ---- reading the outcome

    async def state(self, job_id: int) -> str:
        row = await self.bot.services.db.fetchone("SELECT state FROM jobs WHERE id = ?", (job_id,))
        assert row is not None, f"no job #{job_id}"
        return str(row[0])

    async def wait_state(self, job_id: int, *states: str, timeout: float = 15) -> None:  # noqa: ASYNC109
        async def reached() -> bool:
            return await self.state(job_id) in states

        await eventually(reached, timeout)

    async def job(self, job_id: int) -> dict[str, object]:
        row = await self.bot.services.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        assert row is not None
        return dict(row)

    async def balance(self, member: FakeMember) -> tuple[int, int] | None:
        """(available, held) as stored; None when the member has no balance row yet."""
        row = await self.bot.services.db.fetchone(
            "SELECT available, held FROM balances WHERE guild_id = ? AND member_id = ?", (self.guild.id, member.id)
        )
        return None if row is None else (int(row[0]), int(row[1]))

    async def ledger(self, member: FakeMember) -> list[tuple[object, ...]]:
        """The member's rows: (kind, amount, held_change, job_id), oldest first."""
        rows = await self.bot.services.db.fetchall(
            "SELECT kind, amount, held_change, job_id FROM ledger WHERE guild_id = ? AND member_id = ? ORDER BY id",
            (self.guild.id, member.id),
        )
        return [tuple(r) for r in rows]

    async def count(self, table: str) -> int:
        row = await self.bot.services.db.fetchone(f"SELECT COUNT(*) FROM {table}")
        return int(row[0]) if row else 0

    def results(self, job_id: int) -> list[FakeMessage]:
        """Result messages of a job (the ones carrying its buttons), deleted ones included."""
        return [m for m in self.fake.messages(self.channel) if f"rh:rerun:{job_id}" in m.custom_ids]

    async def wait_result(self, job_id: int, timeout: float = 15) -> FakeMessage:  # noqa: ASYNC109
        return await self.fake.wait_for_message(
            self.channel, lambda m: f"rh:rerun:{job_id}" in m.custom_ids, timeout=timeout
        )

    async def status_message(self, job_id: int) -> FakeMessage:
        job = await self.job(job_id)
        assert job["status_message_id"] is not None, f"job #{job_id} has no status message"
        return self.fake.message(int(job["status_message_id"]))  # type: ignore[arg-type]

    def notices(self, job_id: int) -> list[FakeMessage]:
        return [
            m for m in self.fake.messages(self.channel)
            if f"#{job_id} (" in m.content and not m.custom_ids and not m.edits
        ]

    def output_bytes(self, task_index: int = 0) -> list[bytes]:
        """The files the simulator produced for its n-th task."""
        task = list(self.sim.tasks.values())[task_index]
        return list(task.files.values())

    async def books_balance(self) -> None:
        assert await check_invariants(self.bot.services.db) == []


@pytest.fixture
def sim_options() -> dict[str, object]:
    return {"queue_seconds": 0.05, "run_seconds": 0.15, "concurrency": 1}


@pytest.fixture
async def world(
    fake_discord: FakeDiscord,  # noqa: F811
    tmp_path: Path,
    sim_options: dict[str, object],
) -> AsyncIterator[World]:
    guild = fake_discord.add_guild("Art Club", locale="en-US")
    channel = guild.add_channel("general")
    members = {
        "alice": guild.add_member("alice"),
        "bob": guild.add_member("bob"),
        "carol": guild.add_member("carol"),
        "mod": guild.add_member("mod", permissions=MANAGE_GUILD),
    }
    sim = Simulator(**sim_options)  # type: ignore[arg-type]
    await sim.start()
    env = {"DISCORD_GUILD_ID": str(guild.id), "DEFAULT_ALLOWANCE": str(ALLOWANCE)}
    try:
        async with running_bot(fake_discord, tmp_path=tmp_path, simulator=sim, env=env) as bot:
            assert bot.services.jobs is not None
            yield World(fake=fake_discord, sim=sim, bot=bot, guild=guild, channel=channel, **members)
    finally:
        await sim.stop()


def fast_retries(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorten the RunningHub client's retry backoff (its defaults are for the real service)."""
    monkeypatch.setattr(world.bot.services.runninghub, "_backoff_base", 0.01)
    monkeypatch.setattr(world.bot.services.runninghub, "_backoff_cap", 0.05)


# ---- the happy paths ------------------------------------------------------------------------------


async def test_text_to_image_posts_the_png_mentions_the_member_and_charges_the_cost(world: World) -> None:
    text, job_id = await world.generate(world.alice, prompt="a cat")
    assert text == t("progress.ok.queued", "en", job=f"#{job_id}", alias="z-image", position=1, coins=10,
                     balance=ALLOWANCE - 10)

    result = await world.wait_result(job_id)
    await world.wait_state(job_id, "delivered")
    # The simulator's PNG, byte for byte, with the requester mentioned (and pinged).
    assert [data for _, data in result.files] == world.output_bytes(0)
    assert result.files[0][0] == f"z-image-{job_id}-1.png" and result.files[0][1].startswith(b"\x89PNG")
    assert result.content.startswith(f"{world.alice.mention} **z-image** #{job_id}")
    assert "> a cat" in result.content
    assert result.mentions == [world.alice.id]
    assert result.custom_ids == [f"rh:rerun:{job_id}", f"rh:edit:{job_id}", f"rh:details:{job_id}",
                                 f"rh:delete:{job_id}"]
    job = await world.bot.services.journal.get(job_id)
    assert job is not None and result.nonce == delivery_nonce(job) + "p1"  # the same on every retry
    # RunningHub got the prompt on node 6, once.
    (create,) = world.sim.creates()
    assert {"nodeId": "6", "fieldName": "text", "fieldValue": "a cat"} in create.json["nodeInfoList"]
    # Charged once: the hold became the charge.
    assert await world.balance(world.alice) == (ALLOWANCE - 10, 0)
    assert await world.ledger(world.alice) == [
        ("refill", ALLOWANCE, 0, None),
        ("hold", -10, 10, job_id),
        ("charge", 0, -10, job_id),
    ]
    row = await world.job(job_id)
    assert row["result_message_id"] == result.id and row["consume_coins"] == world.sim.task_cost
    await world.books_balance()


async def test_the_status_message_is_edited_in_place_and_never_pings(world: World) -> None:
    _, job_id = await world.generate(world.alice, prompt="a fox")
    await world.wait_result(job_id)
    await world.wait_state(job_id, "delivered")
    status = await world.status_message(job_id)
    done = f"✅ **z-image** #{job_id} for {world.alice.mention}: done in "
    await eventually(lambda: _is(status.content.startswith(done) and status.content.endswith(", 10 coins")))
    versions = [v.content for v in status.versions]
    assert versions[0].startswith("⏳") and "waiting for a free slot" in versions[0]
    # Edited only when the text changed (steps in between may be coalesced into one edit).
    assert all(a != b for a, b in itertools.pairwise(versions))
    assert status.mentions == [] and not status.mention_everyone
    # Exactly two public messages: the status (edited, never reposted) and the result.
    assert len(world.fake.messages(world.channel)) == 2


async def _is(value: bool) -> bool:
    return value


async def test_style_transfer_uploads_both_images_and_fills_nodes_21_and_24(world: World) -> None:
    source, style = png_bytes((255, 0, 0)), png_bytes((0, 0, 255))
    _, job_id = await world.generate(
        world.bob, "style-transfer", image=world.attach(source, "photo.png"), image2=world.attach(style, "style.png")
    )
    result = await world.wait_result(job_id)
    names = {data: name for name, data in world.sim.uploads.items()}
    assert set(names) == {source, style}
    (create,) = world.sim.creates()
    nodes = create.json["nodeInfoList"]
    assert {"nodeId": "21", "fieldName": "image", "fieldValue": names[source]} in nodes
    assert {"nodeId": "24", "fieldName": "image", "fieldValue": names[style]} in nodes
    assert [data for _, data in result.files] == world.output_bytes(0)
    await world.wait_state(job_id, "delivered")
    assert await world.balance(world.bob) == (ALLOWANCE - 20, 0)
    await world.books_balance()


async def test_the_result_pings_only_the_requester_whatever_the_prompt_says(world: World) -> None:
    prompt = f"@everyone @here look {world.bob.mention} <@&{world.guild.id}>"
    _, job_id = await world.generate(world.alice, prompt=prompt)
    result = await world.wait_result(job_id)
    assert prompt in result.content  # echoed as written...
    assert result.mentions == [world.alice.id]  # ...but only the requester is pinged
    assert result.mention_roles == [] and result.mention_everyone is False
    for message in world.fake.messages(world.channel):
        assert world.bob.id not in message.mentions and not message.mention_everyone


# ---- failures ---------------------------------------------------------------------------------------


async def test_a_failing_task_is_explained_and_its_coins_come_back(world: World) -> None:
    world.sim.fail_next_task({
        "node_id": "3", "node_name": "KSampler", "exception_type": "torch.OutOfMemoryError",
        "exception_message": "Allocation on device 0 would exceed allowed memory.",
        "traceback": '["  File \\"/workspace/ComfyUI/execution.py\\", line 496"]',
    })
    _, job_id = await world.generate(world.alice, prompt="too big")
    await world.wait_state(job_id, "failed")
    notice = await world.fake.wait_for_message(world.channel, lambda m: m.content.startswith(world.alice.mention))
    assert f"job #{job_id}" in notice.content and "your 10 coins were returned" in notice.content
    assert "Node 3 (KSampler) failed: torch.OutOfMemoryError" in notice.content
    assert "execution.py" not in notice.content and "Traceback" not in notice.content
    assert notice.mentions == [world.alice.id]
    status = await world.status_message(job_id)
    await eventually(lambda: _is(status.content.startswith("❌")))
    assert world.results(job_id) == []
    assert await world.balance(world.alice) == (ALLOWANCE, 0)
    assert [row[0] for row in await world.ledger(world.alice)] == ["refill", "hold", "release"]
    await world.books_balance()


MEMBER_FILE = b"Just some notes I wrote, definitely not a picture.\n" * 4


@pytest.mark.parametrize(
    "case",
    ["text file as image", "31 MB attachment", "unknown alias", "missing image", "param out of range",
     "not enough coins"],
)
async def test_each_bad_input_gets_one_refusal_and_changes_nothing(world: World, case: str) -> None:
    options: dict[str, object]
    if case == "text file as image":
        options = {"workflow": "upscale", "image": world.attach(MEMBER_FILE, "cat.png")}
        expected = t("workflow.file_unknown_image", "en", filename="cat.png", option="image")
    elif case == "31 MB attachment":
        huge = world.attach(png_bytes(), "huge.png", size=31 * MIB)
        options = {"workflow": "upscale", "image": huge}
        expected = t("workflow.file_too_large", "en", filename="huge.png", size_mb="31.0", limit_mb=30)
    elif case == "unknown alias":
        options = {"workflow": "no-such-thing", "prompt": "a cat"}
        expected = "There is no workflow named 'no-such-thing'; available: "
    elif case == "missing image":
        options = {"workflow": "style-transfer", "image": world.attach(png_bytes(), "photo.png")}
        expected = t("workflow.input_missing", "en", alias="style-transfer", option="image2")
    elif case == "param out of range":
        options = {"workflow": "z-image", "prompt": "a cat", "params": "steps=99"}
        expected = t("workflow.param_too_large", "en", name="steps", maximum="60", value="99")
    else:
        set_ix = await world.fake.invoke(world.mod, world.channel, "quota", {"member": world.alice, "amount": 5},
                                         subcommand="set")
        await set_ix.reply()
        options = {"workflow": "z-image", "prompt": "a cat"}
        expected = t("coins.insufficient", "en", needed=10, available=5)
    before = (await world.balance(world.alice), await world.count("ledger"))

    text, ix = await world.command(world.alice, "generate", options)

    assert text.startswith(expected) if case == "unknown alias" else text == expected
    assert [r.action for r in ix.responses] == ["callback", "followup"]  # one answer, after the deferral
    assert (await world.balance(world.alice), await world.count("ledger")) == before
    assert await world.count("jobs") == 0
    assert world.sim.creates() == [] and world.sim.requests_to(UPLOAD) == [] and world.sim.uploads == {}
    assert world.fake.messages(world.channel) == []  # nothing public
    if case == "31 MB attachment":
        assert options["image"].downloads == 0  # type: ignore[union-attr]  # refused before downloading
    await world.books_balance()


async def test_a_channel_where_the_bot_cannot_post_files_is_refused_before_anything_moves(world: World) -> None:
    locked = world.guild.add_channel("no-files", bot_permissions=discord.Permissions(view_channel=True,
                                                                                      send_messages=True))
    ix = await world.fake.invoke(world.alice, locked, "generate", {"workflow": "z-image", "prompt": "a cat"})
    assert await ix.reply() == t("job.error.cannot_post", "en")
    assert ix.ephemeral is True
    assert await world.count("jobs") == 0 and await world.count("ledger") == 0
    assert world.sim.requests == [] and world.fake.messages(locked) == []


async def test_an_upload_runninghub_refuses_fails_the_job_with_one_notice_and_the_hold_comes_back(
    world: World,
) -> None:
    # The files go to RunningHub when the job's turn comes, with the key that will run it.
    world.sim.fail_next_with_code(1, 809, path=UPLOAD)  # RunningHub's own "file too large"
    text, _ = await world.command(world.alice, "generate",
                                  {"workflow": "upscale", "image": world.attach(png_bytes(), "a.png")})
    assert text.startswith("Job #1 (**upscale**) is queued")
    await world.wait_state(1, "failed")
    await eventually(lambda: _is(len(world.notices(1)) == 1))
    (notice,) = world.notices(1)
    # Why, in the member's language (no RunningHub English).
    assert t("job.reason.file_too_large", "en") in notice.content
    assert notice.mentions == [world.alice.id]
    assert await world.balance(world.alice) == (ALLOWANCE, 0)
    assert [row[0] for row in await world.ledger(world.alice)] == ["refill", "hold", "release"]
    assert world.sim.creates() == []
    await asyncio.sleep(0.2)
    assert len(world.notices(1)) == 1  # told once
    await world.books_balance()


async def test_a_refusal_in_chinese_for_a_chinese_member(world: World) -> None:
    li = world.guild.add_member("li", locale="zh-CN")
    text, _ = await world.command(li, "generate", {"workflow": "z-image", "prompt": "猫", "params": "steps=0"})
    assert text == t("workflow.param_too_small", "zh-CN", name="steps", minimum="1", value="0")


# ---- many members, one slot --------------------------------------------------------------------------


async def test_three_members_share_one_slot_fairly_and_all_are_delivered(world: World) -> None:
    scheduler = world.bot.services.jobs.scheduler
    (key,) = scheduler.pool.keys
    key.concurrency = 0  # hold the slot until all five jobs wait, so the order is the scheduler's
    members = [world.alice, world.alice, world.alice, world.bob, world.carol]
    invoked = []
    for i, member in enumerate(members):
        options = {"workflow": "z-image", "prompt": f"{member.user.username}{i}"}
        invoked.append(await world.fake.invoke(member, world.channel, "generate", options))
    job_ids = []
    for ix in invoked:
        text = await ix.reply()
        assert ix.ack_latency is not None and ix.ack_latency < 3.0
        job_ids.append(int(re.match(r"Job #(\d+) ", text)[1]))  # type: ignore[index]
    assert world.sim.creates() == []
    key.concurrency = 1  # RUNNINGHUB_CONCURRENCY=1
    scheduler.wake()
    for job_id in job_ids:
        await world.wait_result(job_id, timeout=30)
        await world.wait_state(job_id, "delivered")

    # Never two tasks at RunningHub at once: each was created after the previous one ended.
    tasks = sorted(world.sim.tasks.values(), key=lambda task: task.created_at)
    assert world.sim.max_concurrent_seen == 1
    for earlier, later in itertools.pairwise(tasks):
        assert earlier.finished_at is not None and later.created_at >= earlier.finished_at
    # Round-robin: bob and carol do not wait behind alice's second and third jobs.
    order = [next(n["fieldValue"] for n in task.node_info_list if n["nodeId"] == "6") for task in tasks]
    assert order == ["alice0", "bob3", "carol4", "alice1", "alice2"]
    assert len(world.sim.creates()) == 5
    assert await world.balance(world.alice) == (ALLOWANCE - 30, 0)
    assert await world.balance(world.bob) == (ALLOWANCE - 10, 0)
    assert await world.balance(world.carol) == (ALLOWANCE - 10, 0)
    await world.books_balance()


# ---- RunningHub misbehaving ----------------------------------------------------------------------------


async def test_5xx_and_malformed_answers_for_a_while_still_complete_and_charge_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_retries(world, monkeypatch)
    world.sim.fail_next(2, status=500, path=UPLOAD)
    world.sim.fail_next(4, status=502, path=OUTPUTS)
    world.sim.malformed_next(3, path=OUTPUTS)
    world.sim.fail_next(2, status=503, path=OUTPUTS)
    image = png_bytes((10, 200, 10))
    _, job_id = await world.generate(world.carol, "upscale", image=world.attach(image, "small.png"))
    result = await world.wait_result(job_id)
    await world.wait_state(job_id, "delivered")
    assert [r.path for r in world.sim.requests_to(UPLOAD)] == [UPLOAD] * 3  # two 500s, then stored
    assert list(world.sim.uploads.values()) == [image]
    polls = world.sim.requests_to(OUTPUTS)
    assert len(polls) > 9  # every fault was met, and polling went on past them
    assert len(world.sim.creates()) == 1
    assert [data for _, data in result.files] == world.output_bytes(0)
    assert len(world.results(job_id)) == 1
    assert [row[0] for row in await world.ledger(world.carol)] == ["refill", "hold", "charge"]
    await world.books_balance()


async def test_queue_full_answers_leave_the_job_waiting_until_runninghub_takes_it(world: World) -> None:
    assert world.bot.services.jobs is not None
    world.bot.services.jobs.scheduler.backoff_base = 0.02
    world.sim.fail_next_with_code(2, 421, path=CREATE_PATH)
    _, job_id = await world.generate(world.alice, prompt="patience")
    await world.wait_result(job_id)
    assert len(world.sim.creates()) == 3 and len(world.sim.tasks) == 1
    assert (await world.job(job_id))["attempts"] == 2


async def test_a_lost_create_answer_is_unknown_never_resubmitted_and_shown_in_health(world: World) -> None:
    world.sim.lose_answer_next(1)
    _, job_id = await world.generate(world.bob, prompt="lost in transit")
    await world.wait_state(job_id, "unknown")
    notice = await world.fake.wait_for_message(world.channel, lambda m: m.content.startswith(world.bob.mention))
    assert notice.content == t("job.notice.unknown", "en", mention=world.bob.mention, job=f"#{job_id}",
                               alias="z-image", coins=10)
    await asyncio.sleep(0.5)  # many scheduler and poller passes
    assert len(world.sim.creates()) == 1  # the task really was created, and never a second time
    assert len(world.sim.tasks) == 1
    assert await world.state(job_id) == "unknown"
    assert await world.balance(world.bob) == (ALLOWANCE - 10, 10)  # held until a moderator decides

    report, _ = await world.command(world.mod, "health")
    assert t("health.unknown", "en", jobs=f"#{job_id} (z-image, task id not known)") in report

    # The moderator checked RunningHub and gives the coins back.
    answer, _ = await world.command(world.mod, "cancel", {"job": job_id})
    assert answer == t("job.ok.cancelled", "en", job=f"#{job_id}", coins=10)
    assert await world.balance(world.bob) == (ALLOWANCE, 0)
    assert world.sim.requests_to("/task/openapi/cancel") == []  # no task id to cancel
    await world.books_balance()


# ---- Discord misbehaving and big outputs ----------------------------------------------------------------


@pytest.mark.parametrize("sim_options", [RUNS_A_WHILE])
async def test_a_429_from_discord_on_the_result_is_retried_and_posted_once(world: World, sim_options: dict) -> None:
    _, job_id = await world.generate(world.alice, prompt="rate limited")
    await world.wait_state(job_id, "queued", "running")
    fault = world.fake.inject("POST", CHANNEL_POSTS, status=429, retry_after=0.1)
    result = await world.wait_result(job_id)
    await world.wait_state(job_id, "delivered")
    assert fault.hits == 1
    posts = world.fake.requests_to("POST", rf"/channels/{world.channel.id}/messages")
    assert [r.status for r in posts] == [200, 429, 200]  # status, the refused result, the result
    assert len(world.results(job_id)) == 1 and result.files
    await world.books_balance()


@pytest.mark.parametrize("sim_options", [RUNS_A_WHILE])
async def test_a_lost_answer_to_the_result_post_does_not_post_it_twice(world: World, sim_options: dict) -> None:
    assert world.bot.services.jobs is not None
    world.bot.services.jobs.delivery.retry_base = 0.05
    _, job_id = await world.generate(world.alice, prompt="lost answer")
    await world.wait_state(job_id, "queued", "running")
    # Discord stores the result, the answer is lost as a 503 (discord.py does not retry 503s).
    world.fake.inject("POST", CHANNEL_POSTS, status=503, lost=True)
    await world.wait_state(job_id, "delivered")
    (result,) = world.results(job_id)
    assert (await world.job(job_id))["result_message_id"] == result.id
    # Posted again under the same nonce, and Discord handed back the message it already had.
    posts = world.fake.requests_to("POST", CHANNEL_POSTS)
    assert [r.status for r in posts] == [200, 503, 200]
    assert posts[1].json["nonce"] == posts[2].json["nonce"]
    assert not world.fake.requests_to("GET", CHANNEL_POSTS)  # no search through the channel's history
    assert [row[0] for row in await world.ledger(world.alice)] == ["refill", "hold", "charge"]
    await world.books_balance()


@pytest.mark.parametrize("sim_options", [RUNS_A_WHILE])
async def test_a_result_post_failing_again_and_again_is_retried_until_it_goes_through(
    world: World, sim_options: dict
) -> None:
    assert world.bot.services.jobs is not None
    world.bot.services.jobs.delivery.retry_base = 0.01
    _, job_id = await world.generate(world.alice, prompt="persistent")
    await world.wait_state(job_id, "queued", "running")
    fault = world.fake.inject("POST", CHANNEL_POSTS, status=503, count=5)  # discord.py does not retry a 503
    await world.wait_state(job_id, "delivered")
    assert fault.hits == 5
    assert len(world.results(job_id)) == 1
    assert [r.status for r in world.fake.requests_to("POST", CHANNEL_POSTS)] == [200, *[503] * 5, 200]
    assert (await world.job(job_id))["delivery_attempts"] == 6
    await world.books_balance()


async def test_a_crash_between_posting_and_recording_it_does_not_post_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = world.bot.services.journal
    real_delivered = journal.delivered
    calls = 0

    async def dies_the_first_time(*args: object, **kwargs: object) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the process died right after Discord accepted the post")
        return await real_delivered(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(journal, "delivered", dies_the_first_time)
    _, job_id = await world.generate(world.alice, prompt="post once")
    await world.wait_state(job_id, "delivered")
    (result,) = world.results(job_id)
    assert calls == 2
    assert (await world.job(job_id))["result_message_id"] == result.id
    assert len([r for r in world.fake.requests_to("POST", CHANNEL_POSTS) if r.files]) == 1


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.05, "run_seconds": 0.1, "concurrency": 1,
                                          "image_size": (1600, 1600)}])
async def test_an_image_over_the_upload_limit_is_reencoded_to_fit(world: World, sim_options: dict) -> None:
    limit = world.guild.filesize_limit
    world.sim.set_output_size("image", limit + MIB)  # incompressible noise
    _, job_id = await world.generate(world.alice, prompt="noise")
    result = await world.wait_result(job_id, timeout=30)
    (name, data), = result.files
    assert len(world.output_bytes(0)[0]) > limit
    assert len(data) <= limit and data.startswith(b"\xff\xd8") and name.endswith(".jpg")
    assert t("results.reencoded", "en") in result.content
    task = next(iter(world.sim.tasks.values()))
    (original,) = [o["fileUrl"] for o in task.outputs]
    assert f"<{original}>" in result.content  # RunningHub's full-size file beside the re-encoded copy
    assert not [r for r in world.fake.requests_to("POST", CHANNEL_POSTS) if r.status != 200]
    await world.wait_state(job_id, "delivered")


async def test_audio_over_the_upload_limit_goes_out_as_a_link(world: World) -> None:
    limit = world.guild.filesize_limit
    world.sim.set_output_size("audio", limit + MIB)
    _, job_id = await world.generate(world.bob, "voice-clone", prompt="hello there",
                                     audio=world.attach(wav_bytes(), "me.wav"))
    result = await world.wait_result(job_id, timeout=30)
    assert result.files == []
    task = next(iter(world.sim.tasks.values()))
    (url,) = [o["fileUrl"] for o in task.outputs]
    assert f"<{url}>" in result.content and t("job.result.links", "en") in result.content
    assert not [r for r in world.fake.requests_to("POST", CHANNEL_POSTS) if r.status != 200]
    await world.wait_state(job_id, "delivered")
    row = await world.bot.services.db.fetchone("SELECT delivery FROM job_outputs WHERE job_id = ?", (job_id,))
    assert row is not None and row[0] == "link"


# ---- /jobs, /cancel, /resend, the buttons -------------------------------------------------------------------


async def test_jobs_lists_the_members_jobs_with_state_cost_and_age(world: World) -> None:
    _, first = await world.generate(world.alice, prompt="one")
    await world.wait_state(first, "delivered")
    world.sim.fail_next_task()
    _, second = await world.generate(world.alice, "upscale", image=world.attach(png_bytes(), "a.png"))
    await world.wait_state(second, "failed")

    text, _ = await world.command(world.alice, "jobs")
    lines = text.splitlines()
    assert lines[0] == f"**{t('jobs.title', 'en')}**"
    assert lines[1].startswith(f"`#{second}` **upscale** · failed · 10 coins · ") and lines[1].endswith(" ago")
    assert lines[2].startswith(f"`#{first}` **z-image** · delivered · 10 coins · ")
    assert re.search(r"· \d+ s ago$", lines[2])
    nothing, _ = await world.command(world.bob, "jobs")
    assert nothing == t("jobs.none", "en")


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.05, "run_seconds": 30, "concurrency": 1}])
async def test_cancel_is_for_the_owner_or_a_moderator_stops_the_task_and_refunds(
    world: World, sim_options: dict
) -> None:
    _, job_id = await world.generate(world.alice, prompt="never mind")
    await world.wait_state(job_id, "running")
    task_id = (await world.job(job_id))["task_id"]

    refused, _ = await world.command(world.bob, "cancel", {"job": job_id})
    assert refused == t("job.error.not_yours", "en", job=f"#{job_id}")
    assert await world.state(job_id) == "running" and world.sim.requests_to("/task/openapi/cancel") == []

    answer, _ = await world.command(world.alice, "cancel", {"job": job_id})
    assert answer == t("job.ok.cancelled", "en", job=f"#{job_id}", coins=10)
    (cancel,) = world.sim.requests_to("/task/openapi/cancel")
    assert cancel.json["taskId"] == task_id
    assert world.sim.tasks[str(task_id)].state == "FAILED"  # stopped at RunningHub
    assert await world.balance(world.alice) == (ALLOWANCE, 0)
    status = await world.status_message(job_id)
    await eventually(lambda: _is(status.content.startswith("🚫")))
    await asyncio.sleep(0.3)  # the poller sees the stopped task: it must not call it a failure
    assert await world.state(job_id) == "cancelled"
    assert world.notices(job_id) == [] and world.results(job_id) == []

    again, _ = await world.command(world.mod, "cancel", {"job": job_id})
    assert again == t("job.error.finished", "en", job=f"#{job_id}", state="cancelled")
    missing, _ = await world.command(world.alice, "cancel", {"job": 999})
    assert missing == t("job.error.not_found", "en", number=999)
    await world.books_balance()


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.05, "run_seconds": 30, "concurrency": 1}])
async def test_a_moderator_may_cancel_anyones_job(world: World, sim_options: dict) -> None:
    _, job_id = await world.generate(world.bob, prompt="slow")
    await world.wait_state(job_id, "running")
    answer, _ = await world.command(world.mod, "cancel", {"job": job_id})
    assert answer == t("job.ok.cancelled", "en", job=f"#{job_id}", coins=10)
    assert await world.balance(world.bob) == (ALLOWANCE, 0)
    assert len(world.sim.requests_to("/task/openapi/cancel")) == 1
    await world.books_balance()


async def test_resend_posts_the_same_outputs_again_without_running_or_charging(world: World) -> None:
    _, job_id = await world.generate(world.alice, prompt="again please")
    first = await world.wait_result(job_id)
    await world.wait_state(job_id, "delivered")
    ledger_before = await world.ledger(world.alice)

    refused, _ = await world.command(world.bob, "resend", {"job": job_id})
    assert refused == t("job.error.not_yours", "en", job=f"#{job_id}")
    answer, _ = await world.command(world.alice, "resend", {"job": job_id})
    assert answer == t("job.ok.resent", "en", job=f"#{job_id}")

    results = world.results(job_id)
    assert len(results) == 2 and results[0].id == first.id
    assert results[1].files == first.files
    assert results[1].mentions == [world.alice.id]
    assert len(world.sim.creates()) == 1
    assert await world.ledger(world.alice) == ledger_before
    assert (await world.job(job_id))["result_message_id"] == first.id
    by_mod, _ = await world.command(world.mod, "resend", {"job": job_id})
    assert by_mod == answer and len(world.results(job_id)) == 3

    world.sim.fail_next_task()
    _, failed = await world.generate(world.alice, prompt="will fail")
    await world.wait_state(failed, "failed")
    nothing, _ = await world.command(world.alice, "resend", {"job": failed})
    assert nothing == t("job.error.not_delivered", "en", job=f"#{failed}", state="failed")


async def test_run_again_is_a_new_job_paid_by_whoever_clicks(world: World) -> None:
    _, job_id = await world.generate(world.alice, prompt="a red fox")
    result = await world.wait_result(job_id)
    click = await world.fake.click(world.bob, result, f"rh:rerun:{job_id}")
    text = await click.reply()
    assert click.ephemeral is True and click.ack_latency is not None and click.ack_latency < 3.0
    rerun = int(re.match(r"Job #(\d+) ", text)[1])  # type: ignore[index]
    again = await world.wait_result(rerun)
    assert again.mentions == [world.bob.id]
    first, second = ([n for n in c.json["nodeInfoList"] if n["fieldName"] != "seed"] for c in world.sim.creates())
    assert first == second  # the same inputs; a seed the bot drew is drawn again
    assert await world.balance(world.alice) == (ALLOWANCE - 10, 0)
    await world.wait_state(rerun, "delivered")
    assert await world.balance(world.bob) == (ALLOWANCE - 10, 0)
    assert (await world.job(rerun))["source_job_id"] == job_id
    await world.books_balance()


async def test_delete_is_for_the_owner_or_a_moderator(world: World) -> None:
    _, job_id = await world.generate(world.alice, prompt="to delete")
    result = await world.wait_result(job_id)
    refused = await world.fake.click(world.bob, result, f"rh:delete:{job_id}")
    assert await refused.reply() == t("job.error.not_yours", "en", job=f"#{job_id}")
    assert refused.ephemeral is True and not world.fake.message(result.id).deleted

    deleted = await world.fake.click(world.alice, result, f"rh:delete:{job_id}")
    await deleted.acked()
    await eventually(lambda: _is(world.fake.message(result.id).deleted))

    _, other = await world.generate(world.bob, prompt="moderated")
    second = await world.wait_result(other)
    by_mod = await world.fake.click(world.mod, second, f"rh:delete:{other}")
    await by_mod.acked()
    await eventually(lambda: _is(world.fake.message(second.id).deleted))


# ---- /health --------------------------------------------------------------------------------------------


async def test_health_shows_the_account_the_queue_and_jobs_needing_a_look(world: World) -> None:
    _, done = await world.generate(world.alice, prompt="fine")
    await world.wait_state(done, "delivered")
    world.sim.lose_answer_next(1)
    _, lost = await world.generate(world.bob, prompt="lost")
    await world.wait_state(lost, "unknown")
    await eventually(lambda: _is(world.sim.active_count() == 0))  # the lost task ran and ended

    report, ix = await world.command(world.mod, "health")
    lines = report.splitlines()
    assert lines[0] == "**Health**"
    coins = f"{world.sim.remain_coins:,}"
    key = "…" + world.sim.api_key[-4:]  # a key is only ever shown by its last 4 characters
    assert lines[1] == t("health.key", "en", key=key, coins=coins, running=0, used=1, limit=1, api_type="NORMAL")
    assert world.sim.api_key not in report
    assert lines[2] == t("health.queue", "en", waiting=0, active=1, limit=1)
    assert lines[3] == t("health.states", "en", states="delivered 1 · start unconfirmed 1")
    assert lines[4] == t("health.unknown", "en", jobs=f"#{lost} (z-image, task id not known)")
    assert lines[5] == t("health.undelivered_none", "en")
    assert world.sim.requests_to("/uc/openapi/accountStatus")
    assert [r.action for r in ix.responses] == ["callback", "followup"]

    chinese = world.guild.add_member("wang", permissions=MANAGE_GUILD, locale="zh-CN")
    report_zh, _ = await world.command(chinese, "health")
    assert report_zh.splitlines()[0] == "**运行状况**" and "启动未确认" in report_zh


async def test_health_says_when_runninghub_cannot_be_asked(world: World) -> None:
    world.sim.fail_next_with_code(1, 802, path="/uc/openapi/accountStatus")  # the key was refused
    report, _ = await world.command(world.mod, "health")
    line = report.splitlines()[1]
    assert line.startswith(t("health.key_error", "en", key="…" + world.sim.api_key[-4:], used=0, limit=1, error=""))
    assert world.sim.api_key not in report
    assert report.splitlines()[2] == t("health.queue", "en", waiting=0, active=0, limit=1)
    assert report.splitlines()[3] == t("health.states", "en", states=t("health.states_none", "en"))


async def test_health_is_for_moderators_only(world: World) -> None:
    text, _ = await world.command(world.alice, "health")
    assert text == t("error.moderator_only", "en", command="health")
    assert world.sim.requests_to("/uc/openapi/accountStatus") == []


async def test_nothing_the_bot_posted_or_logged_holds_the_token_or_the_key(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    _, job_id = await world.generate(world.alice, prompt="secret check")
    await world.wait_state(job_id, "delivered")
    await world.command(world.mod, "health")
    secrets = (world.fake.token, world.sim.api_key)
    for message in world.fake.messages(world.channel, interactions=True):
        assert not any(s in message.content for s in secrets)
    assert not any(s in caplog.text for s in secrets)


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.05, "run_seconds": 30, "concurrency": 1}])
async def test_a_cancel_is_not_mistaken_for_a_failure_while_runninghub_answers_slowly(
    world: World, sim_options: dict
) -> None:
    _, job_id = await world.generate(world.alice, prompt="stop it")
    await world.wait_state(job_id, "running")
    # RunningHub stops the task but the answer is lost; the client asks again after a pause in
    # which the poller sees the stopped task (reported as failed).
    world.sim.lose_answer_next(1, path="/task/openapi/cancel")
    answer, _ = await world.command(world.alice, "cancel", {"job": job_id})
    assert answer == t("job.ok.cancelled", "en", job=f"#{job_id}", coins=10)
    assert len(world.sim.requests_to("/task/openapi/cancel")) == 2
    await asyncio.sleep(0.3)
    assert await world.state(job_id) == "cancelled"
    assert world.notices(job_id) == []  # no "failed" notice
    assert await world.balance(world.alice) == (ALLOWANCE, 0)
    await world.books_balance()


async def test_a_fresh_database_on_the_same_bot_account_posts_its_own_results(
    fake_discord: FakeDiscord,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Job numbers start at #1 in every database; Discord's nonce de-duplication spans the whole
    # bot account for minutes, so a nonce made of the job number alone would hand the second
    # deployment the first one's message instead of posting.
    guild = fake_discord.add_guild("Art Club")
    channel = guild.add_channel("general")
    alice = guild.add_member("alice")
    env = {"DISCORD_GUILD_ID": str(guild.id)}
    async with Simulator(queue_seconds=0.02, run_seconds=0.05) as sim:
        for deployment in ("first", "second"):
            async with running_bot(fake_discord, tmp_path=tmp_path / deployment, simulator=sim, env=env) as bot:
                options = {"workflow": "z-image", "prompt": deployment}
                ix = await fake_discord.invoke(alice, channel, "generate", options)
                assert (await ix.reply()).startswith("Job #1 ")

                async def delivered(bot: RHBot = bot) -> bool:
                    row = await bot.services.db.fetchone("SELECT state FROM jobs WHERE id = 1")
                    return row is not None and row[0] == "delivered"

                await eventually(delivered)
                row = await bot.services.db.fetchone("SELECT result_message_id FROM jobs WHERE id = 1")
                assert row is not None
                result = fake_discord.message(row[0])
                assert "rh:rerun:1" in result.custom_ids and f"\n> {deployment}\n" in result.content
    results = [m for m in fake_discord.messages(channel) if m.files]
    assert [m.content.splitlines()[1] for m in results] == ["> first", "> second"]


async def test_a_job_cancelled_while_its_files_upload_never_starts(world: World) -> None:
    world.sim.hang_next(1, path=UPLOAD, seconds=0.5)
    text, _ = await world.command(world.alice, "generate",
                                  {"workflow": "upscale", "image": world.attach(png_bytes(), "slow.png")})
    assert text.startswith("Job #1 (**upscale**) is queued")
    await eventually(lambda: _is(bool(world.sim.requests_to(UPLOAD))))  # its turn came: uploading
    answer, _ = await world.command(world.alice, "cancel", {"job": 1})
    assert answer == t("job.ok.cancelled", "en", job="#1", coins=10)
    await asyncio.sleep(0.8)  # the upload answers meanwhile
    assert await world.state(1) == "cancelled"
    assert world.sim.creates() == []
    assert await world.balance(world.alice) == (ALLOWANCE, 0)
    await world.books_balance()


@pytest.mark.parametrize("sim_options", [{"queue_seconds": 0.05, "run_seconds": 0.8, "concurrency": 1}])
async def test_lost_answers_to_the_status_post_and_the_notice_leave_no_duplicates(
    world: World, sim_options: dict
) -> None:
    # Discord stores the status message but the bot only sees a 503 (which discord.py does not retry).
    world.fake.inject("POST", CHANNEL_POSTS, status=503, lost=True)
    world.sim.fail_next_task()
    _, job_id = await world.generate(world.alice, prompt="lost twice")
    await world.wait_state(job_id, "running")
    # The failure notice is stored too, and its answer lost as well; the bot tries again later.
    world.fake.inject("POST", CHANNEL_POSTS, status=503, lost=True)
    await world.wait_state(job_id, "failed")
    await eventually(lambda: _notified(world, job_id))
    status, notice = world.fake.messages(world.channel)
    assert (await world.job(job_id))["status_message_id"] == status.id
    await eventually(lambda: _is(status.content.startswith("❌")))  # the one status message, edited to the end
    assert status.versions[0].content.startswith("⏳") and len(status.versions) >= 3
    assert notice.content.startswith(f"{world.alice.mention} job #{job_id} (**z-image**) failed")
    assert [r.status for r in world.fake.requests_to("POST", CHANNEL_POSTS)] == [503, 200, 503, 200]


async def _notified(world: World, job_id: int) -> bool:
    return (await world.job(job_id))["notified_at"] is not None
