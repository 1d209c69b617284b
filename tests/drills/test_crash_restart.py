"""Drills: `python -m bot run` SIGKILLed while jobs are in flight, then restarted.

The bot runs as a subprocess against the fake Discord and the RunningHub simulator, which both
live in this process and so survive every kill; the SQLite file is the same across restarts.
Afterwards every job must be delivered exactly once (or, if a kill hit mid-create, be 'unknown':
holding its coins, never resubmitted), every coin accounted for, and no task created twice.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.runninghub.simulator import CREATE_PATH
from tests.drills.support import (
    ALLOWANCE,
    COST,
    Drill,
    SlowResultAnswers,
    ledger_rows,
    result_messages,
)
from tests.waiting import eventually


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
async def test_a_kill_after_discord_took_the_result_does_not_post_it_again(drill: Drill) -> None:
    slow = SlowResultAnswers(drill.fake, 30)  # the answer never comes before the kill
    bot = await drill.start()
    job_id = await drill.submit(drill.members[0], "one result, posted once")
    await asyncio.wait_for(slow.stored.wait(), 20)
    await bot.kill()  # Discord has the message; the journal has no part of it yet
    assert (await drill.states())[job_id] == "succeeded"
    (stored,) = result_messages(drill.fake, drill.channel)[job_id]

    slow.release()
    bot = await drill.start()  # within Discord's nonce window: the same post gets the same message back
    states = await drill.wait_for_states({"delivered"})
    assert await bot.stop() == 0
    await check_books(drill, states)
    db = await Database.open(drill.database)
    try:
        parts = await db.fetchall("SELECT part, message_id FROM delivery_parts WHERE job_id = ?", (job_id,))
    finally:
        await db.close()
    assert [(int(r[0]), int(r[1])) for r in parts] == [(1, stored.id)]


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
