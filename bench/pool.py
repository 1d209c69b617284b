"""Slot use of a pool of RunningHub keys: does every key's every slot stay busy?

    python bench/pool.py            # about 40 s
    python bench/pool.py --quick    # a few seconds (the smoke test runs this)

For 1, 2 and 4 keys (each its own account, with C slots and the same task duration D), N jobs from
10 members are queued through JobService.intake before the clock starts; then the real scheduler
and poller run them with webhooks on (POLL_INTERVAL stays at 5 s as the safety net). Each key is
its own simulator, so no account can lend another a slot. The limit is N·D/ΣC, what the
pool could do if no slot were ever idle, and limit/makespan is the share of the pool's slot time
that ran tasks (1.0 is perfect). Every row also checks that no key ever ran more than its C tasks,
that every task was polled only with its own key, and that the work was spread over every key.

Each simulated account runs in a child process (bench/_support.SimulatorProcess), as RunningHub
runs on its own machines: its timers, renders and progress frames do not queue on the bot's event
loop, which is what is measured.
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

from bench._support import SAFETY_NET_POLL, BenchNotifier, BenchWebhook, SimulatorProcess, open_world, run_queued
from bot.runninghub.client import RunningHubClient
from bot.runninghub.pool import KeyPool, PoolKey, key_fingerprint

MEMBERS = 10
GOAL = 0.95


@dataclass
class Row:
    keys: int
    per_key: int
    jobs: int
    duration: float
    makespan: float
    spread: list[int]  # tasks created on each key
    refills: list[float]  # per finished task: until its account's next create (a slot standing idle)

    @property
    def slots(self) -> int:
        return self.keys * self.per_key

    @property
    def limit(self) -> float:
        return self.jobs * self.duration / self.slots

    @property
    def ratio(self) -> float:
        return self.limit / self.makespan

    def refill_ms(self, share: float) -> float:
        ordered = sorted(self.refills)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def pool_key(i: int) -> str:
    return f"benchkey{i:02d}" + "0" * 20 + f"{i:04d}"  # 32 letters and digits, like a real key


async def run(keys: int, per_key: int, jobs: int, duration: float) -> Row:
    api_keys = [pool_key(i) for i in range(keys)]
    accounts = [SimulatorProcess(options={"api_key": key, "queue_seconds": 0.0, "run_seconds": duration,
                                          "concurrency": per_key, "image_size": [32, 32]}, api_key=key)
                for key in api_keys]
    async with contextlib.AsyncExitStack() as stack:
        for account in accounts:
            await stack.enter_async_context(account)
        started, ended = await _run_bot(api_keys, [a.base_url for a in accounts], per_key, jobs, duration)
    reports = [account.report for account in accounts if account.report is not None]
    if len(reports) != keys:
        raise SystemExit("a simulated account did not report what it saw")
    refills = []
    for key, report in zip(api_keys, reports, strict=True):
        if report.max_concurrent > per_key:
            raise SystemExit(f"key {key[-4:]} ran {report.max_concurrent} tasks at once with a limit of {per_key}")
        if any(used not in (None, key) for used in report.keys):
            raise SystemExit(f"key {key[-4:]}'s account was asked with another key")
        creates = sorted(created for created, _finished in report.runs)
        for _created, finished in report.runs:
            later = [created for created in creates if created >= finished]
            if later:
                refills.append(later[0] - finished)
    spread = [report.creates for report in reports]
    if sum(spread) != jobs or 0 in spread:
        raise SystemExit(f"tasks per key {spread} for {jobs} jobs")
    return Row(keys, per_key, jobs, duration, ended - started, spread, refills)


async def _run_bot(
    api_keys: list[str], base_urls: list[str], per_key: int, jobs: int, duration: float
) -> tuple[float, float]:
    """Queue the jobs, start the bot's loops and wait until every job is delivered: when that
    started and ended (the makespan between)."""
    async with BenchWebhook() as webhook:
        with tempfile.TemporaryDirectory(prefix="bench-pool-") as folder:
            session = aiohttp.ClientSession()
            pool = KeyPool([
                PoolKey(index=i, key_id=key_fingerprint(key), tail=key[-4:], concurrency=per_key,
                        client=RunningHubClient(session, base_url, key))
                for i, (key, base_url) in enumerate(zip(api_keys, base_urls, strict=True))
            ])
            world = await open_world(Path(folder), base_urls[0], notifier=BenchNotifier(),
                                     env={"RUNNINGHUB_CONCURRENCY": str(per_key), **webhook.env},
                                     max_unfinished=jobs, session=session, job_options={"pool": pool})
            webhook.service = world.service
            try:
                return await run_queued(world, jobs=jobs, members=MEMBERS, duration=duration, prompt="pool picture")
            finally:
                await world.close()


async def main(*, per_key: int = 2, jobs_per_slot: int = 10, duration: float = 1.0,
               pools: tuple[int, ...] = (1, 2, 4)) -> list[Row]:
    rows = [await run(keys, per_key, jobs_per_slot * keys * per_key, duration) for keys in pools]
    print(f"pool: {per_key} slots per key, task duration {duration:g} s, {jobs_per_slot} jobs per slot from"
          f" {MEMBERS} members, webhooks on (POLL_INTERVAL={SAFETY_NET_POLL} s as the safety net)")
    print(f"{'keys':>4} {'slots':>5} {'jobs':>5} {'makespan':>9} {'N·D/ΣC':>8} {'limit/makespan':>15}"
          f" {'refill p50/p90':>15} {'tasks per key':<20}")
    for row in rows:
        refill = f"{row.refill_ms(0.5):.0f}/{row.refill_ms(0.9):.0f} ms"
        print(f"{row.keys:>4} {row.slots:>5} {row.jobs:>5} {row.makespan:>8.2f}s {row.limit:>7.2f}s"
              f" {row.ratio:>15.3f} {refill:>15} {' '.join(str(n) for n in row.spread):<20}")
    print("refill: from a task's end until its key's account got its next create (the slot stood idle)")
    for row in rows:
        verdict = "met" if row.ratio >= GOAL else "MISSED"
        print(f"goal {row.keys} key(s): limit/makespan >= {GOAL} -> {row.ratio:.3f} {verdict}")
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-key", type=int, default=2, help="slots (concurrency) of each key")
    parser.add_argument("--jobs-per-slot", type=int, default=10, help="jobs per slot of the pool")
    parser.add_argument("--duration", type=float, default=1.0, help="simulated task run time, seconds")
    parser.add_argument("--quick", action="store_true", help="short tasks, few jobs: a smoke run")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    if options.quick:
        asyncio.run(main(per_key=1, jobs_per_slot=3, duration=0.3))
    else:
        asyncio.run(main(per_key=options.per_key, jobs_per_slot=options.jobs_per_slot, duration=options.duration))
