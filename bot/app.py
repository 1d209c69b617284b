"""The composition root: the one place where the bot's services are built and wired together.

- `open_resources` opens what must be closed again: the HTTP session, the database, the alias
  file (joined by each guild's own aliases from the database), and RunningHub's address
  (starting the built-in simulator when asked for).
- `build_services` wires everything else around them and a `Notifier`: the ledger, the journal,
  the RunningHub client, governance (the guild settings, the modlog, the gate), the job service,
  the webhook receiver and the workflow admin.

`python -m bot run` (through `RHBot.setup_hook`), the tests and the benchmarks all build the bot
with these two, so there is one object graph to read and to change.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot import net
from bot.config import Settings
from bot.db.database import Database
from bot.db.guild_settings import GuildSettingsStore
from bot.db.journal import Journal
from bot.db.ledger import Ledger
from bot.db.workflow_store import WorkflowStore
from bot.governance.modlog import ModLog
from bot.governance.service import Gate
from bot.jobs.notifier import Notifier
from bot.jobs.service import JobService
from bot.jobs.webhook import WebhookReceiver
from bot.runninghub.client import RunningHubClient
from bot.runninghub.pool import KeyPool
from bot.workflow_admin import WorkflowAdmin
from bot.workflows import WorkflowRegistry, load_workflows

log = logging.getLogger(__name__)


@dataclass
class Resources:
    """What the bot opens at start and closes at the end."""

    settings: Settings
    session: aiohttp.ClientSession
    db: Database
    workflows: WorkflowRegistry
    runninghub_url: str


@contextlib.asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    """Open the alias file, the database, an HTTP session and RunningHub's address; close them after.

    Raises WorkflowConfigError or DatabaseError (one line each) before anything is left open.
    """
    workflows = load_workflows(settings.workflows_path)
    db = await Database.open(settings.database_path)
    try:
        # Each guild's own aliases (/workflow add) join the file's before anything reads them.
        await WorkflowStore(db).load_into(workflows)
        # RUNNINGHUB_PROXY carries the API calls, uploads and output downloads of this session.
        session = net.client_session(net.runninghub_proxy(settings))
        async with session, _runninghub_url(settings) as url:
            yield Resources(settings=settings, session=session, db=db, workflows=workflows, runninghub_url=url)
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def _runninghub_url(settings: Settings) -> AsyncIterator[str]:
    """The configured RunningHub address, or a simulator started here for the bot's life."""
    if not settings.use_simulator:
        yield settings.runninghub_base_url
        return
    from bot.runninghub.simulator import Simulator  # only the simulator's users pay for importing it

    # One account per configured key, each with its own concurrency, as RunningHub would have them.
    simulator = Simulator(keys=settings.runninghub_api_keys, concurrency=dict(settings.runninghub_pool()))
    url = await simulator.start()
    log.info("using the built-in RunningHub simulator at %s (fake results, no coins spent)", url)
    try:
        yield url
    finally:
        await simulator.stop()


@dataclass
class Services:
    """Every service of the bot, built once by `build_services`."""

    settings: Settings
    db: Database
    workflows: WorkflowRegistry
    runninghub: RunningHubClient
    ledger: Ledger
    journal: Journal
    guild_settings: GuildSettingsStore
    modlog: ModLog
    gate: Gate
    jobs: JobService
    webhook: WebhookReceiver | None
    workflow_admin: WorkflowAdmin

    async def start(self) -> None:
        """Settle what a previous run left behind and listen for webhooks; the loops start later."""
        await self.jobs.recover()
        if self.webhook is not None:
            await self.webhook.start(self.settings.webhook_host, self.settings.webhook_port)

    def start_loops(self) -> None:
        self.jobs.start_loops()

    async def stop(self) -> None:
        if self.webhook is not None:
            await self.webhook.stop()
        await self.jobs.stop()


def build_services(
    resources: Resources,
    notifier: Notifier,
    *,
    clock: Callable[[], float] = time.time,
    client_options: Mapping[str, Any] | None = None,
    job_options: Mapping[str, Any] | None = None,
) -> Services:
    """Wire the bot's services. `client_options` and `job_options` let tests and benchmarks tune timings."""
    settings = resources.settings
    ledger = Ledger(resources.db, default_allowance=settings.default_allowance, clock=clock)
    journal = Journal(resources.db, ledger, clock=clock)
    guild_settings = GuildSettingsStore(resources.db, clock=clock)
    modlog = ModLog(guild_settings, notifier)
    gate = Gate(guild_settings, modlog, clock=clock)
    runninghub = RunningHubClient(
        resources.session, resources.runninghub_url, settings.runninghub_api_key, **dict(client_options or {})
    )

    async def tell_moderators(message: str, params: dict[str, object]) -> None:
        await modlog.notice_all(message, **params)  # news about the whole bot: every guild's modlog

    def client_for(api_key: str) -> RunningHubClient:
        # One client per key of the pool; the first key's is the bot's own (CLI-style calls use it).
        if api_key == settings.runninghub_api_key:
            return runninghub
        return RunningHubClient(resources.session, resources.runninghub_url, api_key, **dict(client_options or {}))

    options: dict[str, Any] = {
        "pool": KeyPool.build(settings.runninghub_pool(), client_for),
        "tell_moderators": tell_moderators,
        **dict(job_options or {}),
    }
    jobs = JobService(
        settings=settings, journal=journal, ledger=ledger, registry=resources.workflows, client=runninghub,
        session=resources.session, notifier=notifier, gate=gate, clock=clock, **options,
    )
    webhook = None
    if settings.webhooks_enabled and settings.webhook_secret:
        webhook = WebhookReceiver(settings.webhook_secret, jobs.on_webhook, jobs.spawn)
    workflow_admin = WorkflowAdmin(
        resources.workflows, WorkflowStore(resources.db), runninghub, settings.workflows_path
    )
    return Services(
        settings=settings, db=resources.db, workflows=resources.workflows, runninghub=runninghub,
        ledger=ledger, journal=journal, guild_settings=guild_settings, modlog=modlog, gate=gate, jobs=jobs,
        webhook=webhook, workflow_admin=workflow_admin,
    )
