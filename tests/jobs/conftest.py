"""A job service wired to the simulator, a real SQLite file and a recording notifier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.config import SIMULATOR_API_KEY, Settings, settings_from_mapping
from bot.db.database import Database
from bot.db.invariants import check_invariants
from bot.db.journal import Job, Journal
from bot.db.ledger import Ledger
from bot.jobs.pipeline import InputFile, validate_request
from bot.jobs.service import JobService
from bot.runninghub.client import RunningHubClient
from bot.runninghub.simulator import Simulator
from bot.workflows import WorkflowRegistry, load_workflows
from tests.jobs.fakes import RecordingNotifier
from tests.samples import png_bytes  # noqa: F401 - used by the tests that import it from here

ROOT = Path(__file__).resolve().parents[2]
GUILD = 1001
CHANNEL = 2002


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@dataclass
class World:
    sim: Simulator
    db: Database
    ledger: Ledger
    journal: Journal
    registry: WorkflowRegistry
    client: RunningHubClient
    session: aiohttp.ClientSession
    notifier: RecordingNotifier
    settings: Settings
    service: JobService

    async def generate(self, alias: str, member: int, *, prompt: str | None = "a cat",
                       images: list[bytes] | None = None, params: str | None = None) -> Job:
        workflow = self.registry.get(alias)
        files = {}
        for option, data in zip(("image", "image2", "image3"), images or [], strict=False):
            files[option] = InputFile(option, f"{option}.png", data)
        request = validate_request(workflow, prompt=prompt, files=files, params=params)
        return await self.service.intake(request, guild_id=GUILD, channel_id=CHANNEL, member_id=member, locale="en-US")

    async def job(self, job_id: int) -> Job:
        job = await self.journal.get(job_id, with_outputs=True)
        assert job is not None
        return job

    async def state_is(self, job_id: int, *states: str) -> bool:
        return (await self.job(job_id)).state in states

    async def books_balance(self) -> None:
        assert await check_invariants(self.db) == []

    def new_service(self, notifier: RecordingNotifier | None = None, **settings: str) -> JobService:
        merged = {**self._env, **settings}
        return JobService(
            settings=settings_from_mapping(merged), journal=self.journal, ledger=self.ledger,
            registry=self.registry, client=self.client, session=self.session,
            notifier=notifier or self.notifier, status_interval=0, delivery_retry_base=0.05,
        )

    _env: dict[str, str] = None  # type: ignore[assignment]


@pytest.fixture
def sim_options() -> dict[str, object]:
    return {"queue_seconds": 0.05, "run_seconds": 0.15, "concurrency": 1}


@pytest.fixture
def service_env() -> dict[str, str]:
    return {}


@pytest.fixture
async def world(tmp_path: Path, sim_options: dict[str, object], service_env: dict[str, str]) -> AsyncIterator[World]:
    sim = Simulator(**sim_options)  # type: ignore[arg-type]
    await sim.start()
    db = await Database.open(tmp_path / "bot.db")
    env = {
        "RUNNINGHUB_BASE_URL": sim.base_url,
        "RUNNINGHUB_API_KEY": SIMULATOR_API_KEY,
        "POLL_INTERVAL": "0.05",
        "RUNNINGHUB_CONCURRENCY": str(sim_options.get("concurrency", 1)),
        **service_env,
    }
    settings = settings_from_mapping(env)
    ledger = Ledger(db, default_allowance=100)
    journal = Journal(db, ledger)
    registry = load_workflows(ROOT / "data" / "workflows.toml")
    session = aiohttp.ClientSession()
    client = RunningHubClient(session, sim.base_url, SIMULATOR_API_KEY, request_timeout=2.0,
                              backoff_base=0.01, backoff_cap=0.05, sleep=no_sleep)
    notifier = RecordingNotifier()
    world = World(sim, db, ledger, journal, registry, client, session, notifier, settings, None)  # type: ignore[arg-type]
    world._env = env
    world.service = world.new_service()
    try:
        yield world
    finally:
        await world.service.stop()
        await session.close()
        await db.close()
        await sim.stop()
