"""The estimate (median of recent successes), the waiting order, and the running status text."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.journal import Job, Journal
from bot.db.ledger import Ledger
from bot.jobs.eta import RunTimes, median_run_time
from bot.jobs.scheduler import Scheduler
from bot.jobs.states import JobState
from bot.jobs.status import StatusBoard
from bot.runninghub.client import RunningHubClient
from bot.runninghub.progress import Progress
from bot.texts.progress import bar, running_text
from tests.jobs.fakes import RecordingNotifier

GUILD, CHANNEL = 1, 2


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    db = await Database.open(tmp_path / "bot.db")
    try:
        yield Journal(db, Ledger(db, default_allowance=1000), clock=Clock())
    finally:
        await db.close()


async def finished(journal: Journal, alias: str, seconds: float, *, state: str = "delivered") -> int:
    job = await journal.create(guild_id=GUILD, channel_id=CHANNEL, member_id=7, alias=alias, cost=0, locale=None)
    await journal.db.execute(
        "UPDATE jobs SET state = ?, started_at = 100, finished_at = ? WHERE id = ?", (state, 100 + seconds, job.id)
    )
    return job.id


def test_median_needs_three_samples() -> None:
    assert median_run_time([]) is None
    assert median_run_time([10.0, 20.0]) is None
    assert median_run_time([10.0, 300.0, 20.0]) == 20.0
    assert median_run_time([10.0, 20.0, 30.0, 1000.0]) == 25.0


async def test_the_estimate_is_the_median_of_the_alias_recent_successes_only(journal: Journal) -> None:
    times = RunTimes(journal)
    await finished(journal, "z-image", 60)
    await finished(journal, "z-image", 80)
    await finished(journal, "z-image", 5, state="failed")  # failures do not count
    await finished(journal, "upscale", 5)  # nor other aliases
    assert await times.median("z-image") is None
    await finished(journal, "z-image", 400)
    times.forget("z-image")
    assert await times.median("z-image") == 80
    # Only the 20 most recent successes: 25 fast ones push the old ones out.
    for _ in range(25):
        await finished(journal, "z-image", 10)
    times.forget("z-image")
    assert await times.median("z-image") == 10


async def test_waiting_positions_follow_the_schedulers_round_robin(journal: Journal) -> None:
    # alice queues three jobs, then bob one, then carol one: the scheduler serves one each in turn,
    # so bob's job is second although three were queued before it.
    ids = {}
    for name, member in (("a1", 1), ("a2", 1), ("a3", 1), ("b1", 2), ("c1", 3)):
        job = await journal.create(guild_id=GUILD, channel_id=CHANNEL, member_id=member, alias="z", cost=0,
                                   locale=None, state=JobState.PENDING)
        ids[job.id] = name
    scheduler = Scheduler(journal, None, None, spool=None, webhook_url=lambda _j: None,  # type: ignore[arg-type]
                          on_ended=_nothing, on_unknown=_nothing, on_submitted=lambda _t: None,
                          on_key_refused=_refused)
    order = [ids[j.id] for j in await scheduler.waiting_order()]
    assert order == ["a1", "b1", "c1", "a2", "a3"]
    # Once alice was served (her a1 started), bob and carol come before her next one.
    first = next(j for j, n in ids.items() if n == "a1")
    await journal.claim_submit(first)
    assert scheduler._last_served is not None
    scheduler._last_served[(GUILD, 1)] = 10.0
    assert [ids[j.id] for j in await scheduler.waiting_order()] == ["b1", "c1", "a2", "a3"]


async def _nothing(_job_id: int) -> None:
    return None


async def _refused(_key: object, _error: object) -> None:
    return None


async def test_running_text_shows_a_bar_the_node_and_the_estimate(journal: Journal) -> None:
    job = await journal.create(guild_id=GUILD, channel_id=CHANNEL, member_id=7, alias="z-image", cost=0,
                               locale="en-US")
    await journal.db.execute("UPDATE jobs SET state = 'running', started_at = 1000 WHERE id = ?", (job.id,))
    job = await journal.get(job.id)
    assert job is not None
    progress = Progress(percent=42.7, node_id="3", node_class="KSampler", value=12, maximum=20)
    text = running_text(job, progress, median=300.0, now=1100.0)
    assert f"#{job.id}" in text and "<t:1000:R>" in text and "expected <t:1300:R>" in text
    assert f"`{bar(42.7)}` 42% · KSampler 12/20" in text
    # No socket: the start time alone; past the usual time: said so.
    plain = running_text(job, None, median=300.0, now=1400.0)
    assert "%" not in plain and "<t:1000:R>" in plain and "longer than usual" in plain
    assert "expected" not in running_text(job, None, median=None, now=1100.0)
    zh = dataclasses.replace(job, locale="zh-CN")
    assert "KSampler 12/20" in running_text(zh, progress, 300.0, 1100.0)
    assert "运行中" in running_text(zh, progress, 300.0, 1100.0)


def test_bar_fills_with_the_percentage() -> None:
    assert bar(0) == "░" * 12 and bar(100) == "█" * 12 and bar(50) == "█" * 6 + "░" * 6


async def test_waiting_positions_are_read_once_for_a_burst_of_moves_and_again_after_the_last(journal: Journal) -> None:
    reads = 0

    async def waiting_order() -> list[Job]:
        nonlocal reads
        reads += 1
        return []

    board = StatusBoard(journal, RunningHubClient(None, "http://127.0.0.1:9", "k" * 32),  # type: ignore[arg-type]
                        RecordingNotifier(), workflow_of=lambda _job: None, waiting_order=waiting_order,
                        waiting_reread=0.3, progress_sockets=False)
    runner = asyncio.create_task(board.run())
    try:
        for _ in range(20):  # twenty starts in 0.2 s, each moving every waiting job up
            board.waiting_changed()
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert reads == 2  # the first move at once, the rest together after the pause (not twenty reads)
