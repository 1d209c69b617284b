"""Pieces the benchmarks share (not a benchmark itself: running it does nothing).

- `BenchNotifier`: a Notifier that counts what the job pipeline would post, optionally reading
  each result file the way an upload would (in chunks) and discarding the bytes.
- `open_world`: a JobService on a real SQLite file, pointed at a RunningHub simulator.
- `SimulatorProcess`: the simulator in a child process, so that its own work (rendering and
  serving outputs, parsing uploads) is not charged to the process being measured.
- `percentile`, `rss_kib`, `peak_rss_kib`, `reset_peak_rss`, `StallTicker`: measuring helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import Resources, build_services
from bot.config import SIMULATOR_API_KEY, settings_from_mapping
from bot.db.database import Database
from bot.db.journal import Job, Journal
from bot.db.ledger import Ledger
from bot.jobs.notifier import OutgoingFile
from bot.jobs.pipeline import validate_request
from bot.jobs.service import JobService
from bot.jobs.webhook import WebhookReceiver
from bot.runninghub.client import RunningHubClient
from bot.workflows import WorkflowRegistry, load_workflows

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / "data" / "workflows.toml"
Z_IMAGE_WORKFLOW = "2016195556967714818"  # the shipped z-image alias: a prompt in, one image out
GUILD, CHANNEL = 1001, 2002
READ_CHUNK = 64 * 1024
REPORT_LIMIT = 64 * 1024 * 1024  # the simulator's report is one JSON line (a run per task)


# --------------------------------------------------------------------------- notifier


class BenchNotifier:
    """Counts posts; `read_files` reads each result file in chunks (like a streamed upload) and drops it."""

    def __init__(self, *, upload_limit: int = 10 * 1024 * 1024, read_files: bool = False) -> None:
        self.limit = upload_limit
        self.read_files = read_files
        self.statuses = 0
        self.edits = 0
        self.results = 0
        self.notices = 0
        self.bytes_read = 0
        self.delivered_jobs: set[int] = set()
        self._ids = count(10_000)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def upload_limit(self, guild_id: int) -> int:
        return self.limit

    async def post_status(self, job: Job, text: str) -> int | None:
        self.statuses += 1
        return next(self._ids)

    async def edit_status(self, job: Job, text: str, *, cancellable: bool | None = None) -> bool:
        self.edits += 1
        return True

    async def post_result(
        self, job: Job, text: str, files: Sequence[OutgoingFile], *, first: bool, nonce: str | None = None
    ) -> int:
        if self.read_files:
            for item in files:
                with item.path.open("rb") as fh:
                    while chunk := fh.read(READ_CHUNK):
                        self.bytes_read += len(chunk)
                await asyncio.sleep(0)  # an upload yields to the loop between files
        self.results += 1
        self.delivered_jobs.add(job.id)
        for wanted, waiter in self._waiters:
            if len(self.delivered_jobs) >= wanted and not waiter.done():
                waiter.set_result(None)
        return next(self._ids)

    async def message_exists(self, job: Job, message_id: int) -> bool:
        return True

    async def post_notice(self, job: Job, text: str) -> int | None:
        self.notices += 1
        return next(self._ids)

    def guild_locale(self, guild_id: int) -> str | None:
        return None

    async def post_modlog(self, guild_id: int, channel_id: int, text: str) -> None:
        return None

    async def until_delivered(self, jobs: int) -> None:
        """Wait until results were posted for `jobs` distinct jobs."""
        if len(self.delivered_jobs) >= jobs:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((jobs, waiter))
        await waiter


# --------------------------------------------------------------------------- a job service


@dataclass
class World:
    db: Database
    ledger: Ledger
    journal: Journal
    registry: WorkflowRegistry
    session: aiohttp.ClientSession
    client: RunningHubClient
    service: JobService
    notifier: BenchNotifier

    async def close(self) -> None:
        await self.service.stop()
        await self.session.close()
        await self.db.close()


async def open_world(
    folder: Path,
    base_url: str,
    *,
    notifier: BenchNotifier,
    env: dict[str, str] | None = None,
    max_unfinished: int = 3,
    allowance: int = 1_000_000,
    session: aiohttp.ClientSession | None = None,
    job_options: dict[str, Any] | None = None,
) -> World:
    """A JobService as the bot builds it (bot/app.py), on `folder`/bot.db, talking to the simulator at `base_url`."""
    settings = settings_from_mapping(
        {
            "RUNNINGHUB_BASE_URL": base_url,
            "RUNNINGHUB_API_KEY": SIMULATOR_API_KEY,
            "DATABASE_PATH": str(folder / "bot.db"),
            "DEFAULT_ALLOWANCE": str(allowance),
            **(env or {}),
        }
    )
    db = await Database.open(folder / "bot.db")
    registry = load_workflows(WORKFLOWS)
    session = session or aiohttp.ClientSession()
    resources = Resources(settings=settings, session=session, db=db, workflows=registry, runninghub_url=base_url)
    options = {"max_unfinished": max_unfinished, **(job_options or {})}
    services = build_services(resources, notifier, job_options=options)
    return World(db, services.ledger, services.journal, registry, session, services.runninghub, services.jobs,
                 notifier)


# --------------------------------------------------------------------------- a timed run of queued jobs

WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
SAFETY_NET_POLL = "5"  # with webhooks on: the poll interval a deployment would keep as its safety net


class BenchWebhook:
    """A WebhookReceiver for a job service made after it (its address goes into the settings).

    `async with BenchWebhook() as webhook:` gives `webhook.env`, the settings that point RunningHub's
    TASK_END at it; set `webhook.service` once the service exists.
    """

    def __init__(self) -> None:
        self.service: JobService | None = None
        self.env: dict[str, str] = {}
        self._receiver = WebhookReceiver(WEBHOOK_SECRET, self._task_end, self._spawn)

    async def _task_end(self, task_id: str, job_id: int | None) -> None:
        assert self.service is not None
        await self.service.on_webhook(task_id, job_id)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        assert self.service is not None
        self.service.spawn(coro, name)  # as cogs/jobs.py wires it

    async def __aenter__(self) -> BenchWebhook:
        await self._receiver.start("127.0.0.1", 0)
        port = self._receiver._runner.addresses[0][1]  # type: ignore[union-attr]
        self.env = {"WEBHOOK_URL": f"http://127.0.0.1:{port}/rh", "WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "POLL_INTERVAL": SAFETY_NET_POLL}
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._receiver.stop()


async def run_queued(world: World, *, jobs: int, members: int, duration: float, prompt: str) -> tuple[float, float]:
    """Queue `jobs` z-image jobs from `members` members (as /generate does), then start the service
    and wait until every one is delivered: when the loops started and when the last was posted."""
    workflow = world.registry.get("z-image")
    for i in range(jobs):
        request = validate_request(workflow, prompt=f"{prompt} {i}", files={}, params=None)
        await world.service.intake(request, guild_id=GUILD, channel_id=CHANNEL, member_id=1 + i % members,
                                   locale="en-US")
    started = now()
    await world.service.start()
    await asyncio.wait_for(world.notifier.until_delivered(jobs), timeout=jobs * duration * 3 + 30)
    return started, now()


# --------------------------------------------------------------------------- the simulator in a child process


@dataclass
class SimReport:
    """What the simulator in the child process saw, sent back when it stops."""

    max_concurrent: int  # most tasks running at once
    creates: int  # create (and AI-app run) requests
    polls: int  # /task/openapi/outputs requests
    keys: list[str | None]  # every key its requests came with (None: a request without one)
    runs: list[tuple[float, float]]  # each task's (created, finished) on time.monotonic(), as now()


@dataclass
class SimulatorProcess:
    """The simulator in a child process (`serve_main`); `base_url` once it listens, `report` once
    it stopped. Stopped by closing its stdin."""

    options: dict[str, Any] = field(default_factory=dict)
    latency: float = 0.0
    output_sizes: dict[str, int] = field(default_factory=dict)
    base_url: str = ""
    api_key: str = SIMULATOR_API_KEY
    report: SimReport | None = None
    _process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> SimulatorProcess:
        args = [
            "-c", "from bench._support import serve_main; serve_main()",
            "--options", json.dumps(self.options), "--latency", str(self.latency),
        ]
        for kind, size in self.output_sizes.items():
            args += ["--output-size", f"{kind}={size}"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
            limit=REPORT_LIMIT,
        )
        assert self._process.stdout is not None
        line = (await asyncio.wait_for(self._process.stdout.readline(), timeout=30)).decode()
        if not line.startswith("http://"):
            await self.__aexit__()
            raise RuntimeError(f"the simulator process did not start: {line!r}")
        self.base_url = line.strip()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # the child stops when its stdin closes, saying what it saw
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=10)
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()
            return
        if line.strip():
            seen = json.loads(line)
            self.report = SimReport(**{**seen, "runs": [tuple(run) for run in seen["runs"]]})


def latency_middleware(seconds: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Every request waits `seconds` before it is handled: a far-away RunningHub."""

    @web.middleware
    async def delay(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await handler(request)

    return delay


def serve_main() -> None:
    """The child's entry point: run a simulator until stdin closes."""
    from bot.runninghub.simulator import Simulator

    parser = argparse.ArgumentParser()
    parser.add_argument("--options", default="{}")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--output-size", action="append", default=[])
    args = parser.parse_args()

    async def serve() -> None:
        options = json.loads(args.options)
        if "image_size" in options:
            options["image_size"] = tuple(options["image_size"])
        sim = Simulator(**options)
        if args.latency > 0:
            sim.app.middlewares.append(latency_middleware(args.latency))
        for item in args.output_size:
            kind, size = item.split("=", 1)
            sim.set_output_size(kind, int(size))
        print(await sim.start(), flush=True)
        try:
            await asyncio.to_thread(sys.stdin.read)  # returns at EOF: the parent is done
        finally:
            await sim.stop()
        report = {
            "max_concurrent": sim.max_concurrent_seen,
            "creates": len(sim.creates()),
            "polls": len(sim.requests_to("/task/openapi/outputs")),
            "keys": sorted({r.api_key for r in sim.requests}, key=str),
            "runs": [(t.created_at, t.finished_at or t.created_at) for t in sim.tasks.values()],
        }
        print(json.dumps(report), flush=True)

    asyncio.run(serve())


# --------------------------------------------------------------------------- measuring


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank: with 50 samples, p99 is the largest one."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def _status_kib(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def rss_kib() -> int:
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    return _status_kib("VmHWM")


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


class StallTicker:
    """A task that wakes every `period` s and records how late it woke: the loop's longest stall."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.longest = 0.0
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.period)
            late = loop.time() - before - self.period
            self.samples.append(late)
            self.longest = max(self.longest, late)

    def reset(self) -> None:
        self.longest = 0.0
        self.samples.clear()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[StallTicker]:
        self.reset()
        self._task = asyncio.create_task(self._run(), name="bench-stall-ticker")
        try:
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def now() -> float:
    return time.perf_counter()
