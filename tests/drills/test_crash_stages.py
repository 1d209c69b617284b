"""Drills: one job, the bot SIGKILLed at one exact stage of it, then restarted.

The kill comes from inside the fake Discord or the simulator, at the moment the bot's request
arrives (before or after it is carried out), so each stage is hit every time, not by chance:
intake (the status message), the upload of its files, the create, the task running, and each
message of a result in two parts (12 outputs: 10 files, then 2), both before Discord stored the
message and after it stored it but before the bot heard back.

Afterwards: the job is not lost (delivered, or for a kill mid-create 'unknown' and holding its
coins, or for a kill mid-intake failed with its coins back and the member told), it is charged at
most once, its task was created at most once, and no file was posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import signal
from collections import Counter
from collections.abc import Callable

import pytest
from aiohttp import web

from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.runninghub.simulator import CREATE_PATH
from tests.drills.support import ALLOWANCE, Drill, ledger_rows
from tests.fakediscord.rest import Body
from tests.fakediscord.server import FakeDiscord
from tests.jobs.conftest import png_bytes
from tests.waiting import eventually

OUTPUTS = 12
COST = {"z-image": 10, "upscale": 10}


class KillOnPost:
    """SIGKILL the bot when it posts a message that `matches`, before or after the fake stores it."""

    def __init__(self, fake: FakeDiscord, drill: Drill, matches: Callable[[Body], bool], *, stored: bool) -> None:
        self.fired = asyncio.Event()
        routes = fake._rest.routes
        index = next(i for i, r in enumerate(routes) if r.method == "POST" and r.pattern.pattern.endswith("/messages"))
        original = routes[index].handler

        async def handler(request: web.Request, body: Body, match: re.Match[str]) -> web.Response:
            hit = not self.fired.is_set() and matches(body)
            if hit and not stored:
                self._kill(drill)
            response = await original(request, body, match)
            if hit and stored:
                self._kill(drill)  # Discord has it; the bot never hears back
            return response

        routes[index] = dataclasses.replace(routes[index], handler=handler)

    def _kill(self, drill: Drill) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(drill.runs[-1].process.pid, signal.SIGKILL)
        self.fired.set()


def _content(body: Body) -> str:
    return str((body.json or {}).get("content") or "")


def result_part(number: int) -> Callable[[Body], bool]:
    if number == 1:
        return lambda body: "rh:rerun:" in str((body.json or {}).get("components"))
    return lambda body: bool(body.files) and f"({number}/" in _content(body)


def status_message(body: Body) -> bool:
    return "rh:rerun:" not in str((body.json or {}).get("components")) and not body.files and "#" in _content(body)


async def _files_posted(drill: Drill, job_id: int) -> Counter[str]:
    """File name -> how many times it is in the channel (names are <alias>-<job>-<n>.<ext>)."""
    names: Counter[str] = Counter()
    for message in drill.fake.messages(drill.channel):
        if message.deleted:
            continue
        for name, _data in message.files:
            if re.fullmatch(rf"[a-z-]+-{job_id}-\d+\.\w+", name):
                names[name] += 1
    return names


async def _settled(drill: Drill, job_id: int, allowed: set[str]) -> str:
    states = await drill.wait_for_states(allowed, timeout=60)
    await asyncio.sleep(0.5)  # more sweeps: nothing may move any more, nothing is posted again
    return states[job_id]


async def _check(drill: Drill, job_id: int, alias: str, state: str, *, outputs: int) -> None:
    posted = await _files_posted(drill, job_id)
    assert all(count == 1 for count in posted.values()), f"files posted twice: {posted} {drill.note}"
    cost = COST[alias]
    db = await Database.open(drill.database)
    try:
        assert await check_invariants(db) == []
        rows = await ledger_rows(db, job_id)
        if state == "delivered":
            assert len(posted) == outputs, posted
            assert rows == [("hold", -cost, cost), ("charge", 0, -cost)]
            parts = await db.fetchall("SELECT part, message_id FROM delivery_parts WHERE job_id = ?", (job_id,))
            live = {m.id for m in drill.fake.messages(drill.channel) if not m.deleted}
            assert {int(r[1]) for r in parts} <= live  # every journaled part is a message that exists
        elif state == "unknown":
            assert not posted and rows == [("hold", -cost, cost)]
        else:
            assert state == "failed" and not posted
            assert rows == [("hold", -cost, cost), ("release", cost, -cost)]
    finally:
        await db.close()
    assert len(drill.sim.creates()) <= 1  # never created twice


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("part", "stored"), [(1, False), (1, True), (2, False), (2, True)])
async def test_a_kill_at_each_message_of_a_twelve_output_result(drill: Drill, part: int, stored: bool) -> None:
    drill.sim.set_output_count(OUTPUTS)
    killer = KillOnPost(drill.fake, drill, result_part(part), stored=stored)
    await drill.start()
    job_id = await drill.submit(drill.members[0], f"twelve pictures, killed at part {part}")
    await asyncio.wait_for(killer.fired.wait(), 30)
    await drill.runs[-1].kill()

    bot = await drill.start()
    state = await _settled(drill, job_id, {"delivered"})
    assert await bot.stop() == 0, bot.output[-3000:]
    await _check(drill, job_id, "z-image", state, outputs=OUTPUTS)
    parts = [m for m in drill.fake.messages(drill.channel) if m.files]
    assert [len(m.files) for m in parts] == [10, 2]  # each part once, in order


@pytest.mark.timeout(60)
async def test_a_kill_at_intake_fails_the_job_returns_its_coins_and_tells_the_member(drill: Drill) -> None:
    killer = KillOnPost(drill.fake, drill, status_message, stored=False)
    await drill.start()
    member = drill.members[1]
    await drill.fake.invoke(member, drill.channel, "generate", {"workflow": "z-image", "prompt": "killed at intake"})
    await asyncio.wait_for(killer.fired.wait(), 30)
    await drill.runs[-1].kill()
    (job_id,) = (await drill.states()).keys()
    drill.prompts[job_id] = "killed at intake"

    bot = await drill.start()
    state = await _settled(drill, job_id, {"failed"})
    await eventually(lambda: any(f"#{job_id}" in m.content and member.id in m.mentions
                                 for m in drill.fake.messages(drill.channel)), 20, "the member to be told")
    assert await bot.stop() == 0
    assert drill.sim.creates() == []
    await _check(drill, job_id, "z-image", state, outputs=0)


@pytest.mark.timeout(60)
async def test_a_kill_mid_upload_uploads_again_and_runs_the_job_once(drill: Drill) -> None:
    drill.sim.hang_next(1, path="/task/openapi/upload", seconds=30)
    await drill.start()
    member = drill.members[2]
    image = drill.fake.host_attachment(png_bytes((10, 120, 10)), "image.png", "image/png")
    ix = await drill.fake.invoke(member, drill.channel, "generate", {"workflow": "upscale", "image": image})
    await ix.reply(timeout=30)
    await eventually(lambda: bool(drill.sim.requests_to("/task/openapi/upload")), 20, "the upload")
    await drill.runs[-1].kill()  # the job waits in the queue; its file is on disk, not in memory
    (job_id,) = (await drill.states()).keys()
    drill.prompts[job_id] = "upscale"

    bot = await drill.start()
    state = await _settled(drill, job_id, {"delivered"})
    assert await bot.stop() == 0
    assert len(drill.sim.requests_to("/task/openapi/upload")) == 2 and len(drill.sim.creates()) == 1
    await _check(drill, job_id, "upscale", state, outputs=1)
    row = await _balance(drill, member.id)
    assert row == (ALLOWANCE - COST["upscale"], 0)


@pytest.mark.timeout(60)
async def test_a_kill_mid_create_leaves_the_job_unknown_never_created_twice(drill: Drill) -> None:
    drill.sim.hang_next(1, path=CREATE_PATH, seconds=1.0)
    await drill.start()
    job_id = await drill.submit(drill.members[3], "killed mid-create")
    await eventually(lambda: len(drill.sim.creates()) == 1, 20, "the create")
    await drill.runs[-1].kill()

    bot = await drill.start()
    state = await _settled(drill, job_id, {"unknown"})
    assert await bot.stop() == 0
    await _check(drill, job_id, "z-image", state, outputs=0)


@pytest.mark.timeout(60)
async def test_a_kill_while_the_task_runs_delivers_it_once_after_the_restart(drill: Drill) -> None:
    await drill.start()
    job_id = await drill.submit(drill.members[4], "killed while running")
    await eventually(lambda: any(t.state == "RUNNING" for t in drill.sim.tasks.values()), 20, "the task to run")
    await drill.runs[-1].kill()

    bot = await drill.start()
    state = await _settled(drill, job_id, {"delivered"})
    assert await bot.stop() == 0
    await _check(drill, job_id, "z-image", state, outputs=1)


async def _balance(drill: Drill, member_id: int) -> tuple[int, int]:
    db = await Database.open(drill.database)
    try:
        row = await db.fetchone("SELECT available, held FROM balances WHERE member_id = ?", (member_id,))
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        await db.close()
