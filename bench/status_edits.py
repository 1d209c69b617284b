"""Status edits under load: 200 running jobs in one channel, each reporting progress every second.

    python bench/status_edits.py                  # about 100 s
    python bench/status_edits.py --jobs 50 --window 20 --naive-window 10

The real bot (tests/harness.running_bot: RHBot, its job service and StatusBoard, discord.py)
runs in this process against the loopback fake Discord, whose per-channel edit limit is on:
5 edits per 5 s per channel, then 429 (X-RateLimit headers advertised, as Discord does). 200
jobs are journaled as running and their status messages posted; then, for `--window` seconds,
every job reports new progress (percentage and sampler step) every second, and every 2 s one
job ends and a new one starts in its place, so the channel always has 200 running jobs and
phase changes to show. Measured at the fake (what Discord saw):
  - 429 answers (goal 0);
  - edits per second in the channel: the average, and the most in any 5 s (goal: at most 1 a
    second on average, at most 5 in any 5 s);
  - staleness of a phase change: from the moment the bot knew a job ended (or started) to the
    edit that showed it (goal: at most 30 s);
  - how often each running status's progress was refreshed: the longest gap between two edits
    of one message. With n statuses sharing 1 edit a second this cannot be under n seconds
    (200 s for 200): printed beside that floor;
  - CPU of the process (the bot, and the fake Discord in the same process) per running job
    per minute.
Side by side, in the same run, on a second channel: the naive bot that edits the status message
once per progress message (an edit task per report, discord.py's own rate limiting in front).
Its backlog grows without bound, so its window is shorter, and a phase change it has not shown
by the end of the window counts as stale for at least as long as it has waited.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.client import RHBot
from bot.db.journal import Job
from bot.jobs.states import JobState
from bot.jobs.status import Phase
from bot.runninghub.progress import Progress
from bot.texts.jobs import final_status
from bot.texts.progress import running_text
from tests.fakediscord.model import FakeChannel
from tests.fakediscord.server import FakeDiscord
from tests.harness import running_bot

STALE_GOAL = 30.0
RATE_GOAL = 1.0  # edits per second per channel
LIMIT, PER = 5, 5.0  # the fake's bucket: Discord's commonly observed edit limit
TURNOVER = 2.0  # seconds between one job ending and another starting
STEPS = 20  # sampler steps of a run


@dataclass
class Run:
    label: str
    jobs: int
    window: float
    answered_429: int = 0
    edits: int = 0
    busiest_5s: int = 0
    phase_waits: list[float] = field(default_factory=list)  # seconds, shown phase changes
    unshown: list[float] = field(default_factory=list)  # ages of phase changes never shown
    refresh_gaps: list[float] = field(default_factory=list)  # longest edit gap per running message
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.edits / self.window

    @property
    def stale(self) -> float:
        return max([*self.phase_waits, *self.unshown], default=0.0)

    @property
    def cpu_per_job_minute(self) -> float:
        return self.cpu / self.jobs / (self.window / 60)


async def insert_running(bot: RHBot, guild_id: int, channel_id: int, member_id: int, count: int) -> list[Job]:
    """Journal rows as the poller leaves them once a task runs (without a task id: nobody polls them)."""
    now = time.time()
    ids = []
    async with bot.services.db.transaction() as conn:
        for i in range(count):
            cursor = await conn.execute(
                "INSERT INTO jobs (guild_id, channel_id, member_id, alias, state, inputs, cost, locale, created_at,"
                " updated_at, submitted_at, started_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (guild_id, channel_id, member_id, "z-image", JobState.RUNNING, json.dumps({"prompt": f"bench {i}"}),
                 0, "en-US", now, now, now, now - random.uniform(0, 120)),
            )
            assert cursor.lastrowid is not None
            ids.append(cursor.lastrowid)
    jobs = []
    for job_id in ids:
        job = await bot.services.journal.get(job_id)
        assert job is not None
        jobs.append(job)
    return jobs


async def post_running(bot: RHBot, jobs: list[Job], *, board: bool) -> list[Job]:
    """Post each job's status message as it reads while running (posts are not edits: no limit)."""
    service = bot.services.jobs
    posted = []
    for job in jobs:
        text = running_text(job, None, None, time.time())
        message_id = await service.notifier.post_status(job, text)
        assert message_id is not None
        await bot.services.journal.set_status_message(job.id, message_id)
        job = replace(job, status_message_id=message_id)
        if board:
            service.status.posted(job, text, Phase.RUNNING)
        posted.append(job)
    return posted


def progress_of(second: int, offset: int) -> Progress:
    step = (second + offset) % STEPS + 1
    return Progress(percent=100.0 * step / (STEPS + 1), node_id="3", node_class="KSampler", value=step,
                    maximum=STEPS)


async def drive(
    bot: RHBot,
    channel: FakeChannel,
    member_id: int,
    count: int,
    window: float,
    *,
    report: Callable[[Job, Progress], None],
    end: Callable[[Job, str], None],
    board: bool,
) -> tuple[list[Job], dict[int, tuple[str, float]]]:
    """Progress every second for every running job, a turnover every TURNOVER s; returns the jobs
    still running and, per ended job's message, the final text and when the bot knew it."""
    running = await post_running(bot, await insert_running(bot, channel.guild.id, channel.id, member_id, count),
                                 board=board)
    offsets = {job.id: random.randrange(STEPS) for job in running}
    ended: dict[int, tuple[str, float]] = {}
    loop = asyncio.get_running_loop()
    started = loop.time()
    next_turnover = started + TURNOVER
    second = 0
    while loop.time() - started < window:
        for job in running:
            report(job, progress_of(second, offsets[job.id]))
        while loop.time() >= next_turnover and loop.time() - started < window:
            done = running.pop(0)
            finished = replace(done, state=JobState.DELIVERED, finished_at=time.time())
            text = final_status(finished, time.time())
            ended[done.status_message_id or 0] = (text, time.monotonic())
            end(finished, text)
            (fresh,) = await post_running(
                bot, await insert_running(bot, channel.guild.id, channel.id, member_id, 1), board=board)
            offsets[fresh.id] = random.randrange(STEPS)
            running.append(fresh)
            next_turnover += TURNOVER
        second += 1
        await asyncio.sleep(max(0.0, started + second - loop.time()))
    return running, ended


def measure(run: Run, fake: FakeDiscord, channel: FakeChannel, began: float, running: list[Job],
            ended: dict[int, tuple[str, float]]) -> None:
    limiter = fake.edit_rate_limit
    times = [t for t in limiter.edits.get(channel.id, []) if began <= t <= began + run.window]
    run.edits = len(times)
    run.busiest_5s = limiter.max_edits_in_window(channel.id, PER)
    run.answered_429 = limiter.refused.get(channel.id, 0)
    end = time.monotonic()
    for message_id, (text, known_at) in ended.items():
        message = fake.message(message_id)
        shown = next((v.time for v in message.versions if v.content == text), None)
        if shown is None:
            run.unshown.append(end - known_at)
        else:
            run.phase_waits.append(max(0.0, shown - known_at))
    for job in running:
        message = fake.message(job.status_message_id or 0)
        edits = [v.time for v in message.versions[1:] if v.time >= began]
        marks = [began, *edits, end]
        run.refresh_gaps.append(max(b - a for a, b in itertools.pairwise(marks)))


async def coalesced(bot: RHBot, fake: FakeDiscord, channel: FakeChannel, member_id: int, jobs: int,
                    window: float) -> Run:
    board = bot.services.jobs.status
    run = Run("coalesced (StatusBoard)", jobs, window)
    began = time.monotonic()
    cpu = time.process_time()
    running, ended = await drive(
        bot, channel, member_id, jobs, window, board=True,
        report=lambda job, progress: board.progress(job.id, progress),
        end=lambda job, text: board.ended(job, text),
    )
    run.cpu = time.process_time() - cpu
    await asyncio.sleep(min(STALE_GOAL, 3.0))  # the last phase changes get their turn
    measure(run, fake, channel, began, running, ended)
    return run


async def naive(bot: RHBot, fake: FakeDiscord, channel: FakeChannel, member_id: int, jobs: int,
                window: float) -> Run:
    notifier = bot.services.jobs.notifier
    run = Run("naive (an edit per report)", jobs, window)
    tasks: set[asyncio.Task[Any]] = set()

    def edit(job: Job, text: str) -> None:
        task = asyncio.create_task(notifier.edit_status(job, text))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    began = time.monotonic()
    cpu = time.process_time()
    running, ended = await drive(
        bot, channel, member_id, jobs, window, board=False,
        report=lambda job, progress: edit(job, running_text(job, progress, None, time.time())),
        end=edit,
    )
    run.cpu = time.process_time() - cpu
    await asyncio.sleep(min(STALE_GOAL, 3.0))
    measure(run, fake, channel, began, running, ended)
    for task in list(tasks):  # a backlog of hours: dropped, not waited for
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return run


async def main(*, jobs: int = 200, window: float = 60.0, naive_window: float = 20.0) -> tuple[Run, Run]:
    random.seed(7)
    fake = FakeDiscord(token="bench-token")
    await fake.start()
    fake.limit_edits(limit=LIMIT, per=PER)
    guild = fake.add_guild("Bench")
    calm = guild.add_channel("coalesced")
    busy = guild.add_channel("naive")
    member = guild.add_member("member")
    env = {"DISCORD_GUILD_ID": str(guild.id), "POLL_INTERVAL": "3600", "LOG_LEVEL": "WARNING"}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-status-") as folder:
            async with running_bot(fake, tmp_path=Path(folder), env=env) as bot:
                first = await coalesced(bot, fake, calm, member.id, jobs, window)
                second = await naive(bot, fake, busy, member.id, jobs, naive_window)
    finally:
        await fake.stop()
    report(first, second)
    return first, second


def report(*runs: Run) -> None:
    jobs = runs[0].jobs
    print(f"status edits: {jobs} running jobs in one channel, progress every second each, one job ending and"
          f" one starting every {TURNOVER:g} s; the fake Discord allows {LIMIT} edits per {PER:g} s per channel")
    print(f"{'mode':<28} {'window':>7} {'429s':>6} {'edits/s':>8} {'max in 5s':>10} {'phase stale max':>16}"
          f" {'unshown':>8} {'progress refresh max':>21} {'CPU/job/min':>12}")
    for r in runs:
        print(f"{r.label:<28} {r.window:>6.0f}s {r.answered_429:>6} {r.rate:>8.2f} {r.busiest_5s:>10}"
              f" {r.stale:>15.1f}s {len(r.unshown):>8} {max(r.refresh_gaps, default=0):>20.1f}s"
              f" {r.cpu_per_job_minute * 1000:>10.1f}ms")
    ours = runs[0]
    floor = jobs * 1.0
    print(f"progress refresh floor at {RATE_GOAL:g} edit/s shared by {jobs} statuses: {floor:.0f} s per status"
          f" (a window shorter than that shows some statuses never refreshed)")
    print("CPU is the whole process: the bot and the fake Discord answering it")
    verdicts = [
        ("no 429 answers", ours.answered_429 == 0, f"{ours.answered_429}"),
        (f"edits per second per channel <= {RATE_GOAL:g} on average", ours.rate <= RATE_GOAL, f"{ours.rate:.2f}"),
        (f"at most {LIMIT} edits in any {PER:g} s", ours.busiest_5s <= LIMIT, f"{ours.busiest_5s}"),
        (f"no phase change shown later than {STALE_GOAL:g} s", ours.stale <= STALE_GOAL and not ours.unshown,
         f"{ours.stale:.1f} s"),
    ]
    for goal, met, value in verdicts:
        print(f"goal: {goal} -> {value} {'met' if met else 'MISSED'}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured, coalesced")
    parser.add_argument("--naive-window", type=float, default=20.0, help="seconds measured, naive")
    return parser.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord.http").setLevel(logging.ERROR)  # the naive run's 429s are counted, not logged
    options = parse_args()
    asyncio.run(main(jobs=options.jobs, window=options.window, naive_window=options.naive_window))
