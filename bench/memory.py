"""Memory during delivery: 20 concurrent deliveries of 8 MB outputs, streamed or held whole?

    python bench/memory.py               # about 15 s
    python bench/memory.py --jobs 5 --size 2000000

The simulator runs in a child process (its copies of the outputs are not ours) and makes every
image output about --size bytes of incompressible noise. --jobs tasks are run there, and their
jobs are moved through the journal to 'succeeded' with those outputs. With the process idle
(RSS measured after a garbage collection), bot.jobs.delivery.Delivery delivers all of them at
once, to a notifier that reads each file in 64 KiB chunks (as an upload would) and discards it.
Peak RSS comes from VmHWM (reset just before, through /proc/self/clear_refs) and from sampling
VmRSS every 5 ms. Goal: peak under idle + 100 MB, i.e. outputs streamed, not held whole.

A second set of --jobs deliveries then runs with the guild's upload limit below the output size
(--reencode-limit, 5 MiB), so that every picture goes through the re-encoding path (decoded
whole by Pillow, in a worker thread) as 4K outputs over Discord's 10 MiB limit do.

Side by side, in the same run: the same outputs fetched the buffered way (`await
response.read()`, all at once, bytes kept until every download is done, as a client that
attaches in-memory files would). The growth ratio streamed / buffered shows what streaming saves.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench._support import (
    CHANNEL,
    GUILD,
    Z_IMAGE_WORKFLOW,
    BenchNotifier,
    SimulatorProcess,
    World,
    open_world,
    peak_rss_kib,
    reset_peak_rss,
    rss_kib,
)
from bot.runninghub.types import NodeInfo, TaskState

MB = 1024 * 1024
GOAL_MB = 100


@dataclass
class Phase:
    label: str
    idle_kib: int
    peak_kib: int
    from_hwm: bool  # VmHWM could be reset: the peak is exact, not only sampled
    wall: float

    @property
    def growth_mb(self) -> float:
        return (self.peak_kib - self.idle_kib) / 1024


class RssSampler:
    """Samples VmRSS every `period` s; the peak stands in for VmHWM where that cannot be reset."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_kib())
            await asyncio.sleep(self.period)

    async def __aenter__(self) -> RssSampler:
        self.peak = rss_kib()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.peak = max(self.peak, rss_kib())


async def finished_outputs(world: World, jobs: int) -> list[list[tuple[str, str, str | None, str | None]]]:
    """Run `jobs` tasks at the simulator; each one's outputs as the poller would record them."""
    created = [
        await world.client.create_task(Z_IMAGE_WORKFLOW, [NodeInfo("6", "text", f"bench {i}")]) for i in range(jobs)
    ]
    results = []
    for task in created:
        while (outcome := await world.client.outputs(task.task_id)).state != TaskState.SUCCEEDED:
            if outcome.state == TaskState.FAILED:
                raise SystemExit(f"simulator task {task.task_id} failed")
            await asyncio.sleep(0.05)
        results.append([(f.url, f.file_type, f.node_id, f.text) for f in outcome.files])
    return results


async def succeeded_jobs(world: World, outputs: list[list[tuple[str, str, str | None, str | None]]]) -> list[int]:
    """Jobs taken through the journal's real transitions to 'succeeded' (coins held, then charged)."""
    ids = []
    for i, files in enumerate(outputs):
        job = await world.journal.create(guild_id=GUILD, channel_id=CHANNEL, member_id=1 + i, alias="z-image",
                                         cost=10, locale="en-US", state="pending")
        assert await world.journal.claim_submit(job.id)
        assert await world.journal.submitted(job.id, f"bench-task-{i}", running=True)
        assert await world.journal.succeed(job.id, files, 10)
        ids.append(job.id)
    return ids


async def delivered(label: str, world: World, job_ids: list[int]) -> Phase:
    gc.collect()
    idle = rss_kib()
    hwm = reset_peak_rss()
    started = time.perf_counter()
    async with RssSampler() as sampler:
        done = await asyncio.gather(*(world.service.delivery.deliver(job_id) for job_id in job_ids))
    wall = time.perf_counter() - started
    if not all(done):
        raise SystemExit(f"{label}: only {sum(done)} of {len(job_ids)} deliveries succeeded")
    peak = max(sampler.peak, peak_rss_kib()) if hwm else sampler.peak
    return Phase(label, idle, peak, hwm, wall)


async def buffered(urls: list[str]) -> Phase:
    gc.collect()
    idle = rss_kib()
    hwm = reset_peak_rss()
    started = time.perf_counter()
    async with RssSampler() as sampler, aiohttp.ClientSession() as http:

        async def fetch(url: str) -> bytes:
            async with http.get(url) as response:
                return await response.read()

        held = await asyncio.gather(*(fetch(url) for url in urls))
        total = sum(len(data) for data in held)
        del held
    wall = time.perf_counter() - started
    peak = max(sampler.peak, peak_rss_kib()) if hwm else sampler.peak
    if total == 0:
        raise SystemExit("the buffered downloads returned nothing")
    return Phase("buffered (response.read())", idle, peak, hwm, wall)


async def main(*, jobs: int = 20, size: int = 8 * MB, reencode_limit: int = 5 * MB) -> list[Phase]:
    options = {"queue_seconds": 0.0, "run_seconds": 0.05, "concurrency": 2 * jobs}
    async with SimulatorProcess(options=options, output_sizes={"image": size}) as sim:
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
            # Discord's default upload limit, raised if --size asks for more: phase one posts files.
            notifier = BenchNotifier(read_files=True, upload_limit=max(10 * MB, 2 * size))
            world = await open_world(Path(folder), sim.base_url, notifier=notifier)
            try:
                outputs = await finished_outputs(world, 2 * jobs)
                job_ids = await succeeded_jobs(world, outputs)
                phases = [await delivered("Delivery, posted as files", world, job_ids[:jobs])]
                posted = notifier.bytes_read
                notifier.limit = reencode_limit
                phases.append(await delivered("Delivery, re-encoded to fit", world, job_ids[jobs:]))
                phases.append(await buffered([files[0][0] for files in outputs[:jobs]]))
                count = (await world.journal.counts_by_state()).get("delivered", 0)
            finally:
                await world.close()
    if count != 2 * jobs or notifier.results != 2 * jobs:
        raise SystemExit(f"expected {2 * jobs} delivered jobs, found {count} ({notifier.results} posts)")

    print(f"memory: {jobs} concurrent deliveries of one {posted / jobs / MB:.1f} MB image each"
          f" ({posted / MB:.0f} MB in all, every byte read back by the notifier); then {jobs} more with an"
          f" upload limit of {reencode_limit / MB:g} MiB, so each is re-encoded")
    print(f"{'phase':<30} {'idle RSS':>10} {'peak RSS':>10} {'growth':>10} {'growth/data':>12} {'wall':>7}")
    for phase in phases:
        print(f"{phase.label:<30} {phase.idle_kib / 1024:>8.0f}MB {phase.peak_kib / 1024:>8.0f}MB"
              f" {phase.growth_mb:>8.1f}MB {phase.growth_mb * MB / posted:>12.3f} {phase.wall:>6.2f}s")
    source = "VmHWM, reset before each phase" if phases[0].from_hwm else "VmRSS sampled every 5 ms"
    print(f"peak RSS from {source}; idle RSS measured just before each phase, after gc.collect()")
    stream, reencoded, buffer = phases
    ratio = stream.growth_mb / buffer.growth_mb if buffer.growth_mb > 0 else float("nan")
    print(f"ratio growth streamed / buffered: {ratio:.3f}")
    for phase in (stream, reencoded):
        verdict = "met" if phase.growth_mb < GOAL_MB else "MISSED"
        print(f"goal: peak under idle + {GOAL_MB} MB ({phase.label}) -> +{phase.growth_mb:.1f} MB {verdict}")
    return phases


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--size", type=int, default=8 * MB, help="bytes per output")
    parser.add_argument("--reencode-limit", type=int, default=5 * MB, help="upload limit of the second phase")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    asyncio.run(main(jobs=options.jobs, size=options.size, reencode_limit=options.reencode_limit))
