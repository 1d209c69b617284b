"""Slot use of a pool of RunningHub keys: does every key's every slot stay busy?

    python bench/pool.py            # about 40 s
    python bench/pool.py --quick    # a few seconds (the smoke test runs this)

For 1, 2 and 4 keys (each its own account, with C slots and the same task duration D), N jobs from
10 members are queued through JobService.intake before the clock starts; then the real scheduler
and poller run them with webhooks on (POLL_INTERVAL stays at 5 s as the safety net). Each key is
its own in-process simulator, so no account can lend another a slot. The limit is N·D/ΣC, what the
pool could do if no slot were ever idle, and limit/makespan is the share of the pool's slot time
that ran tasks (1.0 is perfect). Every row also checks that no key ever ran more than its C tasks,
that every task was polled only with its own key, and that the work was spread over every key.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import CHANNEL, GUILD, BenchNotifier, now, open_world
from bot.jobs.pipeline import validate_request
from bot.jobs.service import JobService
from bot.jobs.webhook import WebhookReceiver
from bot.runninghub.client import RunningHubClient
from bot.runninghub.pool import KeyPool, PoolKey, key_fingerprint
from bot.runninghub.simulator import Simulator

MEMBERS = 10
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
SAFETY_NET_POLL = "5"
GOAL = 0.95


@dataclass
class Row:
    keys: int
    per_key: int
    jobs: int
    duration: float
    makespan: float
    spread: list[int]  # tasks created on each key

    @property
    def slots(self) -> int:
        return self.keys * self.per_key

    @property
    def limit(self) -> float:
        return self.jobs * self.duration / self.slots

    @property
    def ratio(self) -> float:
        return self.limit / self.makespan


def pool_key(i: int) -> str:
    return f"benchkey{i:02d}" + "0" * 20 + f"{i:04d}"  # 32 letters and digits, like a real key


async def run(keys: int, per_key: int, jobs: int, duration: float) -> Row:
    api_keys = [pool_key(i) for i in range(keys)]
    sims = [Simulator(api_key=key, queue_seconds=0.0, run_seconds=duration, concurrency=per_key,
                      image_size=(32, 32)) for key in api_keys]
    for sim in sims:
        await sim.start()
    services: list[JobService] = []
    receiver = WebhookReceiver(
        WEBHOOK_SECRET,
        lambda task_id, job_id: services[0].on_webhook(task_id, job_id),
        lambda coro, name: services[0].spawn(coro, name),
    )
    await receiver.start("127.0.0.1", 0)
    port = receiver._runner.addresses[0][1]  # type: ignore[union-attr]
    env = {"RUNNINGHUB_CONCURRENCY": str(per_key), "POLL_INTERVAL": SAFETY_NET_POLL,
           "WEBHOOK_URL": f"http://127.0.0.1:{port}/rh", "WEBHOOK_SECRET": WEBHOOK_SECRET}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pool-") as folder:
            notifier = BenchNotifier()
            world = await open_world(Path(folder), sims[0].base_url, notifier=notifier, env=env, max_unfinished=jobs)
            pool = KeyPool([
                PoolKey(index=i, key_id=key_fingerprint(key), tail=key[-4:], concurrency=per_key,
                        client=RunningHubClient(world.session, sim.base_url, key))
                for i, (key, sim) in enumerate(zip(api_keys, sims, strict=True))
            ])
            world.service = JobService(
                settings=world.service.settings, journal=world.journal, ledger=world.ledger, registry=world.registry,
                client=world.client, session=world.session, notifier=notifier, max_unfinished=jobs, pool=pool,
            )
            services.append(world.service)
            try:
                workflow = world.registry.get("z-image")
                for i in range(jobs):
                    request = validate_request(workflow, prompt=f"pool picture {i}", files={}, params=None)
                    await world.service.intake(request, guild_id=GUILD, channel_id=CHANNEL,
                                               member_id=1 + i % MEMBERS, locale="en-US")
                started = now()
                await world.service.start()
                await asyncio.wait_for(notifier.until_delivered(jobs), timeout=jobs * duration * 3 + 30)
                makespan = now() - started
            finally:
                await world.close()
    finally:
        await receiver.stop()
        for sim in sims:
            await sim.stop()
    for key, sim in zip(api_keys, sims, strict=True):
        if sim.max_concurrent_seen > per_key:
            raise SystemExit(f"key {key[-4:]} ran {sim.max_concurrent_seen} tasks at once with a limit of {per_key}")
        strangers = [r for r in sim.requests if (r.json or {}).get("apiKey") not in (None, key)]
        if strangers:
            raise SystemExit(f"key {key[-4:]}'s account was asked with another key: {strangers[0].path}")
    spread = [len(sim.creates()) for sim in sims]
    if sum(spread) != jobs or 0 in spread:
        raise SystemExit(f"tasks per key {spread} for {jobs} jobs")
    return Row(keys, per_key, jobs, duration, makespan, spread)


async def main(*, per_key: int = 2, jobs_per_slot: int = 10, duration: float = 1.0,
               pools: tuple[int, ...] = (1, 2, 4)) -> list[Row]:
    rows = [await run(keys, per_key, jobs_per_slot * keys * per_key, duration) for keys in pools]
    print(f"pool: {per_key} slots per key, task duration {duration:g} s, {jobs_per_slot} jobs per slot from"
          f" {MEMBERS} members, webhooks on (POLL_INTERVAL={SAFETY_NET_POLL} s as the safety net)")
    print(f"{'keys':>4} {'slots':>5} {'jobs':>5} {'makespan':>9} {'N·D/ΣC':>8} {'limit/makespan':>15}"
          f" {'tasks per key':<20}")
    for row in rows:
        print(f"{row.keys:>4} {row.slots:>5} {row.jobs:>5} {row.makespan:>8.2f}s {row.limit:>7.2f}s"
              f" {row.ratio:>15.3f} {' '.join(str(n) for n in row.spread):<20}")
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
