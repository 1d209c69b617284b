"""A job service wired to the simulator, a real SQLite file and a recording notifier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from bot.app import Resources, Services, build_services
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




# The RunningHub client's timings in these tests: retries as in production, only much faster.
FAST_CLIENT: dict[str, object] = {"request_timeout": 2.0, "backoff_base": 0.01, "backoff_cap": 0.05, "sleep": no_sleep}


@dataclass
class World:
    """A job service built the way the bot builds it (bot/app.py), with a recording notifier."""

    sim: Simulator
    db: Database
    registry: WorkflowRegistry
    session: aiohttp.ClientSession
    notifier: RecordingNotifier
    env: dict[str, str]
    client_options: dict[str, object]
    services: Services = field(init=False)
    service: JobService = field(init=False)  # a test may swap in another one (new_service)

    def __post_init__(self) -> None:
        self.services = self.build(self.notifier, self.env)
        self.service = self.services.jobs

    def build(self, notifier: RecordingNotifier, env: dict[str, str]) -> Services:
        resources = Resources(settings=settings_from_mapping(env), session=self.session, db=self.db,
                              workflows=self.registry, runninghub_url=env["RUNNINGHUB_BASE_URL"])
        return build_services(resources, notifier, client_options=self.client_options,
                              job_options={"status_edit_interval": 0.01, "min_progress_gap": 0.01,
                                           "delivery_retry_base": 0.05})

    @property
    def ledger(self) -> Ledger:
        return self.services.ledger

    @property
    def journal(self) -> Journal:
        return self.services.journal

    @property
    def client(self) -> RunningHubClient:
        return self.services.runninghub

    @property
    def settings(self) -> Settings:
        return self.services.settings

    async def generate(self, alias: str, member: int, *, prompt: str | None = "a cat",
                       images: list[bytes] | None = None, params: str | None = None,
                       locale: str = "en-US") -> Job:
        workflow = self.registry.get(alias)
        files = {}
        for option, data in zip(("image", "image2", "image3"), images or [], strict=False):
            files[option] = InputFile(option, f"{option}.png", data)
        request = validate_request(workflow, prompt=prompt, files=files, params=params)
        return await self.service.intake(request, guild_id=GUILD, channel_id=CHANNEL, member_id=member, locale=locale)

    async def job(self, job_id: int) -> Job:
        job = await self.journal.get(job_id, with_outputs=True)
        assert job is not None
        return job

    async def state_is(self, job_id: int, *states: str) -> bool:
        return (await self.job(job_id)).state in states

    async def books_balance(self) -> None:
        assert await check_invariants(self.db) == []

    def new_service(self, notifier: RecordingNotifier | None = None, **settings: str) -> JobService:
        """Another JobService on the same database and simulator, built the way the bot builds it."""
        return self.build(notifier or self.notifier, {**self.env, **settings}).jobs

    async def close(self) -> None:
        await self.service.stop()
        await self.session.close()
        await self.db.close()
        await self.sim.stop()


async def open_world(tmp_path: Path, sim: Simulator, *, base_url: str, concurrency: int,
                     env: dict[str, str] | None = None, client_options: dict[str, object] | None = None) -> World:
    env = {
        "RUNNINGHUB_BASE_URL": base_url,
        "RUNNINGHUB_API_KEY": SIMULATOR_API_KEY,
        "POLL_INTERVAL": "0.05",
        "RUNNINGHUB_CONCURRENCY": str(concurrency),
        "DEFAULT_ALLOWANCE": "100",
        **(env or {}),
    }
    db = await Database.open(tmp_path / "bot.db")
    registry = load_workflows(ROOT / "data" / "workflows.toml")
    return World(sim, db, registry, aiohttp.ClientSession(), RecordingNotifier(), env,
                 dict(FAST_CLIENT if client_options is None else client_options))


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
    concurrency = int(str(sim_options.get("concurrency", 1)))
    world = await open_world(tmp_path, sim, base_url=sim.base_url, concurrency=concurrency, env=service_env)
    try:
        yield world
    finally:
        await world.close()
