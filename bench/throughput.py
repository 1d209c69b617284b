"""Slot utilisation: how close does the bot come to the account's physical limit N·D/C?

    python bench/throughput.py            # about 45 s
    python bench/throughput.py --full     # 100 jobs in every row, naive client included (about 4 min)

N jobs from 10 members are queued (through JobService.intake, as /generate does) before the clock
starts; then the real scheduler and poller run them on the simulator (in a child process, as
RunningHub runs elsewhere) with account concurrency C, task duration D and no queue time, and a
notifier records the results (real SQLite file, real HTTP to the simulator). Makespan runs from
the service's start to the last result posted; the physical limit is N·D/C, so limit/makespan is
the share of the account's slot time that did useful work (1.0 is perfect). Two modes:
  - webhook: a WebhookReceiver and WEBHOOK_URL/WEBHOOK_SECRET; POLL_INTERVAL stays at 5 s as the
    safety net, so finished tasks are noticed through the webhook;
  - polling: no webhook, POLL_INTERVAL = --poll (0.05 s).
In the same run, a naive client written the way RunningHub's getting-started examples are
(create; sleep-poll /task/openapi/outputs every --poll s; download the outputs; next task) runs
the same workflow one task at a time; its throughput beside the bot's is the second ratio.

By default the rows at C=1 and the naive client run --serial-jobs (10) jobs instead of 100:
they are serial, so their per-job figures do not depend on N, and 100 serial half-second tasks
would take over a minute each. Throughputs (jobs/s) are compared, never a bare time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench._support import (
    SAFETY_NET_POLL,
    Z_IMAGE_WORKFLOW,
    BenchNotifier,
    BenchWebhook,
    SimReport,
    SimulatorProcess,
    World,
    now,
    open_world,
    run_queued,
)
from bot.config import SIMULATOR_API_KEY

MEMBERS = 10


@dataclass
class Row:
    label: str
    concurrency: int
    jobs: int
    duration: float
    makespan: float
    polls: int  # /task/openapi/outputs requests
    max_seen: int  # most tasks the simulator saw running at once

    @property
    def limit(self) -> float:
        return self.jobs * self.duration / self.concurrency

    @property
    def ratio(self) -> float:
        return self.limit / self.makespan

    @property
    def lost(self) -> float:
        """Slot seconds per job not spent running a task (ramp-up, noticing ends, submitting, the tail)."""
        return (self.concurrency * self.makespan - self.jobs * self.duration) / self.jobs

    @property
    def rate(self) -> float:
        return self.jobs / self.makespan


def new_simulator(concurrency: int, duration: float) -> SimulatorProcess:
    # In a child process, as RunningHub runs on its own machines: its timers, renders and progress
    # frames are not the bot's work. Small pictures all the same.
    return SimulatorProcess(options={"queue_seconds": 0.0, "run_seconds": duration, "concurrency": concurrency,
                                     "image_size": [64, 64]})


def seen(sim: SimulatorProcess) -> SimReport:
    if sim.report is None:
        raise SystemExit("the simulator did not report what it saw")
    return sim.report


async def delivered_count(world: World, jobs: int) -> int:
    """Jobs in state 'delivered' (the last result is posted a moment before its row is written)."""
    for _ in range(100):
        delivered = (await world.journal.counts_by_state()).get("delivered", 0)
        if delivered >= jobs:
            break
        await asyncio.sleep(0.01)
    return delivered


async def run_bot(mode: str, concurrency: int, jobs: int, duration: float, poll: float) -> Row:
    async with new_simulator(concurrency, duration) as sim:
        makespan, delivered = await _measure_bot(mode, sim.base_url, concurrency, jobs, duration, poll)
    report = seen(sim)
    if report.max_concurrent > concurrency:
        raise SystemExit(f"the bot ran {report.max_concurrent} tasks at once with a limit of {concurrency}")
    if delivered != jobs:
        raise SystemExit(f"{mode} C={concurrency}: only {delivered} of {jobs} jobs were delivered")
    return Row(mode, concurrency, jobs, duration, makespan, report.polls, report.max_concurrent)


async def _measure_bot(
    mode: str, base_url: str, concurrency: int, jobs: int, duration: float, poll: float
) -> tuple[float, int]:
    """The makespan of `jobs` queued jobs through the bot's loops, and how many were delivered."""
    async with contextlib.AsyncExitStack() as stack:
        env = {"RUNNINGHUB_CONCURRENCY": str(concurrency), "POLL_INTERVAL": str(poll)}
        webhook = await stack.enter_async_context(BenchWebhook()) if mode == "webhook" else None
        if webhook is not None:
            env.update(webhook.env)
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-throughput-"))
        world = await open_world(Path(folder), base_url, notifier=BenchNotifier(), env=env, max_unfinished=jobs)
        if webhook is not None:
            webhook.service = world.service
        try:
            started, ended = await run_queued(world, jobs=jobs, members=MEMBERS, duration=duration,
                                              prompt="bench picture")
            delivered = await delivered_count(world, jobs)
        finally:
            await world.close()
    return ended - started, delivered


async def run_naive(jobs: int, duration: float, poll: float) -> Row:
    """RunningHub's getting-started loop: create, sleep-poll outputs, download, one task at a time."""
    headers = {"Host": "www.runninghub.cn", "Content-Type": "application/json"}
    async with new_simulator(1, duration) as sim, aiohttp.ClientSession() as http:
        base = sim.base_url
        started = now()
        for i in range(jobs):
            body = {
                "apiKey": SIMULATOR_API_KEY,
                "workflowId": Z_IMAGE_WORKFLOW,
                "nodeInfoList": [{"nodeId": "6", "fieldName": "text", "fieldValue": f"bench picture {i}"}],
            }
            async with http.post(f"{base}/task/openapi/create", json=body, headers=headers) as response:
                created = await response.json()
            task_id = created["data"]["taskId"]
            while True:
                await asyncio.sleep(poll)
                query = {"apiKey": SIMULATOR_API_KEY, "taskId": task_id}
                async with http.post(f"{base}/task/openapi/outputs", json=query, headers=headers) as response:
                    answer = await response.json()
                if answer["code"] == 0:
                    break
                if answer["code"] not in (804, 813):
                    raise SystemExit(f"naive client: task {task_id} answered {answer}")
            for output in answer["data"]:
                async with http.get(output["fileUrl"]) as response:
                    await response.read()
        makespan = now() - started
    report = seen(sim)
    return Row("naive", 1, jobs, duration, makespan, report.polls, report.max_concurrent)


async def main(
    *,
    jobs: int = 100,
    serial_jobs: int = 10,
    duration: float = 0.5,
    concurrencies: tuple[int, ...] = (1, 5, 20),
    poll: float = 0.05,
    modes: tuple[str, ...] = ("webhook", "polling"),
) -> list[Row]:
    rows: list[Row] = []
    for concurrency in concurrencies:
        count = serial_jobs if concurrency == 1 else jobs
        for mode in modes:
            rows.append(await run_bot(mode, concurrency, count, duration, poll))
    naive = await run_naive(serial_jobs, duration, poll)

    print(f"throughput: jobs from {MEMBERS} members, task duration {duration:g} s, queue time 0,"
          f" polling mode POLL_INTERVAL={poll:g} s, webhook mode POLL_INTERVAL={SAFETY_NET_POLL} s")
    print(f"{'C':>3} {'mode':<8} {'jobs':>5} {'makespan':>9} {'N·D/C':>8} {'limit/makespan':>15}"
          f" {'lost/job':>9} {'polls/job':>9} {'jobs/s':>7} {'vs naive':>9}")
    for row in [*rows, naive]:
        print(f"{row.concurrency:>3} {row.label:<8} {row.jobs:>5} {row.makespan:>8.2f}s {row.limit:>7.2f}s"
              f" {row.ratio:>15.3f} {row.lost * 1000:>7.0f}ms {row.polls / row.jobs:>9.1f} {row.rate:>7.2f}"
              f" {row.rate / naive.rate:>8.2f}x")
    print(f"naive = create, sleep-poll outputs every {poll:g} s, download, one task at a time"
          " (RunningHub's getting-started loop)")
    print("lost/job = slot time not spent running tasks, per job: (C·makespan - N·D)/N; at real task"
          " durations (minutes) the same loss makes limit/makespan ≈ 1")
    for row in rows:
        if row.concurrency == 5:
            goal = 0.95 if row.label == "webhook" else 0.9
            verdict = "met" if row.ratio >= goal else "MISSED"
            print(f"goal C=5 {row.label}: limit/makespan >= {goal} -> {row.ratio:.3f} {verdict}")
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100, help="jobs per row at C > 1 (default 100)")
    parser.add_argument("--serial-jobs", type=int, default=10, help="jobs at C=1 and for the naive client")
    parser.add_argument("--duration", type=float, default=0.5, help="simulated task run time, seconds")
    parser.add_argument("--poll", type=float, default=0.05, help="poll interval (polling mode and naive client)")
    parser.add_argument("--concurrency", default="1,5,20", help="comma-separated account concurrencies")
    parser.add_argument("--full", action="store_true", help="--jobs everywhere (C=1 and naive too)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    asyncio.run(main(
        jobs=options.jobs,
        serial_jobs=options.jobs if options.full else options.serial_jobs,
        duration=options.duration,
        concurrencies=tuple(int(c) for c in options.concurrency.split(",")),
        poll=options.poll,
    ))
